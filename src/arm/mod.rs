//! The ARM protocol, shared by every ARM provider.

pub mod answers;
pub mod api_version;
pub mod catalog;
pub mod contract;
pub mod dispatch;
pub mod document;
pub mod envelope;
pub mod error;
mod fault_response;
pub mod formats;
pub mod lro;
pub mod merge_patch;
pub mod operation_id;
pub mod paging;
pub mod path;
pub mod platform;
mod reads;
pub mod regions;
pub mod request;
mod resolve;
pub mod respond;
pub mod shown;
mod stamp;
pub mod versions;
mod writes;

pub use api_version::{ApiVersionCheck, TypeOwner};
pub use dispatch::RequestNames;
pub use envelope::{timestamp, Caller};
pub use error::ArmError;
pub use fault_response::{dropped, operation_error, DropConnection};
pub use path::ArmPath;
