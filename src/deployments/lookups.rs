//! What a running deployment's expressions read: `reference()` answers with a resource's
//! document as a GET would show it now, `providers()` with what azemu serves.

use std::sync::Arc;

use serde_json::Value;

use crate::app::App;
use crate::providers::resources::deployments::lookups::Catalog;
use crate::templates::context::Lookups;

pub struct LiveResources {
    pub app: Arc<App>,
    pub catalog: Catalog,
}

impl LiveResources {
    pub fn new(app: Arc<App>) -> LiveResources {
        let catalog = Catalog::of(app.registry.all());
        LiveResources { app, catalog }
    }
}

impl Lookups for LiveResources {
    fn resource(&self, id: &str) -> Option<Value> {
        let key = id.to_ascii_lowercase();
        let now = self.app.clock.now();
        let doc = self.app.store.read(|s| {
            s.resource(&key)
                .filter(|r| !r.deleting)
                .map(|r| crate::arm::document::current_unkept(&self.app.registry, r, now))
        })?;
        serde_json::from_slice(&doc).ok()
    }

    fn provider(&self, namespace: &str, resource_type: Option<&str>) -> Option<Value> {
        Some(self.catalog.provider(namespace, resource_type))
    }
}
