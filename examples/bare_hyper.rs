//! The benchmark's yardstick: a bare hyper HTTP/1.1 server answering every request with a fixed
//! JSON body (800 bytes unless told). With `azemu-headers` it also sends the headers azemu puts
//! on a GET of a resource, so that it answers with azemu's response shape and does nothing else.
//! `cargo run --release --example bare_hyper -- PORT [BODY_BYTES] [azemu-headers]`

use std::convert::Infallible;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

/// azemu's headers on a GET, with values of the same length as azemu's.
const AZEMU_HEADERS: [(&str, &str); 5] = [
    ("content-type", "application/json; charset=utf-8"),
    ("etag", "\"8a3c1f0e5b7d4e2a9c610d4f2b9e7a15\""),
    ("x-ms-correlation-request-id", "3f6b2a91-7c4e-4d08-b5a2-e19c0d7f4b36"),
    ("x-ms-request-id", "c2d8e4f1-0a9b-4c37-8e65-7b1f3a2d9c40"),
    ("server", concat!("azemu/", env!("CARGO_PKG_VERSION"))),
];

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::args().nth(1).map(|p| p.parse()).transpose()?.unwrap_or(9900);
    let size: usize = std::env::args().nth(2).map(|s| s.parse()).transpose()?.unwrap_or(800);
    let headers: &[(&str, &str)] = match std::env::args().nth(3).as_deref() {
        None => &[("content-type", "application/json")],
        Some("azemu-headers") => &AZEMU_HEADERS,
        Some(other) => anyhow::bail!("unknown option {other}: azemu-headers or nothing"),
    };
    let body = Bytes::from(format!("{{\"pad\":\"{}\"}}", "x".repeat(size.max(10) - 10)));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("bare hyper listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_req: Request<Incoming>| {
                let mut response = Response::builder();
                for (name, value) in headers {
                    response = response.header(*name, *value);
                }
                let response = response.body(http_body_util::Full::new(body.clone())).expect("static response");
                async move { Ok::<_, Infallible>(response) }
            });
            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
