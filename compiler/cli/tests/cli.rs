//! The `pol` command end to end: exit codes, verdicts, JSON diagnostics, eval, and batch runs
//! whose outputs are byte-identical across thread counts and engines.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn pol(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pol")).args(args).current_dir(repo()).output().expect("pol runs")
}

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

const GUANGDONG: &str = "policies/provinces/guangdong/pension_adjustment_2024.pol";

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

#[test]
fn check_reports_compliant_and_exits_zero() {
    let o = pol(&["check", GUANGDONG]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("compliant"));
}

#[test]
fn check_rejects_with_code_and_exits_one_and_json_cites_the_framework() {
    let bad = "tests/compliance/bad/forbidden_input.pol";
    let o = pol(&["check", "--framework", "tests/compliance/framework.pol", bad]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("C0105"));
    let o = pol(&["check", "--format", "json", "--framework", "tests/compliance/framework.pol", bad]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    let d = &v[0]["diagnostics"][0];
    assert_eq!(d["code"], "C0105");
    assert_eq!(d["line"], 5);
    assert!(d["framework"].as_str().is_some_and(|f| f.contains("framework.pol")));
}

#[test]
fn usage_and_io_errors_exit_two() {
    assert_eq!(pol(&["check", "no/such/file.pol"]).status.code(), Some(2));
    assert_eq!(pol(&["explain", "X9999"]).status.code(), Some(2));
    assert_eq!(pol(&["eval", GUANGDONG, "--rule", "pension_adjustment", "--record", "{not json"]).status.code(), Some(2));
}

#[test]
fn explain_prints_the_explanation() {
    let o = pol(&["explain", "c0105"]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("forbidden-input"));
}

#[test]
fn eval_and_trace_compute_the_worked_example() {
    let rec = r#"{"person_id":1,"birth_date":"1955-03-01","contribution":360,"monthly_pension":"3000","hardship_class":0,"military_cadre":false,"sex":"Female","hukou":"Urban","local_average_pension":"3800"}"#;
    let o = pol(&["eval", GUANGDONG, "--rule", "pension_adjustment", "--record", rec]);
    assert_eq!(stdout(&o).trim(), "pension_adjustment = 104.80 yuan");
    let o = pol(&["trace", GUANGDONG, "--rule", "pension_adjustment", "--record", rec]);
    let t = stdout(&o);
    assert!(t.contains("水平部分") && t.contains("34.80 yuan") && t.contains("粤人社规〔2024〕12号"), "{t}");
    // An out-of-domain field is refused, naming it.
    let bad = rec.replace("\"hardship_class\":0", "\"hardship_class\":9");
    let o = pol(&["eval", GUANGDONG, "--rule", "pension_adjustment", "--record", &bad]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("hardship_class"));
}

#[test]
fn test_command_runs_test_blocks() {
    let o = pol(&["test", GUANGDONG]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    assert!(stdout(&o).contains("0 failed"));
}

#[test]
fn runs_are_byte_identical_across_threads_and_engines() {
    let dir = std::env::temp_dir().join(format!("pol-cli-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let pop = dir.join("pop.parquet");
    let pop_s = pop.to_str().expect("utf-8 path");
    let o = pol(&["gen", GUANGDONG, "--record", "Retiree", "--rows", "20000", "--seed", "3", "--output", pop_s]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let mut outputs = Vec::new();
    for (engine, threads) in [("jit", "1"), ("jit", "2"), ("interp", "2")] {
        let out = dir.join(format!("out-{engine}-{threads}.parquet"));
        let o = pol(&[
            "run",
            GUANGDONG,
            "--input",
            pop_s,
            "--output",
            out.to_str().expect("path"),
            "--engine",
            engine,
            "--threads",
            threads,
            "--warn-aggregates",
        ]);
        assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(stdout(&o).contains("20000 rows in, 20000 rows out, 0 rows in the error ledger"), "{}", stdout(&o));
        outputs.push(std::fs::read(&out).expect("output written"));
    }
    assert!(outputs.windows(2).all(|w| w[0] == w[1]), "outputs differ across threads or engines");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn ir_prints_the_lowered_program_and_its_machine_ir() {
    let o = pol(&["ir", GUANGDONG]);
    assert_eq!(o.status.code(), Some(0));
    let ir = stdout(&o);
    assert!(ir.contains("program guangdong_2024 as of 2024-01-01") && ir.contains("output pension_adjustment"), "{ir}");
    let o = pol(&["ir", "--clif", GUANGDONG]);
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("function"), "{}", stdout(&o));
}

/// The README's main job, read from the README itself (the line after `<!-- main-job -->` in its
/// `sh` block), with `cargo run --release -p pol-cli --` replaced by the binary under test and
/// `out/` by a fresh folder that does not exist yet.
fn readme_main_job() -> Vec<Vec<String>> {
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let after = readme.split("<!-- main-job -->").nth(1).expect("README marks its main job");
    let line = after.lines().find(|l| l.starts_with("cargo run")).expect("the main job's command line");
    line.split("&&")
        .map(|cmd| {
            let cmd = cmd.trim().strip_prefix("cargo run --release -p pol-cli --").expect("each step runs pol");
            cmd.split_whitespace().map(str::to_string).collect()
        })
        .collect()
}

#[test]
fn the_readme_main_job_works_into_a_missing_folder_and_its_aggregate_holds() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = dir.path().join("not/yet/here");
    for mut step in readme_main_job() {
        for a in &mut step {
            if let Some(rest) = a.strip_prefix("out/") {
                *a = out.join(rest).display().to_string();
            }
            if a == "1000000" {
                // The same job on fewer rows keeps the suite fast; the shape is the same.
                *a = "20000".into();
            }
        }
        let args: Vec<&str> = step.iter().map(String::as_str).collect();
        let o = pol(&args);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
        if args[0] == "run" {
            assert!(stdout(&o).contains("holds"), "{}", stdout(&o));
        }
    }
    assert!(out.join("adjusted.parquet").is_file());
}

#[test]
fn each_outcome_has_its_exit_code() {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = |name: &str| dir.path().join(name).display().to_string();
    // 0: a clean check, passing tests, a run whose aggregate holds.
    assert_eq!(pol(&["check", GUANGDONG]).status.code(), Some(0));
    assert_eq!(pol(&["test", GUANGDONG]).status.code(), Some(0));
    // 1: check errors.
    let o = pol(&["check", "--framework", "tests/compliance/framework.pol", "tests/compliance/bad/forbidden_input.pol"]);
    assert_eq!(o.status.code(), Some(1));
    // 1: a failing test.
    std::fs::write(p("failing.pol"), "rule one() -> Int = 1\ntest \"wrong\" { one() == 2 }\n").expect("write");
    assert_eq!(pol(&["test", &p("failing.pol")]).status.code(), Some(1));
    // 1: a broken aggregate (a uniform population pays far more than 3 % of its pensions), and
    // the output is not written.
    let o = pol(&["gen", GUANGDONG, "--record", "Retiree", "--rows", "2000", "--output", &p("uniform.parquet")]);
    assert_eq!(o.status.code(), Some(0));
    let o = pol(&["run", GUANGDONG, "--input", &p("uniform.parquet"), "--output", &p("out.parquet")]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("aggregate requirement broken"));
    assert!(!dir.path().join("out.parquet").exists());
    // 2: usage and IO errors.
    assert_eq!(pol(&["run", GUANGDONG, "--input", &p("missing.parquet"), "--output", &p("o.parquet")]).status.code(), Some(2));
    assert_eq!(pol(&["gen", GUANGDONG, "--record", "Nobody", "--rows", "1", "--output", &p("x.parquet")]).status.code(), Some(2));
    assert_eq!(pol(&["check"]).status.code(), Some(2));
    assert_eq!(pol(&["no-such-command"]).status.code(), Some(2));
}
