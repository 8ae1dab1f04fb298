//! Three azemu nodes on one PostgreSQL store, as separate processes: any node answers any
//! request and reads what another wrote, ETags are enforced across nodes, lifecycle work moves
//! to another node when its holder is killed, and each step is journaled once.

mod common;

use std::process::Command;
use std::time::{Duration, Instant};

use common::process::Served;
use common::stores::fresh_database;
use common::*;
use reqwest::StatusCode;
use serde_json::{json, Value};

/// A node: `azemu serve` on the shared store, with a data directory of its own or shared.
fn node(store: &str, data: &std::path::Path, name: &str, args: &[&str]) -> Served {
    let mut all: Vec<std::ffi::OsString> = vec!["--store".into(), store.into(), "--node-id".into(), name.into()];
    all.extend(["--data".into(), data.into()]);
    all.extend(args.iter().map(Into::into));
    Served::start(all)
}

struct Trio {
    nodes: Vec<Served>,
    /// The database's URL.
    store: String,
    client: reqwest::Client,
    _data: Vec<tempfile::TempDir>,
}

impl Trio {
    /// Three nodes sharing one data directory, as on one machine.
    fn start(args: &[&str]) -> Trio {
        Trio::start_with(args, false)
    }

    /// Three nodes with a data directory each, as on three machines: nothing but the store is
    /// shared.
    fn start_apart(args: &[&str]) -> Trio {
        Trio::start_with(args, true)
    }

    fn start_with(args: &[&str], apart: bool) -> Trio {
        Trio::start_each([args, args, args], apart)
    }

    /// Three nodes, each started with its own options.
    fn start_each(args: [&[&str]; 3], apart: bool) -> Trio {
        let store = fresh_database();
        let data: Vec<tempfile::TempDir> =
            (0..if apart { 3 } else { 1 }).map(|_| tempfile::tempdir().unwrap()).collect();
        let nodes = (1..=3)
            .map(|i| node(&store, data[(i - 1) % data.len()].path(), &format!("node-{i}"), args[i - 1]))
            .collect();
        let client = reqwest::Client::builder().timeout(Duration::from_secs(20)).build().unwrap();
        Trio { nodes, store, client, _data: data }
    }

