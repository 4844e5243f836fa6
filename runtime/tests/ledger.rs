//! Every faulty row lands in the ledger with the right code; every other row in the output.

mod common;

use std::fs;

use arrow::array::{Array, AsArray, Int64Array};
use arrow::datatypes::{Decimal128Type, Int64Type};
use common::*;
use pol_runtime::{ErrorLimit, RunOptions, RuntimeError, run};

const LINES: &[&str] = &[
    "1,1950-06-01,360,3000.00,Enterprise,false,x",
    "2,1950-06-01,360,,Enterprise,false,x",
    "3,1950-06-01,721,3000.00,Enterprise,false,x",
    "4,1950-06-01,360,12.345,Enterprise,false,x",
    "5,2020-13-01,360,3000,Enterprise,false,x",
    "6,1950-06-01,360,3000,Army,false,x",
    "7,1950-06-01,360,3000,Institution,maybe,x",
    "8,1950-06-01,98,3000,Institution,true,x",
    "9,1950-06-01,360,0,Enterprise,false,x",
    "10,1950-06-01,360,0.07,Enterprise,false,x",
    ",1950-06-01,360,3000,Enterprise,false,x",
    "12,1910-01-01,360,3000,Enterprise,false,x",
    "abc,1950-06-01,360,3000,Enterprise,false,x",
    "14, 1950-06-01 ,360,100000.00,Institution,TRUE,\"x, quoted\"",
    "15,1950-06-01,360,100000.01,Enterprise,false,x",
];

/// (1-based row, id as read, code, rule, column, a fragment of the message)
const EXPECTED_LEDGER: &[(&str, &str, &str, &str, &str, &str)] = &[
    ("2", "2", "V0001", "", "monthly_pension", "has no value"),
    ("3", "3", "V0002", "", "contribution", "value 721 is outside the declared domain 0 ..= 720"),
    ("4", "4", "V0003", "", "monthly_pension", "`12.345` has more than 2 decimal places"),
    ("5", "5", "V0003", "", "birth_date", "`2020-13-01` is not a date"),
    ("6", "6", "V0003", "", "category", "`Army` is not a variant of enum Category (Enterprise, Institution)"),
    ("7", "7", "V0003", "", "military_cadre", "`maybe` is not one of true, 1, 是, y, yes, t / false, 0, 否, n, no, f"),
    ("8", "8", "R0001", "pension_adjustment", "", "overflow in rule `pension_adjustment`"),
    ("9", "9", "R0002", "ratio", "", "division by zero"),
    ("11", "", "V0001", "", "person_id", "has no value"),
    ("12", "12", "V0002", "", "birth_date", "1910-01-01 is outside the declared domain 1920-01-01 ..= 2005-12-31"),
    ("13", "abc", "V0003", "", "person_id", "`abc` is not a whole number"),
    ("15", "15", "V0002", "", "monthly_pension", "100000.01 is outside the declared domain 0.00 ..= 100000.00"),
];

#[test]
fn faulty_rows_go_to_the_ledger_with_their_codes_and_the_rest_to_the_output() {
    let dir = temp_dir();
    let input = write_csv(dir.path(), "in.csv", LINES);
    let mut opts = RunOptions::new(&input, dir.path().join("out.parquet"));
    opts.threads = Some(2);
    opts.batch_rows = 4; // several batches, so row numbers cross batch boundaries
    opts.max_errors = ErrorLimit::Rows(12);
    let kernel = AdjustKernel::new(1, 20);
    let summary = run(&kernel, &opts).expect("run");

    assert_eq!((summary.rows_in, summary.rows_out, summary.rows_in_ledger), (15, 3, 12));
    assert_eq!(summary.ledger_by_code.get("V0003"), Some(&5));
    assert_eq!(summary.ledger_by_code.get("R0001"), Some(&1));

    let ledger = parse_csv(&fs::read_to_string(dir.path().join("out.errors.csv")).expect("ledger"));
    assert_eq!(ledger[0], ["row", "person_id", "code", "rule", "column", "message"]);
    assert_eq!(ledger.len() - 1, EXPECTED_LEDGER.len());
    for (line, (row, id, code, rule, column, fragment)) in ledger[1..].iter().zip(EXPECTED_LEDGER) {
        assert_eq!(
            (&line[0][..], &line[1][..], &line[2][..], &line[3][..], &line[4][..]),
            (*row, *id, *code, *rule, *column),
            "ledger line {line:?}"
        );
        assert!(line[5].contains(fragment), "message {:?} lacks {fragment:?}", line[5]);
    }

    let batches = read_parquet(&dir.path().join("out.parquet"));
    let ids: Vec<i64> = batches.iter().flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec()).collect();
    assert_eq!(ids, [1, 10, 14]);
    let adjustment: Vec<i128> = batches.iter().flat_map(|b| b.column(1).as_primitive::<Decimal128Type>().values().to_vec()).collect();
    let expected: Vec<i128> = [[1, -7154, 360, 300_000, 0, 0], [10, -7154, 360, 7, 0, 0], [14, -7154, 360, 10_000_000, 1, 1]]
        .iter()
        .map(|row| i128::from(AdjustKernel::eval_row(row).expect("row evaluates")[0]))
        .collect();
    assert_eq!(adjustment, expected);
    assert_eq!(batches[0].column(0).as_any().downcast_ref::<Int64Array>().map(|a| a.null_count()), Some(0));
}

