//! Azure's public regions, as ARM names them: what `GET /subscriptions/{s}/locations` lists and
//! what a request body's `location` may say (in any of its spellings: `West US`, `westus`,
//! `WESTUS`). Locations are stored and returned by their normalized name.

use serde_json::{json, Value};

use super::ArmError;

#[derive(Debug)]
pub struct Region {
    /// The normalized name (`westus`).
    pub name: &'static str,
    pub display_name: &'static str,
    /// What `regionalDisplayName` puts in parentheses (`US`, `Europe`, …).
    pub geography_group: &'static str,
    pub geography: &'static str,
    pub physical_location: &'static str,
    pub latitude: &'static str,
    pub longitude: &'static str,
    pub paired: Option<&'static str>,
    /// `Recommended` or `Other`, as ARM sorts regions.
    pub recommended: bool,
}

const fn region(
    name: &'static str,
    display_name: &'static str,
    (geography_group, geography, physical_location): (&'static str, &'static str, &'static str),
    (latitude, longitude): (&'static str, &'static str),
    paired: Option<&'static str>,
    recommended: bool,
) -> Region {
    Region {
        name,
        display_name,
        geography_group,
        geography,
        physical_location,
        latitude,
        longitude,
        paired,
        recommended,
    }
}

const US: &str = "US";
const EU: &str = "Europe";
const AP: &str = "Asia Pacific";
const ME: &str = "Middle East";

/// In ARM's order: recommended regions first.
#[rustfmt::skip]
pub static REGIONS: &[Region] = &[
    region("eastus", "East US", (US, "United States", "Virginia"), ("37.3719", "-79.8164"), Some("westus"), true),
    region("eastus2", "East US 2", (US, "United States", "Virginia"), ("36.6681", "-78.3889"), Some("centralus"), true),
    region("southcentralus", "South Central US", (US, "United States", "Texas"), ("29.4167", "-98.5"), Some("northcentralus"), true),
    region("westus2", "West US 2", (US, "United States", "Washington"), ("47.233", "-119.852"), Some("westcentralus"), true),
    region("westus3", "West US 3", (US, "United States", "Phoenix"), ("33.448376", "-112.074036"), Some("eastus"), true),
    region("australiaeast", "Australia East", (AP, "Australia", "New South Wales"), ("-33.86", "151.2094"), Some("australiasoutheast"), true),
    region("southeastasia", "Southeast Asia", (AP, "Asia Pacific", "Singapore"), ("1.283", "103.833"), Some("eastasia"), true),
    region("northeurope", "North Europe", (EU, "Europe", "Ireland"), ("53.3478", "-6.2597"), Some("westeurope"), true),
    region("swedencentral", "Sweden Central", (EU, "Sweden", "Gävle"), ("60.67488", "17.14127"), Some("swedensouth"), true),
    region("uksouth", "UK South", (EU, "United Kingdom", "London"), ("50.941", "-0.799"), Some("ukwest"), true),
    region("westeurope", "West Europe", (EU, "Europe", "Netherlands"), ("52.3667", "4.9"), Some("northeurope"), true),
    region("centralus", "Central US", (US, "United States", "Iowa"), ("41.5908", "-93.6208"), Some("eastus2"), true),
    region("southafricanorth", "South Africa North", ("Africa", "South Africa", "Johannesburg"), ("-25.73134", "28.21837"), Some("southafricawest"), true),
    region("centralindia", "Central India", (AP, "India", "Pune"), ("18.5822", "73.9197"), Some("southindia"), true),
    region("eastasia", "East Asia", (AP, "Asia Pacific", "Hong Kong"), ("22.267", "114.188"), Some("southeastasia"), true),
    region("indonesiacentral", "Indonesia Central", (AP, "Indonesia", "Jakarta"), ("-6.2088", "106.8456"), None, true),
    region("japaneast", "Japan East", (AP, "Japan", "Tokyo, Saitama"), ("35.68", "139.77"), Some("japanwest"), true),
    region("japanwest", "Japan West", (AP, "Japan", "Osaka"), ("34.6939", "135.5022"), Some("japaneast"), true),
    region("koreacentral", "Korea Central", (AP, "Korea", "Seoul"), ("37.5665", "126.978"), Some("koreasouth"), true),
    region("malaysiawest", "Malaysia West", (AP, "Malaysia", "Kuala Lumpur"), ("3.139", "101.6869"), None, true),
    region("newzealandnorth", "New Zealand North", (AP, "New Zealand", "Auckland"), ("-36.84853", "174.76349"), None, true),
    region("canadacentral", "Canada Central", ("Canada", "Canada", "Toronto"), ("43.653", "-79.383"), Some("canadaeast"), true),
    region("austriaeast", "Austria East", (EU, "Austria", "Vienna"), ("48.2082", "16.3738"), None, true),
    region("francecentral", "France Central", (EU, "France", "Paris"), ("46.3772", "2.373"), Some("francesouth"), true),
    region("germanywestcentral", "Germany West Central", (EU, "Germany", "Frankfurt"), ("50.110924", "8.682127"), Some("germanynorth"), true),
    region("italynorth", "Italy North", (EU, "Italy", "Milan"), ("45.46888", "9.18109"), None, true),
    region("norwayeast", "Norway East", (EU, "Norway", "Norway"), ("59.913868", "10.752245"), Some("norwaywest"), true),
    region("polandcentral", "Poland Central", (EU, "Poland", "Warsaw"), ("52.23334", "21.01666"), None, true),
    region("spaincentral", "Spain Central", (EU, "Spain", "Madrid"), ("40.4259", "-3.4209"), None, true),
    region("switzerlandnorth", "Switzerland North", (EU, "Switzerland", "Zurich"), ("47.451542", "8.564572"), Some("switzerlandwest"), true),
    region("mexicocentral", "Mexico Central", ("Mexico", "Mexico", "Querétaro State"), ("20.588818", "-100.389888"), None, true),
    region("uaenorth", "UAE North", (ME, "UAE", "Dubai"), ("25.266666", "55.316666"), Some("uaecentral"), true),
    region("brazilsouth", "Brazil South", ("South America", "Brazil", "Sao Paulo State"), ("-23.55", "-46.633"), Some("southcentralus"), true),
    region("chilecentral", "Chile Central", ("South America", "Chile", "Santiago"), ("-33.4489", "-70.6693"), None, true),
    region("israelcentral", "Israel Central", (ME, "Israel", "Israel"), ("31.2655698", "33.4506633"), None, true),
    region("qatarcentral", "Qatar Central", (ME, "Qatar", "Doha"), ("25.551462", "51.439327"), None, true),
    region("northcentralus", "North Central US", (US, "United States", "Illinois"), ("41.8819", "-87.6278"), Some("southcentralus"), false),
    region("westus", "West US", (US, "United States", "California"), ("37.783", "-122.417"), Some("eastus"), false),
    region("westcentralus", "West Central US", (US, "United States", "Wyoming"), ("40.89", "-110.234"), Some("westus2"), false),
    region("jioindiawest", "Jio India West", (AP, "India", "Jamnagar"), ("22.470701", "70.05773"), Some("jioindiacentral"), false),
    region("jioindiacentral", "Jio India Central", (AP, "India", "Nagpur"), ("21.146633", "79.08886"), Some("jioindiawest"), false),
    region("southafricawest", "South Africa West", ("Africa", "South Africa", "Cape Town"), ("-34.075691", "18.843266"), Some("southafricanorth"), false),
    region("australiacentral", "Australia Central", (AP, "Australia", "Canberra"), ("-35.3075", "149.1244"), Some("australiacentral2"), false),
    region("australiacentral2", "Australia Central 2", (AP, "Australia", "Canberra"), ("-35.3075", "149.1244"), Some("australiacentral"), false),
    region("australiasoutheast", "Australia Southeast", (AP, "Australia", "Victoria"), ("-37.8136", "144.9631"), Some("australiaeast"), false),
    region("koreasouth", "Korea South", (AP, "Korea", "Busan"), ("35.1796", "129.0756"), Some("koreacentral"), false),
    region("southindia", "South India", (AP, "India", "Chennai"), ("12.9822", "80.1636"), Some("centralindia"), false),
    region("westindia", "West India", (AP, "India", "Mumbai"), ("19.088", "72.868"), Some("southindia"), false),
    region("canadaeast", "Canada East", ("Canada", "Canada", "Quebec"), ("46.817", "-71.217"), Some("canadacentral"), false),
    region("francesouth", "France South", (EU, "France", "Marseille"), ("43.8345", "2.1972"), Some("francecentral"), false),
    region("germanynorth", "Germany North", (EU, "Germany", "Berlin"), ("53.073635", "8.806422"), Some("germanywestcentral"), false),
    region("norwaywest", "Norway West", (EU, "Norway", "Norway"), ("58.969975", "5.733107"), Some("norwayeast"), false),
    region("switzerlandwest", "Switzerland West", (EU, "Switzerland", "Geneva"), ("46.204391", "6.143158"), Some("switzerlandnorth"), false),
    region("ukwest", "UK West", (EU, "United Kingdom", "Cardiff"), ("53.427", "-3.084"), Some("uksouth"), false),
    region("uaecentral", "UAE Central", (ME, "UAE", "Abu Dhabi"), ("24.466667", "54.366669"), Some("uaenorth"), false),
    region("brazilsoutheast", "Brazil Southeast", ("South America", "Brazil", "Rio"), ("-22.90278", "-43.2075"), Some("brazilsouth"), false),
    region("swedensouth", "Sweden South", (EU, "Sweden", "Malmo"), ("55.60587", "13.00073"), Some("swedencentral"), false),
];

/// A location as a client may write it, reduced to how ARM compares it: no spaces, lower case.
fn normalized(location: &str) -> String {
    location.chars().filter(|c| !c.is_whitespace()).collect::<String>().to_ascii_lowercase()
}

/// The region a location names, in any of its spellings.
pub fn find(location: &str) -> Option<&'static Region> {
    let wanted = normalized(location);
    REGIONS.iter().find(|r| r.name == wanted)
}

