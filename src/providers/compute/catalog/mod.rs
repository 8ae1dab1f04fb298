//! Compute's read-only catalog: the marketplace images (publishers, offers, SKUs, versions),
//! the VM sizes of a region, and the subscription's resource SKUs. Built in, the same in every
//! region; VMs and scale sets are checked against it.

pub mod images;
pub mod sizes;

use serde_json::{json, Value};

use super::NAMESPACE;
use crate::arm::catalog::{Catalog, CatalogEndpoint, CatalogRead};
use crate::arm::regions::{self, REGIONS};
use crate::arm::ArmError;
use crate::providers::ApiVersions;
use images::Image;
use sizes::{VmSize, OS_DISK_MB, SIZES};

/// Resource SKUs' own api-versions.
static SKU_VERSIONS: ApiVersions =
    ApiVersions { published: &["2017-03-30", "2017-09-01", "2019-04-01", "2021-07-01"], added: &[] };

const IMAGE_PATH: [&str; 6] = ["locations", "publishers", "artifacttypes", "offers", "skus", "versions"];

const fn images(depth: usize, item: bool, operation: &'static str) -> CatalogEndpoint {
    let segments: &'static [&'static str] = match depth {
        2 => IMAGE_PATH.split_at(2).0,
        4 => IMAGE_PATH.split_at(4).0,
        5 => IMAGE_PATH.split_at(5).0,
        _ => &IMAGE_PATH,
    };
    CatalogEndpoint { segments, item, operation, listed_as: "locations/publishers", versions: &super::versions::VMS }
}

static ENDPOINTS: [CatalogEndpoint; 7] = [
    images(2, false, "VirtualMachineImages_ListPublishers"),
    images(4, false, "VirtualMachineImages_ListOffers"),
    images(5, false, "VirtualMachineImages_ListSkus"),
    images(6, false, "VirtualMachineImages_List"),
    images(6, true, "VirtualMachineImages_Get"),
    CatalogEndpoint {
        segments: &["locations", "vmSizes"],
        item: false,
        operation: "VirtualMachineSizes_List",
        listed_as: "locations/vmSizes",
        versions: &super::versions::VMS,
    },
    CatalogEndpoint {
        segments: &["skus"],
        item: false,
        operation: "ResourceSkus_List",
        listed_as: "skus",
        versions: &SKU_VERSIONS,
    },
];

pub struct ComputeCatalog;

impl Catalog for ComputeCatalog {
    fn namespace(&self) -> &'static str {
        NAMESPACE
    }

    fn endpoints(&self) -> &'static [CatalogEndpoint] {
        &ENDPOINTS
    }

    fn read(&self, endpoint: &CatalogEndpoint, req: &CatalogRead) -> Result<Value, ArmError> {
        match endpoint.operation {
            "ResourceSkus_List" => resource_skus(req.query("$filter")),
            "VirtualMachineSizes_List" => {
                region(req, "Microsoft.Compute/locations/vmSizes")?;
                Ok(json!({ "value": SIZES.iter().map(size_document).collect::<Vec<_>>() }))
            }
            operation => image_read(operation, req),
        }
    }
}

fn region(req: &CatalogRead, for_type: &str) -> Result<&'static str, ArmError> {
    let location = req.names.first().copied().unwrap_or_default();
    regions::require(location, Some(for_type)).map(|r| r.name)
}

/// What Compute answers for an image path that names nothing.
fn image_not_found() -> ArmError {
    ArmError::not_found("NotFound", "Artifact: VMImage was not found.")
}

/// An image listing's entry: `{location, name, id}`, its id spelled as Compute spells it.
fn entry(id: String, location: &str, name: &str) -> Value {
    json!({ "location": location, "name": name, "id": id })
}

