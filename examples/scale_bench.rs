//! Memory and start-up at scale, against the real binary on loopback: creates N edge-device jobs
//! on the manual clock, runs every lifecycle with one clock advance, lists them all, restarts.
//! Reports peak RSS against the size of the jobs' JSON documents, and the time to
//! `azemu listening` on the filled store. Then, on a fresh store and the real clock at
//! `--speed 1`, creates M jobs in one burst and reports how late their steps ran (azemu's
//! `azemu_sim_step_lateness_seconds`). Every figure is also given as a share of its target.
//! Bounded: N + M requests, then it stops.
//!
//! `cargo run --release --example scale_bench -- target/release/azemu [JOBS] [CONNECTIONS] [BURST]`

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";

struct Azemu {
    child: Child,
    base: String,
}

/// The targets the figures are measured against.
const RESTART_TARGET_SECS: f64 = 6.0;
const ADVANCE_TARGET_SECS: f64 = 10.0;
const MEMORY_TARGET: f64 = 1.5;
const LATENESS_TARGET_SECS: f64 = 1.0;

impl Azemu {
    fn start(bin: &str, data: &std::path::Path) -> (Azemu, Duration) {
        Azemu::start_with(bin, data, &["--clock", "manual"])
    }

    fn start_with(bin: &str, data: &std::path::Path, clock: &[&str]) -> (Azemu, Duration) {
        let started = Instant::now();
        let mut child = Command::new(bin)
            .args(["serve", "--port", "0", "--tls", "off", "--log-level", "warn"])
            .args(clock)
            .arg("--data")
            .arg(data)
            // Extra serve options, e.g. AZEMU_ARGS="--journal-size 0".
            .args(std::env::var("AZEMU_ARGS").unwrap_or_default().split_whitespace())
            .stdout(Stdio::piped())
            .spawn()
            .expect("azemu starts");
        let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let base = loop {
            let line = lines.next().expect("azemu prints its URL").unwrap();
            if let Some(url) = line.strip_prefix("azemu listening on ") {
                break url.trim().to_string();
            }
        };
        let took = started.elapsed();
        std::thread::spawn(move || for _ in lines {});
        (Azemu { child, base }, took)
    }

    /// (current, peak) resident set size in bytes.
    fn rss(&self) -> (u64, u64) {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).unwrap_or_default();
        let field = |name: &str| {
            status
                .lines()
                .find(|l| l.starts_with(name))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<u64>().ok())
                .unwrap_or(0)
                * 1024
        };
        (field("VmRSS:"), field("VmHWM:"))
    }

    fn kill(self) {}
}

/// Never leaves the server running, also when the benchmark fails.
impl Drop for Azemu {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn mb(bytes: u64) -> String {
    format!("{:.1} MB", bytes as f64 / 1e6)
}

async fn put(client: &reqwest::Client, url: String, body: Value) -> reqwest::StatusCode {
    client.put(url).bearer_auth("bench").json(&body).send().await.expect("PUT answered").status()
}

/// A resource group and an edge device in it; the device's path.
async fn make_device(client: &reqwest::Client, base: &str) -> String {
    let device = format!(
        "{SUB}/resourceGroups/bench-rg/providers/Microsoft.HybridCompute/machines/node-1/providers/Microsoft.AzureStackHCI/edgeDevices/default"
    );
    put(client, format!("{base}{SUB}/resourcegroups/bench-rg?api-version=2025-04-01"), json!({"location": "eastus"}))
        .await;
    put(client, format!("{base}{device}?api-version=2026-10-01"), json!({"kind": "HCI"})).await;
    device
}

/// Creates `jobs` CollectLog jobs under `device` over `connections` connections; the seconds it
/// took.
async fn create_jobs(client: &reqwest::Client, base: &str, device: &str, jobs: usize, connections: usize) -> f64 {
    let created = Instant::now();
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = Vec::new();
    for _ in 0..connections {
        let (client, next, base, device) = (client.clone(), next.clone(), base.to_string(), device.to_string());
        workers.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                if i >= jobs {
                    break;
                }
                let body = json!({"kind": "HCI", "properties": {"jobType": "CollectLog",
                    "fromDate": "2024-01-29T10:00:00Z", "toDate": "2024-01-29T12:00:00Z"}});
                let status = put(&client, format!("{base}{device}/jobs/job-{i}?api-version=2026-10-01"), body).await;
                assert!(status.is_success(), "PUT job-{i}: {status}");
            }
        }));
    }
    for w in workers {
        w.await.unwrap();
    }
    created.elapsed().as_secs_f64()
}