/// Every region's name, comma-separated, as ARM lists the allowed ones in its errors.
pub fn names() -> String {
    REGIONS.iter().map(|r| r.name).collect::<Vec<_>>().join(",")
}

/// The region a request body's location names, or ARM's refusal. `for_type` is the resource
/// type's full name; `None` for a resource group, which ARM words apart.
pub fn require(location: &str, for_type: Option<&str>) -> Result<&'static Region, ArmError> {
    find(location).ok_or_else(|| {
        let (code, message) = match for_type {
            Some(full_type) => (
                "LocationNotAvailableForResourceType",
                format!(
                    "The provided location '{location}' is not available for resource type '{full_type}'. List of available regions for the resource type is '{}'.",
                    names()
                ),
            ),
            None => (
                "LocationNotAvailableForResourceGroup",
                format!(
                    "The provided location '{location}' is not available for resource group. List of available regions is '{}'.",
                    names()
                ),
            ),
        };
        ArmError::bad_request(code, message).with_target("location")
    })
}

impl Region {
    /// `(US) East US`.
    pub fn regional_display_name(&self) -> String {
        format!("({}) {}", self.geography_group, self.display_name)
    }

    /// The region as `GET /subscriptions/{s}/locations` shows it.
    pub fn document(&self, subscription: &str) -> Value {
        let id = |name: &str| format!("/subscriptions/{subscription}/locations/{name}");
        let paired: Vec<Value> = self.paired.iter().map(|p| json!({ "name": p, "id": id(p) })).collect();
        json!({
            "id": id(self.name),
            "name": self.name,
            "type": "Region",
            "displayName": self.display_name,
            "regionalDisplayName": self.regional_display_name(),
            "metadata": {
                "regionType": "Physical",
                "regionCategory": if self.recommended { "Recommended" } else { "Other" },
                "geography": self.geography,
                "geographyGroup": self.geography_group,
                "longitude": self.longitude,
                "latitude": self.latitude,
                "physicalLocation": self.physical_location,
                "pairedRegion": paired,
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_spelling_finds_the_region() {
        for spelling in ["westus", "West US", "WESTUS", " west  us "] {
            assert_eq!(find(spelling).map(|r| r.name), Some("westus"), "{spelling}");
        }
        assert!(find("mars").is_none());
        assert!(find("").is_none());
    }

    #[test]
    fn names_are_unique_and_pairs_exist() {
        let mut seen = std::collections::HashSet::new();
        for r in REGIONS {
            assert!(seen.insert(r.name), "{} twice", r.name);
            assert_eq!(normalized(r.display_name), r.name);
            if let Some(p) = r.paired {
                assert!(find(p).is_some(), "{} pairs with unknown {p}", r.name);
            }
        }
    }

    #[test]
    fn refusals_are_worded_per_type() {
        let e = require("Atlantis", Some("Microsoft.Compute/virtualMachineScaleSets")).unwrap_err();
        assert_eq!(e.code(), "LocationNotAvailableForResourceType");
        assert!(e.detail.message.contains("'Atlantis'") && e.detail.message.contains("westus"));
        assert_eq!(require("nowhere", None).unwrap_err().code(), "LocationNotAvailableForResourceGroup");
        assert_eq!(require("East US 2", None).unwrap().regional_display_name(), "(US) East US 2");
    }
}
