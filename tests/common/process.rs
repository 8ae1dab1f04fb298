//! `azemu serve` as a separate process, for tests that kill it, freeze it or limit it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// What every test process is started with: a free port, plain HTTP, quiet.
pub const SERVE: [&str; 7] = ["serve", "--port", "0", "--tls", "off", "--log-level", "warn"];

/// The URL a started process prints it listens on; its output is drained from then on, so that
/// it never blocks on a full pipe. The command's stdout must be piped.
pub fn listening_on(child: &mut Child) -> String {
    let mut lines = BufReader::new(child.stdout.take().expect("stdout piped")).lines();
    let url = loop {
        let line = lines.next().expect("azemu prints its URL").unwrap();
        if let Some(url) = line.strip_prefix("azemu listening on ") {
            break url.trim().to_string();
        }
    };
    std::thread::spawn(move || for _ in lines {});
    url
}

/// An `azemu serve` process; SIGKILLed when dropped, also when a test fails midway.
pub struct Served {
    pub child: Child,
    pub base: String,
}

impl Served {
    /// `azemu serve` with [`SERVE`] and `args`.
    pub fn start<I, S>(args: I) -> Served
    where
        I: IntoIterator<Item = S>,
        S: AsRef<std::ffi::OsStr>,
    {
        let mut child = Command::new(env!("CARGO_BIN_EXE_azemu"))
            .args(SERVE)
            .args(args)
            .stdout(Stdio::piped())
            .spawn()
            .expect("azemu binary starts");
        let base = listening_on(&mut child);
        Served { child, base }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
