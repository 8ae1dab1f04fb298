//! The marketplace images azemu knows: every image the Azure CLI's aliases name, and their
//! neighbours (other generations, architectures, releases), a few versions each, in every region.

/// What an image's version says of itself.
pub struct Image {
    pub publisher: &'static str,
    pub offer: &'static str,
    pub sku: &'static str,
    /// Oldest first.
    pub versions: &'static [&'static str],
    pub os: &'static str,
    pub generation: &'static str,
    pub architecture: &'static str,
    /// Its `SecurityType` feature (`TrustedLaunchSupported`, …); `None` for images that boot
    /// only as standard VMs.
    pub security: Option<&'static str>,
    /// Its `DiskControllerTypes` feature.
    pub disk_controllers: &'static str,
    pub os_disk_gb: u64,
}

const LINUX: &str = "Linux";
const WINDOWS: &str = "Windows";
const X64: &str = "x64";
const ARM64: &str = "Arm64";
const TRUSTED: Option<&str> = Some("TrustedLaunchSupported");
const CONFIDENTIAL: Option<&str> = Some("TrustedLaunchAndConfidentialVmSupported");
const SCSI: &str = "SCSI";
const NVME: &str = "SCSI, NVMe";

#[allow(clippy::too_many_arguments)]
const fn image(
    (publisher, offer, sku): (&'static str, &'static str, &'static str),
    versions: &'static [&'static str],
    os: &'static str,
    generation: &'static str,
    architecture: &'static str,
    security: Option<&'static str>,
    disk_controllers: &'static str,
    os_disk_gb: u64,
) -> Image {
    Image { publisher, offer, sku, versions, os, generation, architecture, security, disk_controllers, os_disk_gb }
}

const JAMMY: &[&str] = &["22.04.202609150", "22.04.202610140", "22.04.202611120"];
const NOBLE: &[&str] = &["24.04.202609160", "24.04.202610150", "24.04.202611130"];
const FOCAL: &[&str] = &["20.04.202604020", "20.04.202605060"];
const DEBIAN11: &[&str] = &["0.20260912.1870", "0.20261010.1896", "0.20261107.1920"];
const DEBIAN12: &[&str] = &["0.20260912.1867", "0.20261010.1893", "0.20261107.1917"];
const RHEL8: &[&str] = &["8.10.2026080114", "8.10.2026100913"];
const RHEL9: &[&str] = &["9.6.2026080112", "9.6.2026100911", "9.7.2026111214"];
const LEAP154: &[&str] = &["2026.08.20", "2026.10.22"];
const SLES: &[&str] = &["2026.08.21", "2026.10.23", "2026.11.18"];
const CENTOS85: &[&str] = &["8.5.2022101800", "8.5.2022101801"];
const FLATCAR: &[&str] = &["4230.2.2", "4230.2.3", "4459.2.1"];
const AZURE_LINUX: &[&str] = &["4.0.20260910", "4.0.20261015", "4.0.20261119"];
const WS2025: &[&str] = &["26100.4349.260910", "26100.4652.261008", "26100.4946.261112"];
const WS2022: &[&str] = &["20348.3932.260910", "20348.4052.261008", "20348.4171.261112"];
const WS2019: &[&str] = &["17763.7558.260910", "17763.7678.261008", "17763.7792.261112"];
const WS2016: &[&str] = &["14393.8246.260910", "14393.8330.261008"];
const WS2012: &[&str] = &["9600.21620.231004", "9600.21650.231108"];
const WS2012DC: &[&str] = &["9200.24506.231004", "9200.24540.231108"];
const WIN10: &[&str] = &["19045.6093.260910", "19045.6216.261008"];
const WIN11: &[&str] = &["22631.5624.260910", "26100.4652.261008", "26100.4946.261112"];

