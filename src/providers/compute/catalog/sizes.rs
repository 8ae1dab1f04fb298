//! The VM sizes azemu knows: the common general-purpose, burstable, compute-, memory- and
//! storage-optimised sizes and one GPU size, offered in every region (in all three zones where
//! the region has zones).

pub struct VmSize {
    pub name: &'static str,
    pub family: &'static str,
    pub vcpus: u32,
    pub memory_mb: u32,
    pub max_data_disks: u32,
    /// The temporary disk (0: none).
    pub resource_disk_mb: u32,
    pub premium_io: bool,
    pub accelerated_networking: bool,
    /// `V1,V2`, or `V2` for sizes that boot only generation 2 images.
    pub generations: &'static str,
    pub architecture: &'static str,
    pub max_nics: u32,
    pub gpus: u32,
}

const fn size(
    name: &'static str,
    family: &'static str,
    (vcpus, memory_mb, max_data_disks, resource_disk_mb): (u32, u32, u32, u32),
    (premium_io, accelerated_networking): (bool, bool),
    (generations, architecture): (&'static str, &'static str),
    (max_nics, gpus): (u32, u32),
) -> VmSize {
    VmSize {
        name,
        family,
        vcpus,
        memory_mb,
        max_data_disks,
        resource_disk_mb,
        premium_io,
        accelerated_networking,
        generations,
        architecture,
        max_nics,
        gpus,
    }
}

const BOTH: (&str, &str) = ("V1,V2", "x64");
const GEN2: (&str, &str) = ("V2", "x64");
const ARM: (&str, &str) = ("V2", "Arm64");

/// The OS disk every size takes at most (1 TiB - 1 GiB, as Compute reports it).
pub const OS_DISK_MB: u32 = 1_047_552;

#[rustfmt::skip]
pub static SIZES: &[VmSize] = &[
    size("Standard_A1_v2", "standardAv2Family", (1, 2048, 2, 10240), (false, false), BOTH, (2, 0)),
    size("Standard_A2_v2", "standardAv2Family", (2, 4096, 4, 20480), (false, false), BOTH, (2, 0)),
    size("Standard_B1s", "standardBSFamily", (1, 1024, 2, 4096), (true, false), BOTH, (2, 0)),
    size("Standard_B1ms", "standardBSFamily", (1, 2048, 2, 4096), (true, false), BOTH, (2, 0)),
    size("Standard_B2s", "standardBSFamily", (2, 4096, 4, 8192), (true, false), BOTH, (3, 0)),
    size("Standard_B2ms", "standardBSFamily", (2, 8192, 4, 16384), (true, false), BOTH, (3, 0)),
    size("Standard_B4ms", "standardBSFamily", (4, 16384, 8, 32768), (true, false), BOTH, (4, 0)),
    size("Standard_B2ats_v2", "standardBasv2Family", (2, 1024, 4, 0), (true, true), GEN2, (2, 0)),
    size("Standard_B2s_v2", "standardBsv2Family", (2, 8192, 4, 0), (true, true), BOTH, (2, 0)),
    size("Standard_D1_v2", "standardDv2Family", (1, 3584, 4, 51200), (false, false), BOTH, (2, 0)),
    size("Standard_D2_v2", "standardDv2Family", (2, 7168, 8, 102400), (false, true), BOTH, (2, 0)),
    size("Standard_DS1_v2", "standardDSv2Family", (1, 3584, 4, 7168), (true, false), BOTH, (2, 0)),
    size("Standard_DS2_v2", "standardDSv2Family", (2, 7168, 8, 14336), (true, true), BOTH, (2, 0)),
    size("Standard_DS3_v2", "standardDSv2Family", (4, 14336, 16, 28672), (true, true), BOTH, (4, 0)),
    size("Standard_D2_v3", "standardDv3Family", (2, 8192, 4, 51200), (false, false), BOTH, (2, 0)),
    size("Standard_D4_v3", "standardDv3Family", (4, 16384, 8, 102400), (false, true), BOTH, (2, 0)),
    size("Standard_D2s_v3", "standardDSv3Family", (2, 8192, 4, 16384), (true, false), BOTH, (2, 0)),
    size("Standard_D4s_v3", "standardDSv3Family", (4, 16384, 8, 32768), (true, true), BOTH, (2, 0)),
    size("Standard_D2_v5", "standardDv5Family", (2, 8192, 4, 0), (false, true), BOTH, (2, 0)),
    size("Standard_D4_v5", "standardDv5Family", (4, 16384, 8, 0), (false, true), BOTH, (2, 0)),
    size("Standard_D2s_v5", "standardDSv5Family", (2, 8192, 4, 0), (true, true), BOTH, (2, 0)),
    size("Standard_D4s_v5", "standardDSv5Family", (4, 16384, 8, 0), (true, true), BOTH, (2, 0)),
    size("Standard_D8s_v5", "standardDSv5Family", (8, 32768, 16, 0), (true, true), BOTH, (4, 0)),
    size("Standard_D16s_v5", "standardDSv5Family", (16, 65536, 32, 0), (true, true), BOTH, (8, 0)),
    size("Standard_D2ds_v5", "standardDDSv5Family", (2, 8192, 4, 76800), (true, true), BOTH, (2, 0)),
    size("Standard_D2as_v5", "standardDASv5Family", (2, 8192, 4, 0), (true, true), BOTH, (2, 0)),
    size("Standard_D4as_v5", "standardDASv5Family", (4, 16384, 8, 0), (true, true), BOTH, (2, 0)),
    size("Standard_D2ps_v5", "standardDPSv5Family", (2, 8192, 4, 0), (true, true), ARM, (2, 0)),
    size("Standard_D4ps_v5", "standardDPSv5Family", (4, 16384, 8, 0), (true, true), ARM, (2, 0)),
    size("Standard_D2s_v6", "standardDSv6Family", (2, 8192, 8, 0), (true, true), GEN2, (2, 0)),
    size("Standard_E2s_v5", "standardESv5Family", (2, 16384, 4, 0), (true, true), BOTH, (2, 0)),
    size("Standard_E4s_v5", "standardESv5Family", (4, 32768, 8, 0), (true, true), BOTH, (2, 0)),
    size("Standard_F2s_v2", "standardFSv2Family", (2, 4096, 4, 16384), (true, true), BOTH, (2, 0)),
    size("Standard_F4s_v2", "standardFSv2Family", (4, 8192, 8, 32768), (true, true), BOTH, (2, 0)),
    size("Standard_L8s_v3", "standardLSv3Family", (8, 65536, 16, 81920), (true, true), BOTH, (4, 0)),
    size("Standard_NC4as_T4_v3", "Standard NCASv3_T4 Family", (4, 28672, 8, 180224), (true, true), BOTH, (2, 1)),
];

