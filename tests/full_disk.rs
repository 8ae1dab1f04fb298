//! A full disk: writes the store cannot commit are answered 503 with `Retry-After` and leave
//! nothing behind, reads go on, lifecycles pause, and everything resumes once space returns.
//! Runs on a small tmpfs (needs root to mount it).

mod common;

use std::path::PathBuf;
use std::time::Duration;

use common::*;
use serde_json::json;

/// A tmpfs of `megabytes`, unmounted when dropped.
struct SmallDisk(PathBuf);

impl SmallDisk {
    fn mount(megabytes: u32) -> Option<SmallDisk> {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } != 0 {
            eprintln!("full_disk: not root, cannot mount a tmpfs: skipped");
            return None;
        }
        let dir = tempfile::tempdir().unwrap().keep();
        let status = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={megabytes}m"), "tmpfs"])
            .arg(&dir)
            .status()
            .expect("mount runs");
        assert!(status.success(), "root could not mount a tmpfs at {}", dir.display());
        Some(SmallDisk(dir))
    }

    /// Takes every free byte; returns the file that holds them.
    fn fill(&self) -> PathBuf {
        use std::io::Write;
        let filler = self.0.join("filler");
        let mut file = std::fs::File::create(&filler).unwrap();
        let block = vec![0u8; 64 * 1024];
        while file.write_all(&block).is_ok() {}
        let _ = file.write_all(&[0u8; 512]);
        filler
    }
}

impl Drop for SmallDisk {
    fn drop(&mut self) {
        let _ = std::process::Command::new("umount").arg("-l").arg(&self.0).status();
        let _ = std::fs::remove_dir(&self.0);
    }
}

fn tags(n: usize) -> serde_json::Value {
    let tags: serde_json::Map<String, serde_json::Value> =
        (0..40).map(|i| (format!("tag{i:02}"), json!(format!("{n}-{}", "x".repeat(200))))).collect();
    json!({ "location": "westus", "tags": tags })
}

async fn health(s: &TestServer) -> serde_json::Value {
    s.get("/_azemu/health").await.body
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_full_disk_refuses_writes_with_503_changes_nothing_and_recovers() {
    let Some(disk) = SmallDisk::mount(4) else { return };
    let options = Options {
        data_dir: Some(disk.0.clone()),
        clock: azemu::sim::ClockMode::Real,
        speed: 20.0,
        publishers: vec!["contoso".into()],
        ..Options::default()
    };
    let s = TestServer::start_with(options).await;
    s.create_group(RG).await;
    s.create_device("dev-1").await;
    let kept = v(&group_path("kept"));
    assert_eq!(s.put(&kept, json!({"location": "westus"})).await.status, 201);
    // A lifecycle under way when the disk fills: it waits, and ends as it would have.
    let running = with_version(&job("dev-1", "before"), "2025-09-15-preview");
    let body = json!({"kind": "HCI", "properties": {"jobType": "CollectLog", "fromDate": "2024-01-29T10:00:00Z", "toDate": "2024-01-29T12:00:00Z"}});
    let accepted = s.put(&running, body.clone()).await;
    assert_eq!(accepted.status, 201, "{}", accepted.body);
    let operation = accepted.header("azure-asyncoperation").unwrap();

    let filler = disk.fill();
    // Writes go on until the write-ahead log needs a page the disk no longer has.
    let mut refused = None;
    for n in 0..2000 {
        let path = v(&group_path(&format!("g{n}")));
        let reply = s.put(&path, tags(n)).await;
        match reply.status.as_u16() {
            200 | 201 => continue,
            503 => {
                refused = Some((path, reply));
                break;
            }
            other => panic!("{other}: {}", reply.body),
        }
    }
    let (path, reply) = refused.expect("the disk filled up");
    assert_eq!(reply.error_code(), "ServiceUnavailable");
    assert_eq!(reply.header("retry-after").as_deref(), Some("5"));
    assert!(reply.body["error"]["message"].as_str().unwrap().contains("changed nothing"), "{}", reply.body);
    assert_eq!(s.get(&path).await.status, 404, "nothing half-written is visible");
    let degraded = health(&s).await;
    assert_eq!((degraded["status"].as_str(), degraded["storeWritable"].as_bool()), (Some("degraded"), Some(false)));
    // Reads go on; writes, including lifecycles' starts, are refused at once.
    assert_eq!(s.get(&kept).await.status, 200);
    let job = with_version(&job("dev-1", "logs"), "2025-09-15-preview");
    assert_eq!(s.put(&job, body.clone()).await.status, 503);
    assert_eq!(s.get(&job).await.status, 404);
    // The partner API answers the same way, in its own error shape.
    let offer = "/api/publishers/contoso/offers/full-disk?api-version=2017-10-31";
    let offer_body = json!({"offerTypeId": "microsoft-azure-virtualmachines", "publisherId": "contoso", "id": "full-disk",
        "definition": {"displayText": "Full disk"}});
    let partner = s.send(reqwest::Method::PUT, offer, Some(offer_body), &[("if-match", "*")]).await;
    assert_eq!(
        (partner.status.as_u16(), partner.header("retry-after").as_deref()),
        (503, Some("5")),
        "{}",
        partner.body
    );

    std::fs::remove_file(filler).unwrap();
    let mut recovered = false;
    for _ in 0..100 {
        tokio::time::sleep(Duration::from_millis(100)).await;
        if health(&s).await["storeWritable"] == true {
            recovered = true;
            break;
        }
    }
    assert!(recovered, "the store takes writes again once space returns");
    assert_eq!(s.put(&path, tags(0)).await.status, 201);
    assert_eq!(s.put(&job, body).await.status, 201);
    assert_eq!(s.get(&path).await.status, 200);
    let mut ended = serde_json::Value::Null;
    for _ in 0..300 {
        ended = s.get(&operation).await.body;
        if ended["status"] != "InProgress" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(ended["status"], "Succeeded", "the paused lifecycle went on: {ended}");
}
