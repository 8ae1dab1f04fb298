//! Upgrades: a store written by the first layout azemu shipped (before layouts were numbered)
//! is migrated in place after a backup, and keeps its resources; a store from a newer azemu is
//! refused, naming both formats.

mod common;

use azemu::server;
use common::*;

/// A store as the first landed layout wrote it: a resource group, an edge device, a finished
/// log-collection job and one still running when the process was killed.
const FORMAT_ONE: &str = include_str!("fixtures/store-format-1.sql");
const SUB: &str = "00000000-0000-0000-0000-000000000001";

fn device() -> String {
    format!("/subscriptions/{SUB}/resourceGroups/kept/providers/Microsoft.HybridCompute/machines/node-1/providers/Microsoft.AzureStackHCI/edgeDevices/default")
}

fn format_of(path: &std::path::Path) -> i64 {
    let conn = rusqlite::Connection::open(path).unwrap();
    conn.query_row("PRAGMA user_version", [], |r| r.get(0)).unwrap()
}

#[tokio::test]
async fn a_store_of_the_first_layout_is_migrated_after_a_backup() {
    let data = tempfile::tempdir().unwrap();
    let db = data.path().join("azemu.db");
    rusqlite::Connection::open(&db).unwrap().execute_batch(FORMAT_ONE).unwrap();
    assert_eq!(format_of(&db), 0);

    let s = TestServer::start_with(Options { data_dir: Some(data.path().into()), ..Options::default() }).await;
    let group = s.get(&format!("/subscriptions/{SUB}/resourcegroups/kept?api-version=2021-04-01")).await;
    assert_eq!(
        (group.status.as_u16(), &group.body["tags"]["team"]),
        (200, &serde_json::json!("edge")),
        "{}",
        group.body
    );
    let version = "api-version=2024-09-01-preview";
    assert_eq!(s.get(&format!("{}?{version}", device())).await.status, 200);
    let settled = s.get(&format!("{}/jobs/settled?{version}", device())).await.body;
    assert_eq!(settled["properties"]["provisioningState"], "Succeeded", "{settled}");
    // Its work could not be carried over: it says so, and a new PUT replaces it.
    let running = s.get(&format!("{}/jobs/running?{version}", device())).await.body;
    assert_eq!(running["properties"]["provisioningState"], "Failed", "{running}");
    let listed = s.get(&format!("{}/jobs?{version}", device())).await.body;
    assert_eq!(listed["value"].as_array().unwrap().len(), 2);

    let backup = data.path().join("azemu.db.format-1.backup");
    assert_eq!(format_of(&backup), 0, "the backup is the store as it was");
    let kept: i64 = rusqlite::Connection::open(&backup)
        .unwrap()
        .query_row("SELECT COUNT(*) FROM resources", [], |r| r.get(0))
        .unwrap();
    assert_eq!(kept, 4);
    assert_eq!(format_of(&db), 2);
    drop(s);

    // A second start finds nothing to migrate.
    let again = TestServer::start_with(Options { data_dir: Some(data.path().into()), ..Options::default() }).await;
    assert_eq!(again.get(&format!("{}/jobs/settled?{version}", device())).await.status, 200);
    assert!(!data.path().join("azemu.db.format-1.backup.1").exists());
}

#[tokio::test]
async fn a_store_of_a_newer_azemu_is_refused_naming_both_formats() {
    let data = tempfile::tempdir().unwrap();
    let conn = rusqlite::Connection::open(data.path().join("azemu.db")).unwrap();
    conn.execute_batch("CREATE TABLE resources (rid INTEGER PRIMARY KEY); PRAGMA user_version = 7;").unwrap();
    drop(conn);
    let refused =
        server::start(serve_config(Options { data_dir: Some(data.path().into()), ..Options::default() })).await;
    let message = refused.err().expect("refused").to_string();
    assert!(message.contains("newer azemu (store format 7)") && message.contains("formats 1 to 2"), "{message}");
}
