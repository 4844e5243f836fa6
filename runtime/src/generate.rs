//! Deterministic synthetic populations inside each field's declared domain, for `pol gen`,
//! tests and benchmarks.
//!
//! Every cell is a pure function of (seed, column index, row index) through the splitmix64
//! finalizer, so a file does not depend on batch sizes or threads. Id columns take consecutive
//! values from the bottom of their domain (1 when none is declared), so ids are unique. Other
//! columns are uniform over their declared domain; a column without one is uniform over a
//! plausible default range (see [`default_domain`]).

use std::path::Path;
use std::time::{Duration, Instant};

use arrow::array::ArrayRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use pol_kernel::{ColumnSpec, ColumnType};

use crate::error::RuntimeError;
use crate::schema::{ColumnFrom, OutputColumn, output_schema};
use crate::value::days_from_civil;
use crate::write::{OutputWriter, build_array};

/// Rows per generated batch.
const GENERATE_BATCH_ROWS: usize = 65_536;

/// The splitmix64 output function.
fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The random word of one cell.
fn cell_word(seed: u64, column: usize, row: u64) -> u64 {
    let column_key = splitmix64(seed ^ splitmix64(column as u64 + 1));
    splitmix64(column_key ^ row.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// A value in `lo..=hi` from a random word (multiply-shift; the bias is below 2^-60).
fn in_range(word: u64, lo: i64, hi: i64) -> i64 {
    let span = (i128::from(hi) - i128::from(lo) + 1) as u128;
    let offset = (u128::from(word) * span) >> 64;
    (i128::from(lo) + offset as i128) as i64
}

/// The range used for a column that declares no domain: ints 0..=100, months 0..=540 (45 years),
/// money 0..=10,000 yuan, decimals 0..=1, dates 1930-01-01..=2005-12-31, every bool and variant.
pub fn default_domain(ty: &ColumnType) -> (i64, i64) {
    match ty {
        ColumnType::Int => (0, 100),
        ColumnType::Months => (0, 540),
        ColumnType::Money => (0, 1_000_000),
        ColumnType::Decimal { scale } => (0, 10i64.checked_pow(*scale).unwrap_or(1)),
        ColumnType::Date => (days_from_civil(1930, 1, 1), days_from_civil(2005, 12, 31)),
        ColumnType::Bool => (0, 1),
        ColumnType::Enum { variants, .. } => (0, variants.len() as i64 - 1),
    }
}

/// The range a column's values are drawn from: its declared domain, narrowed to what the type
/// can hold (bools, enum variants).
fn value_range(spec: &ColumnSpec) -> Result<(i64, i64), RuntimeError> {
    let (lo, hi) = spec.domain.unwrap_or_else(|| default_domain(&spec.ty));
    let (lo, hi) = match &spec.ty {
        ColumnType::Bool => (lo.max(0), hi.min(1)),
        ColumnType::Enum { variants, .. } => (lo.max(0), hi.min(variants.len() as i64 - 1)),
        ColumnType::Date => (lo.max(i64::from(i32::MIN)), hi.min(i64::from(i32::MAX))),
        ColumnType::Money | ColumnType::Decimal { .. } => {
            const DEC18: i64 = 999_999_999_999_999_999;
            (lo.max(-DEC18), hi.min(DEC18))
        }
        _ => (lo, hi),
    };
    if lo > hi {
        return Err(RuntimeError::invalid(format!(
            "column `{}`: its domain holds no {} value",
            spec.name,
            spec.ty.describe()
        )));
    }
    Ok((lo, hi))
}

/// What [`generate`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateReport {
    pub rows: u64,
    pub elapsed: Duration,
}

/// Writes `rows` synthetic records with the columns `inputs` (typed as in output files: ints as
/// Int64, money as Decimal128(18, 2), dates as Date32, enums as variant names) to `output`
/// (Parquet or CSV by extension), atomically.
pub fn generate(
    inputs: &[ColumnSpec],
    rows: u64,
    seed: u64,
    output: &Path,
) -> Result<GenerateReport, RuntimeError> {
    let start = Instant::now();
    let mut ranges = Vec::with_capacity(inputs.len());
    for spec in inputs {
        let (lo, hi) = value_range(spec)?;
        if spec.is_id {
            let last = i128::from(lo) + i128::from(rows) - 1;
            if rows > 0 && last > i128::from(hi) {
                return Err(RuntimeError::invalid(format!(
                    "id column `{}`: its domain holds fewer than {rows} distinct values",
                    spec.name
                )));
            }
        }
        ranges.push((lo, hi));
    }
    let columns: Vec<OutputColumn> = inputs
        .iter()
        .enumerate()
        .map(|(i, spec)| OutputColumn { spec: spec.clone(), from: ColumnFrom::Input(i) })
        .collect();
    let schema = output_schema(&columns);
    let mut writer = OutputWriter::create(output, schema.clone())?;
    let mut row = 0u64;
    while row < rows {
        let n = (rows - row).min(GENERATE_BATCH_ROWS as u64);
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(inputs.len());
        for (c, (spec, &(lo, hi))) in inputs.iter().zip(&ranges).enumerate() {
            let values: Vec<i64> = if spec.is_id {
                (row..row + n).map(|r| lo + r as i64).collect()
            } else {
                (row..row + n).map(|r| in_range(cell_word(seed, c, r), lo, hi)).collect()
            };
            let array = build_array(&spec.ty, values).map_err(|e| RuntimeError::arrow(output, e))?;
            arrays.push(array);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(n as usize));
        let batch = RecordBatch::try_new_with_options(schema.clone(), arrays, &options)
            .map_err(|e| RuntimeError::arrow(output, e))?;
        writer.write(&batch)?;
        row += n;
    }
    writer.finish()?.commit()?;
    Ok(GenerateReport { rows, elapsed: start.elapsed() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn in_range_covers_the_bounds_and_the_full_range() {
        assert_eq!(in_range(0, -5, 5), -5);
        assert_eq!(in_range(u64::MAX, -5, 5), 5);
        assert_eq!(in_range(u64::MAX, i64::MIN, i64::MAX), i64::MAX);
        assert_eq!(in_range(0, i64::MIN, i64::MAX), i64::MIN);
        assert_eq!(in_range(12345, 7, 7), 7);
    }
}
