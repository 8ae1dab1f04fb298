//! A scale-set VM's power and provisioning over time: the state it settled in, and the
//! transition an action (or its creation) started, from which its state at any moment follows.

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::faults::InjectedError;
use crate::sim::scaled;
use crate::store::OperationError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Power {
    Running,
    Stopped,
    Deallocated,
}

impl Power {
    pub fn code(self) -> &'static str {
        match self {
            Power::Running => "running",
            Power::Stopped => "stopped",
            Power::Deallocated => "deallocated",
        }
    }
}

/// What a VM is doing: its creation or an action on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum VmAction {
    Create,
    Start,
    PowerOff,
    Restart,
    Deallocate,
    Reimage,
    ReimageAll,
    Redeploy,
    PerformMaintenance,
    /// A PUT of the VM's model (tags, protection policy, user data, …): the guest is untouched.
    Update,
}

impl VmAction {
    /// The action a POST path names (case-insensitive), as Compute spells them.
    pub fn from_path(path: &str) -> Option<VmAction> {
        Some(match path.to_ascii_lowercase().as_str() {
            "start" => VmAction::Start,
            "poweroff" => VmAction::PowerOff,
            "restart" => VmAction::Restart,
            "deallocate" => VmAction::Deallocate,
            "reimage" => VmAction::Reimage,
            "reimageall" => VmAction::ReimageAll,
            "redeploy" => VmAction::Redeploy,
            "performmaintenance" => VmAction::PerformMaintenance,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            VmAction::Create => "create",
            VmAction::Start => "start",
            VmAction::PowerOff => "powerOff",
            VmAction::Restart => "restart",
            VmAction::Deallocate => "deallocate",
            VmAction::Reimage => "reimage",
            VmAction::ReimageAll => "reimageAll",
            VmAction::Redeploy => "redeploy",
            VmAction::PerformMaintenance => "performMaintenance",
            VmAction::Update => "update",
        }
    }

    /// How long it takes at `--speed 1` (a power-off that skips the shutdown is quicker).
    pub fn nominal(self, skip_shutdown: bool) -> Duration {
        Duration::from_secs(match self {
            VmAction::Create => 8,
            VmAction::Start => 3,
            VmAction::PowerOff if skip_shutdown => 1,
            VmAction::PowerOff => 3,
            VmAction::Restart => 4,
            VmAction::Deallocate => 5,
            VmAction::Reimage | VmAction::ReimageAll => 10,
            VmAction::Redeploy | VmAction::PerformMaintenance => 10,
            VmAction::Update => 2,
        })
    }

    /// The power state shown while it runs.
    pub fn transitional(self, from: Power) -> &'static str {
        match self {
            VmAction::Create | VmAction::Start | VmAction::Restart => "starting",
            VmAction::PowerOff => "stopping",
            VmAction::Deallocate => "deallocating",
            VmAction::Update => from.code(),
            VmAction::Reimage | VmAction::ReimageAll | VmAction::Redeploy | VmAction::PerformMaintenance => {
                if from == Power::Running {
                    "starting"
                } else {
                    from.code()
                }
            }
        }
    }

    /// The power state it ends in, from `from`.
    pub fn target(self, from: Power) -> Power {
        match self {
            VmAction::Create | VmAction::Start | VmAction::Restart => Power::Running,
            VmAction::PowerOff => Power::Stopped,
            VmAction::Deallocate => Power::Deallocated,
            // A reimage keeps a stopped VM stopped; a redeploy moves it to a new host as it was.
            VmAction::Reimage
            | VmAction::ReimageAll
            | VmAction::Redeploy
            | VmAction::PerformMaintenance
            | VmAction::Update => from,
        }
    }

    /// Whether Compute allows it from `from`; `Err` says why not, as Compute does.
    pub fn allowed_from(self, from: Power) -> Result<(), &'static str> {
        match (self, from) {
            (VmAction::Restart, Power::Deallocated | Power::Stopped) => {
                Err("the VM is not running; start it instead of restarting it")
            }
            (VmAction::PowerOff, Power::Deallocated) => Err("the VM is deallocated"),
            (VmAction::Redeploy | VmAction::PerformMaintenance, Power::Deallocated) => Err("the VM is deallocated"),
            _ => Ok(()),
        }
    }
}

