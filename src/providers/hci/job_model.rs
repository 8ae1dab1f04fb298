//! The edge-device job document, field names as in edgeDeviceJobs.json. One struct carries
//! both job types; fields of the other type stay absent.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::arm::envelope::optional_timestamp;

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum JobType {
    RemoteSupport,
    CollectLog,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum DeploymentMode {
    Validate,
    Deploy,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum AccessLevel {
    None,
    Diagnostics,
    DiagnosticsAndRepair,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub enum RemoteSupportType {
    Enable,
    Revoke,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct Step {
    pub name: String,
    pub description: String,
    pub full_step_index: String,
    pub start_time_utc: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time_utc: Option<String>,
    /// `InProgress`, `Success` or `Error`.
    pub status: String,
    #[serde(default)]
    pub steps: Vec<Step>,
    #[serde(default)]
    pub exception: Vec<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct EceActionStatus {
    pub status: String,
    pub steps: Vec<Step>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct NodeSettings {
    pub state: String,
    pub created_at: String,
    pub updated_at: String,
    pub connection_status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connection_error_message: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct RemoteSupportSession {
    pub session_id: String,
    pub session_start_time: String,
    pub session_end_time: String,
    pub access_level: AccessLevel,
    pub transcript_location: String,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct LogCollectionSession {
    pub correlation_id: String,
    pub start_time: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_collected: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_size: Option<i32>,
    /// DeviceLogCollectionStatus.
    pub status: String,
}

#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct ReportedProperties {
    pub percent_complete: i32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validation_status: Option<EceActionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_status: Option<EceActionStatus>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_settings: Option<NodeSettings>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_details: Option<Vec<RemoteSupportSession>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_collection_session_details: Option<Vec<LogCollectionSession>>,
}

/// What the caller asks for; the rest of [`JobProperties`] is reported by the device.
#[derive(Debug, Clone, PartialEq)]
pub struct DesiredJob {
    pub job_type: JobType,
    pub deployment_mode: Option<DeploymentMode>,
    pub access_level: Option<AccessLevel>,
    pub expiration_timestamp: Option<DateTime<Utc>>,
    pub support_type: Option<RemoteSupportType>,
    pub from_date: Option<DateTime<Utc>>,
    pub to_date: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
pub struct JobProperties {
    pub job_type: JobType,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deployment_mode: Option<DeploymentMode>,
    pub provisioning_state: String,
    pub job_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_time_utc: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_time_utc: Option<String>,
    pub status: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_level: Option<AccessLevel>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "optional_timestamp")]
    pub expiration_timestamp: Option<DateTime<Utc>>,
    #[serde(rename = "type", default, skip_serializing_if = "Option::is_none")]
    pub support_type: Option<RemoteSupportType>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "optional_timestamp")]
    pub from_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "optional_timestamp")]
    pub to_date: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_log_generated: Option<String>,
    pub reported_properties: ReportedProperties,
}

impl JobProperties {
    pub fn desired(&self) -> DesiredJob {
        DesiredJob {
            job_type: self.job_type,
            deployment_mode: self.deployment_mode,
            access_level: self.access_level,
            expiration_timestamp: self.expiration_timestamp,
            support_type: self.support_type,
            from_date: self.from_date,
            to_date: self.to_date,
        }
    }

    pub fn is_running(&self) -> bool {
        !matches!(self.provisioning_state.as_str(), "Succeeded" | "Failed" | "Canceled")
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct JobDoc {
    pub kind: String,
    pub properties: JobProperties,
}
