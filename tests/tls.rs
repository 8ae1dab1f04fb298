//! HTTPS: the generated certificate authority is reused across starts and trusted by a client;
//! `--cert/--key` serve the user's own certificate.

use azemu::arm::ApiVersionCheck;
use azemu::server::{self, AuthMode, ServeConfig, TlsMode};
use azemu::sim::ClockMode;

fn config(
    data: Option<std::path::PathBuf>,
    cert: Option<std::path::PathBuf>,
    key: Option<std::path::PathBuf>,
) -> ServeConfig {
    ServeConfig {
        host: "127.0.0.1".into(),
        port: 0,
        data_dir: data,
        store_url: None,
        node_id: None,
        lease_timeout: std::time::Duration::from_secs(5),
        tls: TlsMode::Auto,
        cert,
        key,
        auth: AuthMode::Any,
        api_version_check: ApiVersionCheck::Strict,
        speed: 1.0,
        clock: ClockMode::Real,
        operation_retention: std::time::Duration::from_secs(86400),
        faults: None,
        journal_size: 10_000,
        publishers: Vec::new(),
        subscriptions: Vec::new(),
        connections: Default::default(),
        control_api: azemu::server::ControlApi::Auto,
        control_token: None,
        generic_resources: true,
    }
}

fn trusting(ca_pem: &[u8]) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(ca_pem).unwrap();
    reqwest::Client::builder().add_root_certificate(ca).tls_built_in_root_certs(false).build().unwrap()
}

#[tokio::test]
async fn generated_ca_is_kept_and_trusted_for_localhost_and_127_0_0_1() {
    let data = tempfile::tempdir().unwrap();
    let first = server::start(config(Some(data.path().into()), None, None)).await.unwrap();
    assert!(first.base_url.starts_with("https://127.0.0.1:"));
    let ca_file = first.ca_file.clone().expect("a CA file is written");
    let ca = std::fs::read(&ca_file).unwrap();
    let client = trusting(&ca);
    let health = client.get(format!("{}/_azemu/health", first.base_url)).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let by_name = first.base_url.replace("127.0.0.1", "localhost");
    assert_eq!(client.get(format!("{by_name}/_azemu/health")).send().await.unwrap().status(), 200);
    let untrusting = reqwest::Client::builder().tls_built_in_root_certs(false).build().unwrap();
    assert!(untrusting.get(format!("{}/_azemu/health", first.base_url)).send().await.is_err());

    let second = server::start(config(Some(data.path().into()), None, None)).await.unwrap();
    assert_eq!(std::fs::read(second.ca_file.unwrap()).unwrap(), ca, "the CA survives restarts");
    assert_eq!(client.get(format!("{}/_azemu/health", second.base_url)).send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn own_certificate_is_served() {
    let data = tempfile::tempdir().unwrap();
    let generated = server::start(config(Some(data.path().into()), None, None)).await.unwrap();
    let tls = data.path().join("tls");
    let own = server::start(config(None, Some(tls.join("cert.pem")), Some(tls.join("key.pem")))).await.unwrap();
    assert!(own.ca_file.is_none());
    let client = trusting(&std::fs::read(generated.ca_file.unwrap()).unwrap());
    assert_eq!(client.get(format!("{}/_azemu/health", own.base_url)).send().await.unwrap().status(), 200);
    let missing = server::start(config(None, Some(tls.join("nope.pem")), Some(tls.join("key.pem")))).await;
    assert!(missing.is_err());
}

#[tokio::test]
async fn a_client_that_never_finishes_its_handshake_is_closed() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let limits =
        server::ConnectionLimits { header_timeout: std::time::Duration::from_millis(300), ..Default::default() };
    let running = server::start(ServeConfig { connections: limits, ..config(None, None, None) }).await.unwrap();
    let mut stalled = tokio::net::TcpStream::connect(running.addr).await.unwrap();
    // The start of a ClientHello record, then silence.
    stalled.write_all(&[0x16, 0x03, 0x01, 0x02, 0x00]).await.unwrap();
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(std::time::Duration::from_secs(10), stalled.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "closed, not left open: {read:?}");
}