#[rustfmt::skip]
pub static IMAGES: &[Image] = &[
    image(("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts"), JAMMY, LINUX, "V1", X64, None, SCSI, 30),
    image(("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-gen2"), JAMMY, LINUX, "V2", X64, CONFIDENTIAL, NVME, 30),
    image(("Canonical", "0001-com-ubuntu-server-jammy", "22_04-lts-arm64"), JAMMY, LINUX, "V2", ARM64, None, NVME, 30),
    image(("Canonical", "ubuntu-24_04-lts", "server"), NOBLE, LINUX, "V2", X64, CONFIDENTIAL, NVME, 30),
    image(("Canonical", "ubuntu-24_04-lts", "server-gen1"), NOBLE, LINUX, "V1", X64, None, SCSI, 30),
    image(("Canonical", "ubuntu-24_04-lts", "minimal"), NOBLE, LINUX, "V2", X64, CONFIDENTIAL, NVME, 30),
    image(("Canonical", "ubuntu-24_04-lts", "ubuntu-pro"), NOBLE, LINUX, "V2", X64, CONFIDENTIAL, NVME, 30),
    image(("Canonical", "ubuntu-24_04-lts", "server-arm64"), NOBLE, LINUX, "V2", ARM64, None, NVME, 30),
    image(("Canonical", "0001-com-ubuntu-server-focal", "20_04-lts"), FOCAL, LINUX, "V1", X64, None, SCSI, 30),
    image(("Canonical", "0001-com-ubuntu-server-focal", "20_04-lts-gen2"), FOCAL, LINUX, "V2", X64, TRUSTED, SCSI, 30),
    image(("Debian", "debian-11", "11"), DEBIAN11, LINUX, "V1", X64, None, SCSI, 30),
    image(("Debian", "debian-11", "11-gen2"), DEBIAN11, LINUX, "V2", X64, TRUSTED, SCSI, 30),
    image(("Debian", "debian-11", "11-backports-gen2"), DEBIAN11, LINUX, "V2", X64, TRUSTED, SCSI, 30),
    image(("Debian", "debian-12", "12"), DEBIAN12, LINUX, "V1", X64, None, SCSI, 30),
    image(("Debian", "debian-12", "12-gen2"), DEBIAN12, LINUX, "V2", X64, TRUSTED, NVME, 30),
    image(("Debian", "debian-12", "12-arm64"), DEBIAN12, LINUX, "V2", ARM64, None, NVME, 30),
    image(("RedHat", "RHEL", "8-lvm-gen2"), RHEL8, LINUX, "V2", X64, TRUSTED, SCSI, 64),
    image(("RedHat", "RHEL", "9-lvm-gen2"), RHEL9, LINUX, "V2", X64, TRUSTED, NVME, 64),
    image(("RedHat", "RHEL", "9-lvm"), RHEL9, LINUX, "V1", X64, None, SCSI, 64),
    image(("SUSE", "openSUSE-leap-15-4", "gen2"), LEAP154, LINUX, "V2", X64, TRUSTED, SCSI, 30),
    image(("SUSE", "openSUSE-leap-15-4", "gen1"), LEAP154, LINUX, "V1", X64, None, SCSI, 30),
    image(("SUSE", "sles-15-sp3", "gen2"), SLES, LINUX, "V2", X64, TRUSTED, SCSI, 30),
    image(("SUSE", "sles-15-sp5", "gen2"), SLES, LINUX, "V2", X64, TRUSTED, NVME, 30),
    image(("SUSE", "sles-15-sp5", "gen1"), SLES, LINUX, "V1", X64, None, SCSI, 30),
    image(("OpenLogic", "CentOS", "8_5"), CENTOS85, LINUX, "V1", X64, None, SCSI, 30),
    image(("OpenLogic", "CentOS", "8_5-gen2"), CENTOS85, LINUX, "V2", X64, TRUSTED, SCSI, 30),
    image(("kinvolk", "flatcar-container-linux-free", "stable"), FLATCAR, LINUX, "V1", X64, None, SCSI, 30),
    image(("kinvolk", "flatcar-container-linux-free", "stable-gen2"), FLATCAR, LINUX, "V2", X64, TRUSTED, NVME, 30),
    image(("microsoftazurelinux", "azurelinux-4", "4"), AZURE_LINUX, LINUX, "V2", X64, TRUSTED, NVME, 30),
    image(("microsoftazurelinux", "azurelinux-4", "4-gen1"), AZURE_LINUX, LINUX, "V1", X64, None, SCSI, 30),
    image(("microsoftazurelinux", "azurelinux-4", "4-arm64"), AZURE_LINUX, LINUX, "V2", ARM64, None, NVME, 30),
    image(("MicrosoftWindowsServer", "WindowsServer", "2025-datacenter-g2"), WS2025, WINDOWS, "V2", X64, TRUSTED, NVME, 127),
    image(("MicrosoftWindowsServer", "WindowsServer", "2025-datacenter-azure-edition"), WS2025, WINDOWS, "V2", X64, TRUSTED, NVME, 127),
    image(("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter"), WS2022, WINDOWS, "V1", X64, None, SCSI, 127),
    image(("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-g2"), WS2022, WINDOWS, "V2", X64, CONFIDENTIAL, NVME, 127),
    image(("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition"), WS2022, WINDOWS, "V2", X64, TRUSTED, NVME, 127),
    image(("MicrosoftWindowsServer", "WindowsServer", "2022-datacenter-azure-edition-core"), WS2022, WINDOWS, "V2", X64, TRUSTED, NVME, 127),
    image(("MicrosoftWindowsServer", "WindowsServer", "2019-Datacenter"), WS2019, WINDOWS, "V1", X64, None, SCSI, 127),
    image(("MicrosoftWindowsServer", "WindowsServer", "2019-datacenter-gensecond"), WS2019, WINDOWS, "V2", X64, TRUSTED, SCSI, 127),
    image(("MicrosoftWindowsServer", "WindowsServer", "2016-Datacenter"), WS2016, WINDOWS, "V1", X64, None, SCSI, 127),
    image(("MicrosoftWindowsServer", "WindowsServer", "2016-datacenter-gensecond"), WS2016, WINDOWS, "V2", X64, TRUSTED, SCSI, 127),
    image(("MicrosoftWindowsServer", "WindowsServer", "2012-R2-Datacenter"), WS2012, WINDOWS, "V1", X64, None, SCSI, 127),
    image(("MicrosoftWindowsServer", "WindowsServer", "2012-Datacenter"), WS2012DC, WINDOWS, "V1", X64, None, SCSI, 127),
    image(("MicrosoftWindowsDesktop", "Windows-10", "win10-22h2-pro"), WIN10, WINDOWS, "V1", X64, None, SCSI, 127),
    image(("MicrosoftWindowsDesktop", "Windows-10", "win10-22h2-pro-g2"), WIN10, WINDOWS, "V2", X64, TRUSTED, SCSI, 127),
    image(("MicrosoftWindowsDesktop", "windows-11", "win11-24h2-pro"), WIN11, WINDOWS, "V2", X64, TRUSTED, NVME, 127),
    image(("MicrosoftWindowsDesktop", "windows-11", "win11-23h2-pro"), WIN11, WINDOWS, "V2", X64, TRUSTED, SCSI, 127),
];

