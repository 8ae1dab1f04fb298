//! A second yardstick for the benchmark: the least a durable PUT must do, with nothing of ARM.
//! Each PUT's JSON body is parsed, a document of a job's size (`SIZE` bytes, default 3,150) is
//! made from it and serialised, the row goes to one writer thread that folds everything queued
//! into one SQLite transaction (WAL, `synchronous=FULL`, as azemu's store), and the answer is
//! sent once the commit is on disk; a GET answers the committed document from memory. No
//! lifecycle, journal, validation or ARM protocol. Like `azemu serve`, it turns transparent huge
//! pages off for itself (with them on, it runs at about two thirds of the rate).
//! `cargo run --release --example bare_durable -- PORT DIR [SIZE]`

use std::collections::HashMap;
use std::convert::Infallible;
use std::path::PathBuf;
use std::sync::{mpsc, Arc, RwLock};

use http_body_util::{BodyExt, Full};
use hyper::body::{Bytes, Incoming};
use hyper::service::service_fn;
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use rusqlite::Connection;
use tokio::sync::oneshot;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// A row to write, and where to say it is on disk.
type Row = (String, String, oneshot::Sender<()>);

/// The committed documents by id, as reads serve them.
type Documents = Arc<RwLock<HashMap<String, Bytes>>>;

fn writer(dir: PathBuf, rows: mpsc::Receiver<Row>) -> anyhow::Result<()> {
    let mut conn = Connection::open(dir.join("bare.db"))?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.execute("CREATE TABLE IF NOT EXISTS docs (id TEXT PRIMARY KEY, doc TEXT NOT NULL)", [])?;
    while let Ok(first) = rows.recv() {
        let mut batch = vec![first];
        batch.extend(rows.try_iter().take(1023));
        let tx = conn.transaction()?;
        for (id, doc, _) in &batch {
            tx.prepare_cached("INSERT OR REPLACE INTO docs (id, doc) VALUES (?1, ?2)")?.execute((id, doc))?;
        }
        tx.commit()?;
        for (_, _, ack) in batch {
            let _ = ack.send(());
        }
    }
    Ok(())
}

fn answer(status: StatusCode, body: Bytes) -> Response<Full<Bytes>> {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Full::new(body))
        .expect("static response")
}

fn get(id: &str, documents: &Documents) -> Response<Full<Bytes>> {
    match documents.read().expect("no writer panics").get(id) {
        Some(doc) => answer(StatusCode::OK, doc.clone()),
        None => answer(StatusCode::NOT_FOUND, Bytes::new()),
    }
}

async fn put(
    req: Request<Incoming>,
    size: usize,
    rows: mpsc::Sender<Row>,
    documents: Documents,
) -> Response<Full<Bytes>> {
    let id = req.uri().path().to_ascii_lowercase();
    let Ok(body) = req.into_body().collect().await.map(|b| b.to_bytes()) else {
        return answer(StatusCode::BAD_REQUEST, Bytes::new());
    };
    let Ok(input) = serde_json::from_slice::<serde_json::Value>(&body) else {
        return answer(StatusCode::BAD_REQUEST, Bytes::new());
    };
    let doc = serde_json::json!({ "id": id, "properties": input.get("properties") });
    let mut text = serde_json::to_string(&doc).expect("a JSON value serialises");
    // Padded to a job document's size: `,"pad":"xx…"` before the closing brace.
    let pad = size.saturating_sub(text.len() + 9);
    text.pop();
    text.reserve(pad + 10);
    text.push_str(",\"pad\":\"");
    text.extend(std::iter::repeat_n('x', pad));
    text.push_str("\"}");
    let (ack, on_disk) = oneshot::channel();
    if rows.send((id.clone(), text.clone(), ack)).is_err() || on_disk.await.is_err() {
        return answer(StatusCode::INTERNAL_SERVER_ERROR, Bytes::new());
    }
    let text = Bytes::from(text);
    documents.write().expect("no reader panics").insert(id, text.clone());
    answer(StatusCode::CREATED, text)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut args = std::env::args().skip(1);
    let port: u16 = args.next().map(|p| p.parse()).transpose()?.unwrap_or(9901);
    let dir = PathBuf::from(args.next().ok_or_else(|| anyhow::anyhow!("usage: bare_durable PORT DIR [SIZE]"))?);
    let size: usize = args.next().map(|s| s.parse()).transpose()?.unwrap_or(3150);
    azemu::cli::huge_pages::turn_off();
    let (rows, queue) = mpsc::channel();
    std::thread::spawn(move || {
        if let Err(e) = writer(dir, queue) {
            eprintln!("bare_durable writer: {e}");
        }
    });
    let documents = Documents::default();
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
    println!("bare durable listening on http://{}", listener.local_addr()?);
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let (rows, documents) = (rows.clone(), documents.clone());
        tokio::spawn(async move {
            let service = service_fn(move |req: Request<Incoming>| {
                let (rows, documents) = (rows.clone(), documents.clone());
                async move {
                    Ok::<_, Infallible>(match *req.method() {
                        Method::GET => get(&req.uri().path().to_ascii_lowercase(), &documents),
                        _ => put(req, size, rows, documents).await,
                    })
                }
            });
            let _ = auto::Builder::new(TokioExecutor::new()).serve_connection(TokioIo::new(stream), service).await;
        });
    }
}
