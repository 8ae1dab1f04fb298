//! Slow, idle and surplus clients: each is closed (or answered 408) when its time or the
//! connection bound says, over plain HTTP/1.1, HTTP/2 and TLS, and never holds azemu up.

mod common;

use std::time::Duration;

use azemu::server::ConnectionLimits;
use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Short limits, so that the tests see them pass.
fn limits(max_connections: Option<usize>) -> ConnectionLimits {
    ConnectionLimits {
        max_connections,
        header_timeout: Duration::from_millis(400),
        body_timeout: Duration::from_millis(400),
        idle_timeout: Duration::from_millis(1500),
        shutdown_timeout: Duration::from_secs(2),
    }
}

async fn server(max_connections: Option<usize>) -> TestServer {
    TestServer::start_with(Options { connections: limits(max_connections), ..Options::default() }).await
}

async fn connect(s: &TestServer) -> TcpStream {
    TcpStream::connect(s.running.addr).await.unwrap()
}

/// Reads until the server closes the connection (or the bound passes); returns what was read
/// and whether it closed. The bound is many times the limits above: it only stops a hung test.
async fn read_until_closed(stream: &mut TcpStream) -> (String, bool) {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    let closed = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => seen.extend_from_slice(&chunk[..n]),
            }
        }
    })
    .await
    .is_ok();
    (String::from_utf8_lossy(&seen).into_owned(), closed)
}

const HEALTH: &[u8] = b"GET /_azemu/health HTTP/1.1\r\nHost: azemu\r\n\r\n";

#[tokio::test]
async fn a_client_that_never_finishes_its_headers_is_closed() {
    let s = server(None).await;
    let mut slow = connect(&s).await;
    slow.write_all(b"GET /_azemu/health HTTP/1.1\r\nHost: azemu\r\n").await.unwrap();
    let (answer, closed) = read_until_closed(&mut slow).await;
    assert!(closed && answer.is_empty(), "{answer}");
    // A client that sends nothing at all, and one that starts HTTP/2 and stops.
    let mut silent = connect(&s).await;
    assert!(read_until_closed(&mut silent).await.1);
    let mut preface_only = connect(&s).await;
    preface_only.write_all(b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n").await.unwrap();
    assert!(read_until_closed(&mut preface_only).await.1);
    // Meanwhile others are served.
    assert_eq!(s.get("/_azemu/health").await.status, 200);
}

#[tokio::test]
async fn headers_trickling_in_do_not_reset_the_clock() {
    let s = server(None).await;
    let mut slow = connect(&s).await;
    let started = std::time::Instant::now();
    let mut closed_early = false;
    for byte in b"GET /_azemu/health HTTP/1.1\r\nHost: azemu\r\nX-Slow: abcdefghijklmnopqrstuvwxyz\r\n" {
        if slow.write_all(&[*byte]).await.is_err() {
            closed_early = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // 80 bytes a tenth of a second apart would take 8 s: the 0.4 s header limit ends it first.
    assert!(closed_early || read_until_closed(&mut slow).await.1);
    assert!(started.elapsed() < Duration::from_secs(8));
}

#[tokio::test]
async fn a_keep_alive_connection_lives_between_requests_until_it_idles_too_long() {
    let s = server(None).await;
    let mut client = connect(&s).await;
    client.write_all(HEALTH).await.unwrap();
    let mut buf = [0u8; 4096];
    let n = client.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    // Longer than the header limit, shorter than the idle one: still open.
    tokio::time::sleep(Duration::from_millis(700)).await;
    client.write_all(HEALTH).await.unwrap();
    let n = client.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let (rest, closed) = read_until_closed(&mut client).await;
    assert!(closed && rest.is_empty(), "{rest}");
}

#[tokio::test]
async fn a_body_that_stops_arriving_is_answered_408() {
    let s = server(None).await;
    let mut client = connect(&s).await;
    let path = group_path("slow-body");
    let head = format!(
        "PUT {path}?api-version=2021-04-01 HTTP/1.1\r\nHost: azemu\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{\"location\""
    );
    client.write_all(head.as_bytes()).await.unwrap();
    let (answer, closed) = read_until_closed(&mut client).await;
    assert!(closed, "{answer}");
    assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
    assert!(answer.contains("\"code\":\"RequestTimeout\""), "{answer}");
    assert_eq!(s.get(&v(&path)).await.status, 404, "nothing was written");
}

#[tokio::test]
async fn connections_past_the_bound_are_closed_at_once_and_served_again_when_one_leaves() {
    let s = server(Some(2)).await;
    let mut first = connect(&s).await;
    first.write_all(HEALTH).await.unwrap();
    let mut buf = [0u8; 4096];
    assert!(first.read(&mut buf).await.unwrap() > 0);
    let _second = connect(&s).await;
    // Give the accept loop time to take the second connection before the third.
    tokio::time::sleep(Duration::from_millis(100)).await;
    let mut third = connect(&s).await;
    let _ = third.write_all(HEALTH).await;
    let (answer, closed) = read_until_closed(&mut third).await;
    assert!(closed && answer.is_empty(), "{answer}");
    drop(first);
    // The freed place is taken by the next connection.
    let mut served = false;
    for _ in 0..50 {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut next = connect(&s).await;
        let _ = next.write_all(HEALTH).await;
        let (answer, _) = read_until_closed_or_answered(&mut next).await;
        if answer.starts_with("HTTP/1.1 200") {
            served = true;
            break;
        }
    }
    assert!(served);
}

/// Reads the first answer, or nothing if the connection closes first.
async fn read_until_closed_or_answered(stream: &mut TcpStream) -> (String, bool) {
    let mut buf = [0u8; 4096];
    match tokio::time::timeout(Duration::from_secs(5), stream.read(&mut buf)).await {
        Ok(Ok(n)) if n > 0 => (String::from_utf8_lossy(&buf[..n]).into_owned(), false),
        _ => (String::new(), true),
    }
}

#[tokio::test]
async fn shutting_down_finishes_requests_in_flight_and_stops_accepting() {
    let s = server(None).await;
    s.add_fault(serde_json::json!({"match": {"operation": "ResourceGroups_CreateOrUpdate"}, "action": {"latency": {"ms": 700}}}))
        .await;
    let slow = {
        let (client, url) = (reqwest::Client::new(), format!("{}{}", s.base, v(&group_path("in-flight"))));
        tokio::spawn(async move {
            client.put(url).bearer_auth("test-token").json(&serde_json::json!({"location": "westus"})).send().await
        })
    };
    let mut idle = connect(&s).await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let TestServer { running, .. } = s;
    let addr = running.addr;
    let still_open = running.shut_down().await;
    assert_eq!(still_open, 0);
    let answered = slow.await.unwrap().expect("the request in flight is answered");
    assert_eq!(answered.status(), 201);
    assert!(read_until_closed(&mut idle).await.1, "idle connections are closed");
    assert!(TcpStream::connect(addr).await.is_err(), "nothing accepts any more");
}
