//! How long `pol check` takes on every file under `policies/` (the frontend, the structural
//! compliance checks and every proof), in process, release build:
//! `cargo bench -p pol-cli --bench check`. Prints one line per file: the best of three runs in
//! milliseconds, the solver units the proofs spent (Z3's deterministic `rlimit` count), and
//! the verdict; then the slowest file. The target is under one second per file on this
//! machine. Also checks a generated scheme with 700 dated parameter values (many proof dates).

use pol_core::compliance::prove::Budget;
use pol_core::driver::{self, FileKind, Frontend};
use pol_core::span::SourceFile;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    let mut entries: Vec<PathBuf> = entries.flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "pol") {
            out.push(p);
        }
    }
}

/// Checks one file as `pol check` does: a scheme against the framework it names.
fn check(file: &SourceFile, frameworks: &[(String, String, SourceFile)], budget: &Budget) -> Frontend {
    match driver::file_kind(&file.text) {
        FileKind::Scheme { implements, version, .. } => {
            let fw = frameworks.iter().find(|(n, v, _)| *n == implements && version.as_ref().is_none_or(|want| want == v));
            match fw {
                Some((_, _, fw)) => driver::check_scheme(fw.clone(), file.clone(), budget),
                None => driver::check_file(file.clone()),
            }
        }
        _ => driver::check_file(file.clone()),
    }
}

fn timed(file: &SourceFile, frameworks: &[(String, String, SourceFile)]) -> (Duration, u64, String) {
    let mut best = Duration::MAX;
    let mut spent = 0;
    let mut verdict = String::new();
    for _ in 0..3 {
        let budget = Budget::default();
        let t = Instant::now();
        let checked = check(file, frameworks, &budget);
        best = best.min(t.elapsed());
        spent = budget.spent();
        let errors = checked.main_diagnostics().len();
        verdict = if errors == 0 {
            "ok".into()
        } else {
            let mut codes: Vec<&str> = checked.main_diagnostics().iter().map(|d| d.code).collect();
            codes.dedup();
            format!("rejected {}", codes.join(","))
        };
    }
    (best, spent, verdict)
}

/// A scheme of the national resident-pension framework whose top-up is a parameter with 700
/// dated values (one a day from 2024-01-01, inside the scheme's validity), so that proofs are
/// made at 700 dates, most with different values.
fn many_dates() -> SourceFile {
    let mut s = String::from(
        "scheme many \"700个日期\" implements resident_pension version 2024 effective 2024-01-01\n\nparam 加发: Money/month\n",
    );
    let first = pol_core::calendar::days_from_civil(2024, 1, 1).expect("date");
    for i in 0..700 {
        let day = pol_core::calendar::format_date(first + i);
        s.push_str(&format!("  = {}.{:02} yuan from {day}\n", 5 + (i * 37) % 101, i % 100));
    }
    s.push_str("  cite \"假设方案\"\n\nrule 基础养老金(r: 居民领取人) -> Money/month = 全国基础养老金最低标准 + 加发 + (if r.缴费年限 >= 15 years then 1 yuan * whole_years(r.缴费年限) else 0 yuan)\n");
    SourceFile::new("generated/many_dates.pol", s)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let mut paths = Vec::new();
    collect(&root.join("policies"), &mut paths);
    let files: Vec<SourceFile> = paths
        .iter()
        .map(|p| {
            let rel = p.strip_prefix(&root).unwrap_or(p).display().to_string();
            SourceFile::new(rel, std::fs::read_to_string(p).expect("policy file"))
        })
        .collect();
    let frameworks: Vec<(String, String, SourceFile)> = files
        .iter()
        .filter_map(|f| match driver::file_kind(&f.text) {
            FileKind::Framework { name, version } => Some((name, version, f.clone())),
            _ => None,
        })
        .collect();
    let mut slowest = (Duration::ZERO, String::new());
    let mut all: Vec<SourceFile> = files;
    all.push(many_dates());
    println!("{:<70} {:>9} {:>14}  verdict", "file", "ms", "solver units");
    for f in &all {
        let (t, spent, verdict) = timed(f, &frameworks);
        println!("{:<70} {:>9.1} {:>14}  {verdict}", f.name, t.as_secs_f64() * 1e3, spent);
        if t > slowest.0 {
            slowest = (t, f.name.clone());
        }
    }
    println!("slowest: {} in {:.1} ms", slowest.1, slowest.0.as_secs_f64() * 1e3);
}
