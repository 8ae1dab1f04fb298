//! The PostgreSQL store as `azemu serve --store postgres://…` runs it: what it lays out, what it
//! refuses, and what it reports. Durability across restarts and `kill -9` is in `durability`,
//! which runs on both stores.

mod common;

use std::process::{Command, Stdio};

use common::stores::{fresh_database, Place};
use common::*;
use reqwest::StatusCode;
use serde_json::json;

fn psql(url: &str, sql: &str) -> String {
    let out = Command::new("psql").args([url, "-v", "ON_ERROR_STOP=1", "-tAc", sql]).output().unwrap();
    assert!(out.status.success(), "{sql}: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

async fn start(place: &Place) -> TestServer {
    TestServer::start_with(Options {
        data_dir: Some(place.path().to_path_buf()),
        store_url: place.store.clone(),
        ..Options::default()
    })
    .await
}

#[tokio::test]
async fn a_write_is_in_the_database_when_it_is_acknowledged_and_health_names_the_store() {
    let place = Place::postgres();
    let url = place.store.clone().unwrap();
    let s = start(&place).await;
    let health = s.get("/_azemu/health").await;
    assert_eq!(health.status, StatusCode::OK);
    assert_eq!(health.body["store"], "postgres", "{}", health.body);

    let group = s.put(&with_version(&group_path(RG), RESOURCES), json!({"location": "eastus"})).await;
    assert!(group.status.is_success());
    let id = psql(&url, "SELECT id FROM resources");
    assert!(id.eq_ignore_ascii_case(&group_path(RG)), "{id}");
    assert_eq!(psql(&url, "SELECT version FROM azemu_schema"), "2");
}

#[tokio::test]
async fn a_database_of_the_first_layout_is_brought_to_this_one_with_what_it_holds() {
    let place = Place::postgres();
    let url = place.store.clone().unwrap();
    let first = start(&place).await;
    let group = with_version(&group_path(RG), RESOURCES);
    assert!(first.put(&group, json!({"location": "eastus"})).await.status.is_success());
    // As the first layout stood: no table of shared events.
    psql(&url, "DROP TABLE azemu_feed; UPDATE azemu_schema SET version = 1");
    let second = start(&place).await;
    assert_eq!(psql(&url, "SELECT version FROM azemu_schema"), "2");
    assert_eq!(psql(&url, "SELECT to_regclass('azemu_feed') IS NOT NULL"), "t");
    assert_eq!(second.get(&group).await.status, StatusCode::OK);
}

#[tokio::test]
async fn a_database_laid_out_by_a_newer_azemu_is_refused() {
    let url = fresh_database();
    psql(&url, "CREATE TABLE azemu_schema (version integer NOT NULL); INSERT INTO azemu_schema VALUES (99)");
    let out = Command::new(env!("CARGO_BIN_EXE_azemu"))
        .args(["serve", "--port", "0", "--tls", "off", "--in-memory", "--store", &url])
        .output()
        .unwrap();
    // --in-memory and --store contradict each other: refused before anything is touched.
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("cannot be used with"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let data = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_azemu"))
        .args(["serve", "--port", "0", "--tls", "off", "--store", &url, "--data"])
        .arg(data.path())
        .stdout(Stdio::null())
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("newer azemu (store format 99)"), "{stderr}");
}

#[tokio::test]
async fn a_store_that_is_not_a_postgres_url_is_refused_by_the_command_line() {
    let out = Command::new(env!("CARGO_BIN_EXE_azemu")).args(["serve", "--store", "mysql://x@y/z"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("postgres://USER@HOST:PORT/DB"));
}

#[tokio::test]
async fn an_unreachable_server_is_named_at_start() {
    let data = tempfile::tempdir().unwrap();
    // A port nothing listens on: bound, then released.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let out = Command::new(env!("CARGO_BIN_EXE_azemu"))
        .args(["serve", "--port", "0", "--tls", "off", "--store", &format!("postgres://azemu@127.0.0.1:{port}/azemu")])
        .arg("--data")
        .arg(data.path())
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("connecting to the PostgreSQL store"));
}