#[test]
fn the_summary_json_reports_counts_and_aggregates() {
    let dir = temp_dir();
    let input = write_csv(dir.path(), "in.csv", LINES);
    let mut opts = RunOptions::new(&input, dir.path().join("out.csv"));
    opts.max_errors = ErrorLimit::parse("80%").expect("a share");
    run(&AdjustKernel::new(1, 20), &opts).expect("run");
    let json: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(dir.path().join("out.summary.json")).expect("summary")).expect("json");
    assert_eq!(json["rows_in"], 15);
    assert_eq!(json["rows_out"], 3);
    assert_eq!(json["rows_in_ledger"], 12);
    assert_eq!(json["engine"], "test");
    assert_eq!(json["output_written"], true);
    let agg = &json["aggregates"][0];
    assert_eq!(agg["holds"], true);
    // Σ monthly_pension over the three good rows = 3000.00 + 0.07 + 100000.00 yuan.
    assert_eq!(agg["rhs_sum"], "103000.07");
    assert_eq!(agg["rhs"], "5150.0035");
    assert_eq!(agg["cmp"], "<=");
}

/// Enum names in a Parquet string column: exact names take the fast path, a padded name is still
/// read, an unknown name and a null go to the ledger, in plain and large strings alike.
#[test]
fn enum_names_from_parquet_strings_are_checked_per_cell() {
    use std::sync::Arc;

    use arrow::array::{ArrayRef, BooleanArray, Date32Array, Decimal128Array, LargeStringArray, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use arrow::record_batch::RecordBatch;
    use parquet::arrow::ArrowWriter;

    let names = [Some("Enterprise"), Some(" Institution "), Some("Army"), None, Some("Institution")];
    for large in [false, true] {
        let dir = temp_dir();
        let input = dir.path().join("in.parquet");
        let category: (DataType, ArrayRef) = if large {
            (DataType::LargeUtf8, Arc::new(LargeStringArray::from(names.to_vec())))
        } else {
            (DataType::Utf8, Arc::new(StringArray::from(names.to_vec())))
        };
        let schema = Arc::new(Schema::new(vec![
            Field::new("person_id", DataType::Int64, false),
            Field::new("birth_date", DataType::Date32, false),
            Field::new("contribution", DataType::Int64, false),
            Field::new("monthly_pension", DataType::Decimal128(12, 2), false),
            Field::new("category", category.0, true),
            Field::new("military_cadre", DataType::Boolean, false),
        ]));
        let columns: Vec<ArrayRef> = vec![
            Arc::new(Int64Array::from(vec![1, 2, 3, 4, 5])),
            Arc::new(Date32Array::from(vec![-7154; 5])),
            Arc::new(Int64Array::from(vec![360; 5])),
            Arc::new(Decimal128Array::from(vec![300_000i128; 5]).with_precision_and_scale(12, 2).expect("decimal")),
            category.1,
            Arc::new(BooleanArray::from(vec![false; 5])),
        ];
        let batch = RecordBatch::try_new(schema.clone(), columns).expect("batch");
        let mut writer = ArrowWriter::try_new(fs::File::create(&input).expect("create"), schema, None).expect("writer");
        writer.write(&batch).expect("write");
        writer.close().expect("close");

        let mut opts = RunOptions::new(&input, dir.path().join("out.parquet"));
        opts.batch_rows = 2; // a batch of exact names and a padded one, one with a null, one exact
        opts.max_errors = ErrorLimit::Rows(2);
        let summary = run(&AdjustKernel::new(1, 20), &opts).expect("run");
        assert_eq!((summary.rows_in, summary.rows_out, summary.rows_in_ledger), (5, 3, 2));
        let ledger = parse_csv(&fs::read_to_string(dir.path().join("out.errors.csv")).expect("ledger"));
        assert_eq!((&ledger[1][0][..], &ledger[1][2][..]), ("3", "V0003"));
        assert!(ledger[1][5].contains("`Army` is not a variant of enum Category"), "{:?}", ledger[1]);
        assert_eq!((&ledger[2][0][..], &ledger[2][2][..]), ("4", "V0001"));
        let out = read_parquet(&dir.path().join("out.parquet"));
        let ids: Vec<i64> = out.iter().flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec()).collect();
        assert_eq!(ids, [1, 2, 5]);
        let category_of = |row: usize| {
            let cells = [[1, -7154, 360, 300_000, 0, 0], [2, -7154, 360, 300_000, 1, 0]];
            AdjustKernel::eval_row(&cells[row]).expect("row evaluates")[0]
        };
        let adjustment: Vec<i128> = out.iter().flat_map(|b| b.column(1).as_primitive::<Decimal128Type>().values().to_vec()).collect();
        assert_eq!(adjustment, [category_of(0), category_of(1), category_of(1)].map(i128::from));
    }
}

