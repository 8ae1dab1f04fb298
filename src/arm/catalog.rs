//! Read-only collections a provider serves from data built into azemu rather than from the
//! store: Compute's image catalog, its VM sizes and resource SKUs. A provider implements
//! [`Catalog`]; the ARM layer finds the endpoint a path names, checks the api-version, allows
//! only GET, and answers (errors in ARM's envelope).

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::Value;

use super::api_version::{check, TypeOwner};
use super::path::ArmPath;
use super::request::{ArmRequest, Query};
use super::respond::json_response;
use super::versions::ApiVersions;
use super::ArmError;
use crate::app::App;

/// One endpoint of a catalog.
pub struct CatalogEndpoint {
    /// The path's type segments below the namespace, the trailing collection's included:
    /// `["locations", "publishers"]` for `…/locations/{l}/publishers`.
    pub segments: &'static [&'static str],
    /// The path ends with a name (one entry), not at the collection.
    pub item: bool,
    /// The spec's operationId (fault rules, metrics and the journal name requests by it).
    pub operation: &'static str,
    /// The resource type the provider list shows it as (`locations/publishers`).
    pub listed_as: &'static str,
    pub versions: &'static ApiVersions,
}

/// A GET of one endpoint.
pub struct CatalogRead<'a> {
    pub subscription: &'a str,
    /// The names in the path, in order (`westus`, `Canonical`, …).
    pub names: Vec<&'a str>,
    pub query: &'a Query,
}

impl CatalogRead<'_> {
    pub fn query(&self, name: &str) -> Option<&str> {
        self.query.get(name)
    }
}

pub trait Catalog: Send + Sync {
    fn namespace(&self) -> &'static str;
    fn endpoints(&self) -> &'static [CatalogEndpoint];
    /// One entry, or a list in the shape its spec gives it (`{"value": […]}`, or a bare array
    /// for Compute's images).
    fn read(&self, endpoint: &CatalogEndpoint, req: &CatalogRead) -> Result<Value, ArmError>;
}

/// A catalog endpoint a path names.
pub(super) struct CatalogTarget<'r> {
    pub catalog: &'r dyn Catalog,
    pub endpoint: &'static CatalogEndpoint,
}

/// The catalog endpoint of a subscription-level path in a catalog's namespace, if any.
pub(super) fn resolve<'r>(catalogs: &'r [std::sync::Arc<dyn Catalog>], path: &ArmPath) -> Option<CatalogTarget<'r>> {
    if path.resource_group().is_some() || path.scope_sections().next().is_some() {
        return None;
    }
    let section = path.target()?;
    let catalog = catalogs.iter().find(|c| c.namespace().eq_ignore_ascii_case(section.namespace()))?;
    let mut segments: Vec<&str> = section.pairs().map(|(t, _)| t).collect();
    segments.extend(path.trailing());
    let item = path.trailing().is_none();
    let endpoint = catalog.endpoints().iter().find(|e| {
        e.item == item
            && e.segments.len() == segments.len()
            && e.segments.iter().zip(&segments).all(|(a, b)| a.eq_ignore_ascii_case(b))
    })?;
    Some(CatalogTarget { catalog: catalog.as_ref(), endpoint })
}

pub(super) fn answer(app: &App, req: &ArmRequest, target: &CatalogTarget) -> Result<Response, ArmError> {
    let CatalogTarget { catalog, endpoint } = target;
    let full_type = format!("{}/{}", catalog.namespace(), endpoint.listed_as);
    check(req.api_version(), endpoint.versions.published, &full_type, TypeOwner::Provider, app.api_check)?;
    if req.method != Method::GET {
        return Err(ArmError::method_not_allowed(req.method.as_str(), req.raw_path()));
    }
    let names = req.path.target().map(|s| s.pairs().map(|(_, n)| n).collect()).unwrap_or_default();
    let read = CatalogRead { subscription: req.path.subscription(), names, query: &req.query };
    Ok(json_response(StatusCode::OK, &catalog.read(endpoint, &read)?))
}

/// Every catalog endpoint's operationId, by the type the provider list shows it as.
pub fn operations(catalogs: &[std::sync::Arc<dyn Catalog>]) -> Vec<(String, Vec<&'static str>)> {
    let mut by_type: Vec<(String, Vec<&'static str>)> = Vec::new();
    for catalog in catalogs {
        for endpoint in catalog.endpoints() {
            let full_type = format!("{}/{}", catalog.namespace(), endpoint.listed_as);
            match by_type.iter_mut().find(|(t, _)| *t == full_type) {
                Some((_, ops)) => ops.push(endpoint.operation),
                None => by_type.push((full_type, vec![endpoint.operation])),
            }
        }
    }
    by_type
}
