//! TLS material: the user's own certificate, or a local certificate authority and a
//! `localhost` / `127.0.0.1` / `::1` certificate generated on first start and kept in the data
//! directory, so that clients can trust `ca.pem` once.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::{anyhow, Context};
use rcgen::{BasicConstraints, CertificateParams, DistinguishedName, DnType, IsCa, KeyPair, KeyUsagePurpose};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;

pub struct TlsMaterial {
    pub config: Arc<ServerConfig>,
    /// The certificate clients should trust, when the emulator made it and kept it on disk.
    pub ca_file: Option<PathBuf>,
}

struct Pem {
    chain: String,
    key: String,
    ca: String,
}

fn generate() -> anyhow::Result<Pem> {
    let ca_key = KeyPair::generate()?;
    let mut ca_params = CertificateParams::default();
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let mut ca_name = DistinguishedName::new();
    ca_name.push(DnType::CommonName, "azemu local CA");
    ca_params.distinguished_name = ca_name;
    let ca_cert = ca_params.self_signed(&ca_key)?;

    let leaf_key = KeyPair::generate()?;
    let mut leaf_params = CertificateParams::new(vec!["localhost".into(), "127.0.0.1".into(), "::1".into()])?;
    let mut leaf_name = DistinguishedName::new();
    leaf_name.push(DnType::CommonName, "localhost");
    leaf_params.distinguished_name = leaf_name;
    let leaf = leaf_params.signed_by(&leaf_key, &ca_cert, &ca_key)?;
    Ok(Pem { chain: format!("{}{}", leaf.pem(), ca_cert.pem()), key: leaf_key.serialize_pem(), ca: ca_cert.pem() })
}

fn server_config(chain_pem: &[u8], key_pem: &[u8]) -> anyhow::Result<Arc<ServerConfig>> {
    let certs: Vec<CertificateDer<'static>> =
        rustls_pemfile::certs(&mut &chain_pem[..]).collect::<Result<_, _>>().context("reading certificate PEM")?;
    let key: PrivateKeyDer<'static> =
        rustls_pemfile::private_key(&mut &key_pem[..])?.ok_or_else(|| anyhow!("no private key in key PEM"))?;
    let mut config = ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// `--cert/--key` when given; else the generated material in `data_dir/tls` (made if missing);
/// else (`--in-memory`) a certificate that lives only as long as the process.
pub fn load(cert: Option<&Path>, key: Option<&Path>, data_dir: Option<&Path>) -> anyhow::Result<TlsMaterial> {
    if let (Some(cert), Some(key)) = (cert, key) {
        let chain = fs::read(cert).with_context(|| format!("reading {}", cert.display()))?;
        let key = fs::read(key).with_context(|| format!("reading {}", key.display()))?;
        return Ok(TlsMaterial { config: server_config(&chain, &key)?, ca_file: None });
    }
    let Some(dir) = data_dir else {
        let pem = generate()?;
        return Ok(TlsMaterial { config: server_config(pem.chain.as_bytes(), pem.key.as_bytes())?, ca_file: None });
    };
    let dir = dir.join("tls");
    let (chain_file, key_file, ca_file) = (dir.join("cert.pem"), dir.join("key.pem"), dir.join("ca.pem"));
    if !(chain_file.exists() && key_file.exists() && ca_file.exists()) {
        fs::create_dir_all(&dir)?;
        let pem = generate()?;
        fs::write(&ca_file, &pem.ca)?;
        fs::write(&chain_file, &pem.chain)?;
        fs::write(&key_file, &pem.key)?;
        restrict(&key_file)?;
    }
    let config = server_config(&fs::read(&chain_file)?, &fs::read(&key_file)?)?;
    Ok(TlsMaterial { config, ca_file: Some(ca_file) })
}

#[cfg(unix)]
fn restrict(path: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(0o600))
}

#[cfg(not(unix))]
fn restrict(_path: &Path) -> std::io::Result<()> {
    Ok(())
}
