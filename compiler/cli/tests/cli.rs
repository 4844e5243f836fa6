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
    let page = std::fs::read_to_string(out.join("report.html")).expect("the main job ends with a report");
    assert!(page.contains("verdict ok") && page.contains("符合总体要求"), "the report says the aggregate holds");

    // The README's `pol diff` over the main job's population: draft B breaks the ratio.
    let readme = std::fs::read_to_string(repo().join("README.md")).expect("README");
    let section = readme.split("## Before a notice is published").nth(1).expect("README shows pol diff");
    let line = section.lines().find(|l| l.starts_with("cargo run")).expect("the diff command");
    let mut args: Vec<String> =
        line.strip_prefix("cargo run --release -p pol-cli --").expect("runs pol").split_whitespace().map(str::to_string).collect();
    for a in &mut args {
        if let Some(rest) = a.strip_prefix("out/") {
            *a = out.join(rest).display().to_string();
        }
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let o = pol(&args);
    assert_eq!(o.status.code(), Some(1), "{args:?}: {}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    let page = std::fs::read_to_string(out.join("diff/report.html")).expect("the diff report");
    assert!(page.contains("草案不符合总体要求"), "the draft's broken ratio is on the page");
    assert!(out.join("diff/deltas.parquet").is_file() && out.join("diff/report.deciles.csv").is_file());
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

const WORKED_EXAMPLE: &str = r#"{"person_id":1,"birth_date":"1955-03-01","contribution":360,"monthly_pension":"3000","hardship_class":0,"military_cadre":false,"sex":"Female","hukou":"Urban","local_average_pension":"3800"}"#;

/// The line of an audit sheet that starts (after its indent) with `start` and holds `name`.
fn sheet_line<'a>(sheet: &'a str, start: &str, name: &str) -> &'a str {
    sheet
        .lines()
        .find(|l| l.trim_start().starts_with(start) && l.contains(name))
        .unwrap_or_else(|| panic!("no line {start} … {name} in\n{sheet}"))
}

