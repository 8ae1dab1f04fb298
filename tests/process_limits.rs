//! The azemu process under a lowered descriptor limit, and stopped by signals: it neither spins
//! nor floods its log when descriptors run out, answers again once clients leave, and a
//! SIGTERM lets requests in flight finish and loses nothing.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::process::{listening_on, SERVE};

struct Emulator {
    child: Child,
    addr: String,
    log: Arc<Mutex<Vec<String>>>,
}

impl Emulator {
    /// Starts the binary through `sh` so that `ulimit -n` (soft and hard) applies to it.
    fn start(descriptors: Option<u32>, args: &[&str]) -> Emulator {
        let limit = descriptors.map_or(String::new(), |n| format!("ulimit -n {n} && "));
        let mut child = Command::new("sh")
            .arg("-c")
            .arg(format!("{limit}exec \"$0\" \"$@\""))
            .arg(env!("CARGO_BIN_EXE_azemu"))
            .args(SERVE)
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("azemu starts");
        let addr = listening_on(&mut child).trim_start_matches("http://").to_string();
        let log = Arc::new(Mutex::new(Vec::new()));
        let sink = log.clone();
        let stderr = child.stderr.take().unwrap();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                sink.lock().unwrap().push(line);
            }
        });
        Emulator { child, addr, log }
    }

    fn log_lines(&self, containing: &str) -> usize {
        self.log.lock().unwrap().iter().filter(|l| l.contains(containing)).count()
    }

    /// CPU time the process has used, in clock ticks (user and system).
    fn cpu_ticks(&self) -> u64 {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id())).unwrap();
        let after_name = &stat[stat.rfind(')').unwrap() + 2..];
        let fields: Vec<&str> = after_name.split_whitespace().collect();
        fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap()
    }

    fn request(&self, method: &str, path: &str, body: Option<&str>) -> Option<String> {
        request(&self.addr, method, path, body)
    }

    /// Health answers within a bound (it may take a moment for closed connections to free).
    fn answers_again(&self) -> bool {
        (0..100).any(|_| {
            let ok = self.request("GET", "/_azemu/health", None).is_some_and(|a| a.starts_with("HTTP/1.1 200"));
            if !ok {
                std::thread::sleep(Duration::from_millis(100));
            }
            ok
        })
    }

    fn signal(&self, signal: i32) {
        // SAFETY: kill(2) on the child's own pid.
        unsafe { libc::kill(self.child.id() as i32, signal) };
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One request on its own connection; the whole answer, or `None` if there was none.
fn request(addr: &str, method: &str, path: &str, body: Option<&str>) -> Option<String> {
    let mut stream = TcpStream::connect(addr).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(5))).ok()?;
    let body = body.unwrap_or("");
    let request = format!(
        "{method} {path} HTTP/1.1\r\nHost: azemu\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).ok()?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).ok()?;
    (!answer.is_empty()).then_some(answer)
}

/// Whether azemu has closed the connection (an idle open one times the read out).
fn closed_by_azemu(connection: &mut TcpStream) -> bool {
    connection.set_read_timeout(Some(Duration::from_millis(50))).unwrap();
    match connection.read(&mut [0u8; 16]) {
        Ok(0) => true,
        Err(e) => e.kind() == std::io::ErrorKind::ConnectionReset,
        Ok(_) => false,
    }
}

fn open_connections(addr: &str, n: usize) -> Vec<TcpStream> {
    (0..n).filter_map(|_| TcpStream::connect(addr).ok()).collect()
}

