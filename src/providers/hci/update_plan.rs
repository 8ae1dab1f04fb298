//! The step tree an update run walks: what a cluster does to apply (or prepare) an update, with
//! each step's nominal duration at `--speed 1`. Proportioned like the real thing (a restart takes
//! longer than a drain), short enough that a 2-node apply takes 38 s.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// What a run does: the whole update, or its preparation alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum RunKind {
    Apply,
    Prepare,
}

/// A step with no children: the unit that runs, takes time and can fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeafSpec {
    pub name: &'static str,
    pub description: &'static str,
    pub nominal: Duration,
    /// How a failure here leaves the update (`InstallationFailed`, `HealthCheckFailed`, …).
    pub failed_state: &'static str,
}

const fn leaf(name: &'static str, description: &'static str, secs: u64, failed_state: &'static str) -> LeafSpec {
    LeafSpec { name, description, nominal: Duration::from_secs(secs), failed_state }
}

pub const HEALTH_CHECKS: &str = "Health checks";

const PREPARE: [LeafSpec; 3] = [
    leaf("Download", "Download the update package to the cluster's infrastructure share.", 4, "DownloadFailed"),
    leaf("Extract", "Extract and verify the update package.", 2, "PreparationFailed"),
    leaf(HEALTH_CHECKS, "Run the pre-update health checks on every node.", 3, "HealthCheckFailed"),
];

const PER_NODE: [LeafSpec; 4] = [
    leaf("Drain", "Pause the node and move its workloads to the other nodes.", 2, "InstallationFailed"),
    leaf("Install", "Install the update's packages on the node.", 4, "InstallationFailed"),
    leaf("Restart", "Restart the node and wait for it to rejoin the cluster.", 6, "InstallationFailed"),
    leaf("Resume", "Resume the node and move its workloads back.", 1, "InstallationFailed"),
];

const CLEANUP: [LeafSpec; 2] = [
    leaf("Verify", "Check the cluster's health after the update.", 2, "InstallationFailed"),
    leaf("Cleanup", "Remove the update's temporary files.", 1, "InstallationFailed"),
];

/// A step under the root: a group of leaves.
#[derive(Debug, Clone, PartialEq)]
pub struct Branch {
    pub name: String,
    pub description: String,
    pub leaves: Vec<LeafSpec>,
}

/// The whole tree: a root, its branches, their leaves.
#[derive(Debug, Clone, PartialEq)]
pub struct RunTree {
    pub root_name: &'static str,
    pub root_description: String,
    pub branches: Vec<Branch>,
}

/// A leaf with its place in the tree, in the order the run walks them.
#[derive(Debug, Clone, PartialEq)]
pub struct FlatLeaf {
    pub branch: usize,
    pub spec: LeafSpec,
    /// `Branch/Leaf`: how fault rules and re-runs name it.
    pub path: String,
}

fn prepare_branch() -> Branch {
    Branch {
        name: "Prepare".into(),
        description: "Download the update, extract it and check the cluster's health.".into(),
        leaves: PREPARE.to_vec(),
    }
}

/// The tree for a run of `kind` on a cluster of `nodes` nodes, updating to `title`.
pub fn tree(kind: RunKind, nodes: usize, title: &str) -> RunTree {
    match kind {
        RunKind::Prepare => RunTree {
            root_name: "Prepare update",
            root_description: format!("Prepare the cluster for {title}."),
            branches: vec![prepare_branch()],
        },
        RunKind::Apply => {
            let mut branches = vec![prepare_branch()];
            branches.extend((1..=nodes.max(1)).map(|i| Branch {
                name: format!("Node-{i}"),
                description: format!("Update node Node-{i}: drain, install, restart, resume."),
                leaves: PER_NODE.to_vec(),
            }));
            branches.push(Branch {
                name: "Post-update cleanup".into(),
                description: "Verify the cluster and clean up after the update.".into(),
                leaves: CLEANUP.to_vec(),
            });
            RunTree { root_name: "Start update", root_description: format!("Update the cluster to {title}."), branches }
        }
    }
}

impl RunTree {
    pub fn leaves(&self) -> Vec<FlatLeaf> {
        let mut out = Vec::new();
        for (b, branch) in self.branches.iter().enumerate() {
            for spec in &branch.leaves {
                out.push(FlatLeaf { branch: b, spec: *spec, path: format!("{}/{}", branch.name, spec.name) });
            }
        }
        out
    }
}

/// Every step a `failStep` rule can name, for `GET /_azemu/faults/points` (node branches shown
/// for a 2-node cluster; a cluster with more has `Node-3/…` and on). A branch alone names its
/// first leaf.
pub fn failure_points() -> Vec<String> {
    let tree = tree(RunKind::Apply, 2, "");
    let mut points = Vec::new();
    for branch in &tree.branches {
        points.push(branch.name.clone());
        points.extend(branch.leaves.iter().map(|l| format!("{}/{}", branch.name, l.name)));
    }
    points
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_two_node_apply_takes_38_seconds_and_walks_nodes_in_order() {
        let tree = tree(RunKind::Apply, 2, "10.2408.0.29");
        let leaves = tree.leaves();
        let total: Duration = leaves.iter().map(|l| l.spec.nominal).sum();
        assert_eq!(total, Duration::from_secs(38));
        let paths: Vec<&str> = leaves.iter().map(|l| l.path.as_str()).collect();
        assert_eq!(paths[0], "Prepare/Download");
        assert_eq!(paths[3..7], ["Node-1/Drain", "Node-1/Install", "Node-1/Restart", "Node-1/Resume"]);
        assert_eq!(paths.last(), Some(&"Post-update cleanup/Cleanup"));
        let restart = PER_NODE.iter().find(|l| l.name == "Restart").unwrap();
        let drain = PER_NODE.iter().find(|l| l.name == "Drain").unwrap();
        assert!(restart.nominal > drain.nominal);
        assert_eq!(super::tree(RunKind::Prepare, 4, "x").leaves().len(), 3);
    }
}
