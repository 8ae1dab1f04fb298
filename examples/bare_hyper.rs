//! The benchmark's yardstick: a bare hyper HTTP/1.1 server answering every request with a fixed
//! 800-byte JSON body. `cargo run --release --example bare_hyper -- PORT`

use std::convert::Infallible;

use bytes::Bytes;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper::{Request, Response};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let port: u16 = std::env::args().nth(1).map(|p| p.parse()).transpose()?.unwrap_or(9900);
    let size: usize = std::env::args().nth(2).map(|s| s.parse()).transpose()?.unwrap_or(800);
    let body = Bytes::from(format!("{{\"pad\":\"{}\"}}", "x".repeat(size.max(10) - 10)));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("bare hyper listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let body = body.clone();
        tokio::spawn(async move {
            let service = service_fn(move |_req: Request<Incoming>| {
                let body = body.clone();
                async move {
                    Ok::<_, Infallible>(
                        Response::builder()
                            .header("content-type", "application/json")
                            .body(http_body_util::Full::new(body))
                            .expect("static response"),
                    )
                }
            });
            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
