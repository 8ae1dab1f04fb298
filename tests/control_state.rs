//! `/_azemu/state` and `/_azemu/events` are streamed: whole and valid however many resources
//! and events there are, and `/_azemu/state` pages by `limit` and filters by `type`.

mod common;

use common::*;
use serde_json::Value;

const GROUPS: usize = 300;

async fn populated() -> TestServer {
    let s = TestServer::start().await;
    for i in 0..GROUPS {
        s.create_group(&format!("rg-{i:03}")).await;
    }
    s.create_device("dev-1").await;
    s
}

fn ids(page: &Value) -> Vec<String> {
    page["resources"].as_array().unwrap().iter().map(|r| r["id"].as_str().unwrap().to_string()).collect()
}

#[tokio::test]
async fn the_state_dump_is_whole_across_chunks_and_pages_by_limit() {
    let s = populated().await;
    let whole = s.get("/_azemu/state").await;
    assert_eq!(whole.header("content-type").as_deref(), Some("application/json; charset=utf-8"));
    let all = ids(&whole.body);
    // The groups, the test group and the device.
    assert!(all.len() > GROUPS, "{}", all.len());
    assert!(whole.body["operations"].is_array() && whole.body.get("nextLink").is_none());

    let mut paged = Vec::new();
    let mut next = Some(format!("{}/_azemu/state?limit=100", s.base));
    let mut pages = 0;
    while let Some(url) = next {
        let page = s.get(url.strip_prefix(&s.base).unwrap()).await.body;
        assert!(ids(&page).len() <= 100);
        if pages > 0 {
            assert!(page.get("operations").is_none(), "operations are listed on the first page only");
        }
        paged.extend(ids(&page));
        next = page["nextLink"].as_str().map(str::to_string);
        pages += 1;
    }
    assert_eq!(paged, all, "pages add up to the whole dump, in the same order");
    assert_eq!(pages, all.len().div_ceil(100));
}

#[tokio::test]
async fn the_state_dump_keeps_one_type_and_refuses_what_it_does_not_know() {
    let s = populated().await;
    let devices = s.get("/_azemu/state?type=Microsoft.AzureStackHCI/edgeDevices").await.body;
    let types: Vec<&str> =
        devices["resources"].as_array().unwrap().iter().map(|r| r["type"].as_str().unwrap()).collect();
    assert_eq!(types, ["microsoft.azurestackhci/edgedevices"]);
    assert!(devices.get("operations").is_none());
    let groups = s.get("/_azemu/state?type=microsoft.resources/resourcegroups&limit=1000").await.body;
    assert!(ids(&groups).len() >= GROUPS && groups.get("nextLink").is_none());
    for bad in ["limit=0", "limit=x", "limit=100001", "sort=name"] {
        let reply = s.get(&format!("/_azemu/state?{bad}")).await;
        assert_eq!((reply.status.as_u16(), reply.error_code()), (400, "InvalidParameter"), "{bad}");
    }
}

#[tokio::test]
async fn the_event_journal_is_whole_however_long() {
    let s = populated().await;
    let events = s.get("/_azemu/events").await.body;
    let value = events["value"].as_array().unwrap();
    assert!(value.len() > GROUPS, "{}", value.len());
    assert_eq!(events["lastSeq"].as_u64().unwrap(), value.last().unwrap()["seq"].as_u64().unwrap());
    let empty = s.get(&format!("/_azemu/events?since={}", events["lastSeq"])).await.body;
    assert_eq!(empty["value"], serde_json::json!([]));
}
