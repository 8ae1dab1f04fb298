//! Where fault rules can make an edge-device job fail, and planting those failures when a job is
//! accepted: the failure becomes part of the job's plan, so its document stays a pure function
//! of what was stored and replays the same after a restart.

use chrono::{DateTime, Utc};

use super::job_lifecycle::{leaves, path, root_name, InjectedFailure, JobPlan, JobStep, Phase, StepFailure};
use super::job_model::{DeploymentMode, JobType, RemoteSupportType};
use crate::faults::{Deferred, InjectedError};

fn phase_parts(phase: Phase) -> (&'static str, &'static str) {
    match phase {
        Phase::Validation => ("ValidationInProgress", "1"),
        Phase::Deployment => ("DeploymentInProgress", "2"),
    }
}

/// The paths a `failStep` rule can name a leaf step by: step names from the top
/// (`LogCollectionDeployment/CollectNodeLogs`), step ids (`2/2.1`), or the job status of its
/// phase (`DeploymentInProgress/CollectNodeLogs`). A phase's first leaf also answers to the
/// phase alone (`DeploymentInProgress`, `LogCollectionDeployment`, `2`): failing a phase fails it
/// at its first step.
pub fn step_paths(plan: &JobPlan, phase: Phase, leaf: usize) -> Vec<String> {
    let root = root_name(plan, phase);
    let (status, root_index) = phase_parts(phase);
    let (name, _) = leaves(plan, phase)[leaf];
    let mut paths =
        vec![format!("{root}/{name}"), format!("{root_index}/{root_index}.{}", leaf + 1), format!("{status}/{name}")];
    if leaf == 0 {
        paths.extend([root.to_string(), status.to_string(), root_index.to_string()]);
    }
    paths
}

fn failure(error: InjectedError) -> StepFailure {
    StepFailure { code: error.code, message: error.message, status: error.status }
}

/// Asks the fault rules about the job's steps in the order it would run them, up to the first
/// one that fails by itself; the first rule that fires decides. A `failOperation` rule makes
/// the job fail as it completes, when no step failed before.
pub fn plant(plan: &mut JobPlan, start: DateTime<Utc>, speed: f64, faults: &Deferred) {
    if faults.is_empty() {
        return;
    }
    for step in path(plan, start, speed) {
        if step.failure.is_some() {
            faults.decline_operation_failure();
            return;
        }
        let JobStep::FinishLeaf(phase, leaf) = step.step else { continue };
        if let Some(error) = faults.take_step_failure(&step_paths(plan, phase, leaf)) {
            plan.injected = Some(InjectedFailure { step: Some(step.index), failure: failure(error) });
            faults.decline_operation_failure();
            return;
        }
    }
    if let Some(error) = faults.take_operation_failure() {
        plan.injected = Some(InjectedFailure { step: None, failure: failure(error) });
    }
}

/// Every step path of every kind of job, by name, for `GET /_azemu/faults/points`.
pub fn failure_points() -> Vec<String> {
    let plans = [
        (JobType::CollectLog, None),
        (JobType::RemoteSupport, Some(RemoteSupportType::Enable)),
        (JobType::RemoteSupport, Some(RemoteSupportType::Revoke)),
    ];
    let mut points = vec!["ValidationInProgress".to_string(), "DeploymentInProgress".to_string()];
    for (job_type, support_type) in plans {
        let plan = JobPlan {
            job_type,
            deployment_mode: Some(DeploymentMode::Deploy),
            support_type,
            expiration: None,
            injected: None,
        };
        for phase in [Phase::Validation, Phase::Deployment] {
            points.push(root_name(&plan, phase).to_string());
            for leaf in 0..leaves(&plan, phase).len() {
                points.push(step_paths(&plan, phase, leaf).remove(0));
            }
        }
    }
    points.dedup();
    points
}
