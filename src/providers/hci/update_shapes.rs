//! The shapes of update, update-run and update-summary bodies, for checking what clients send:
//! types and enums as the spec has them, so a bad field is a 400 naming its JSON path. Bodies are
//! stored as sent; these types only check them.

#![allow(dead_code)] // Fields exist to be checked, not read.

use serde::Deserialize;
use serde_json::Value;

pub use crate::arm::formats::Timestamp;

#[derive(Debug, Deserialize)]
pub enum StepStatus {
    NotStarted,
    InProgress,
    Success,
    Error,
    Skipped,
    #[serde(rename = "Unknown status")]
    Unknown,
}

/// One step of an update run's progress, and its children, to any depth.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub name: Option<String>,
    pub description: Option<String>,
    pub error_message: Option<String>,
    pub status: Option<StepStatus>,
    pub start_time_utc: Option<Timestamp>,
    pub end_time_utc: Option<Timestamp>,
    pub last_updated_time_utc: Option<Timestamp>,
    pub expected_execution_time: Option<String>,
    #[serde(default)]
    pub steps: Vec<Step>,
}

#[derive(Debug, Deserialize)]
pub enum RunState {
    Unknown,
    Succeeded,
    InProgress,
    Failed,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateRunProperties {
    pub time_started: Option<Timestamp>,
    pub last_updated_time: Option<Timestamp>,
    pub duration: Option<String>,
    pub state: Option<RunState>,
    pub progress: Option<Step>,
}

#[derive(Debug, Deserialize)]
pub enum HealthState {
    Unknown,
    Success,
    Failure,
    Warning,
    Error,
    InProgress,
}

#[derive(Debug, Deserialize)]
pub enum Severity {
    Critical,
    Warning,
    Informational,
    Hidden,
}

#[derive(Debug, Deserialize)]
pub enum CheckStatus {
    Succeeded,
    Failed,
    InProgress,
}

#[derive(Debug, Deserialize)]
pub struct CheckTags {
    pub key: Option<String>,
    pub value: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PrecheckResult {
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub tags: Option<CheckTags>,
    pub health_check_tags: Option<Value>,
    pub title: Option<String>,
    pub status: Option<CheckStatus>,
    pub severity: Option<Severity>,
    pub description: Option<String>,
    pub remediation: Option<String>,
    #[serde(rename = "targetResourceID")]
    pub target_resource_id: Option<String>,
    pub target_resource_name: Option<String>,
    pub target_resource_type: Option<String>,
    pub timestamp: Option<Timestamp>,
    pub additional_data: Option<String>,
    pub health_check_source: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PackageVersionInfo {
    pub package_type: Option<String>,
    pub version: Option<String>,
    pub last_updated: Option<Timestamp>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum UpdateState {
    HasPrerequisite,
    Obsolete,
    Ready,
    NotApplicableBecauseAnotherUpdateIsInProgress,
    Preparing,
    Installing,
    Installed,
    PreparationFailed,
    InstallationFailed,
    Invalid,
    Recalled,
    Downloading,
    DownloadFailed,
    HealthChecking,
    HealthCheckFailed,
    ReadyToInstall,
    ScanInProgress,
    ScanFailed,
    AdditionalContentRequired,
}

#[derive(Debug, Deserialize)]
pub enum AvailabilityType {
    Local,
    Online,
    Notify,
}

#[derive(Debug, Deserialize)]
pub enum RebootRequirement {
    Unknown,
    True,
    False,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdatePrerequisite {
    pub update_type: Option<String>,
    pub version: Option<String>,
    pub package_name: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateStateProperties {
    pub progress_percentage: Option<f64>,
    pub notify_message: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateProperties {
    pub installed_date: Option<Timestamp>,
    pub description: Option<String>,
    pub min_sbe_version_required: Option<String>,
    pub state: Option<UpdateState>,
    pub prerequisites: Option<Vec<UpdatePrerequisite>>,
    pub component_versions: Option<Vec<PackageVersionInfo>>,
    pub reboot_required: Option<RebootRequirement>,
    pub health_state: Option<HealthState>,
    pub health_check_result: Option<Vec<PrecheckResult>>,
    pub health_check_date: Option<Timestamp>,
    pub package_path: Option<String>,
    pub package_size_in_mb: Option<f64>,
    pub display_name: Option<String>,
    pub version: Option<String>,
    pub publisher: Option<String>,
    pub release_link: Option<String>,
    pub availability_type: Option<AvailabilityType>,
    pub package_type: Option<String>,
    pub additional_properties: Option<String>,
    pub update_state_properties: Option<UpdateStateProperties>,
}

#[derive(Debug, Deserialize)]
pub enum SummaryState {
    Unknown,
    AppliedSuccessfully,
    UpdateAvailable,
    UpdateInProgress,
    UpdateFailed,
    NeedsAttention,
    PreparationInProgress,
    PreparationFailed,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSummaryProperties {
    pub oem_family: Option<String>,
    pub current_oem_version: Option<String>,
    pub hardware_model: Option<String>,
    pub package_versions: Option<Vec<PackageVersionInfo>>,
    pub current_version: Option<String>,
    pub current_sbe_version: Option<String>,
    pub last_updated: Option<Timestamp>,
    pub last_checked: Option<Timestamp>,
    pub health_state: Option<HealthState>,
    pub health_check_result: Option<Vec<PrecheckResult>>,
    pub health_check_date: Option<Timestamp>,
    pub state: Option<SummaryState>,
}