fn image_read(operation: &str, req: &CatalogRead) -> Result<Value, ArmError> {
    let location = region(req, "Microsoft.Compute/locations/publishers")?;
    let name = |i: usize| req.names.get(i).copied().unwrap_or_default();
    let base =
        format!("/Subscriptions/{}/Providers/Microsoft.Compute/Locations/{location}/Publishers", req.subscription);
    if operation == "VirtualMachineImages_ListPublishers" {
        let mut publishers: Vec<&str> = images::IMAGES.iter().map(|i| i.publisher).collect();
        publishers.sort_by_key(|p| p.to_ascii_lowercase());
        publishers.dedup();
        let list = publishers.iter().map(|p| entry(format!("{base}/{p}"), location, p));
        return Ok(Value::Array(list.collect()));
    }
    if !name(2).eq_ignore_ascii_case("vmimage") {
        return Err(image_not_found());
    }
    let publisher = name(1);
    let offer = (req.names.len() > 3).then(|| name(3));
    let sku = (req.names.len() > 4).then(|| name(4));
    let found: Vec<&Image> = images::matching(publisher, offer, sku).collect();
    let Some(first) = found.first() else { return Err(image_not_found()) };
    let base = format!("{base}/{}/ArtifactTypes/VMImage/Offers", first.publisher);
    match operation {
        "VirtualMachineImages_ListOffers" => {
            let mut offers: Vec<&str> = found.iter().map(|i| i.offer).collect();
            offers.sort_by_key(|o| o.to_ascii_lowercase());
            offers.dedup();
            Ok(Value::Array(offers.iter().map(|o| entry(format!("{base}/{o}"), location, o)).collect()))
        }
        "VirtualMachineImages_ListSkus" => {
            let mut skus: Vec<&Image> = found;
            skus.sort_by_key(|i| i.sku.to_ascii_lowercase());
            let list = skus.iter().map(|i| {
                let mut doc = entry(format!("{base}/{}/Skus/{}", i.offer, i.sku), location, i.sku);
                doc["properties"] = json!({ "automaticOSUpgradeProperties": { "automaticOSUpgradeSupported": false } });
                doc
            });
            Ok(Value::Array(list.collect()))
        }
        "VirtualMachineImages_List" => versions(first, req, location, &base),
        _ => {
            let version =
                first.versions.iter().find(|v| v.eq_ignore_ascii_case(name(5))).ok_or_else(image_not_found)?;
            Ok(version_document(first, version, location, &base))
        }
    }
}

/// An image's versions: `$orderby=name [asc|desc]`, then `$top`; `$expand=properties` adds each
/// version's properties.
fn versions(image: &Image, req: &CatalogRead, location: &str, base: &str) -> Result<Value, ArmError> {
    let mut versions = image.sorted_versions();
    match req.query("$orderby").map(|o| o.split_whitespace().collect::<Vec<_>>().join(" ").to_ascii_lowercase()) {
        None => {}
        Some(order) if order == "name" || order == "name asc" => {}
        Some(order) if order == "name desc" => versions.reverse(),
        Some(order) => {
            return Err(ArmError::invalid_parameter(
                "$orderby",
                format!("The value '{order}' of '$orderby' is not supported: use 'name asc' or 'name desc'."),
            ))
        }
    }
    if let Some(top) = req.query("$top") {
        let top = top.parse::<usize>().ok().filter(|t| *t >= 1).ok_or_else(|| {
            ArmError::invalid_parameter("$top", format!("The value '{top}' of '$top' is not a positive integer."))
        })?;
        versions.truncate(top);
    }
    // `properties`, or a part of them (`properties/imageDeprecationStatus`, as the Azure CLI asks).
    let expand =
        req.query("$expand").is_some_and(|e| e.get(..10).is_some_and(|p| p.eq_ignore_ascii_case("properties")));
    let list = versions.iter().map(|v| match expand {
        true => version_document(image, v, location, base),
        false => entry(version_id(image, v, base), location, v),
    });
    Ok(Value::Array(list.collect()))
}

fn version_id(image: &Image, version: &str, base: &str) -> String {
    format!("{base}/{}/Skus/{}/Versions/{version}", image.offer, image.sku)
}

