//! Deterministic synthetic populations inside each field's declared domain, for `pol gen`,
//! tests and benchmarks.
//!
//! Every cell is a pure function of (seed, column index, row index) through the splitmix64
//! finalizer, so a file does not depend on batch sizes or threads. Id columns take consecutive
//! values from the bottom of their domain (1 when none is declared), so ids are unique. Without
//! a [`Profile`], other columns are uniform over their declared domain, and a column without one
//! is uniform over a plausible default range (see [`default_domain`]); with one, each column
//! follows the distribution the profile gives it (see [`crate::profile`]).

use std::path::Path;
use std::time::{Duration, Instant};

use arrow::array::ArrayRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use pol_kernel::{ColumnSpec, ColumnType};

use crate::error::RuntimeError;
use crate::profile::{Profile, Sampler};
use crate::schema::{ColumnFrom, OutputColumn, output_schema};

/// The default range of a date column without a declared domain: 1930-01-01 ..= 2005-12-31.
const DEFAULT_FIRST_DAY: i64 = -14_610;
const DEFAULT_LAST_DAY: i64 = 13_148;
use crate::write::{OutputWriter, build_array};

/// Rows per generated batch.
const GENERATE_BATCH_ROWS: usize = 65_536;

/// The splitmix64 output function.
pub(crate) fn splitmix64(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The random word of one cell.
pub(crate) fn cell_word(seed: u64, column: usize, row: u64) -> u64 {
    let column_key = splitmix64(seed ^ splitmix64(column as u64 + 1));
    splitmix64(column_key ^ row.wrapping_mul(0xD6E8_FEB8_6659_FD93))
}

/// A value in `lo..=hi` from a random word (multiply-shift; the bias is below 2^-60).
pub(crate) fn in_range(word: u64, lo: i64, hi: i64) -> i64 {
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
        // 1930-01-01 ..= 2005-12-31.
        ColumnType::Date => (DEFAULT_FIRST_DAY, DEFAULT_LAST_DAY),
        ColumnType::Bool => (0, 1),
        ColumnType::Enum { variants, .. } => (0, variants.len() as i64 - 1),
    }
}

/// Every value a type can hold: its `i64` cells, narrowed for bools and enum variants, to Date32
/// for dates, and to Decimal128(18, s) for money and decimals.
pub(crate) fn type_range(ty: &ColumnType) -> (i64, i64) {
    const DEC18: i64 = 999_999_999_999_999_999;
    match ty {
        ColumnType::Bool => (0, 1),
        ColumnType::Enum { variants, .. } => (0, variants.len() as i64 - 1),
        ColumnType::Date => (i64::from(i32::MIN), i64::from(i32::MAX)),
        ColumnType::Money | ColumnType::Decimal { .. } => (-DEC18, DEC18),
        ColumnType::Int | ColumnType::Months => (i64::MIN, i64::MAX),
    }
}

/// The range a column's values are drawn from uniformly: its declared domain (or the default
/// range), narrowed to what the type can hold.
pub(crate) fn value_range(spec: &ColumnSpec) -> Result<(i64, i64), RuntimeError> {
    let (lo, hi) = spec.domain.unwrap_or_else(|| default_domain(&spec.ty));
    let (type_lo, type_hi) = type_range(&spec.ty);
    let (lo, hi) = (lo.max(type_lo), hi.min(type_hi));
    if lo > hi {
        return Err(RuntimeError::invalid(format!("column `{}`: its domain holds no {} value", spec.name, spec.ty.describe())));
    }
    Ok((lo, hi))
}

/// The sum and extremes of one generated column, in its `i64` cells (fen for money); with no
/// rows, `min` is `i64::MAX` and `max` is `i64::MIN`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnTotal {
    pub name: String,
    pub ty: ColumnType,
    pub sum: i128,
    pub min: i64,
    pub max: i64,
}

impl ColumnTotal {
    /// The mean cell over `rows` rows, rounded half away from zero (0 for no rows).
    pub fn mean(&self, rows: u64) -> i128 {
        if rows == 0 {
            return 0;
        }
        let rows = i128::from(rows);
        let half = rows / 2;
        if self.sum >= 0 { (self.sum + half) / rows } else { -((-self.sum + half) / rows) }
    }
}

/// What [`generate`] did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GenerateReport {
    pub rows: u64,
    pub elapsed: Duration,
    /// One total per column that is not an id column, in input order.
    pub totals: Vec<ColumnTotal>,
}

/// Writes `rows` synthetic records with the columns `inputs` (typed as in output files: ints as
/// Int64, money as Decimal128(18, 2), dates as Date32, enums as variant names) to `output`
/// (Parquet or CSV by extension), atomically. Every column is uniform over its domain.
pub fn generate(inputs: &[ColumnSpec], rows: u64, seed: u64, output: &Path) -> Result<GenerateReport, RuntimeError> {
    generate_with_profile(inputs, rows, seed, None, output)
}