/// Why an action failed (a fault rule): the VM shows `ProvisioningState/failed/{code}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VmFailure {
    pub code: String,
    pub message: String,
    pub status: u16,
}

impl From<InjectedError> for VmFailure {
    fn from(e: InjectedError) -> VmFailure {
        VmFailure { code: e.code, message: e.message, status: e.status }
    }
}

impl From<VmFailure> for OperationError {
    fn from(f: VmFailure) -> OperationError {
        OperationError { code: f.code, message: f.message, http_status: f.status, details: Vec::new() }
    }
}

/// An action under way or last done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Transition {
    pub action: VmAction,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub start: DateTime<Utc>,
    #[serde(with = "chrono::serde::ts_microseconds")]
    pub end: DateTime<Utc>,
    pub from: Power,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<VmFailure>,
}

/// The VM's lifecycle state, kept by the store.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VmSim {
    /// The last transition; the VM's state before it is `transition.from`.
    pub transition: Transition,
    /// When maintenance last finished on it.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::arm::envelope::optional_timestamp")]
    pub maintained: Option<DateTime<Utc>>,
    /// Since when the guest has run, carried over an update, which does not restart it.
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::arm::envelope::optional_timestamp")]
    pub running_since: Option<DateTime<Utc>>,
    /// The transition is a deallocation that hibernates the guest (`deallocate?hibernate=true`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub hibernate: bool,
}

/// How long the guest agent takes to report Ready after the VM reaches running.
pub const AGENT_BOOT: Duration = Duration::from_secs(10);

/// What the VM shows at a moment.
#[derive(Debug, Clone, PartialEq)]
pub struct VmState {
    /// `creating`, `updating`, `succeeded` or `failed`.
    pub provisioning: &'static str,
    /// When provisioning last changed (the transition's start or end).
    pub provisioning_time: DateTime<Utc>,
    pub power: &'static str,
    pub failure: Option<VmFailure>,
    /// Running, and since when (the agent boots then).
    pub running_since: Option<DateTime<Utc>>,
    /// The transition is still under way.
    pub busy: bool,
    /// The transition touches the guest (all but an update): its agent is not ready meanwhile.
    pub guest_busy: bool,
    /// The power state it settled in (or will settle in), for the next action's checks.
    pub settled_power: Power,
}

impl VmSim {
    pub fn new(action: VmAction, from: Power, now: DateTime<Utc>, speed: f64, skip_shutdown: bool) -> VmSim {
        let end = now + scaled(action.nominal(skip_shutdown), speed);
        VmSim {
            transition: Transition { action, start: now, end, from, failure: None },
            maintained: None,
            running_since: None,
            hibernate: false,
        }
    }

    /// The power state the VM ends up in once its transition is over.
    pub fn settled_power(&self) -> Power {
        let t = &self.transition;
        if t.failure.is_some() {
            t.from
        } else {
            t.action.target(t.from)
        }
    }

    pub fn at(&self, now: DateTime<Utc>) -> VmState {
        let t = &self.transition;
        if now < t.end {
            let provisioning = if t.action == VmAction::Create { "creating" } else { "updating" };
            let running_since = match t.action {
                VmAction::Update => self.running_since,
                VmAction::PowerOff | VmAction::Deallocate => (t.from == Power::Running).then_some(t.start),
                _ => None,
            };
            return VmState {
                provisioning,
                provisioning_time: t.start,
                power: t.action.transitional(t.from),
                failure: None,
                running_since,
                busy: true,
                guest_busy: t.action != VmAction::Update,
                settled_power: self.settled_power(),
            };
        }
        let power = self.settled_power();
        let provisioning = if t.failure.is_some() { "failed" } else { "succeeded" };
        // Reaching running restarts the agent; an update leaves a running guest as it was.
        let running_since = match t.action {
            VmAction::Update => self.running_since.filter(|_| power == Power::Running),
            _ => (power == Power::Running).then_some(t.end),
        };
        VmState {
            provisioning,
            provisioning_time: t.end,
            power: power.code(),
            failure: t.failure.clone(),
            running_since,
            busy: false,
            guest_busy: false,
            settled_power: power,
        }
    }
}

