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