    async fn send(
        &self,
        node: usize,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> (StatusCode, reqwest::header::HeaderMap, Value) {
        let mut request = self.client.request(method, format!("{}{path}", self.nodes[node].base)).bearer_auth("t");
        for (k, v) in headers {
            request = request.header(*k, *v);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.unwrap();
        let (status, headers) = (response.status(), response.headers().clone());
        (status, headers, response.json().await.unwrap_or(Value::Null))
    }

    async fn get(&self, node: usize, path: &str) -> (StatusCode, Value) {
        let (status, _, body) = self.send(node, reqwest::Method::GET, path, None, &[]).await;
        (status, body)
    }

    async fn put(&self, node: usize, path: &str, body: Value) -> StatusCode {
        self.send(node, reqwest::Method::PUT, path, Some(body), &[]).await.0
    }

    /// Waits until every node's health lists three nodes with every shard leased.
    async fn settled(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            let mut ready = true;
            for node in 0..self.nodes.len() {
                let (_, health) = self.get(node, "/_azemu/health").await;
                let nodes = health["nodes"].as_array().cloned().unwrap_or_default();
                let shards: i64 = nodes.iter().map(|n| n["shards"].as_i64().unwrap()).sum();
                ready &= nodes.len() == self.nodes.len()
                    && shards == 64
                    && nodes.iter().all(|n| n["shards"].as_i64() > Some(0));
            }
            if ready {
                return;
            }
            assert!(Instant::now() < deadline, "the nodes never shared the work");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn any_node_reads_what_another_wrote_on_the_very_next_request() {
    let trio = Trio::start(&[]);
    assert_eq!(
        trio.put(0, &with_version(&group_path(RG), RESOURCES), json!({"location": "eastus"})).await,
        StatusCode::CREATED
    );
    let device_path = with_version(&device("dev-1"), HCI);
    // Each write on one node, read at once on the next: round-robin over the three.
    for i in 0..30 {
        let path = with_version(&job("dev-1", &format!("job-{i}")), HCI);
        if i == 0 {
            assert_eq!(trio.put(1, &device_path, device_body()).await, StatusCode::CREATED);
        }
        assert_eq!(trio.put(i % 3, &path, collect_log_body()).await, StatusCode::CREATED);
        let (status, doc) = trio.get((i + 1) % 3, &path).await;
        assert_eq!(status, StatusCode::OK, "job-{i} written on node {} not read on node {}", i % 3, (i + 1) % 3);
        assert!(doc["properties"]["jobId"].is_string());
    }
    let (_, list) = trio.get(2, &with_version(&format!("{}/jobs", device("dev-1")), HCI)).await;
    assert_eq!(list["value"].as_array().unwrap().len(), 30);

    let (_, health) = trio.get(1, "/_azemu/health").await;
    assert_eq!(health["store"], "postgres");
    assert_eq!(health["node"], "node-2");

    // Every node's journal holds the requests each node served, once, naming the node.
    for node in 0..3 {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let jobs = format!("{}/jobs/job-", device("dev-1"));
            let (_, events) = trio.get(node, &format!("/_azemu/events?kind=request&resource={jobs}")).await;
            let puts: Vec<(String, String)> = events["value"]
                .as_array()
                .unwrap()
                .iter()
                .filter(|e| e["method"] == "PUT" && e["path"].as_str().unwrap().contains("/jobs/job-"))
                .map(|e| (e["path"].as_str().unwrap().to_string(), e["node"].as_str().unwrap().to_string()))
                .collect();
            let expected: Vec<(String, String)> =
                (0..30).map(|i| (job("dev-1", &format!("job-{i}")), format!("node-{}", i % 3 + 1))).collect();
            let mut sorted = puts.clone();
            sorted.sort_by_key(|(path, _)| path[path.rfind('-').unwrap() + 1..].parse::<u32>().unwrap());
            if sorted.len() >= expected.len() || Instant::now() > deadline {
                let paths: Vec<(String, String)> =
                    sorted.into_iter().map(|(p, n)| (p.to_ascii_lowercase(), n)).collect();
                let expected: Vec<(String, String)> =
                    expected.into_iter().map(|(p, n)| (p.to_ascii_lowercase(), n)).collect();
                assert_eq!(paths, expected, "node {}'s journal", node + 1);
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn if_match_is_enforced_across_nodes_and_only_one_of_racing_writers_wins() {
    let trio = Trio::start(&[]);
    let group = with_version(&group_path(RG), RESOURCES);
    assert_eq!(trio.put(0, &group, json!({"location": "eastus", "tags": {"round": "0"}})).await, StatusCode::CREATED);
    let (_, headers, _) = trio.send(1, reqwest::Method::GET, &group, None, &[]).await;
    let etag = headers.get("etag").expect("a group has an ETag").to_str().unwrap().to_string();

    // Changed on node 3: node 1's copy of the old ETag no longer matches.
    let tags = |round: &str| json!({"location": "eastus", "tags": {"round": round}});
    let (status, _, _) = trio.send(2, reqwest::Method::PUT, &group, Some(tags("1")), &[("if-match", &etag)]).await;
    assert!(status.is_success(), "{status}");
    let (status, _, body) = trio.send(0, reqwest::Method::PUT, &group, Some(tags("2")), &[("if-match", &etag)]).await;
    assert_eq!(status, StatusCode::PRECONDITION_FAILED, "{body}");

    // Thirty writers on three nodes race with the same ETag: one wins.
    let (_, headers, _) = trio.send(0, reqwest::Method::GET, &group, None, &[]).await;
    let etag = headers.get("etag").unwrap().to_str().unwrap().to_string();
    let trio = std::sync::Arc::new(trio);
    let racers: Vec<_> = (0..30)
        .map(|i| {
            let (trio, group, etag) = (trio.clone(), group.clone(), etag.clone());
            tokio::spawn(async move {
                let body = json!({"location": "eastus", "tags": {"racer": i.to_string()}});
                trio.send(i % 3, reqwest::Method::PUT, &group, Some(body), &[("if-match", &etag)]).await.0
            })
        })
        .collect();
    let mut statuses = Vec::new();
    for racer in racers {
        statuses.push(racer.await.unwrap());
    }
    let won = statuses.iter().filter(|s| s.is_success()).count();
    let lost = statuses.iter().filter(|s| **s == StatusCode::PRECONDITION_FAILED).count();
    assert_eq!((won, lost), (1, 29), "{statuses:?}");
}

/// The path of the operation `Azure-AsyncOperation` names, which any node answers.
fn operation_path(headers: &reqwest::header::HeaderMap) -> String {
    let url = headers["azure-asyncoperation"].to_str().unwrap();
    url[url.find("/subscriptions/").unwrap()..].to_string()
}

/// `(property, to)` of the change events about `id` in a node's journal.
async fn changes(trio: &Trio, node: usize, id: &str) -> Vec<(String, Value)> {
    let (status, events) = trio.get(node, &format!("/_azemu/events?kind=change&resource={id}")).await;
    assert_eq!(status, StatusCode::OK);
    events["value"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|e| e["resourceId"].as_str().unwrap().eq_ignore_ascii_case(id))
        .map(|e| (e["property"].as_str().unwrap().to_string(), e["to"].clone()))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_go_on_on_another_node_when_their_lease_holder_is_killed_and_each_step_is_journaled_once() {
    // A job takes about 8 s at half speed; leases run out 2 s after a node's last renewal.
    let mut trio = Trio::start(&["--speed", "0.5", "--lease-timeout", "2s"]);
    trio.settled().await;
    assert_eq!(
        trio.put(0, &with_version(&group_path(RG), RESOURCES), json!({"location": "eastus"})).await,
        StatusCode::CREATED
    );
    assert_eq!(trio.put(0, &with_version(&device("dev-1"), HCI), device_body()).await, StatusCode::CREATED);
    let jobs: Vec<String> = (0..24).map(|i| job("dev-1", &format!("job-{i}"))).collect();
    let mut operations = Vec::new();
    for (i, id) in jobs.iter().enumerate() {
        let (status, headers, _) =
            trio.send(i % 3, reqwest::Method::PUT, &with_version(id, HCI), Some(collect_log_body()), &[]).await;
        assert_eq!(status, StatusCode::CREATED);
        // Its path: any node answers it.
        operations.push(operation_path(&headers));
    }
    // Mid-way, node 1 (holding a third of the shards) dies.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (_, before) = trio.get(1, &with_version(&jobs[0], HCI)).await;
    assert_ne!(before["properties"]["status"], "Succeeded", "killed mid-way: {before}");
    let killed = trio.nodes.remove(0);
    drop(killed);

    let deadline = Instant::now() + Duration::from_secs(40);
    for id in &jobs {
        loop {
            let (_, doc) = trio.get(0, &with_version(id, HCI)).await;
            if doc["properties"]["status"] == "Succeeded" {
                assert_eq!(doc["properties"]["reportedProperties"]["percentComplete"], 100);
                break;
            }
            assert!(Instant::now() < deadline, "{id} did not finish after its node died: {doc}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    // An operation ends only when the engine runs its job's last step: the survivors did.
    for operation in &operations {
        loop {
            let (_, status) = trio.get(1, operation).await;
            if status["status"] == "Succeeded" {
                break;
            }
            assert!(Instant::now() < deadline, "{operation} did not end after its node died: {status}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }
    let expected = [
        "Scheduled",
        "ValidationInProgress",
        "ValidationSuccess",
        "DeploymentInProgress",
        "DeploymentSuccess",
        "Succeeded",
    ];
    for node in 0..2 {
        for id in &jobs {
            let changes = changes(&trio, node, id).await;
            let statuses: Vec<&str> =
                changes.iter().filter(|(p, _)| p == "properties.status").map(|(_, to)| to.as_str().unwrap()).collect();
            assert_eq!(statuses, expected, "node {} journaled {id}'s steps so", node + 2);
            let percent: Vec<i64> = changes
                .iter()
                .filter(|(p, _)| p == "properties.reportedProperties.percentComplete")
                .map(|(_, to)| to.as_i64().unwrap())
                .collect();
            assert!(percent.windows(2).all(|w| w[0] < w[1]), "each percentage once, in order: {percent:?}");
            assert_eq!(percent.last(), Some(&100));
        }
    }
    // The two left share the work between them.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let (_, health) = trio.get(0, "/_azemu/health").await;
        let nodes = health["nodes"].as_array().unwrap().clone();
        if nodes.len() == 2 && nodes.iter().map(|n| n["shards"].as_i64().unwrap()).sum::<i64>() == 64 {
            break;
        }
        assert!(Instant::now() < deadline, "the survivors did not take every shard: {health}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fault_rule_and_a_clock_advance_made_on_one_node_act_on_the_others() {
    let trio = Trio::start_apart(&["--clock", "manual"]);
    let group = with_version(&group_path(RG), RESOURCES);
    assert_eq!(trio.put(0, &group, json!({"location": "eastus"})).await, StatusCode::CREATED);
    // Added on node 1, fires twice in all, whichever node the requests reach.
    let rule = json!({"match": {"operation": "ResourceGroups_Get"}, "action": {"error": {"status": 429}}, "times": 2});
    let (status, _, added) = trio.send(0, reqwest::Method::POST, "/_azemu/faults", Some(rule), &[]).await;
    assert_eq!(status, StatusCode::CREATED, "{added}");
    let mut statuses = Vec::new();
    for node in [1, 2, 0, 1, 2] {
        statuses.push(trio.get(node, &group).await.0);
    }
    assert_eq!(statuses, [429, 429, 200, 200, 200].map(|s| StatusCode::from_u16(s).unwrap()));
    let (_, rules) = trio.get(2, "/_azemu/faults").await;
    assert_eq!(rules["value"][0]["id"], added["id"]);
    assert_eq!(
        (rules["value"][0]["hits"].as_u64(), rules["value"][0]["active"].as_bool()),
        (Some(2), Some(false)),
        "{rules}"
    );
    let (status, _, _) = trio
        .send(1, reqwest::Method::DELETE, &format!("/_azemu/faults/{}", added["id"].as_str().unwrap()), None, &[])
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, rules) = trio.get(0, "/_azemu/faults").await;
    assert_eq!(rules["value"], json!([]), "removed on node 2, gone on node 1");

    // A job made on node 2, the clock advanced on node 3: node 1 reads it done, at the same time.
    assert_eq!(trio.put(1, &with_version(&device("dev-1"), HCI), device_body()).await, StatusCode::CREATED);
    let job_path = with_version(&job("dev-1", "job-1"), HCI);
    let (status, headers, _) = trio.send(1, reqwest::Method::PUT, &job_path, Some(collect_log_body()), &[]).await;
    assert_eq!(status, StatusCode::CREATED);
    let operation = &operation_path(&headers);
    let (status, advanced) = {
        let (s, _, b) =
            trio.send(2, reqwest::Method::POST, "/_azemu/clock/advance", Some(json!({"seconds": 30})), &[]).await;
        (s, b)
    };
    assert_eq!(status, StatusCode::OK, "{advanced}");
    let (_, doc) = trio.get(0, &job_path).await;
    assert_eq!(doc["properties"]["status"], "Succeeded", "{doc}");
    assert_eq!(trio.get(1, operation).await.1["status"], "Succeeded");
    for node in 0..3 {
        let (_, clock) = trio.get(node, "/_azemu/clock").await;
        assert_eq!(clock["now"], advanced["now"], "node {} follows the clock", node + 1);
        assert_eq!(clock["mode"], "manual");
    }
    // Resumed on node 1: every node's clock runs.
    let (status, _, _) =
        trio.send(0, reqwest::Method::PATCH, "/_azemu/clock", Some(json!({"mode": "real", "speed": 2})), &[]).await;
    assert_eq!(status, StatusCode::OK);
    for node in 1..3 {
        let (_, clock) = trio.get(node, "/_azemu/clock").await;
        assert_eq!((clock["mode"].as_str(), clock["speed"].as_f64()), (Some("real"), Some(2.0)), "node {}", node + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_list_the_subscriptions_any_declared_and_add_a_shared_fault_file_once() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("faults.json");
    let rules =
        json!([{"match": {"operation": "ResourceGroups_Delete"}, "action": {"error": {"status": 500}}, "times": 1}]);
    std::fs::write(&file, rules.to_string()).unwrap();
    let faults = file.to_str().unwrap();
    let team = "0f1e2d3c-4b5a-4968-8776-655443322110";
    let other = "1f1e2d3c-4b5a-4968-8776-655443322110";
    let named = format!("{team}=Team CI");
    let trio = Trio::start_each(
        [
            &["--subscription", &named, "--faults", faults],
            &["--subscription", other, "--faults", faults],
            &["--faults", faults],
        ],
        true,
    );
    let listed = |body: &Value| {
        let mut all: Vec<(String, String)> = body["value"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| (s["subscriptionId"].as_str().unwrap().into(), s["displayName"].as_str().unwrap().into()))
            .collect();
        all.sort();
        all
    };
    let expected = vec![
        ("00000000-0000-0000-0000-000000000000".to_string(), "azemu".to_string()),
        (team.to_string(), "Team CI".to_string()),
        (other.to_string(), "azemu subscription".to_string()),
    ];
    for node in 0..3 {
        let (status, body) = trio.get(node, "/subscriptions?api-version=2022-12-01").await;
        assert_eq!(status, StatusCode::OK);
        assert_eq!(listed(&body), expected, "node {}", node + 1);
        let (status, one) = trio.get(node, &format!("/subscriptions/{team}?api-version=2022-12-01")).await;
        assert_eq!((status, one["displayName"].as_str()), (StatusCode::OK, Some("Team CI")), "node {}", node + 1);
        let (_, held) = trio.get(node, "/_azemu/faults").await;
        assert_eq!(held["value"].as_array().unwrap().len(), 1, "the file's rule once, node {}: {held}", node + 1);
    }
    // A node restarted with the same file leaves the rule as it stands.
    let mut trio = trio;
    let data = tempfile::tempdir().unwrap();
    trio.nodes[2] = node(&trio.store, data.path(), "node-3b", &["--faults", faults]);
    let (_, held) = trio.get(2, "/_azemu/faults").await;
    assert_eq!(held["value"].as_array().unwrap().len(), 1, "{held}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn under_strict_auth_a_token_one_node_issued_is_taken_by_the_others() {
    // Each node has its own data directory: the key they sign with comes from the store.
    let trio = Trio::start_apart(&["--auth", "strict"]);
    let body = "grant_type=client_credentials&client_id=ci-app&client_secret=s3cret&scope=https%3A%2F%2Fmanagement.azure.com%2F.default";
    let issued = trio
        .client
        .post(format!("{}/common/oauth2/v2.0/token", trio.nodes[0].base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(issued.status(), StatusCode::OK);
    let token = issued.json::<Value>().await.unwrap()["access_token"].as_str().unwrap().to_string();
    let subscriptions = "/subscriptions?api-version=2022-12-01";
    for node in 0..3 {
        let r = trio
            .client
            .get(format!("{}{subscriptions}", trio.nodes[node].base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK, "node {} takes node 1's token", node + 1);
        let r = trio
            .client
            .get(format!("{}{subscriptions}", trio.nodes[node].base))
            .bearer_auth("forged")
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_partner_publish_walks_its_pipeline_whichever_node_is_asked() {
    const V: &str = "api-version=2017-10-31";
    const OFFER: &str = "/api/publishers/contoso/offers/ubuntu-hardened";
    let trio = Trio::start(&["--clock", "manual", "--publisher", "contoso"]);
    let offer = json!({"offerTypeId": "microsoft-azure-virtualmachines", "publisherId": "contoso", "id": "ubuntu-hardened",
        "definition": {"displayText": "Hardened Ubuntu", "offer": {"microsoft-azure-marketplace.title": "Hardened Ubuntu"},
                       "plans": [{"planId": "standard"}]}});
    let (status, _, _) =
        trio.send(0, reqwest::Method::PUT, &format!("{OFFER}?{V}"), Some(offer), &[("if-match", "*")]).await;
    assert_eq!(status, StatusCode::CREATED);
    let submission = json!({"metadata": {"notification-emails": "jdoe@contoso.com"}});
    let (status, headers, body) =
        trio.send(1, reqwest::Method::POST, &format!("{OFFER}/publish?{V}"), Some(submission.clone()), &[]).await;
    assert_eq!(status, StatusCode::ACCEPTED, "{body}");
    let location = headers.get("operation-location").unwrap().to_str().unwrap().to_string();
    assert_eq!(trio.get(2, &location).await.1["status"], "running");
    // A second publish on another node meets the first one.
    let (status, _, _) =
        trio.send(0, reqwest::Method::POST, &format!("{OFFER}/publish?{V}"), Some(submission.clone()), &[]).await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, _, _) =
        trio.send(2, reqwest::Method::POST, "/_azemu/clock/advance", Some(json!({"seconds": 5})), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(trio.get(0, &location).await.1["status"], "completed");
    assert_eq!(trio.get(1, &format!("{OFFER}/status?{V}")).await.1["status"], "waitingForPublisherReview");
    let (status, headers, _) =
        trio.send(2, reqwest::Method::POST, &format!("{OFFER}/golive?{V}"), Some(submission), &[]).await;
    assert_eq!(status, StatusCode::ACCEPTED);
    let live = headers.get("operation-location").unwrap().to_str().unwrap().to_string();
    let (status, _, _) =
        trio.send(0, reqwest::Method::POST, "/_azemu/clock/advance", Some(json!({"seconds": 2})), &[]).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(trio.get(1, &live).await.1["status"], "completed");
    assert_eq!(trio.get(2, &format!("{OFFER}/status?{V}")).await.1["status"], "succeeded");
    assert_eq!(trio.get(0, &format!("{OFFER}/slot/production?{V}")).await.1["id"], "ubuntu-hardened");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_whose_reading_connection_is_cut_makes_it_again_and_catches_up() {
    let trio = Trio::start(&[]);
    trio.settled().await;
    let cut = Command::new("psql")
        .args([
            &trio.store,
            "-tAc",
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
               WHERE application_name = 'azemu-reader' AND datname = current_database()",
        ])
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&cut.stdout).trim(), "3", "{}", String::from_utf8_lossy(&cut.stderr));
    let group = with_version(&group_path(RG), RESOURCES);
    assert_eq!(trio.put(0, &group, json!({"location": "eastus"})).await, StatusCode::CREATED);
    let deadline = Instant::now() + Duration::from_secs(10);
    while trio.get(1, &group).await.0 != StatusCode::OK {
        assert!(Instant::now() < deadline, "node 2 never read node 1's write again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // Once back, a write is read on the very next request again, and the leases go on.
    let other = with_version(&group_path("second-rg"), RESOURCES);
    assert_eq!(trio.put(2, &other, json!({"location": "eastus"})).await, StatusCode::CREATED);
    assert_eq!(trio.get(1, &other).await.0, StatusCode::OK);
    trio.settled().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_killed_at_random_during_concurrent_writes_lose_no_acknowledged_write() {
    let mut trio = Trio::start(&["--speed", "4", "--lease-timeout", "2s"]);
    trio.settled().await;
    assert_eq!(
        trio.put(0, &with_version(&group_path(RG), RESOURCES), json!({"location": "eastus"})).await,
        StatusCode::CREATED
    );
    assert_eq!(trio.put(0, &with_version(&device("dev-1"), HCI), device_body()).await, StatusCode::CREATED);
    let bases: Vec<String> = trio.nodes.iter().map(|n| n.base.clone()).collect();
    let acknowledged = std::sync::Arc::new(std::sync::Mutex::new(Vec::<(String, String)>::new()));
    let mut writers = Vec::new();
    for w in 0..12 {
        let (client, bases, acknowledged) = (trio.client.clone(), bases.clone(), acknowledged.clone());
        writers.push(tokio::spawn(async move {
            // Bounded: 3 s of writes, each to the next node; one a killed node refuses is not
            // acknowledged.
            let until = Instant::now() + Duration::from_secs(3);
            let mut i = 0;
            while Instant::now() < until {
                let path = with_version(&job("dev-1", &format!("w{w}-j{i}")), HCI);
                let sent = client
                    .put(format!("{}{path}", bases[(w + i) % 3]))
                    .bearer_auth("t")
                    .json(&collect_log_body())
                    .send()
                    .await;
                if let Some(r) = sent.ok().filter(|r| r.status() == StatusCode::CREATED) {
                    let operation = operation_path(r.headers());
                    acknowledged.lock().unwrap().push((path, operation));
                }
                i += 1;
            }
        }));
    }
    // Two of the three die in turn, at a random moment each, while the writes go on.
    let pick = uuid::Uuid::new_v4().as_u128();
    let (first, wait) = ((pick % 3) as usize, Duration::from_millis(300 + (pick >> 8) as u64 % 900));
    tokio::time::sleep(wait).await;
    drop(trio.nodes.remove(first));
    tokio::time::sleep(Duration::from_millis(300 + (pick >> 24) as u64 % 900)).await;
    let second = ((pick >> 40) % 2) as usize;
    drop(trio.nodes.remove(second));
    for w in writers {
        w.await.unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert!(acknowledged.len() > 100, "the load got going: {}", acknowledged.len());

    // A new node joins the one left: both read every acknowledged job, and every job's operation
    // ends (the engine's last step: the work of the dead nodes' shards went on).
    let data = tempfile::tempdir().unwrap();
    trio.nodes.push(node(&trio.store, data.path(), "node-4", &["--speed", "4", "--lease-timeout", "2s"]));
    let deadline = Instant::now() + Duration::from_secs(60);
    for (path, operation) in &acknowledged {
        for node in 0..2 {
            assert_eq!(trio.get(node, path).await.0, StatusCode::OK, "{path} was acknowledged, and lost");
            loop {
                let (status, op) = trio.get(node, operation).await;
                assert_eq!(status, StatusCode::OK, "{operation}");
                if op["status"] == "Succeeded" {
                    break;
                }
                assert!(Instant::now() < deadline, "{operation} never ended: {op}");
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_away_past_the_change_logs_trim_reloads_the_store_when_it_is_back() {
    let trio = Trio::start(&[]);
    let group = |name: &str| with_version(&group_path(name), RESOURCES);
    let eastus = || json!({"location": "eastus"});
    assert_eq!(trio.put(0, &group("gone-rg"), eastus()).await, StatusCode::CREATED);
    assert_eq!(trio.get(2, &group("gone-rg")).await.0, StatusCode::OK);
    // Node 3 is frozen (as a suspended machine is) while the others write and the log is trimmed.
    let frozen = trio.nodes[2].child.id() as i32;
    // SAFETY: a signal to a child this test started.
    assert_eq!(unsafe { libc::kill(frozen, libc::SIGSTOP) }, 0);
    let (status, _, _) = trio.send(0, reqwest::Method::DELETE, &group("gone-rg"), None, &[]).await;
    assert!(status.is_success(), "{status}");
    assert_eq!(trio.put(1, &group("away-rg"), eastus()).await, StatusCode::CREATED);
    let trimmed =
        Command::new("psql").args([&trio.store, "-v", "ON_ERROR_STOP=1", "-qc", "DELETE FROM azemu_changes"]).status();
    assert!(trimmed.unwrap().success());
    assert_eq!(trio.put(0, &group("later-rg"), eastus()).await, StatusCode::CREATED);
    // SAFETY: as above.
    assert_eq!(unsafe { libc::kill(frozen, libc::SIGCONT) }, 0);
    assert_eq!(trio.get(2, &group("away-rg")).await.0, StatusCode::OK);
    assert_eq!(trio.get(2, &group("later-rg")).await.0, StatusCode::OK);
    // The deletion runs on (a group's is long-running), wherever its lease went.
    let deadline = Instant::now() + Duration::from_secs(15);
    while trio.get(2, &group("gone-rg")).await.0 != StatusCode::NOT_FOUND {
        assert!(Instant::now() < deadline, "the group deleted while node 3 was away is still there");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // And it writes again, from the reloaded replica.
    assert_eq!(trio.put(2, &group("back-rg"), eastus()).await, StatusCode::CREATED);
    assert_eq!(trio.get(0, &group("back-rg")).await.0, StatusCode::OK);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_id_in_use_is_refused() {
    let store = fresh_database();
    let data = tempfile::tempdir().unwrap();
    let _first = node(&store, data.path(), "same", &[]);
    let out = Command::new(env!("CARGO_BIN_EXE_azemu"))
        .args(["serve", "--port", "0", "--tls", "off", "--store", &store, "--node-id", "same", "--data"])
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("node id 'same' is in use"), "{stderr}");
}
