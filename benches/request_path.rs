//! The request path in process, without sockets: what azemu itself spends on a request, which
//! the wrk benchmarks in `bench/` see only through loopback and scheduling costs.
//! `cargo bench --bench request_path`; with `AZEMU_BENCH_GET_ONLY=1` it stops after the GETs
//! (for counting a GET's instructions: `valgrind --tool=callgrind --toggle-collect='*serve_request*'`
//! on the bench binary with `--bench nomatch`).

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::http::{Method, Request, StatusCode, Uri};
use azemu::app::App;
use azemu::arm::ApiVersionCheck;
use azemu::identity::AuthMode;
use azemu::server::{serve_request, start, ServeConfig, TlsMode};
use azemu::sim::ClockMode;
use criterion::{criterion_group, criterion_main, Criterion};

const SUB: &str = "/subscriptions/00000000-0000-0000-0000-000000000001";
const DEVICE: &str = "/resourceGroups/bench-rg/providers/Microsoft.HybridCompute/machines/node-1/providers/Microsoft.AzureStackHCI/edgeDevices/default";
const JOB_BODY: &str = r#"{"kind":"HCI","properties":{"jobType":"CollectLog","fromDate":"2024-01-29T10:00:00Z","toDate":"2024-01-29T12:00:00Z"}}"#;
const SET: &str = "/resourceGroups/bench-rg/providers/Microsoft.Compute/virtualMachineScaleSets/bench-set";
const SET_BODY: &str = r#"{"location":"westus","sku":{"name":"Standard_D2s_v3","capacity":2},"properties":{"upgradePolicy":{"mode":"Manual"},"virtualMachineProfile":{"osProfile":{"computerNamePrefix":"bench","adminUsername":"azureuser"},"storageProfile":{"imageReference":{"publisher":"Canonical","offer":"ubuntu-24_04-lts","sku":"server","version":"latest"}}}}}"#;

/// Counts allocations, so that the bench can say how many a request makes.
struct Counting;