/// One ledger row more than `max_errors` allows fails the run (default 0: any ledger row does):
/// the ledger, the summary and a manifest of outcome `failed` are written, no output is, and an
/// earlier run's output is moved aside, never left under the output's name.
#[test]
fn more_ledger_rows_than_allowed_fail_the_run_and_leave_no_output() {
    let dir = temp_dir();
    let input = write_csv(dir.path(), "in.csv", LINES);
    let out = dir.path().join("out.parquet");
    let mut opts = RunOptions::new(&input, &out);
    opts.max_errors = ErrorLimit::Rows(12);
    run(&AdjustKernel::new(1, 20), &opts).expect("12 ledger rows are allowed");
    let earlier = fs::read(&out).expect("the first run's output");
    for (limit, shown) in [(ErrorLimit::Rows(11), "11"), (ErrorLimit::Rows(0), "0"), (ErrorLimit::parse("79.9%").expect("share"), "79.9%")]
    {
        opts.max_errors = limit;
        let err = run(&AdjustKernel::new(1, 20), &opts).expect_err("too many ledger rows");
        let RuntimeError::RunFailed { summary } = &err else { panic!("unexpected: {err}") };
        assert!(!summary.output_written && summary.rows_in_ledger == 12, "{summary:?}");
        assert!(summary.failures[0].contains(&format!("more than --max-errors {shown} allows")), "{:?}", summary.failures);
        assert!(!out.exists(), "no output under the output's name after a failed run");
        let ledger = fs::read_to_string(dir.path().join("out.errors.csv")).expect("the ledger is written");
        assert_eq!(ledger.lines().count(), 13);
        let manifest: serde_json::Value =
            serde_json::from_str(&fs::read_to_string(dir.path().join("out.manifest.json")).expect("manifest")).expect("json");
        assert_eq!(manifest["outcome"], "failed");
    }
    // The first failed run moved the good output aside; later failures found none to move.
    assert_eq!(fs::read(dir.path().join("out.previous.parquet")).expect("moved aside"), earlier);
    // The moved set is whole and verifiable: its manifest names the moved files.
    let v = pol_runtime::verify(&dir.path().join("out.previous.parquet")).expect("the moved set's manifest");
    assert!(v.ok(), "{:?}", v.problems);
}

/// A run where every row goes to the ledger fails whatever the limit: an empty output with a
/// trivially holding aggregate (0 <= 0) is not a result.
#[test]
fn a_run_with_no_row_in_the_output_fails() {
    let dir = temp_dir();
    let input = write_csv(dir.path(), "in.csv", &[LINES[3], LINES[4]]);
    let mut opts = RunOptions::new(&input, dir.path().join("out.csv"));
    opts.max_errors = ErrorLimit::parse("100%").expect("share");
    let err = run(&AdjustKernel::new(1, 20), &opts).expect_err("nothing evaluated");
    let RuntimeError::RunFailed { summary } = &err else { panic!("unexpected: {err}") };
    assert_eq!((summary.rows_in, summary.rows_out), (2, 0));
    assert!(summary.failures.iter().any(|f| f.contains("none of the 2 rows reached the output")), "{:?}", summary.failures);
}