/// `jobs` lifecycles created in one burst on the real clock at `--speed 1`: once every one has
/// ended, how late their steps ran, from azemu's lateness histogram.
async fn lifecycles_at_once(bin: &str, jobs: usize, connections: usize) {
    let data = tempfile::tempdir().expect("temporary directory");
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap();
    let (azemu, _) = Azemu::start_with(bin, data.path(), &["--speed", "1"]);
    let base = azemu.base.clone();
    let device = make_device(&client, &base).await;
    let create_secs = create_jobs(&client, &base, &device, jobs, connections).await;
    let running = "azemu_lifecycles{resource_type=\"Microsoft.AzureStackHCI/edgeDevices/jobs\",state=\"running\"}";
    let deadline = Instant::now() + Duration::from_secs(600);
    let metrics = loop {
        let text = client.get(format!("{base}/metrics")).send().await.unwrap().text().await.unwrap();
        let still =
            text.lines().find(|l| l.starts_with(running)).and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok());
        if still.unwrap_or(0.0) == 0.0 || Instant::now() > deadline {
            break text;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    azemu.kill();
    let sample = |name: &str| {
        metrics.lines().find(|l| l.starts_with(name)).and_then(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
    };
    let total = sample("azemu_sim_step_lateness_seconds_count").unwrap_or(0.0);
    let sum = sample("azemu_sim_step_lateness_seconds_sum").unwrap_or(0.0);
    // The cumulative count at each bound, for the share within the target and the p99's bound.
    let buckets: Vec<(f64, f64)> = metrics
        .lines()
        .filter_map(|l| l.strip_prefix("azemu_sim_step_lateness_seconds_bucket{le=\""))
        .filter_map(|l| {
            let (le, rest) = l.split_once('"')?;
            Some((le.parse::<f64>().unwrap_or(f64::INFINITY), rest.rsplit(' ').next()?.parse::<f64>().ok()?))
        })
        .collect();
    let within = buckets.iter().find(|(le, _)| *le >= LATENESS_TARGET_SECS).map_or(0.0, |(_, n)| *n);
    let p99 = buckets.iter().find(|(_, n)| *n >= total * 0.99).map_or(f64::INFINITY, |(le, _)| *le);
    let worst = buckets.iter().find(|(_, n)| *n >= total).map_or(f64::INFINITY, |(le, _)| *le);
    println!(
        "{jobs} lifecycles created in one burst at --speed 1 ({create_secs:.1} s, {:.0}/s): {within:.0} of {total:.0} steps ran within {LATENESS_TARGET_SECS} s of their time ({:.4} of them); mean {:.3} s, p99 <= {p99} s, worst <= {worst} s ({:.2} of the {LATENESS_TARGET_SECS} s target)",
        jobs as f64 / create_secs,
        within / total.max(1.0),
        sum / total.max(1.0),
        worst / LATENESS_TARGET_SECS,
    );
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let bin = args.get(1).cloned().unwrap_or_else(|| "target/release/azemu".into());
    let jobs: usize = args.get(2).and_then(|n| n.parse().ok()).unwrap_or(200_000);
    let connections: usize = args.get(3).and_then(|n| n.parse().ok()).unwrap_or(32);
    let data = tempfile::tempdir().expect("temporary directory");
    let client = reqwest::Client::builder().pool_max_idle_per_host(connections).build().unwrap();

    let (azemu, _) = Azemu::start(&bin, data.path());
    let base = azemu.base.clone();
    let device = make_device(&client, &base).await;
    let (idle_rss, _) = azemu.rss();

    let create_secs = create_jobs(&client, &base, &device, jobs, connections).await;
    let (after_create, _) = azemu.rss();

    // Progress on stderr, so a profiler can be attached to the phase it is after.
    eprintln!("advancing the clock over {jobs} jobs (pid {})", azemu.child.id());
    let advanced = Instant::now();
    let r = client.post(format!("{base}/_azemu/clock/advance")).json(&json!({"seconds": 10})).send().await.unwrap();
    assert!(r.status().is_success());
    let advance_secs = advanced.elapsed().as_secs_f64();
    eprintln!("clock advanced in {advance_secs:.2} s");
    let (after_advance, peak_advance) = azemu.rss();

    // Every job read once (as a list, in pages), which keeps each one's rendered document.
    let mut url = format!("{base}{device}/jobs?api-version=2026-10-01&%24top=1000");
    let (mut listed, mut json_bytes, mut succeeded) = (0usize, 0u64, 0usize);
    loop {
        let page: Value = client.get(&url).bearer_auth("bench").send().await.unwrap().json().await.unwrap();
        for item in page["value"].as_array().unwrap() {
            listed += 1;
            json_bytes += serde_json::to_vec(item).unwrap().len() as u64;
            succeeded += usize::from(item["properties"]["status"] == "Succeeded");
        }
        match page["nextLink"].as_str() {
            Some(next) => url = next.to_string(),
            None => break,
        }
    }
    let (after_list, peak) = azemu.rss();
    let health: Value = client.get(format!("{base}/_azemu/health")).send().await.unwrap().json().await.unwrap();
    azemu.kill();

    let (restarted, startup) = Azemu::start(&bin, data.path());
    let (restart_rss, _) = restarted.rss();
    restarted.kill();

    let per_job = |rss: u64| rss.saturating_sub(idle_rss) as f64 / jobs as f64;
    let avg_json = json_bytes as f64 / listed.max(1) as f64;
    println!(
        "jobs created: {jobs} in {create_secs:.1} s ({:.0}/s, {connections} connections)",
        jobs as f64 / create_secs
    );
    println!(
        "clock advance running every lifecycle: {advance_secs:.2} s ({:.2} of the {ADVANCE_TARGET_SECS} s target)",
        advance_secs / ADVANCE_TARGET_SECS
    );
    println!("jobs listed: {listed}, Succeeded: {succeeded}, JSON {} ({avg_json:.0} bytes a job)", mb(json_bytes));
    println!("RSS idle (the fixed base): {}", mb(idle_rss));
    println!("RSS after create: {} ({:.0} bytes a job)", mb(after_create), per_job(after_create));
    println!("RSS after advance: {} (peak so far {})", mb(after_advance), mb(peak_advance));
    println!("RSS after reading every job: {} ({:.0} bytes a job)", mb(after_list), per_job(after_list));
    let memory = peak.saturating_sub(idle_rss) as f64 / json_bytes.max(1) as f64;
    println!(
        "peak RSS: {} = base + {memory:.2} x the jobs' JSON ({:.2} of the {MEMORY_TARGET} x target)",
        mb(peak),
        memory / MEMORY_TARGET
    );
    println!("store: {health}");
    println!(
        "restart to 'azemu listening': {:.2} s ({:.2} of the {RESTART_TARGET_SECS} s target), RSS then {}",
        startup.as_secs_f64(),
        startup.as_secs_f64() / RESTART_TARGET_SECS,
        mb(restart_rss)
    );
    drop(data);
    let burst: usize = args.get(4).and_then(|n| n.parse().ok()).unwrap_or(100_000);
    if burst > 0 {
        lifecycles_at_once(&bin, burst, connections).await;
    }
}