#[test]
fn running_out_of_descriptors_backs_off_instead_of_spinning() {
    // A bound above the descriptor limit, so that accept itself fails with EMFILE.
    let emulator = Emulator::start(Some(128), &["--in-memory", "--max-connections", "1000"]);
    let clients = open_connections(&emulator.addr, 200);
    assert_eq!(clients.len(), 200, "the kernel queues what azemu cannot accept");
    std::thread::sleep(Duration::from_millis(500));
    let ticks = emulator.cpu_ticks();
    std::thread::sleep(Duration::from_secs(2));
    let used = emulator.cpu_ticks() - ticks;
    // Spinning would use the whole 2 s (200 ticks at 100 per second); backing off, almost none.
    assert!(used < 50, "{used} ticks of CPU in 2 s while out of descriptors");
    let failures = emulator.log_lines("accept failed");
    assert!((1..=3).contains(&failures), "{failures} log lines: {:?}", emulator.log.lock().unwrap());
    drop(clients);
    assert!(emulator.answers_again());
}

#[test]
fn the_default_bound_closes_surplus_connections_before_descriptors_run_out() {
    // 128 descriptors: 64 connections at most.
    let emulator = Emulator::start(Some(128), &["--in-memory"]);
    let mut clients = open_connections(&emulator.addr, 200);
    std::thread::sleep(Duration::from_millis(500));
    let closed = clients.iter_mut().map(closed_by_azemu).filter(|closed| *closed).count();
    assert_eq!(closed, 200 - 64, "each connection past the bound is closed at once");
    assert_eq!(emulator.log_lines("accept failed"), 0, "no descriptor ran out");
    assert!(emulator.log_lines("--max-connections reached") <= 2);
    drop(clients);
    assert!(emulator.answers_again());
}

#[test]
fn sigterm_finishes_requests_in_flight_and_loses_nothing() {
    let data = tempfile::tempdir().unwrap();
    let data_arg = data.path().to_str().unwrap();
    let mut emulator = Emulator::start(None, &["--data", data_arg]);
    let rule = r#"{"match": {"operation": "ResourceGroups_CreateOrUpdate"}, "action": {"latency": {"ms": 1500}}}"#;
    assert!(emulator.request("POST", "/_azemu/faults", Some(rule)).unwrap().starts_with("HTTP/1.1 201"));
    let path = "/subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/kept?api-version=2021-04-01";
    let addr = emulator.addr.clone();
    let slow = std::thread::spawn(move || request(&addr, "PUT", path, Some(r#"{"location": "westus"}"#)));
    std::thread::sleep(Duration::from_millis(400));
    emulator.signal(libc::SIGTERM);
    let answer = slow.join().unwrap().expect("the request in flight is answered");
    assert!(answer.starts_with("HTTP/1.1 201"), "{answer}");
    let status = emulator.child.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{:?}", emulator.log.lock().unwrap());
    drop(emulator);

    let restarted = Emulator::start(None, &["--data", data_arg]);
    let read = restarted.request("GET", path, None).unwrap();
    assert!(read.starts_with("HTTP/1.1 200"), "{read}");
}

#[test]
fn a_second_signal_stops_at_once() {
    let mut emulator = Emulator::start(None, &["--in-memory", "--shutdown-timeout", "60s"]);
    let rule = r#"{"match": {"operation": "ResourceGroups_CreateOrUpdate"}, "action": {"latency": {"ms": 30000}}}"#;
    assert!(emulator.request("POST", "/_azemu/faults", Some(rule)).is_some());
    let mut stuck = TcpStream::connect(&emulator.addr).unwrap();
    let body = r#"{"location": "westus"}"#;
    let request = format!(
        "PUT /subscriptions/00000000-0000-0000-0000-000000000000/resourcegroups/stuck?api-version=2021-04-01 HTTP/1.1\r\nHost: azemu\r\nAuthorization: Bearer t\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    stuck.write_all(request.as_bytes()).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    emulator.signal(libc::SIGTERM);
    std::thread::sleep(Duration::from_millis(300));
    assert!(emulator.child.try_wait().unwrap().is_none(), "the first signal waits for the request");
    emulator.signal(libc::SIGTERM);
    let status = (0..100)
        .find_map(|_| {
            std::thread::sleep(Duration::from_millis(50));
            emulator.child.try_wait().unwrap()
        })
        .expect("the second signal ends the process");
    assert_eq!(status.code(), Some(130));
}