impl VmSim {
    /// Whether what the VM shows at `now` stays so until its next transition: the last one has
    /// ended, the guest agent is Ready (or the VM is not running), and maintenance has finished.
    pub fn settled_at(&self, now: DateTime<Utc>, speed: f64) -> bool {
        let state = self.at(now);
        let agent_ready = state.running_since.is_none_or(|since| now >= since + crate::sim::scaled(AGENT_BOOT, speed));
        !state.busy && agent_ready && self.maintained.is_none_or(|at| at <= now)
    }

    /// The first moment after `now` at which what the VM shows may change by time alone: its
    /// transition ending, its agent becoming ready, maintenance ending.
    pub fn next_change(&self, now: DateTime<Utc>, speed: f64) -> Option<DateTime<Utc>> {
        let t = &self.transition;
        let boot = crate::sim::scaled(AGENT_BOOT, speed);
        // The agent boots from whichever moment the VM is running since.
        let agent_ready = [Some(t.start), Some(t.end), self.running_since].into_iter().flatten().map(|at| at + boot);
        [t.end].into_iter().chain(agent_ready).chain(self.maintained).filter(|at| *at > now).min()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t0() -> DateTime<Utc> {
        DateTime::parse_from_rfc3339("2026-01-01T00:00:00Z").unwrap().with_timezone(&Utc)
    }

    #[test]
    fn a_view_settles_once_the_transition_ends_and_the_agent_is_ready() {
        let sim = VmSim::new(VmAction::Start, Power::Stopped, t0(), 1.0, false);
        let end = sim.transition.end;
        assert!(!sim.settled_at(t0() + chrono::Duration::seconds(1), 1.0), "still starting");
        assert!(!sim.settled_at(end, 1.0), "the agent is not ready yet");
        assert!(sim.settled_at(end + chrono::Duration::seconds(10), 1.0));
        let stopping = VmSim::new(VmAction::PowerOff, Power::Running, t0(), 1.0, false);
        assert!(stopping.settled_at(stopping.transition.end, 1.0), "a stopped VM has no agent to wait for");
        let mut maintained = sim.clone();
        maintained.maintained = Some(end + chrono::Duration::seconds(60));
        assert!(!maintained.settled_at(end + chrono::Duration::seconds(30), 1.0), "maintenance is still ahead");
    }

    #[test]
    fn a_power_off_stops_after_its_duration() {
        let sim = VmSim::new(VmAction::PowerOff, Power::Running, t0(), 1.0, false);
        let during = sim.at(t0() + chrono::Duration::seconds(1));
        assert_eq!((during.provisioning, during.power, during.busy), ("updating", "stopping", true));
        let after = sim.at(t0() + chrono::Duration::seconds(3));
        assert_eq!((after.provisioning, after.power, after.busy), ("succeeded", "stopped", false));
        assert_eq!(after.running_since, None);
        let quick = VmSim::new(VmAction::PowerOff, Power::Running, t0(), 1.0, true);
        assert!(!quick.at(t0() + chrono::Duration::seconds(1)).busy);
    }

    #[test]
    fn a_failed_action_leaves_the_power_state_as_it_was() {
        let mut sim = VmSim::new(VmAction::Deallocate, Power::Running, t0(), 1.0, false);
        sim.transition.failure = Some(VmFailure { code: "AllocationFailed".into(), message: "no".into(), status: 409 });
        let after = sim.at(t0() + chrono::Duration::seconds(5));
        assert_eq!((after.provisioning, after.power), ("failed", "running"));
    }

    #[test]
    fn an_update_leaves_power_and_guest_as_they_were() {
        let booted = t0() - chrono::Duration::seconds(60);
        let mut sim = VmSim::new(VmAction::Update, Power::Running, t0(), 1.0, false);
        sim.running_since = Some(booted);
        let during = sim.at(t0() + chrono::Duration::seconds(1));
        assert_eq!(
            (during.provisioning, during.power, during.busy, during.guest_busy),
            ("updating", "running", true, false)
        );
        assert_eq!(during.running_since, Some(booted));
        let after = sim.at(t0() + chrono::Duration::seconds(2));
        assert_eq!((after.provisioning, after.power, after.running_since), ("succeeded", "running", Some(booted)));
    }

    #[test]
    fn restart_needs_a_running_vm() {
        assert!(VmAction::Restart.allowed_from(Power::Deallocated).is_err());
        assert!(VmAction::Start.allowed_from(Power::Deallocated).is_ok());
        assert_eq!(VmAction::Reimage.target(Power::Stopped), Power::Stopped);
    }
}
