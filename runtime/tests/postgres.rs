//! Runs against a real PostgreSQL server, started by each test for itself (initdb into a
//! temporary folder, `pg_ctl start` on a free port, stopped when the test ends, also when it
//! fails). Without the server binaries the tests fail: install Debian's `postgresql`.

mod common;

use common::pg::Server;

use std::fs;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use common::*;
use pol_kernel::{ColumnSpec, ColumnType, Kernel, KernelSignature, RowErrorInfo, RowStatus};
use pol_runtime::{Binding, ErrorLimit, RunOptions, RuntimeError, SchemaProblem, run, verify};
use postgres::Client;

/// The test kernel with one more input, `sex` (Male/Female), that it reads and ignores.
struct SexKernel {
    inner: AdjustKernel,
    sig: KernelSignature,
}

impl SexKernel {
    fn new(cap_num: i128, cap_den: i128) -> Self {
        let inner = AdjustKernel::new(cap_num, cap_den);
        let mut sig = inner.signature().clone();
        let sex = ColumnType::Enum { name: "Sex".into(), variants: vec!["Male".into(), "Female".into()] };
        sig.inputs.push(ColumnSpec { name: "sex".into(), ty: sex, domain: None, is_id: false, read: true });
        SexKernel { inner, sig }
    }
}

impl Kernel for SexKernel {
    fn signature(&self) -> &KernelSignature {
        &self.sig
    }
    fn eval_batch(&self, inputs: &[&[i64]], outputs: &mut [&mut [i64]], status: &mut [RowStatus]) {
        self.inner.eval_batch(&inputs[..6], outputs, status)
    }
    fn describe_error(&self, status: RowStatus) -> RowErrorInfo {
        self.inner.describe_error(status)
    }
    fn engine(&self) -> &'static str {
        "test"
    }
}

const BINDING: &str = r#"
[fields]
person_id = "人员编号"
birth_date = "出生日期"
contribution = "缴费月数"
monthly_pension = { column = "月养老金", unit = "yuan" }
category = { column = "单位类别", codes = { Enterprise = ["企业"], Institution = ["机关事业"] } }
military_cadre = "军转干部"
sex = { column = "性别", codes = { Male = ["男"], Female = ["女"] } }
"#;

const COLUMNS: &str = "人员编号, 出生日期, 缴费月数, 月养老金, 单位类别, 军转干部, 性别, 备注";

/// Rows 1..=n as (CSV line, COPY line); the bad ones: row 17 has no pension, row 33 an unknown
/// sex code, row 50 repeats row 49's id.
fn population(n: u64) -> Vec<(String, String)> {
    (1..=n)
        .map(|i| {
            let id = if i == 50 { 49 + 10_000 } else { i + 10_000 };
            let year = 1940 + (i * 7) % 40;
            let (month, day) = (1 + (i * 5) % 12, 1 + (i * 11) % 28);
            let months = (i * 13) % 600;
            let pension = if i == 17 { None } else { Some(format!("{}.{:02}", 1500 + (i * 37) % 4000, (i * 7) % 100)) };
            let category = if i % 3 == 0 { "机关事业" } else { "企业" };
            let cadre = i % 11 == 0;
            let sex = if i == 33 {
                "未知"
            } else if i % 2 == 0 {
                "女"
            } else {
                "男"
            };
            let note = format!("备注\t{i}\\，\"引号\"");
            let date = format!("{year}-{month:02}-{day:02}");
            let csv_note = format!("\"{}\"", note.replace('"', "\"\""));
            let csv = format!(
                "{id},{date},{months},{},{category},{},{sex},{csv_note}",
                pension.clone().unwrap_or_default(),
                if cadre { "true" } else { "false" }
            );
            let copy_note = note.replace('\\', "\\\\").replace('\t', "\\t");
            let copy = format!(
                "{id}\t{date}\t{months}\t{}\t{category}\t{}\t{sex}\t{copy_note}",
                pension.unwrap_or_else(|| "\\N".into()),
                if cadre { "t" } else { "f" }
            );
            (csv, copy)
        })
        .collect()
}