/// One version's detail, as `VirtualMachineImages_Get` answers it.
pub fn version_document(image: &Image, version: &str, location: &str, base: &str) -> Value {
    let mut features = Vec::new();
    if let Some(security) = image.security {
        features.push(json!({ "name": "SecurityType", "value": security }));
    }
    features.push(json!({ "name": "IsAcceleratedNetworkSupported", "value": "True" }));
    features.push(json!({ "name": "DiskControllerTypes", "value": image.disk_controllers }));
    features.push(
        json!({ "name": "IsHibernateSupported", "value": if image.generation == "V2" { "True" } else { "False" } }),
    );
    json!({
        "properties": {
            "hyperVGeneration": image.generation,
            "architecture": image.architecture,
            "replicaType": "Unmanaged",
            "disallowed": { "vmDiskType": "Unmanaged" },
            "automaticOSUpgradeProperties": { "automaticOSUpgradeSupported": false },
            "imageDeprecationStatus": { "imageState": "Active" },
            "features": features,
            "osDiskImage": {
                "operatingSystem": image.os,
                "sizeInBytes": image.os_disk_gb << 30,
                "sizeInGb": image.os_disk_gb,
            },
            "dataDiskImages": [],
        },
        "location": location,
        "name": version,
        "id": version_id(image, version, base),
    })
}

/// The sizes a VM made from `image_reference` can be resized to: those that boot its image's
/// generation on its architecture (every size, for a custom image or an attached disk).
pub fn sizes_for(image_reference: Option<&Value>) -> Value {
    let image = image_reference.and_then(|r| resolve_image(r, "imageReference").ok().flatten()).map(|(i, _)| i);
    let fits = |size: &&VmSize| {
        image.is_none_or(|i| size.architecture == i.architecture && size.generations.contains(i.generation))
    };
    json!({ "value": SIZES.iter().filter(fits).map(size_document).collect::<Vec<_>>() })
}

fn size_document(size: &VmSize) -> Value {
    json!({
        "name": size.name,
        "numberOfCores": size.vcpus,
        "osDiskSizeInMB": OS_DISK_MB,
        "resourceDiskSizeInMB": size.resource_disk_mb,
        "memoryInMB": size.memory_mb,
        "maxDataDiskCount": size.max_data_disks,
    })
}

/// `$filter=location eq '{region}'`, the one filter the resource SKU list takes.
fn sku_location(filter: Option<&str>) -> Result<Option<&'static str>, ArmError> {
    let Some(filter) = filter.map(str::trim).filter(|f| !f.is_empty()) else { return Ok(None) };
    let refused = || {
        ArmError::invalid_parameter(
            "$filter",
            format!("The value '{filter}' of '$filter' is not supported: only location eq '{{location}}' is."),
        )
    };
    let words: Vec<&str> = filter.splitn(3, ' ').collect();
    match words.as_slice() {
        [field, op, value] if field.eq_ignore_ascii_case("location") && op.eq_ignore_ascii_case("eq") => {
            let value = value.trim().trim_matches('\'');
            regions::find(value).map(|r| Some(r.name)).ok_or_else(refused)
        }
        _ => Err(refused()),
    }
}

fn resource_skus(filter: Option<&str>) -> Result<Value, ArmError> {
    let only = sku_location(filter)?;
    let mut value = Vec::new();
    for region in REGIONS.iter().filter(|r| only.is_none_or(|o| o == r.name)) {
        for size in SIZES {
            value.push(sku_document(size, region.name));
        }
    }
    Ok(json!({ "value": value }))
}