#[test]
fn trace_is_an_audit_sheet_naming_files_parameters_inputs_and_exact_values() {
    let o = pol(&["trace", GUANGDONG, "--rule", "pension_adjustment", "--record", WORKED_EXAMPLE]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let t = stdout(&o);
    assert!(t.contains("as of 2024-01-01") && t.contains("policies/national/pension_adjustment.pol"), "{t}");
    // Every step names its file and line; 3000 yuan × 1.16 % is 34.8 exactly, so nothing is
    // rounded away.
    let step = sheet_line(&t, &format!("{GUANGDONG}:32"), "水平部分");
    assert!(step.contains("34.80 yuan  (exact 34.8)") && step.contains("(挂钩调整)"), "{step}");
    assert!(sheet_line(&t, &format!("{GUANGDONG}:22"), "计算年数").contains("(年限挂钩)"), "{t}");
    // The framework's locked total is a step of the sheet too, in the framework's file.
    assert!(sheet_line(&t, "policies/national/pension_adjustment.pol:", "基本调整额").contains("104.80 yuan"), "{t}");
    // The parameters in force, with their values, where they are written, and their citations.
    let p = sheet_line(&t, "定额 ", "30.00 yuan");
    assert!(
        p.contains("undated") && p.contains(&format!("{GUANGDONG}:12")) && p.contains("[粤人社规〔2024〕12号 定额调整：每人每月30元]"),
        "{p}"
    );
    let p = sheet_line(&t, "挂钩比例", "1.16%");
    assert!(p.contains(&format!("{GUANGDONG}:13")) && p.contains("[挂钩调整：本人调整前基本养老金的1.16%]"), "{p}");
    // The inputs the rule reads, with their values; sex and hukou are not among them.
    let inputs = t.split("inputs read").nth(1).and_then(|s| s.split("\n\n").next()).expect("an inputs section");
    assert!(inputs.contains("monthly_pension") && inputs.contains("3000.00 yuan") && inputs.contains("contribution"), "{inputs}");
    assert!(!inputs.contains("sex") && !inputs.contains("hukou"), "{inputs}");
    assert_eq!(t.lines().last(), Some("pension_adjustment = 104.80 yuan"));

    // The same sheet as data.
    let o = pol(&["trace", GUANGDONG, "--rule", "pension_adjustment", "--record", WORKED_EXAMPLE, "--format", "json"]);
    assert_eq!(o.status.code(), Some(0));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["result"]["value"], "104.80 yuan");
    let find = |section: &str, name: &str| {
        v[section]
            .as_array()
            .and_then(|a| a.iter().find(|x| x["name"] == name))
            .cloned()
            .unwrap_or_else(|| panic!("no {name} in {section}: {v}"))
    };
    let step = find("steps", "水平部分");
    assert_eq!(
        (step["value"].as_str(), step["exact"].as_str(), step["file"].as_str()),
        (Some("34.80 yuan"), Some("34.8"), Some(GUANGDONG))
    );
    assert_eq!((step["line"].as_u64(), &step["rounded"]), (Some(32), &serde_json::Value::Null));
    let p = find("parameters", "挂钩比例");
    assert_eq!((p["value"].as_str(), p["cite"].as_str()), (Some("1.16%"), Some("挂钩调整：本人调整前基本养老金的1.16%")));
    assert_eq!(find("inputs", "monthly_pension")["value"], "3000.00 yuan");
    // `pol eval --format json` gives the result alone.
    let o = pol(&["eval", GUANGDONG, "--rule", "pension_adjustment", "--record", WORKED_EXAMPLE, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!((v["result"]["name"].as_str(), v["result"]["value"].as_str()), (Some("pension_adjustment"), Some("104.80 yuan")));
    assert!(v.get("steps").is_none(), "{v}");
}

#[test]
fn trace_shows_the_exact_value_before_rounding_and_the_half_fen_tie() {
    let file = "tests/language/good/basic_pension_2825_35.pol";
    let o = pol(&["trace", file, "--rule", "basic", "--record", "{}"]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let t = stdout(&o);
    // (7346 + 6379.27) / 2 × 41.17 × 1 % is 2825.3468295 exactly.
    let line = sheet_line(&t, &format!("{file}:10"), "basic");
    assert!(line.contains("2825.35 yuan  (exact 2825.3468295, rounded half away from zero)"), "{t}");
    assert!(sheet_line(&t, &format!("{file}:11"), "idx").contains("6379.27 yuan  (exact 6379.2664, rounded half away from zero)"), "{t}");
    assert!(sheet_line(&t, "C ", "7346.00 yuan").contains(&format!("{file}:4")), "{t}");
    // Naming the half-sum meets a tie at half a fen, which rounds away from zero.
    let o = pol(&["trace", file, "--rule", "basic_half_named", "--record", "{}"]);
    let t = stdout(&o);
    assert!(sheet_line(&t, &format!("{file}:19"), "half").contains("6862.64 yuan  (exact 6862.635, rounded half away from zero)"), "{t}");
}

#[test]
fn record_numbers_are_read_exactly_not_through_a_float() {
    let dir = tempfile::tempdir().expect("temp dir");
    let file = dir.path().join("same.pol");
    std::fs::write(&file, "record R { x: Money, d: Decimal }\nrule same(r: R) -> Money = r.x\nrule dec(r: R) -> Decimal = r.d\n")
        .expect("write");
    let file = file.display().to_string();
    // 9007199254740993 fen, 2^53 + 1: through a double the number would read as 90071992547409.94.
    let rec = r#"{"x": 90071992547409.93, "d": 0.123456}"#;
    let o = pol(&["eval", &file, "--rule", "same", "--record", rec]);
    assert_eq!(stdout(&o).trim(), "same = 90071992547409.93 yuan", "{}", String::from_utf8_lossy(&o.stderr));
    let o = pol(&["eval", &file, "--rule", "dec", "--record", rec]);
    assert_eq!(stdout(&o).trim(), "dec = 0.123456");
    let o = pol(&["eval", &file, "--rule", "same", "--record", rec, "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["result"]["value"], "90071992547409.93 yuan");
    // An exponent moves the decimal point, exactly.
    let o = pol(&["eval", &file, "--rule", "same", "--record", r#"{"x": 1.2345e3, "d": 25E-5}"#]);
    assert_eq!(stdout(&o).trim(), "same = 1234.50 yuan", "{}", String::from_utf8_lossy(&o.stderr));
    let o = pol(&["eval", &file, "--rule", "dec", "--record", r#"{"x": 1, "d": 25E-5}"#]);
    assert_eq!(stdout(&o).trim(), "dec = 0.000250");
}

#[test]
fn runs_and_evaluations_outside_the_schemes_validity_are_refused() {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = |name: &str| dir.path().join(name).display().to_string();
    let o = pol(&["gen", GUANGDONG, "--record", "Retiree", "--rows", "100", "--output", &p("in.parquet")]);
    assert_eq!(o.status.code(), Some(0));
    // Before the scheme takes effect (2024-01-01): nothing is proven for that date.
    let o = pol(&["run", GUANGDONG, "--input", &p("in.parquet"), "--output", &p("out.parquet"), "--as-of", "2010-06-01"]);
    assert_eq!(o.status.code(), Some(1));
    let text = stdout(&o);
    assert!(text.contains("C0113") && text.contains("before the scheme takes effect"), "{text}");
    assert!(!dir.path().join("out.parquet").exists());
    // Past the horizon of the national ratio the framework publishes (until 2025-12-31).
    let o = pol(&["eval", GUANGDONG, "--rule", "pension_adjustment", "--record", WORKED_EXAMPLE, "--as-of", "2026-03-01"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("horizon of `national_ratio`"), "{}", stdout(&o));
    // Inside it, the run goes ahead.
    let o = pol(&["eval", GUANGDONG, "--rule", "pension_adjustment", "--record", WORKED_EXAMPLE, "--as-of", "2025-03-01"]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
}

#[test]
fn the_framework_comes_from_the_national_folder_and_the_verdict_names_it_with_its_hash() {
    // A weakened copy of the national framework (same name and version, no requirement) next
    // to a scheme that breaks the national minimum does not shadow the national text.
    let dir = tempfile::tempdir().expect("temp dir");
    let national = std::fs::read_to_string(repo().join("policies/national/resident_pension.pol")).expect("framework");
    let weakened = national.replace("require result >= 全国基础养老金最低标准", "require result >= 0 yuan");
    assert_ne!(weakened, national);
    std::fs::write(dir.path().join("resident_pension.pol"), weakened).expect("write");
    let scheme = std::fs::read_to_string(repo().join("policies/rejected/resident_below_national_minimum.pol")).expect("scheme");
    let at = dir.path().join("scheme.pol");
    std::fs::write(&at, scheme).expect("write");
    let o = pol(&["check", &at.display().to_string()]);
    assert_eq!(o.status.code(), Some(1), "{}", stdout(&o));
    let text = stdout(&o);
    assert!(text.contains("C0107") && text.contains("against policies/national/resident_pension.pol (sha256 "), "{text}");
    // JSON names the file and its hash too; the hash is of the file's bytes.
    let o = pol(&["check", "--format", "json", "policies/provinces/guangdong/pension_adjustment_2024.pol"]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v[0]["framework"], "policies/national/pension_adjustment.pol");
    let sha = v[0]["framework_sha256"].as_str().expect("hash");
    assert_eq!(sha.len(), 64);
    // Two frameworks with one name and version in the national folder are an error.
    let policies = dir.path().join("policies");
    std::fs::create_dir_all(policies.join("national")).expect("mkdir");
    std::fs::write(policies.join("national/a.pol"), &national).expect("write");
    std::fs::write(policies.join("national/b.pol"), &national).expect("write");
    let inner = policies.join("scheme.pol");
    std::fs::copy(&at, &inner).expect("copy");
    let o = pol(&["check", &inner.display().to_string()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("2 frameworks are named `resident_pension` version 2024"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn choosing_the_output_rule_never_skips_a_national_aggregate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let p = |name: &str| dir.path().join(name).display().to_string();
    // A uniform population: increases far above 3 % of the pensions.
    let o = pol(&["gen", GUANGDONG, "--record", "Retiree", "--rows", "2000", "--output", &p("uniform.parquet")]);
    assert_eq!(o.status.code(), Some(0));
    // `new_pension` is the framework's locked output, computed from the slot: the slot's column
    // is computed too, its aggregate checked, and the run fails without writing anything.
    let o = pol(&["run", GUANGDONG, "--rule", "new_pension", "--input", &p("uniform.parquet"), "--output", &p("out.parquet")]);
    assert_eq!(o.status.code(), Some(1), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("aggregate requirement broken"), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!dir.path().join("out.parquet").exists());
    // With the national profile the aggregate holds, and the output holds both columns.
    let o = pol(&[
        "gen",
        GUANGDONG,
        "--record",
        "Retiree",
        "--rows",
        "2000",
        "--profile",
        "policies/national/profiles/retiree.toml",
        "--output",
        &p("real.parquet"),
    ]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let o = pol(&["run", GUANGDONG, "--rule", "new_pension", "--input", &p("real.parquet"), "--output", &p("out.csv")]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let csv = std::fs::read_to_string(dir.path().join("out.csv")).expect("output");
    let header = csv.lines().next().unwrap_or_default();
    assert!(header.contains("new_pension") && header.contains("pension_adjustment"), "{header}");
}

/// A scheme's local field (Beijing's 建设征地农转工) is an input column like the framework's
/// fields: read from the file, required in it, and reaching the linked part.
#[test]
fn a_schemes_local_field_is_an_input_column() {
    let dir = tempfile::tempdir().expect("temp dir");
    let header = "person_id,birth_date,contribution,monthly_pension,hardship_class,military_cadre,sex,hukou,local_average_pension";
    let row = "1958-01-01,144,3000.00,0,false,Male,Rural,3800.00";
    let input = dir.path().join("in.csv");
    let high = "1958-01-01,144,9000.00,0,false,Male,Rural,3800.00";
    std::fs::write(&input, format!("{header},建设征地农转工\n1,{row},true\n2,{row},false\n3,{high},false\n")).expect("write");
    let out = dir.path().join("out.csv");
    let scheme = "policies/provinces/beijing/pension_adjustment_2024.pol";
    let o = pol(&["run", scheme, "--input", input.to_str().unwrap(), "--output", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(0), "{}", String::from_utf8_lossy(&o.stderr));
    let text = std::fs::read_to_string(&out).expect("output");
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("person_id,pension_adjustment,new_pension,挂钩调整,倾斜调整"));
    // 12 years: a flat 36 yuan for a 建设征地农转工 retiree, 12 × 2.4 yuan otherwise; 30 + 30 besides.
    assert_eq!(lines.next(), Some("1,96.00,3096.00,66.00,0.00"));
    assert_eq!(lines.next(), Some("2,88.80,3088.80,58.80,0.00"));
    assert_eq!(lines.next(), Some("3,73.80,9073.80,43.80,0.00"));
    // Without the column, the run is refused and names it.
    std::fs::write(&input, format!("{header}\n1,{row}\n")).expect("write");
    let o = pol(&["run", scheme, "--input", input.to_str().unwrap(), "--output", out.to_str().unwrap()]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("建设征地农转工"), "{}", String::from_utf8_lossy(&o.stderr));
}

/// A filed add-on: left out it is zero; defined with its approval document it is checked against
/// its own caps and counted in the national total.
#[test]
fn a_filed_add_on_is_accepted_with_its_document_and_counted_in_the_total() {
    let dir = tempfile::tempdir().expect("temp dir");
    let scheme = dir.path().join("addon.pol");
    std::fs::write(
        &scheme,
        r#"scheme addon_2024 "示例省2024年调整（含经批准的地方增发）" implements pension_adjustment version 2024
  effective 2024-01-01 cite "示例"

rule 定额调整() -> Money/month cite "示例" = 30 yuan
rule 挂钩调整(r: Retiree) -> Money/month cite "示例" = r.monthly_pension * 1%
rule 倾斜调整(r: Retiree) -> Money/month cite "示例" = 0 yuan
rule 地方增发(r: Retiree) -> Money/month filed "示例人社函〔2024〕8号" cite "示例：艰苦边远地区每人每月增发10元"
  = if r.hardship_class > 0 then 10 yuan else 0 yuan

test "增发计入调整额" {
  let r = Retiree { person_id: 1, birth_date: 1955-03-01, contribution: 30 years, monthly_pension: 3000 yuan,
    hardship_class: 2, military_cadre: false, sex: Sex.Female, hukou: Hukou.Urban, local_average_pension: 3800 yuan }
  地方增发(r) == 10 yuan
  pension_adjustment(r) == 70 yuan
}
"#,
    )
    .expect("write");
    let fw = repo().join("policies/national/pension_adjustment.pol");
    let (fw, scheme) = (fw.to_str().unwrap(), scheme.to_str().unwrap());
    let o = pol(&["check", "--framework", fw, scheme]);
    assert_eq!(o.status.code(), Some(0), "{}{}", stdout(&o), String::from_utf8_lossy(&o.stderr));
    let o = pol(&["test", "--framework", fw, scheme]);
    assert_eq!(o.status.code(), Some(0), "{}", stdout(&o));
    // Without the document the same add-on is a local small policy.
    let text = std::fs::read_to_string(scheme).expect("read");
    std::fs::write(scheme, text.replace(r#" filed "示例人社函〔2024〕8号""#, "")).expect("write");
    let o = pol(&["check", "--framework", fw, scheme]);
    assert_eq!(o.status.code(), Some(1));
    assert!(stdout(&o).contains("C0115") || String::from_utf8_lossy(&o.stderr).contains("C0115"), "{}", stdout(&o));
}
