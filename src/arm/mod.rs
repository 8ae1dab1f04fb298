//! The ARM protocol, shared by every ARM provider.

pub mod api_version;
pub mod dispatch;
pub mod document;
pub mod envelope;
pub mod error;
pub mod lro;
pub mod paging;
pub mod path;
mod reads;
pub mod request;
mod resolve;
pub mod respond;
mod writes;

pub use api_version::{ApiVersionCheck, TypeOwner};
pub use envelope::{timestamp, Caller};
pub use error::ArmError;
pub use path::ArmPath;
