//! The real `rusts3` binary as a child process (`rusts3 serve` on 127.0.0.1:0), optionally run
//! under strace; killed with SIGKILL however the test ends.

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};

/// The server under test, and its process id (the child is strace when it traces the server).
pub struct Server {
    child: Child,
    pid: i32,
    pub addr: SocketAddr,
}

pub fn strace_available() -> bool {
    Command::new("strace")
        .arg("-V")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl Server {
    /// Starts `rusts3 serve` with the config file `config` on the directory `store`; with
    /// `strace`, under `strace -f -qq <those arguments>`.
    pub fn start(store: &Path, config: &Path, strace: Option<Vec<String>>) -> Self {
        let binary = env!("CARGO_BIN_EXE_rusts3");
        let traced = strace.is_some();
        let mut command = match strace {
            Some(args) => {
                let mut c = Command::new("strace");
                c.args(["-f", "-qq"]).args(args).arg(binary);
                c
            }
            None => Command::new(binary),
        };
        let mut child = command
            .arg("serve")
            .arg("--config")
            .arg(config)
            .args([
                "--port",
                "0",
                "--address",
                "127.0.0.1",
                "--log-level",
                "error",
            ])
            .arg("--directory")
            .arg(store)
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("spawn rusts3");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let mut addr = None;
        for line in lines.by_ref() {
            let line = line.expect("read stdout");
            if let Some(endpoint) = line.trim().strip_prefix("endpoint:") {
                let endpoint = endpoint.trim().trim_start_matches("http://");
                addr = Some(endpoint.parse().expect("endpoint address"));
                break;
            }
        }
        let addr = addr.expect("the server printed its endpoint");
        // Keep reading: a closed pipe would fail the server's next line.
        std::thread::spawn(move || lines.for_each(drop));
        let pid = if traced {
            traced_child(child.id())
        } else {
            child.id() as i32
        };
        Self { child, pid, addr }
    }

    pub fn kill(self) {
        drop(self);
    }
}

/// Killed however the test ends, so a failing assertion leaves no server behind.
impl Drop for Server {
    fn drop(&mut self) {
        // SAFETY: kill(2) on a process id we started; no memory is involved.
        unsafe {
            libc::kill(self.pid, libc::SIGKILL);
        }
        let _ = self.child.wait();
    }
}

/// The process strace started (it is running: it printed its endpoint).
fn traced_child(strace_pid: u32) -> i32 {
    let children = format!("/proc/{strace_pid}/task/{strace_pid}/children");
    let text = std::fs::read_to_string(&children).expect("strace's children");
    text.split_whitespace()
        .next()
        .and_then(|p| p.parse().ok())
        .expect("strace runs the server")
}
