//! A population evaluated in parts, as Spark and Ray workers evaluate it: the parts' rows,
//! ledger entries and aggregate sums together are those of one `run` over the whole file.

mod common;

use std::collections::BTreeMap;
use std::fs;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringArray};
use arrow::datatypes::{DataType, Decimal128Type, Field, Int64Type, Schema};
use arrow::record_batch::RecordBatch;
use common::*;
use pol_runtime::{
    ErrorLimit, Kernel, KeyGroup, RepeatedKeys, RowNumbers, RunOptions, SideSums, batch_keys, check_aggregates, eval_part, run,
    run_failures,
};

/// Keys held twice and three times, faults of every kind, rows that evaluate.
const LINES: &[&str] = &[
    "1,1950-06-01,360,3000.00,Enterprise,false,x",
    "2,1950-06-01,360,,Enterprise,false,x",
    "3,1950-06-01,721,3000.00,Enterprise,false,x",
    "2,1950-06-01,360,2500.00,Enterprise,false,x",
    "5,1950-06-01,360,3000,Army,false,x",
    "6,1950-06-01,98,3000,Institution,true,x",
    "7,1950-06-01,360,0,Enterprise,false,x",
    "8,1950-06-01,360,4000.07,Enterprise,false,x",
    "abc,1950-06-01,360,3000,Enterprise,false,x",
    "2,1949-02-01,300,3100.00,Institution,true,x",
    "11,1950-06-01,360,100000.00,Institution,TRUE,x",
    "1,1951-06-01,360,2000.00,Enterprise,false,x",
    "13,1952-06-01,200,2800.00,Enterprise,false,x",
];

/// The CSV's cells as one batch of text columns, as an engine would hold them.
fn text_batch() -> RecordBatch {
    let names: Vec<&str> = CSV_HEADER.split(',').collect();
    let columns: Vec<ArrayRef> = (0..names.len())
        .map(|i| {
            let cells: Vec<Option<String>> =
                LINES.iter().map(|l| l.split(',').nth(i).filter(|c| !c.is_empty()).map(str::to_string)).collect();
            Arc::new(StringArray::from(cells)) as ArrayRef
        })
        .collect();
    let fields: Vec<Field> = names.iter().map(|n| Field::new(*n, DataType::Utf8, true)).collect();
    RecordBatch::try_new(Arc::new(Schema::new(fields)), columns).expect("batch")
}

