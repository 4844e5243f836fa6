//! The Arrow-level entry point, the synthetic population generator and the bench helpers.

mod common;

use std::collections::BTreeSet;
use std::fs;
use std::sync::Arc;

use arrow::array::{
    Array, ArrayRef, AsArray, BooleanArray, Date32Array, Decimal128Array, DictionaryArray, Int32Array, StringArray, UInt16Array,
};
use arrow::datatypes::{Decimal128Type, Int8Type};
use arrow::record_batch::RecordBatch;
use common::*;
use pol_runtime::{RuntimeError, eval_record_batch, generate, measure_io_floor, read_columns};

fn batch(pension: Decimal128Array) -> RecordBatch {
    batch_with(pension, vec![360, 98, 360, 360])
}

fn batch_with(pension: Decimal128Array, contribution: Vec<u16>) -> RecordBatch {
    let category: DictionaryArray<Int8Type> = vec!["Enterprise", "Institution", "Enterprise", "Army"].into_iter().collect();
    let columns: Vec<(&str, ArrayRef)> = vec![
        ("person_id", Arc::new(Int32Array::from(vec![1, 2, 3, 4]))),
        ("birth_date", Arc::new(Date32Array::from(vec![-7154, -7154, -7154, -7154]))),
        ("contribution", Arc::new(UInt16Array::from(contribution))),
        ("monthly_pension", Arc::new(pension)),
        ("category", Arc::new(category)),
        ("military_cadre", Arc::new(BooleanArray::from(vec![Some(false), Some(true), None, Some(false)]))),
    ];
    RecordBatch::try_from_iter(columns).expect("batch")
}

#[test]
fn eval_record_batch_accepts_narrow_arrow_types_and_nulls_out_failed_rows() {
    let pension = Decimal128Array::from(vec![30_000, 30_000, 30_000, 30_000]).with_precision_and_scale(9, 1).expect("decimal");
    let result = eval_record_batch(&AdjustKernel::new(1, 20), &batch(pension)).expect("evaluates");
    let adjustment = result.outputs.column(0).as_primitive::<Decimal128Type>();
    assert_eq!(adjustment.len(), 4);
    assert!(adjustment.is_valid(0) && adjustment.is_null(1) && adjustment.is_null(2) && adjustment.is_null(3));
    let expected = AdjustKernel::eval_row(&[1, -7154, 360, 300_000, 0, 0]).expect("evaluates");
    assert_eq!(adjustment.value(0), i128::from(expected[0]));
    let codes: Vec<(u64, &str)> = result.errors.iter().map(|e| (e.row, e.code.as_str())).collect();
    assert_eq!(codes, [(2, "R0001"), (3, "V0001"), (4, "V0003")]);
    assert_eq!(result.errors[2].ids, ["4"]);
}

/// Money may come as a decimal of any scale: a cell that is a whole number of fen is read
/// exactly (3000.000), one that is not (3000.005) goes to the ledger, never rounded.
#[test]
fn money_of_any_decimal_scale_is_exact_or_a_ledger_row() {
    let pension = Decimal128Array::from(vec![3_000_000, 3_000_000, 3_000_005, 3_000_010]).with_precision_and_scale(12, 3).expect("decimal");
    let result = eval_record_batch(&AdjustKernel::new(1, 20), &batch(pension)).expect("scale 3 is read");
    let codes: Vec<(u64, &str)> = result.errors.iter().map(|e| (e.row, e.code.as_str())).collect();
    assert_eq!(codes, [(2, "R0001"), (3, "V0003"), (4, "V0003")]);
    assert!(result.errors[1].message.contains("3000.005 is not a whole number of fen"), "{}", result.errors[1].message);
    let adjustment = result.outputs.column(0).as_primitive::<Decimal128Type>();
    let expected = AdjustKernel::eval_row(&[1, -7154, 360, 300_000, 0, 0]).expect("evaluates");
    assert_eq!(adjustment.value(0), i128::from(expected[0]));
    let _ = RuntimeError::Interrupted;
}

#[test]
fn generated_populations_are_deterministic_in_domain_and_have_unique_ids() {
    let dir = temp_dir();
    let specs = inputs();
    let a = dir.path().join("a.parquet");
    let b = dir.path().join("b.parquet");
    let c = dir.path().join("c.csv");
    generate(&specs, 3_000, 42, &a).expect("a");
    generate(&specs, 3_000, 42, &b).expect("b");
    generate(&specs, 3_000, 42, &c).expect("c");
    assert!(fs::read(&a).expect("a") == fs::read(&b).expect("b"));
    let from_parquet = read_columns(&specs, &a, 1_000).expect("read parquet");
    let from_csv = read_columns(&specs, &c, 700).expect("read csv");
    assert_eq!(from_parquet.rows, 3_000);
    assert_eq!(from_parquet.invalid_rows, 0, "every generated value is inside its domain");
    assert_eq!(from_parquet.columns, from_csv.columns, "CSV and Parquet hold the same values");
    let ids: BTreeSet<i64> = from_parquet.columns[0].iter().copied().collect();
    assert_eq!(ids.len(), 3_000);
    for (spec, column) in specs.iter().zip(&from_parquet.columns) {
        let distinct: BTreeSet<i64> = column.iter().copied().collect();
        assert!(distinct.len() > 1, "column `{}` is constant", spec.name);
    }
    generate(&specs, 3_000, 43, &b).expect("other seed");
    assert!(fs::read(&a).expect("a") != fs::read(&b).expect("b"));
}

#[test]
fn generate_refuses_an_id_domain_too_small_for_the_rows() {
    let dir = temp_dir();
    let mut specs = inputs();
    specs[0].domain = Some((1, 10));
    let out = dir.path().join("x.parquet");
    assert!(generate(&specs, 11, 1, &out).is_err());
    assert!(!out.exists());
}

#[test]
fn the_io_floor_writes_an_output_of_the_run_shape() {
    let dir = temp_dir();
    let input = dir.path().join("in.parquet");
    generate(&inputs(), 2_500, 5, &input).expect("generate");
    let kernel = AdjustKernel::new(1, 20);
    let floor =
        measure_io_floor(pol_runtime::Kernel::signature(&kernel), &input, &dir.path().join("floor.parquet"), 1_000).expect("io floor");
    assert_eq!(floor.rows, 2_500);
    let batches = read_parquet(&dir.path().join("floor.parquet"));
    assert_eq!(batches.iter().map(|b| b.num_rows()).sum::<usize>(), 2_500);
    assert_eq!(batches[0].num_columns(), 8);
    let names = StringArray::from(vec!["person_id"]);
    assert_eq!(batches[0].schema().field(0).name(), names.value(0));
}

#[test]
fn out_of_domain_cells_of_columns_without_nulls_are_caught() {
    let pension = Decimal128Array::from(vec![300_000; 4]).with_precision_and_scale(12, 2).expect("decimal");
    let b = batch_with(pension, vec![721, 360, 360, 360]);
    let result = eval_record_batch(&AdjustKernel::new(1, 20), &b).expect("evaluates");
    let first = &result.errors[0];
    assert_eq!((first.row, first.code.as_str(), first.column.as_str()), (1, "V0002", "contribution"));
    assert!(first.message.contains("721"), "{}", first.message);
}