thread_local! {
    /// This thread's allocations: the request's own, not those of the threads working beside it.
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

fn count_one() {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count_one();
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count_one();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// The URI in a shared buffer, as hyper hands it over (a slice of its read buffer), so that
/// keeping a copy of it is counted as the server pays for it: no allocation.
fn shared_uri(uri: &str) -> Uri {
    let text = Bytes::copy_from_slice(uri.as_bytes());
    // Cloning a buffer made from a `Vec` turns it into a shared one once, for good.
    drop(text.clone());
    Uri::from_maybe_shared(text).expect("a valid URI")
}

fn request(method: Method, uri: &str, body: &'static str) -> Request<Body> {
    Request::builder()
        .method(method)
        .uri(shared_uri(uri))
        .header("host", "127.0.0.1")
        .header("authorization", "Bearer bench")
        .header("content-type", "application/json")
        .body(Body::from(body))
        .expect("a valid request")
}

async fn send(app: &Arc<App>, method: Method, uri: &str, body: &'static str) -> StatusCode {
    serve_request(app.clone(), request(method, uri, body)).await.status()
}

/// The events the journal keeps: `AZEMU_BENCH_JOURNAL`, 10,000 unless told.
fn journal_size() -> usize {
    std::env::var("AZEMU_BENCH_JOURNAL").ok().and_then(|v| v.parse().ok()).unwrap_or(10_000)
}

async fn setup() -> Arc<App> {
    let running = start(ServeConfig {
        host: "127.0.0.1".into(),
        port: 0,
        data_dir: None,
        store_url: None,
        node_id: None,
        lease_timeout: std::time::Duration::from_secs(5),
        tls: TlsMode::Off,
        cert: None,
        key: None,
        auth: AuthMode::Any,
        api_version_check: ApiVersionCheck::Strict,
        speed: 1.0,
        clock: ClockMode::Manual,
        operation_retention: std::time::Duration::from_secs(86400),
        faults: None,
        journal_size: journal_size(),
        publishers: Vec::new(),
        subscriptions: Vec::new(),
        connections: Default::default(),
        control_api: azemu::server::ControlApi::Auto,
        control_token: None,
        generic_resources: true,
    })
    .await
    .expect("azemu starts");
    let app = running.app;
    let writes = [
        (format!("{SUB}/resourcegroups/bench-rg?api-version=2025-04-01"), r#"{"location":"eastus"}"#),
        (format!("{SUB}{DEVICE}?api-version=2026-10-01"), r#"{"kind":"HCI"}"#),
        (format!("{SUB}{DEVICE}/jobs/bench-job?api-version=2026-10-01"), JOB_BODY),
        (format!("{SUB}{SET}?api-version=2024-07-01"), SET_BODY),
    ];
    for (uri, body) in writes {
        let status = send(&app, Method::PUT, &uri, body).await;
        assert!(status.is_success(), "PUT {uri}: {status}");
        let status = send(&app, Method::POST, "/_azemu/clock/advance", r#"{"seconds":600}"#).await;
        assert!(status.is_success(), "advance: {status}");
    }
    app
}

/// The allocations serving a request makes on this thread, averaged over 1,000 requests; the
/// request itself (URI, headers, body) is built outside the count. Counted in a steady state:
/// after as many requests as the journal keeps, so that recording one evicts another, as in a
/// server that has run a while.
async fn allocations_a_request(app: &Arc<App>, expected: StatusCode, make: impl Fn(u64) -> Request<Body>) -> f64 {
    const N: u64 = 1000;
    let warm_up = journal_size() as u64;
    for i in 0..warm_up {
        assert_eq!(serve_request(app.clone(), make(N + i)).await.status(), expected);
    }
    let mut total = 0;
    for i in 0..N {
        let req = make(i);
        let before = allocations();
        let response = serve_request(app.clone(), req).await;
        total += allocations() - before;
        assert_eq!(response.status(), expected);
    }
    total as f64 / N as f64
}

fn request_path(c: &mut Criterion) {
    let runtime = tokio::runtime::Runtime::new().expect("a runtime");
    let app = runtime.block_on(setup());
    let job = format!("{SUB}{DEVICE}/jobs/bench-job?api-version=2026-10-01");
    let view = format!("{SUB}{SET}/virtualMachines/1/instanceView?api-version=2024-07-01");
    for (name, uri) in [("GET one job", &job), ("GET one VM instance view", &view)] {
        let counted = runtime.block_on(allocations_a_request(&app, StatusCode::OK, |_| request(Method::GET, uri, "")));
        println!("{name}: {counted:.1} allocations a request");
        c.bench_function(name, |b| {
            b.to_async(&runtime).iter(|| async {
                let response = serve_request(app.clone(), request(Method::GET, uri, "")).await;
                assert_eq!(response.status(), StatusCode::OK);
                let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await;
            })
        });
    }
    if std::env::var("AZEMU_BENCH_GET_ONLY").is_ok() {
        return;
    }
    let counted = runtime.block_on(allocations_a_request(&app, StatusCode::CREATED, |i| {
        request(Method::PUT, &format!("{SUB}{DEVICE}/jobs/count-j{i}?api-version=2026-10-01"), JOB_BODY)
    }));
    println!("PUT new job: {counted:.1} allocations a request");
    let mut n = 0u64;
    c.bench_function("PUT new job (in memory)", |b| {
        b.to_async(&runtime).iter(|| {
            n += 1;
            let uri = format!("{SUB}{DEVICE}/jobs/bench-j{n}?api-version=2026-10-01");
            let app = app.clone();
            async move {
                let response = serve_request(app, request(Method::PUT, &uri, JOB_BODY)).await;
                assert_eq!(response.status(), StatusCode::CREATED);
            }
        })
    });
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(std::time::Duration::from_secs(4)).warm_up_time(std::time::Duration::from_secs(1));
    targets = request_path
}
criterion_main!(benches);