/// A VM size in one region, as the resource SKU list shows it.
fn sku_document(size: &VmSize, region: &str) -> Value {
    let flag = |on: bool| if on { "True" } else { "False" };
    let capabilities = [
        ("MaxResourceVolumeMB", size.resource_disk_mb.to_string()),
        ("OSVhdSizeMB", OS_DISK_MB.to_string()),
        ("vCPUs", size.vcpus.to_string()),
        ("MemoryPreservingMaintenanceSupported", "True".into()),
        ("HyperVGenerations", size.generations.into()),
        ("MemoryGB", format_memory_gb(size.memory_mb)),
        ("MaxDataDiskCount", size.max_data_disks.to_string()),
        ("CpuArchitectureType", size.architecture.into()),
        ("LowPriorityCapable", "True".into()),
        ("PremiumIO", flag(size.premium_io).into()),
        ("VMDeploymentTypes", "IaaS".into()),
        ("vCPUsAvailable", size.vcpus.to_string()),
        ("GPUs", size.gpus.to_string()),
        ("vCPUsPerCore", if size.vcpus > 1 { "2" } else { "1" }.into()),
        ("EphemeralOSDiskSupported", flag(size.resource_disk_mb > 0).into()),
        ("EncryptionAtHostSupported", "True".into()),
        ("AcceleratedNetworkingEnabled", flag(size.accelerated_networking).into()),
        ("RdmaEnabled", "False".into()),
        ("MaxNetworkInterfaces", size.max_nics.to_string()),
    ];
    let capabilities: Vec<Value> = capabilities.iter().map(|(n, v)| json!({ "name": n, "value": v })).collect();
    json!({
        "resourceType": "virtualMachines",
        "name": size.name,
        "tier": "Standard",
        "size": size.short_name(),
        "family": size.family,
        "locations": [region],
        "locationInfo": [{ "location": region, "zones": sizes::zones(region), "zoneDetails": [] }],
        "capabilities": capabilities,
        "restrictions": [],
    })
}

/// `3.5`, `8`: memory in GiB as Compute writes it.
fn format_memory_gb(memory_mb: u32) -> String {
    let gb = f64::from(memory_mb) / 1024.0;
    match gb.fract() == 0.0 {
        true => format!("{gb:.0}"),
        false => format!("{gb}"),
    }
}

/// The marketplace image a VM or scale set's `imageReference` names and the version it resolves
/// to (`latest`: the newest). `Ok(None)` for a reference by id (a custom or gallery image), taken
/// as given. `target` is where the reference sits in the body.
pub fn resolve_image(reference: &Value, target: &str) -> Result<Option<(&'static Image, &'static str)>, ArmError> {
    if reference.get("id").and_then(Value::as_str).is_some() {
        return Ok(None);
    }
    let field = |name: &str| reference.get(name).and_then(Value::as_str).unwrap_or_default();
    let (publisher, offer, sku) = (field("publisher"), field("offer"), field("sku"));
    let version = match field("version") {
        "" => "latest",
        v => v,
    };
    images::find(publisher, offer, sku)
        .and_then(|image| Some((image, image.version(version)?)))
        .map(Some)
        .ok_or_else(|| {
            ArmError::not_found(
                "PlatformImageNotFound",
                format!(
                    "The platform image '{publisher}:{offer}:{sku}:{version}' is not available. Verify that all fields in the storage profile are correct."
                ),
            )
            .with_target(target)
        })
}

/// The VM size `name` names, or Compute's refusal naming `target` (`vmSize`, `sku.name`).
pub fn require_size(name: &str, target: &str) -> Result<&'static VmSize, ArmError> {
    sizes::find(name).ok_or_else(|| {
        ArmError::invalid_parameter(
            target,
            format!(
                "The value '{name}' provided for the VM size is not valid. The sizes offered are listed by GET /subscriptions/{{subscriptionId}}/providers/Microsoft.Compute/skus."
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sku_filters_and_memory() {
        assert_eq!(sku_location(Some("location eq 'West US'")).unwrap(), Some("westus"));
        assert_eq!(sku_location(None).unwrap(), None);
        assert_eq!(sku_location(Some("name eq 'x'")).unwrap_err().code(), "InvalidParameter");
        assert_eq!(format_memory_gb(3584), "3.5");
        assert_eq!(format_memory_gb(8192), "8");
    }
}
