//! `pol run` under the events a real office meets: SIGINT/SIGTERM, SIGKILL at any instant, a
//! full disk. Each leaves a verifiable state: no temporary files, no output under the output's
//! name unless its manifest vouches for it.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use common::{GUANGDONG, PROFILE, pol, repo, text};

fn population(dir: &Path, rows: u32) -> String {
    let path = dir.join("population.parquet").display().to_string();
    let rows = rows.to_string();
    let o = pol(&["gen", GUANGDONG, "--record", "Retiree", "--rows", &rows, "--profile", PROFILE, "--output", &path]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    path
}

fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        std::fs::read_dir(dir).expect("list").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

fn temporaries(dir: &Path) -> Vec<String> {
    listing(dir).into_iter().filter(|n| n.ends_with(".tmp")).collect()
}

/// A slow run (one thread, small batches) of `input` into `dir/out.parquet`.
fn slow_run(input: &str, out: &Path) -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pol"));
    c.args(["run", GUANGDONG, "--input", input, "--output", &out.display().to_string(), "--threads", "1", "--batch-rows", "512"]);
    c.current_dir(repo()).stdout(Stdio::piped()).stderr(Stdio::piped());
    c
}

fn signal(pid: u32, name: &str) {
    let status = Command::new("kill").args([&format!("-{name}"), &pid.to_string()]).status().expect("kill runs");
    assert!(status.success());
}

/// SIGINT and SIGTERM stop a run with exit code 130, its temporary files removed (they reach
/// tens of megabytes on real data), nothing written under the output's names: the earlier
/// committed run's files stay as they were and still verify.
#[test]
fn signals_stop_the_run_and_remove_its_temporary_files() {
    let dir = tempfile::tempdir().expect("dir");
    let input = population(dir.path(), 400_000);
    for name in ["INT", "TERM"] {
        let out_dir = dir.path().join(format!("out-{name}"));
        std::fs::create_dir(&out_dir).expect("dir");
        let out = out_dir.join("out.parquet");
        let earlier = pol(&["run", GUANGDONG, "--input", &input, "--output", &out.display().to_string()]);
        assert_eq!(earlier.status.code(), Some(0), "{}", text(&earlier));
        let committed = listing(&out_dir);
        let bytes = std::fs::read(&out).expect("the earlier output");
        let child = slow_run(&input, &out).spawn().expect("spawn");
        // Wait until the run has created its temporary files, then signal it.
        let started = Instant::now();
        while temporaries(&out_dir).is_empty() && started.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(5));
        }
        assert!(!temporaries(&out_dir).is_empty(), "the run never started writing");
        std::thread::sleep(Duration::from_millis(100));
        signal(child.id(), name);
        let o = child.wait_with_output().expect("wait");
        assert_eq!(o.status.code(), Some(130), "SIG{name}: {}", text(&o));
        assert!(text(&o).contains("interrupted"), "{}", text(&o));
        assert_eq!(listing(&out_dir), committed, "SIG{name} left files or moved the earlier ones");
        assert_eq!(std::fs::read(&out).expect("the earlier output"), bytes);
        assert_eq!(pol(&["verify", &out.display().to_string()]).status.code(), Some(0));
    }
}

/// SIGKILL at six different instants of a run over a committed earlier run: afterwards either
/// the manifest verifies every file beside it, or there is no manifest and `pol verify` says the
/// set is not committed; never a manifest passing over a mixed set. The next run removes the
/// killed run's temporary files and commits.
#[test]
fn sigkill_at_any_instant_never_leaves_a_set_that_verifies_wrongly() {
    let dir = tempfile::tempdir().expect("dir");
    let input = population(dir.path(), 100_000);
    let out_dir = dir.path().join("out");
    let out = out_dir.join("out.parquet");
    let run = pol(&["run", GUANGDONG, "--input", &input, "--output", &out.display().to_string()]);
    assert_eq!(run.status.code(), Some(0), "{}", text(&run));
    let full = {
        let t = Instant::now();
        let o = slow_run(&input, &out).output().expect("run");
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        t.elapsed()
    };
    for step in 1..=6u32 {
        let mut child = slow_run(&input, &out).spawn().expect("spawn");
        std::thread::sleep(full * step / 6);
        let _ = child.kill();
        let _ = child.wait();
        let v = pol(&["verify", &out.display().to_string()]);
        match v.status.code() {
            Some(0) => assert!(text(&v).contains("ok output"), "{}", text(&v)),
            Some(1) => assert!(text(&v).contains("did not finish committing"), "kill {step}: {}", text(&v)),
            other => panic!("verify exited {other:?}: {}", text(&v)),
        }
    }
    let o = slow_run(&input, &out).output().expect("run");
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(temporaries(&out_dir).is_empty(), "{:?}", listing(&out_dir));
    assert_eq!(pol(&["verify", &out.display().to_string()]).status.code(), Some(0));
}

/// A full disk (a 1 MiB tmpfs, mounted in a private mount namespace) says so, with the path,
/// and leaves no partial file.
#[test]
fn a_full_disk_is_reported_with_the_path() {
    let dir = tempfile::tempdir().expect("dir");
    let input = population(dir.path(), 100_000);
    let small = dir.path().join("small");
    std::fs::create_dir(&small).expect("dir");
    let out = small.join("out.csv");
    let script = format!(
        "mount -t tmpfs -o size=1m tmpfs '{dir}' && '{pol}' run {GUANGDONG} --input '{input}' --output '{out}'; code=$?; echo '--listing--'; ls -A '{dir}'; exit $code",
        dir = small.display(),
        pol = env!("CARGO_BIN_EXE_pol"),
        out = out.display(),
    );
    // As root this needs no user namespace; elsewhere an unprivileged one maps us to root.
    let mut unshare = Command::new("unshare");
    if !is_root() {
        unshare.args(["--user", "--map-root-user"]);
    }
    let o = unshare.args(["--mount", "sh", "-c", &script]).current_dir(repo()).output().expect("unshare runs");
    let all = text(&o);
    assert!(!all.contains("Operation not permitted"), "this machine cannot mount a tmpfs for the test: {all}");
    assert_eq!(o.status.code(), Some(2), "{all}");
    assert!(all.contains("No space left on device") && all.contains(&*small.display().to_string()), "{all}");
    let left = String::from_utf8_lossy(&o.stdout).split("--listing--").nth(1).unwrap_or_default().trim().to_string();
    assert_eq!(left, "", "files were left on the full disk: {all}");
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
