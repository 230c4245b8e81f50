//! A throw-away PostgreSQL cluster on loopback for one test: `initdb` into a temporary
//! directory (as the unprivileged `postgres` user when the tests run as root), started
//! on a free port, stopped and removed when dropped. Without PostgreSQL's programs the
//! test says SKIPPED, unless `DOMREG_REQUIRE_POSTGRES` is set (CI), where it fails.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

pub struct Postgres {
    pub url: String,
    bin: PathBuf,
    data: PathBuf,
    run_as: Option<String>,
    _dir: tempfile::TempDir,
}

fn find_bin() -> Option<PathBuf> {
    if let Ok(dir) = std::env::var("DOMREG_PG_BIN") {
        return Some(PathBuf::from(dir));
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|e| e.path().join("bin"))
        .filter(|p| p.join("initdb").exists())
        .collect();
    versions.sort();
    if let Some(newest) = versions.pop() {
        return Some(newest);
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).find(|d| d.join("initdb").exists() && d.join("pg_ctl").exists())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

impl Postgres {
    fn command(&self, program: &str) -> Command {
        command(&self.bin, &self.run_as, program)
    }
}

fn command(bin: &Path, run_as: &Option<String>, program: &str) -> Command {
    let exe = bin.join(program);
    match run_as {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.args(["-u", user, "--"]).arg(exe);
            c
        }
        None => Command::new(exe),
    }
}

fn run(mut c: Command, what: &str) {
    let out = c.output().unwrap_or_else(|e| panic!("{what}: {e}"));
    assert!(
        out.status.success(),
        "{what} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Starts a cluster, or `None` (having said SKIPPED) where PostgreSQL is not installed.
pub fn start(test: &str) -> Option<Postgres> {
    let Some(bin) = find_bin() else {
        if std::env::var_os("DOMREG_REQUIRE_POSTGRES").is_some() {
            panic!("DOMREG_REQUIRE_POSTGRES is set but PostgreSQL's initdb was not found (apt-get install postgresql, or set DOMREG_PG_BIN)");
        }
        let _ = writeln!(
            std::io::stderr(),
            "SKIPPED: {test} on PostgreSQL (no initdb found: apt-get install postgresql, or set DOMREG_PG_BIN)"
        );
        return None;
    };
    let run_as = is_root().then(|| "postgres".to_string());
    let dir = tempfile::Builder::new()
        .prefix("domreg-pg-")
        .tempdir()
        .expect("a temporary directory");
    let data = dir.path().join("data");
    if let Some(user) = &run_as {
        run(
            {
                let mut c = Command::new("chown");
                c.args([user.as_str(), dir.path().to_str().unwrap()]);
                c
            },
            "chown the cluster directory",
        );
    }
    let mut init = command(&bin, &run_as, "initdb");
    init.args([
        "-D",
        data.to_str().unwrap(),
        "-A",
        "trust",
        "-U",
        "domreg",
        "--no-sync",
        "-E",
        "UTF8",
    ]);
    run(init, "initdb");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port");
    let options = format!(
        "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=200",
        dir.path().display()
    );
    let pg = Postgres {
        url: format!("postgres://domreg@127.0.0.1:{port}/postgres"),
        bin,
        data,
        run_as,
        _dir: dir,
    };
    let mut start = pg.command("pg_ctl");
    start
        .args(["-D", pg.data.to_str().unwrap(), "-w", "-o", &options, "-l"])
        .arg(pg.data.join("server.log"))
        .arg("start");
    run(start, "pg_ctl start");
    Some(pg)
}

impl Drop for Postgres {
    fn drop(&mut self) {
        let mut stop = self.command("pg_ctl");
        stop.args(["-D", self.data.to_str().unwrap(), "-m", "immediate", "stop"]);
        let _ = stop.output();
    }
}
