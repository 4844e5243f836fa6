//! A real PostgreSQL server for one test: `initdb` into a temporary folder (owned by the
//! `postgres` user when the tests run as root), started on a free port, stopped when dropped.
//! Shared by the runtime's and the CLI's tests.
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;
use std::process::Command;

use postgres::{Client, NoTls};

/// A PostgreSQL server of this test; stopped (immediately) when dropped.
pub struct Server {
    bin: PathBuf,
    pub dir: tempfile::TempDir,
    pub port: u16,
    as_postgres: bool,
}

fn server_bin() -> PathBuf {
    let mut found: Vec<PathBuf> = fs::read_dir("/usr/lib/postgresql")
        .map(|entries| entries.flatten().map(|e| e.path().join("bin")).filter(|bin| bin.join("initdb").exists()).collect())
        .unwrap_or_default();
    found.sort_by_key(|p| p.parent().and_then(|v| v.file_name()).and_then(|v| v.to_str()).and_then(|v| v.parse::<u32>().ok()));
    match found.pop() {
        Some(bin) => bin,
        None => panic!(
            "the PostgreSQL server binaries are missing (no /usr/lib/postgresql/*/bin/initdb): install them with \
             `apt-get install -y postgresql` (Debian's package); these tests need a real server"
        ),
    }
}

impl Server {
    pub fn start() -> Server {
        Server::start_with("")
    }

    /// A server with more `-c name=value` settings.
    pub fn start_with(settings: &str) -> Server {
        let bin = server_bin();
        let dir = tempfile::tempdir().expect("temporary folder");
        let uid = Command::new("id").arg("-u").output().expect("id -u");
        let as_postgres = String::from_utf8_lossy(&uid.stdout).trim() == "0";
        if as_postgres {
            // The server refuses to run as root: its folder belongs to the `postgres` user.
            let status = Command::new("chown").arg("-R").arg("postgres:").arg(dir.path()).status().expect("chown");
            assert!(status.success(), "chown of {} to postgres failed", dir.path().display());
        }
        let mut server = Server { bin, dir, port: 0, as_postgres };
        let data = server.dir.path().join("data");
        let out = server
            .command("initdb")
            .arg("-D")
            .arg(&data)
            .args(["-A", "trust", "-U", "postgres", "-E", "UTF8", "--locale=C", "--no-sync"])
            .output()
            .expect("initdb");
        assert!(out.status.success(), "initdb failed: {}", String::from_utf8_lossy(&out.stderr));
        for _ in 0..5 {
            server.port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port();
            let options = format!(
                "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off {settings}",
                server.port,
                server.dir.path().display()
            );
            let status = server
                .command("pg_ctl")
                .arg("-D")
                .arg(&data)
                .arg("-o")
                .arg(options)
                .arg("-l")
                .arg(server.dir.path().join("log"))
                .args(["-w", "-t", "60", "start"])
                .output()
                .expect("pg_ctl start");
            if status.status.success() {
                return server;
            }
        }
        let log = fs::read_to_string(server.dir.path().join("log")).unwrap_or_default();
        panic!("the PostgreSQL server did not start:\n{log}");
    }

    pub fn command(&self, program: &str) -> Command {
        let path = self.bin.join(program);
        if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        }
    }

    pub fn url(&self) -> String {
        format!("postgresql://postgres@127.0.0.1:{}/postgres", self.port)
    }

    pub fn client(&self) -> Client {
        Client::connect(&self.url(), NoTls).expect("connect")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let data = self.dir.path().join("data");
        let _ = self.command("pg_ctl").arg("-D").arg(&data).args(["-m", "immediate", "-w", "stop"]).output();
    }
}