#[test]
fn parts_give_the_rows_ledger_and_aggregates_of_one_run() {
    let dir = temp_dir();
    let input = write_csv(dir.path(), "in.csv", LINES);
    let mut opts = RunOptions::new(&input, dir.path().join("out.parquet"));
    opts.max_errors = ErrorLimit::Rows(100);
    opts.batch_rows = 4;
    let kernel = AdjustKernel::new(1, 20);
    let summary = run(&kernel, &opts).expect("run");
    let ledger = parse_csv(&fs::read_to_string(dir.path().join("out.errors.csv")).expect("ledger"));
    let output = read_parquet(&dir.path().join("out.parquet"));
    let sig = kernel.signature();

    let whole = text_batch();
    // Parts of 5, 1 and 7 rows; the middle one numbered by a list, the others from their first row.
    let parts = [(0usize, 5usize), (5, 1), (6, 7)];
    let mut groups: BTreeMap<Vec<i64>, Vec<u64>> = BTreeMap::new();
    for (offset, len) in parts {
        let keys = batch_keys(&sig.inputs, &whole.slice(offset, len), None).expect("keys");
        for i in 0..len {
            if keys.readable[i] {
                groups.entry(keys.columns.iter().map(|c| c[i]).collect()).or_default().push((offset + i + 1) as u64);
            }
        }
    }
    let groups: Vec<KeyGroup> = groups.into_iter().map(|(key, rows)| KeyGroup { key, rows }).collect();
    let duplicates = RepeatedKeys::new(&sig.inputs, &groups).expect("duplicates");
    assert_eq!(duplicates.rows(), 5);
    let shared: Vec<Vec<u64>> = duplicates.groups().into_iter().map(|g| g.rows).collect();
    assert_eq!(shared, [vec![1, 12], vec![2, 4, 10]]);

    let mut errors = Vec::new();
    let mut ids = Vec::new();
    let mut adjustments = Vec::new();
    let mut sums = vec![SideSums::default(); sig.aggregates.len()];
    for (offset, len) in parts {
        let listed: Vec<u64> = (offset as u64 + 1..=(offset + len) as u64).collect();
        let rows = if len == 1 { RowNumbers::Listed(&listed) } else { RowNumbers::From(offset as u64 + 1) };
        let part = eval_part(&kernel, &whole.slice(offset, len), None, rows, &duplicates).expect("part");
        assert_eq!(part.rows.num_rows(), len);
        assert_eq!(part.failed.len(), part.errors.len());
        let id = part.rows.column(0).as_primitive::<Int64Type>();
        let adjustment = part.rows.column(1).as_primitive::<Decimal128Type>();
        for i in 0..len {
            assert_eq!(id.is_null(i), part.failed.contains(&i), "row {i} of part at {offset}");
            if id.is_valid(i) {
                ids.push(id.value(i));
                adjustments.push(adjustment.value(i));
            }
        }
        errors.extend(part.errors);
        for (total, s) in sums.iter_mut().zip(part.sums) {
            *total = total.checked_add(s).expect("sums fit");
        }
    }

    let lines: Vec<Vec<String>> = errors
        .iter()
        .map(|e| {
            let mut line = vec![e.row.to_string()];
            line.extend(e.ids.iter().cloned());
            line.extend([e.code.clone(), e.rule.clone(), e.column.clone(), e.message.clone()]);
            line
        })
        .collect();
    assert_eq!(lines, ledger[1..]);
    let expected_ids: Vec<i64> = output.iter().flat_map(|b| b.column(0).as_primitive::<Int64Type>().values().to_vec()).collect();
    let expected_adjustments: Vec<i128> =
        output.iter().flat_map(|b| b.column(1).as_primitive::<Decimal128Type>().values().to_vec()).collect();
    assert_eq!((ids, adjustments), (expected_ids, expected_adjustments));
    let aggregates = check_aggregates(sig, &sums).expect("aggregates");
    assert_eq!(aggregates, summary.aggregates);
    let failures = run_failures(summary.rows_in, summary.rows_in_ledger, &aggregates, ErrorLimit::Rows(100), false);
    assert_eq!(failures, summary.failures);
    assert!(check_aggregates(sig, &[]).is_err());
}

/// Rows are judged by their key: a part numbered differently from the key pass (as after an
/// engine's shuffle) still sends exactly the rows of repeated keys to the ledger.
#[test]
fn repeated_keys_are_found_by_key_whatever_the_numbering() {
    let kernel = AdjustKernel::new(1, 20);
    let sig = kernel.signature();
    let repeated =
        RepeatedKeys::new(&sig.inputs, &[KeyGroup { key: vec![2], rows: vec![2, 4, 10] }, KeyGroup { key: vec![7], rows: vec![7] }])
            .expect("groups");
    assert_eq!(repeated.rows(), 3);
    let part = eval_part(&kernel, &text_batch(), None, RowNumbers::From(101), &repeated).expect("part");
    let flagged: Vec<(u64, &str)> = part.errors.iter().filter(|e| e.code == "V0005").map(|e| (e.row, e.ids[0].as_str())).collect();
    // Row 2 of the batch (id 2) has a missing pension: its own fault is kept, as in a run.
    assert_eq!(flagged, [(104, "2"), (110, "2")]);
    assert!(RepeatedKeys::new(&sig.inputs, &[KeyGroup { key: vec![1, 2], rows: vec![1, 2] }]).is_err());
}

/// A part's row numbers must be one per row; a wrong count is an error, not a panic.
#[test]
fn listed_row_numbers_must_match_the_batch() {
    let kernel = AdjustKernel::new(1, 20);
    let err = eval_part(&kernel, &text_batch(), None, RowNumbers::Listed(&[1, 2]), &RepeatedKeys::default()).expect_err("two numbers");
    assert!(err.to_string().contains("2 row numbers were given for a batch of 13 rows"), "{err}");
}