/// Image versions compare by their dotted numbers (`9.6.…` before `9.10.…`), not as text.
pub fn version_order(a: &str, b: &str) -> std::cmp::Ordering {
    let numbers = |v: &str| v.split('.').map(|p| p.parse::<u64>().unwrap_or(0)).collect::<Vec<_>>();
    numbers(a).cmp(&numbers(b)).then_with(|| a.cmp(b))
}

/// The images of a publisher, offer and SKU (each in any casing, `None` for any).
pub fn matching<'a>(
    publisher: &'a str,
    offer: Option<&'a str>,
    sku: Option<&'a str>,
) -> impl Iterator<Item = &'static Image> + 'a {
    IMAGES.iter().filter(move |i| {
        i.publisher.eq_ignore_ascii_case(publisher)
            && offer.is_none_or(|o| i.offer.eq_ignore_ascii_case(o))
            && sku.is_none_or(|s| i.sku.eq_ignore_ascii_case(s))
    })
}

/// The image of a publisher, offer and SKU.
pub fn find(publisher: &str, offer: &str, sku: &str) -> Option<&'static Image> {
    matching(publisher, Some(offer), Some(sku)).next()
}

impl Image {
    /// A version by its name, or `latest`: the newest.
    pub fn version(&self, version: &str) -> Option<&'static str> {
        if version.eq_ignore_ascii_case("latest") {
            return self.versions.iter().copied().max_by(|a, b| version_order(a, b));
        }
        self.versions.iter().copied().find(|v| v.eq_ignore_ascii_case(version))
    }

    /// Its versions, oldest first.
    pub fn sorted_versions(&self) -> Vec<&'static str> {
        let mut versions = self.versions.to_vec();
        versions.sort_by(|a, b| version_order(a, b));
        versions
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_image_is_unique_and_resolves_latest() {
        let mut seen = std::collections::HashSet::new();
        for image in IMAGES {
            let key = format!("{}:{}:{}", image.publisher, image.offer, image.sku).to_ascii_lowercase();
            assert!(seen.insert(key.clone()), "{key} twice");
            assert!(!image.versions.is_empty(), "{key}");
            assert_eq!(image.version("latest"), image.sorted_versions().last().copied(), "{key}");
            assert!(matches!(image.generation, "V1" | "V2"), "{key}");
        }
        assert_eq!(version_order("9.6.2026100911", "9.10.1"), std::cmp::Ordering::Less);
        let jammy = find("canonical", "0001-COM-UBUNTU-SERVER-JAMMY", "22_04-LTS-GEN2").unwrap();
        assert_eq!(jammy.version("LATEST"), Some("22.04.202611120"));
        assert_eq!(jammy.version("22.04.202609150"), Some("22.04.202609150"));
        assert_eq!(jammy.version("1.0.0"), None);
    }
}