/// Creates the table `退休人员` and fills it; writes the same rows to `dir/people.csv`.
fn load(server: &Server, dir: &Path, n: u64) -> PathBuf {
    let rows = population(n);
    let mut client = server.client();
    client
        .batch_execute(
            "CREATE TABLE 退休人员 (人员编号 bigint, 出生日期 date, 缴费月数 integer, 月养老金 numeric(12, 2), \
             单位类别 text, 军转干部 boolean, 性别 text, 备注 text, 浮点金额 double precision DEFAULT 1.5)",
        )
        .expect("create table");
    let mut w = client.copy_in(&format!("COPY 退休人员 ({COLUMNS}) FROM STDIN")).expect("copy in");
    for (_, copy) in &rows {
        w.write_all(copy.as_bytes()).expect("write");
        w.write_all(b"\n").expect("write");
    }
    w.finish().expect("finish");
    let mut csv = COLUMNS.replace(", ", ",");
    csv.push('\n');
    for (line, _) in &rows {
        csv.push_str(line);
        csv.push('\n');
    }
    let path = dir.join("people.csv");
    fs::write(&path, csv).expect("write csv");
    path
}

fn binding_with(source: &str) -> Binding {
    Binding::parse(&format!("[source]\n{source}\n{BINDING}")).expect("binding")
}

fn options(input: impl Into<PathBuf>, output: PathBuf, binding: Binding) -> RunOptions {
    let mut opts = RunOptions::new(input, output);
    opts.binding = Some(binding);
    opts.threads = Some(2);
    opts.batch_rows = 256;
    opts.warn_aggregates = true;
    opts.max_errors = ErrorLimit::Rows(1_000);
    opts
}