/// [`generate`], with each column drawn from the distribution `profile` gives it; without a
/// profile, the same file as [`generate`]. A profile that does not fit `inputs` is an error
/// listing every problem, found before the output is created.
pub fn generate_with_profile(
    inputs: &[ColumnSpec],
    rows: u64,
    seed: u64,
    profile: Option<&Profile>,
    output: &Path,
) -> Result<GenerateReport, RuntimeError> {
    let start = Instant::now();
    let mut id_starts = Vec::with_capacity(inputs.len());
    for spec in inputs {
        if !spec.is_id {
            id_starts.push(None);
            continue;
        }
        let (lo, hi) = value_range(spec)?;
        let last = i128::from(lo) + i128::from(rows) - 1;
        if rows > 0 && last > i128::from(hi) {
            return Err(RuntimeError::invalid(format!("id column `{}`: its domain holds fewer than {rows} distinct values", spec.name)));
        }
        id_starts.push(Some(lo));
    }
    let samplers: Vec<Option<Sampler>> = match profile {
        Some(profile) => profile.samplers(inputs)?,
        None => inputs
            .iter()
            .map(|spec| if spec.is_id { Ok(None) } else { value_range(spec).map(|(lo, hi)| Some(Sampler::Uniform { lo, hi })) })
            .collect::<Result<_, _>>()?,
    };
    let columns: Vec<OutputColumn> =
        inputs.iter().enumerate().map(|(i, spec)| OutputColumn { spec: spec.clone(), from: ColumnFrom::Input(i) }).collect();
    let schema = output_schema(&columns);
    let mut writer = OutputWriter::create(output, schema.clone())?;
    let mut totals: Vec<Option<ColumnTotal>> = inputs
        .iter()
        .map(|spec| {
            (!spec.is_id).then(|| ColumnTotal { name: spec.name.clone(), ty: spec.ty.clone(), sum: 0, min: i64::MAX, max: i64::MIN })
        })
        .collect();
    let mut row = 0u64;
    while row < rows {
        let n = (rows - row).min(GENERATE_BATCH_ROWS as u64);
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(inputs.len());
        for (c, spec) in inputs.iter().enumerate() {
            let values: Vec<i64> = match (id_starts[c], &samplers[c]) {
                (Some(lo), _) => (row..row + n).map(|r| lo + r as i64).collect(),
                (None, Some(sampler)) => (row..row + n).map(|r| sampler.sample(cell_word(seed, c, r))).collect(),
                (None, None) => {
                    return Err(RuntimeError::invalid(format!("internal error: no sampler for column `{}`", spec.name)));
                }
            };
            if let Some(total) = &mut totals[c] {
                for &v in &values {
                    total.sum += i128::from(v);
                    total.min = total.min.min(v);
                    total.max = total.max.max(v);
                }
            }
            let array = build_array(&spec.ty, values).map_err(|e| RuntimeError::arrow(output, e))?;
            arrays.push(array);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(n as usize));
        let batch = RecordBatch::try_new_with_options(schema.clone(), arrays, &options).map_err(|e| RuntimeError::arrow(output, e))?;
        writer.write(&batch)?;
        row += n;
    }
    writer.finish()?.atomic.commit()?;
    let totals = totals.into_iter().flatten().collect();
    Ok(GenerateReport { rows, elapsed: start.elapsed(), totals })
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

    fn columns() -> Vec<ColumnSpec> {
        let col = |name: &str, ty, domain, is_id| ColumnSpec { name: name.into(), ty, domain, is_id, read: true };
        vec![
            col("id", ColumnType::Int, Some((1, 1_000_000)), true),
            col("pension", ColumnType::Money, Some((0, 10_000_000)), false),
            col("cadre", ColumnType::Bool, None, false),
            col("birth", ColumnType::Date, None, false),
        ]
    }

    #[test]
    fn a_uniform_profile_writes_the_same_bytes_as_no_profile() {
        let dir = tempfile::tempdir().expect("temp dir");
        let (plain, profiled) = (dir.path().join("plain.csv"), dir.path().join("profiled.csv"));
        let profile =
            Profile::parse("[fields]\npension = { uniform = {} }\ncadre = { uniform = {} }\nbirth = { uniform = {} }\n").expect("parses");
        let a = generate(&columns(), 2_000, 9, &plain).expect("plain");
        let b = generate_with_profile(&columns(), 2_000, 9, Some(&profile), &profiled).expect("profiled");
        assert_eq!(std::fs::read(&plain).expect("plain"), std::fs::read(&profiled).expect("profiled"));
        assert_eq!(a.totals, b.totals);
    }

    #[test]
    fn a_profile_shapes_the_totals_and_a_bad_one_creates_no_file() {
        let dir = tempfile::tempdir().expect("temp dir");
        let out = dir.path().join("new").join("population.csv");
        let profile = Profile::parse(
            r#"[fields]
pension = { constant = "3800.25" }
cadre = { shares = { "true" = "0.25", "false" = "0.75" } }
birth = { age = { at = "2024-01-01", mean = 70, sd = 8, min = 60, max = 80 } }
"#,
        )
        .expect("parses");
        let report = generate_with_profile(&columns(), 1_000, 3, Some(&profile), &out).expect("writes");
        let pension = &report.totals[0];
        assert_eq!((pension.name.as_str(), pension.sum, pension.mean(1_000)), ("pension", 380_025_000, 380_025));
        assert!((200..=300).contains(&report.totals[1].sum), "{} cadres", report.totals[1].sum);
        let text = std::fs::read_to_string(&out).expect("output in a folder that did not exist");
        assert_eq!(text.lines().count(), 1_001);
        let missing = Profile::parse("[fields]\npension = { uniform = {} }\n").expect("parses");
        let other = dir.path().join("other.csv");
        let err = generate_with_profile(&columns(), 10, 3, Some(&missing), &other).expect_err("incomplete");
        assert!(err.to_string().contains("no distribution for `cadre`, `birth`"), "{err}");
        assert!(!other.exists());
    }
}
