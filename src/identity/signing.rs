//! The key azemu signs its tokens with: an ECDSA P-256 key (ES256) made on first start and kept
//! in `<data>/identity/signing-key.pem`, so tokens stay valid across restarts; in memory only
//! with `--in-memory`.

use std::fs;
use std::path::{Path, PathBuf};

use anyhow::Context;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use rcgen::{KeyPair, PKCS_ECDSA_P256_SHA256};
use serde_json::{json, Value};

pub struct SigningKey {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
    jwk: Value,
}

pub fn key_file(data_dir: &Path) -> PathBuf {
    data_dir.join("identity").join("signing-key.pem")
}

impl SigningKey {
    /// The key kept under `data_dir` (made when missing), or a fresh one that lives as long as
    /// the process.
    pub fn load_or_create(data_dir: Option<&Path>) -> anyhow::Result<SigningKey> {
        SigningKey::from_pem(&SigningKey::pem_kept(data_dir)?)
    }

    /// The key nodes sharing a store sign with (kept in it), also kept under `data_dir` so that
    /// `azemu token --data` signs with it.
    pub fn adopt(data_dir: Option<&Path>, pem: &str) -> anyhow::Result<SigningKey> {
        let key = SigningKey::from_pem(pem)?;
        if let Some(dir) = data_dir {
            let file = key_file(dir);
            if fs::read_to_string(&file).ok().as_deref() != Some(pem) {
                let parent = file.parent().expect("the key file has a directory");
                fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
                let partial = parent.join(format!("signing-key.{}.tmp", std::process::id()));
                fs::write(&partial, pem)?;
                restrict(&partial)?;
                fs::rename(&partial, &file)?;
            }
        }
        Ok(key)
    }

    fn from_pem(pem: &str) -> anyhow::Result<SigningKey> {
        let pair = KeyPair::from_pem(pem).context("the signing key is not a private key")?;
        SigningKey::from_pair(&pair)
    }

    /// The key kept under `data_dir` (made when missing) as PEM, or a fresh one.
    pub fn pem_kept(data_dir: Option<&Path>) -> anyhow::Result<String> {
        let Some(dir) = data_dir else {
            return Ok(KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?.serialize_pem());
        };
        let file = key_file(dir);
        if !file.exists() {
            let pair = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
            let parent = file.parent().expect("the key file has a directory");
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
            // Written beside and renamed, so that two processes starting at once agree on one key.
            let partial = parent.join(format!("signing-key.{}.tmp", std::process::id()));
            fs::write(&partial, pair.serialize_pem())?;
            restrict(&partial)?;
            if fs::hard_link(&partial, &file).is_err() && !file.exists() {
                fs::rename(&partial, &file)?;
            }
            let _ = fs::remove_file(&partial);
        }
        let pem = fs::read_to_string(&file).with_context(|| format!("reading {}", file.display()))?;
        KeyPair::from_pem(&pem).with_context(|| format!("{} is not a private key", file.display()))?;
        Ok(pem)
    }

    fn from_pair(pair: &KeyPair) -> anyhow::Result<SigningKey> {
        if pair.algorithm() != &PKCS_ECDSA_P256_SHA256 {
            anyhow::bail!("the signing key must be an ECDSA P-256 key");
        }
        // Uncompressed point: 0x04, then X and Y of 32 bytes each.
        let point = pair.public_key_raw();
        let (x, y) = (URL_SAFE_NO_PAD.encode(&point[1..33]), URL_SAFE_NO_PAD.encode(&point[33..65]));
        let kid = URL_SAFE_NO_PAD.encode(&point[1..13]);
        let encoding = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes())?;
        let decoding = DecodingKey::from_ec_components(&x, &y)?;
        let jwk = json!({"kty": "EC", "crv": "P-256", "x": x, "y": y, "kid": kid, "use": "sig", "alg": "ES256"});
        Ok(SigningKey { kid, encoding, decoding, jwk })
    }

    pub fn sign<T: serde::Serialize>(&self, claims: &T) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        jsonwebtoken::encode(&header, claims, &self.encoding).expect("ES256 signing with a valid key")
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    pub fn decoding(&self) -> &DecodingKey {
        &self.decoding
    }

    /// The JSON Web Key Set the discovery documents point to.
    pub fn jwks(&self) -> Value {
        json!({ "keys": [self.jwk] })
    }
}

#[cfg(unix)]
fn restrict(file: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(file, fs::Permissions::from_mode(0o600))?;
    Ok(())
}

#[cfg(not(unix))]
fn restrict(_file: &Path) -> anyhow::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_kept_key_is_the_same_key_after_a_restart() {
        let dir = tempfile::tempdir().unwrap();
        let first = SigningKey::load_or_create(Some(dir.path())).unwrap();
        let second = SigningKey::load_or_create(Some(dir.path())).unwrap();
        assert_eq!(first.kid(), second.kid());
        assert_eq!(first.jwks(), second.jwks());
        let other = SigningKey::load_or_create(None).unwrap();
        assert_ne!(first.kid(), other.kid());
    }
}