/// A size by its name, in any casing.
pub fn find(name: &str) -> Option<&'static VmSize> {
    SIZES.iter().find(|s| s.name.eq_ignore_ascii_case(name))
}

/// Regions with availability zones (the others offer sizes without zones).
const ZONAL: &[&str] = &[
    "eastus",
    "eastus2",
    "southcentralus",
    "westus2",
    "westus3",
    "centralus",
    "australiaeast",
    "southeastasia",
    "northeurope",
    "swedencentral",
    "uksouth",
    "westeurope",
    "francecentral",
    "germanywestcentral",
    "italynorth",
    "norwayeast",
    "polandcentral",
    "spaincentral",
    "switzerlandnorth",
    "japaneast",
    "koreacentral",
    "centralindia",
    "eastasia",
    "canadacentral",
    "brazilsouth",
    "southafricanorth",
    "qatarcentral",
    "uaenorth",
    "israelcentral",
    "mexicocentral",
    "newzealandnorth",
];

/// The zones a region offers.
pub fn zones(region: &str) -> &'static [&'static str] {
    match ZONAL.contains(&region) {
        true => &["1", "2", "3"],
        false => &[],
    }
}

impl VmSize {
    /// `Standard_D2s_v5` → `D2s_v5`.
    pub fn short_name(&self) -> &'static str {
        self.name.split_once('_').map_or(self.name, |(_, rest)| rest)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_unique_and_zones_name_regions() {
        let mut seen = std::collections::HashSet::new();
        for s in SIZES {
            assert!(seen.insert(s.name.to_ascii_lowercase()), "{} twice", s.name);
            assert!(s.name.starts_with("Standard_"));
        }
        for region in ZONAL {
            assert!(crate::arm::regions::find(region).is_some(), "{region}");
        }
        assert_eq!(find("standard_d2s_v5").map(VmSize::short_name), Some("D2s_v5"));
        assert!(zones("westus").is_empty());
    }
}