fn read(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The text of `COPY (query) TO STDOUT`.
fn copy_text(client: &mut Client, query: &str) -> String {
    let mut text = String::new();
    client.copy_out(&format!("COPY ({query}) TO STDOUT")).expect("copy out").read_to_string(&mut text).expect("read");
    text
}

#[test]
fn tables_and_queries_read_as_the_same_rows_in_a_file_do() {
    let server = Server::start();
    let dir = temp_dir();
    let n = 3_000;
    let csv = load(&server, dir.path(), n);

    // The same rows from a CSV file and from the table: the same outputs and ledger, row by row.
    let file_binding = Binding::parse(BINDING).expect("binding");
    let from_file = run(&SexKernel::new(1, 20), &options(&csv, dir.path().join("file.csv"), file_binding)).expect("file run");
    let opts = options(server.url(), dir.path().join("table.csv"), binding_with("table = \"退休人员\""));
    let from_table = run(&SexKernel::new(1, 20), &opts).expect("table run");
    assert_eq!(from_table.rows_in, n);
    assert_eq!(from_table.rows_in, from_table.rows_out + from_table.rows_in_ledger);
    assert_eq!((from_table.rows_out, from_table.rows_in_ledger), (from_file.rows_out, from_file.rows_in_ledger));
    let (file_out, table_out) = (read(&dir.path().join("file.csv")), read(&dir.path().join("table.csv")));
    assert_eq!(file_out.lines().count() as u64, n - from_table.rows_in_ledger + 1);
    for (k, (a, b)) in file_out.lines().zip(table_out.lines()).enumerate() {
        assert_eq!(a, b, "output line {k}");
    }
    assert_eq!(read(&dir.path().join("file.errors.csv")), read(&dir.path().join("table.errors.csv")));
    assert!(!from_table.input.contains("password") && from_table.input.contains("table 退休人员"), "{}", from_table.input);

    // The bad rows, each with its row, column and reason.
    let ledger = parse_csv(&read(&dir.path().join("table.errors.csv")));
    assert_eq!(ledger[0], ["row", "person_id", "code", "rule", "column", "message"]);
    let entry = |row: &str| ledger.iter().find(|r| r[0] == row).unwrap_or_else(|| panic!("no ledger row {row}: {ledger:?}"));
    assert_eq!(entry("17")[2], "V0001");
    assert!(entry("17")[4].contains("monthly_pension") || entry("17")[4].contains("月养老金"), "{:?}", entry("17"));
    assert_eq!(entry("33")[2], "V0003");
    assert!(entry("33")[5].contains("未知"), "{:?}", entry("33"));
    assert_eq!((entry("49")[2].as_str(), entry("50")[2].as_str()), ("V0005", "V0005"));
    assert_eq!(from_table.ledger_by_code.get("V0005"), Some(&2));

    // A query: the same rows plus one whose pension has three decimals.
    let query = "SELECT 人员编号, 出生日期, 缴费月数, 月养老金, 单位类别, 军转干部, 性别 FROM 退休人员 \
                 UNION ALL SELECT 99999, date '1950-03-01', 240, 1234.567, '企业', false, '男'";
    let opts = options(server.url(), dir.path().join("query.csv"), binding_with(&format!("query = \"{query}\"")));
    let from_query = run(&SexKernel::new(1, 20), &opts).expect("query run");
    assert_eq!((from_query.rows_in, from_query.rows_out), (n + 1, from_table.rows_out));
    let ledger = parse_csv(&read(&dir.path().join("query.errors.csv")));
    let last = ledger.last().expect("a ledger row");
    assert_eq!((last[0].as_str(), last[1].as_str(), last[2].as_str()), ("3001", "99999", "V0003"));
    assert!(last[5].contains("1234.567") && last[5].contains("decimal places"), "{last:?}");
    let query_out = read(&dir.path().join("query.csv"));
    assert_eq!(query_out, table_out);

    // COPY's escapes come back as the bytes they stand for: a code with a tab, a backslash and a
    // line break inside matches the binding's.
    let escaped = format!(
        "[source]\nquery = \"SELECT 人员编号, 出生日期, 缴费月数, 月养老金, 单位类别, 军转干部, E'甲\\\\t乙\\\\\\\\丙\\\\n丁' AS 性别 \
         FROM 退休人员 WHERE 人员编号 <= 10005\"\n{}",
        BINDING.replace(r#"Male = ["男"]"#, r#"Male = ["甲\t乙\\丙\n丁"]"#)
    );
    let binding = Binding::parse(&escaped).expect("binding");
    let s = run(&SexKernel::new(1, 20), &options(server.url(), dir.path().join("escaped.csv"), binding)).expect("escapes");
    assert_eq!((s.rows_in, s.rows_out), (5, 5), "{}", read(&dir.path().join("escaped.errors.csv")));

    // A query whose order changes between the key check and the run fails the run: its row
    // numbers would not name the same rows.
    let shuffled = binding_with("query = \"SELECT * FROM 退休人员 ORDER BY random()\"");
    let err = run(&SexKernel::new(1, 20), &options(server.url(), dir.path().join("shuffled.csv"), shuffled)).expect_err("reordered");
    assert!(err.to_string().contains("another order"), "{err}");
    assert!(!dir.path().join("shuffled.csv").exists());

    // Columns are checked before anything is read, as in a file.
    let mut binding = binding_with("table = \"退休人员\"");
    binding.fields.insert("contribution".into(), pol_runtime::FieldBinding::Column("缴费年限".into()));
    let err = run(&SexKernel::new(1, 20), &options(server.url(), dir.path().join("x.csv"), binding)).expect_err("missing column");
    match err {
        RuntimeError::Schema { problems, .. } => {
            assert!(
                problems.iter().any(|p| matches!(p, SchemaProblem::MissingColumn { column, .. } if column == "缴费年限")),
                "{problems:?}"
            )
        }
        other => panic!("expected a schema error, got {other}"),
    }
    let mut binding = binding_with("table = \"退休人员\"");
    binding.fields.insert("monthly_pension".into(), pol_runtime::FieldBinding::Column("浮点金额".into()));
    let err = run(&SexKernel::new(1, 20), &options(server.url(), dir.path().join("x.csv"), binding)).expect_err("float money");
    assert!(matches!(&err, RuntimeError::Schema { problems, .. } if matches!(problems[0], SchemaProblem::WrongType { .. })), "{err}");
    assert!(!dir.path().join("x.csv").exists());

    // Exactly one of table and query.
    for source in ["", "table = \"退休人员\"\nquery = \"SELECT 1\""] {
        let err = run(&SexKernel::new(1, 20), &options(server.url(), dir.path().join("x.csv"), binding_with(source))).expect_err("source");
        assert!(matches!(err, RuntimeError::Invalid { .. }), "{err}");
    }
    let err =
        run(&SexKernel::new(1, 20), &options(&csv, dir.path().join("x.csv"), binding_with("table = \"退休人员\""))).expect_err("file");
    assert!(err.to_string().contains("PostgreSQL input"), "{err}");
}

#[test]
fn an_output_table_is_replaced_in_one_transaction_only_by_a_run_that_succeeds() {
    let server = Server::start();
    let dir = temp_dir();
    let n = 2_000;
    let csv = load(&server, dir.path(), n);
    let mut client = server.client();

    // The reference: the same run into a CSV file.
    let file = run(&SexKernel::new(1, 20), &options(&csv, dir.path().join("ref.csv"), Binding::parse(BINDING).expect("binding")))
        .expect("file run");
    let reference: Vec<String> = read(&dir.path().join("ref.csv"))
        .lines()
        .skip(1)
        .map(|l| l.replace("true", "t").replace("false", "f").replace(',', "\t"))
        .collect();

    let cwd = dir.path().join("here");
    fs::create_dir(&cwd).expect("folder");
    let mut opts = options(server.url(), PathBuf::new(), binding_with("table = \"退休人员\""));
    opts.output = PathBuf::from(server.url());
    opts.output_table = Some("调整结果".into());
    opts.errors = Some(cwd.join("调整结果.errors.csv"));
    opts.summary = Some(cwd.join("调整结果.summary.json"));
    let summary = run(&SexKernel::new(1, 20), &opts).expect("table output");
    assert_eq!((summary.rows_out, summary.rows_in_ledger), (file.rows_out, file.rows_in_ledger));
    let table = copy_text(&mut client, "TABLE 调整结果");
    let table: Vec<&str> = table.lines().collect();
    assert_eq!(table.len(), reference.len());
    for (k, (a, b)) in table.iter().zip(&reference).enumerate() {
        assert_eq!(a, b, "row {k}");
    }
    let types = copy_text(
        &mut client,
        "SELECT column_name, data_type, numeric_scale FROM information_schema.columns WHERE table_name = '调整结果' ORDER BY ordinal_position",
    );
    assert!(types.starts_with("person_id\tbigint\t0\nadjustment\tnumeric\t2\n"), "{types}");
    assert!(types.contains("ratio\tnumeric\t4\n") && types.contains("review_date\tdate\t\\N\n") && types.contains("band\ttext"), "{types}");

    // The manifest names the table; `verify` reconnects and counts its rows.
    let manifest = cwd.join("调整结果.manifest.json");
    let v = verify(&manifest).expect("verify");
    assert!(v.ok(), "{:?}", v.problems);
    let output = &v.manifest.files[0];
    assert_eq!((output.role.as_str(), output.table.as_deref(), output.rows), ("output", Some("调整结果"), Some(file.rows_out)));
    assert_eq!(output.path, server.url());
    let before = copy_text(&mut client, "TABLE 调整结果");

    // A run that fails (more ledger rows than allowed, a broken aggregate) leaves the table.
    opts.max_errors = ErrorLimit::Rows(0);
    let err = run(&SexKernel::new(1, 20), &opts).expect_err("too many ledger rows");
    assert!(matches!(err, RuntimeError::RunFailed { .. }), "{err}");
    assert_eq!(copy_text(&mut client, "TABLE 调整结果"), before);
    opts.max_errors = ErrorLimit::Rows(1_000);
    opts.warn_aggregates = false;
    let err = run(&SexKernel::new(1, 100_000), &opts).expect_err("aggregate broken");
    assert!(matches!(err, RuntimeError::RunFailed { .. }), "{err}");
    assert_eq!(copy_text(&mut client, "TABLE 调整结果"), before);
    // A run that fails midway (an input row the COPY cannot parse is not possible; a query that
    // errors while streaming is): the table stays too.
    let mut failing = opts.clone();
    failing.warn_aggregates = true;
    failing.binding = Some(binding_with(
        "query = \"SELECT 人员编号, 出生日期, 缴费月数, 月养老金, 单位类别, 军转干部, \
         CASE WHEN 人员编号 = 11500 THEN (1 / (人员编号 - 11500))::text ELSE 性别 END AS 性别 FROM 退休人员\"",
    ));
    let err = run(&SexKernel::new(1, 20), &failing).expect_err("division by zero while streaming");
    assert!(err.to_string().contains("division by zero"), "{err}");
    assert_eq!(copy_text(&mut client, "TABLE 调整结果"), before);
    let leftovers = copy_text(&mut client, "SELECT count(*) FROM pg_tables WHERE tablename LIKE 'pol_new_%'");
    assert_eq!(leftovers, "0\n", "no temporary table is left");

    // A run that succeeds replaces it, once.
    opts.warn_aggregates = true;
    opts.binding = Some(binding_with("query = \"SELECT * FROM 退休人员 WHERE 人员编号 <= 10100\""));
    let small = run(&SexKernel::new(1, 20), &opts).expect("smaller run");
    assert_eq!(copy_text(&mut client, "SELECT count(*) FROM 调整结果"), format!("{}\n", small.rows_out));
    assert!(verify(&manifest).expect("verify").ok());
    client.batch_execute("DELETE FROM 调整结果 WHERE person_id = 10001").expect("delete");
    let v = verify(&manifest).expect("verify");
    assert!(!v.ok() && v.problems[0].contains("rows, the manifest says"), "{:?}", v.problems);

    // The output must name its table; a file output may not.
    opts.output_table = None;
    assert!(matches!(run(&SexKernel::new(1, 20), &opts), Err(RuntimeError::Invalid { .. })));
    let mut opts = options(&csv, dir.path().join("y.csv"), Binding::parse(BINDING).expect("binding"));
    opts.output_table = Some("t".into());
    assert!(matches!(run(&SexKernel::new(1, 20), &opts), Err(RuntimeError::Invalid { .. })));
}

/// A large table's scans start where an earlier scan left off (synchronized scans), and an
/// abandoned one leaves that point in the middle: a run still reads the rows in stored order, in
/// both of its reads, so row numbers and duplicate keys match a file's.
#[test]
fn rows_come_in_stored_order_whatever_scans_ran_before() {
    // Tables above a quarter of shared_buffers are scanned in synchronized scans.
    let server = Server::start_with("-c shared_buffers=1MB -c max_connections=20");
    let dir = temp_dir();
    let n = 20_000;
    let csv = load(&server, dir.path(), n);
    let mut client = server.client();
    let mut first = String::new();
    for _ in 0..10 {
        // A scan that stops three quarters through leaves its position for the next one.
        copy_text(&mut client, "SELECT count(*) FROM (SELECT * FROM 退休人员 LIMIT 15000) AS head");
        first = copy_text(&mut client, "SELECT 人员编号 FROM 退休人员 LIMIT 1");
        if first != "10001\n" {
            break;
        }
    }
    assert_ne!(first, "10001\n", "an abandoned scan should have left its position behind");
    let file = run(&SexKernel::new(1, 20), &options(&csv, dir.path().join("file.csv"), Binding::parse(BINDING).expect("binding")))
        .expect("file run");
    let table = run(&SexKernel::new(1, 20), &options(server.url(), dir.path().join("table.csv"), binding_with("table = \"退休人员\"")))
        .expect("table run");
    assert_eq!((table.rows_out, table.ledger_by_code.get("V0005")), (file.rows_out, Some(&2)));
    assert!(read(&dir.path().join("file.csv")) == read(&dir.path().join("table.csv")), "the outputs differ");
    assert_eq!(read(&dir.path().join("file.errors.csv")), read(&dir.path().join("table.errors.csv")));
}
