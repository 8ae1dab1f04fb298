//! Where a test's azemu keeps its state: SQLite in a temporary directory, or a fresh database on
//! the test PostgreSQL server (`scripts/postgres.sh` finds or starts one).

use std::ffi::OsString;
use std::path::Path;
use std::process::Command;
use std::sync::OnceLock;

/// A store for one test, gone with it.
pub struct Place {
    dir: tempfile::TempDir,
    /// The PostgreSQL database's URL; `None`: SQLite in `dir`.
    pub store: Option<String>,
}

impl Place {
    pub fn sqlite() -> Place {
        Place { dir: tempfile::tempdir().unwrap(), store: None }
    }

    pub fn postgres() -> Place {
        Place { dir: tempfile::tempdir().unwrap(), store: Some(fresh_database()) }
    }

    /// The directory for the TLS material and keys (and SQLite's file).
    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    /// `azemu serve`'s arguments naming this store.
    pub fn args(&self) -> Vec<OsString> {
        let mut args = vec![OsString::from("--data"), self.dir.path().into()];
        if let Some(url) = &self.store {
            args.extend([OsString::from("--store"), url.into()]);
        }
        args
    }
}

/// A test's database is dropped with it, even while a killed node's connection lingers.
impl Drop for Place {
    fn drop(&mut self) {
        if let Some(name) = self.store.as_deref().and_then(|url| url.rsplit_once('/')).map(|(_, name)| name) {
            let _ = Command::new("psql")
                .args([postgres_server(), "-qc", &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)")])
                .output();
        }
    }
}

/// The test PostgreSQL server's URL, asked of `scripts/postgres.sh` once per test binary.
pub fn postgres_server() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/postgres.sh");
        let out = Command::new("bash").arg(script).output().expect("bash runs scripts/postgres.sh");
        assert!(
            out.status.success(),
            "no PostgreSQL server for the tests (scripts/postgres.sh failed): {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap().trim().to_string()
    })
}

/// A new, empty database on the test server; its URL.
pub fn fresh_database() -> String {
    let server = postgres_server();
    let name = format!("azemu_test_{}", uuid::Uuid::new_v4().simple());
    let created = Command::new("psql")
        .args([server, "-v", "ON_ERROR_STOP=1", "-qc", &format!("CREATE DATABASE {name}")])
        .output()
        .expect("psql runs");
    assert!(created.status.success(), "CREATE DATABASE failed: {}", String::from_utf8_lossy(&created.stderr));
    let base = server.rsplit_once('/').expect("a URL names its database").0;
    format!("{base}/{name}")
}
