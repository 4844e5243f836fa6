//! A hand-written pension-adjustment kernel and file helpers shared by the runtime's tests.
#![allow(dead_code)]

pub mod pg;

use std::fs;
use std::path::{Path, PathBuf};

use arrow::record_batch::RecordBatch;
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use pol_kernel::{
    AggregateCmp, AggregateSpec, AggregateTerm, ColumnRef, ColumnSpec, ColumnType, Kernel, KernelSignature, ROW_OK, RowErrorInfo, RowStatus,
};

/// 2026-01-01 in days since 1970-01-01.
pub const AS_OF: i64 = 20_454;
pub const R_OVERFLOW: RowStatus = 1;
pub const R_DIV_ZERO: RowStatus = 2;

fn col(name: &str, ty: ColumnType, domain: Option<(i64, i64)>, is_id: bool) -> ColumnSpec {
    ColumnSpec { name: name.into(), ty, domain, is_id, read: true }
}

/// Inputs: person_id (id), birth_date, contribution, monthly_pension, category, military_cadre.
pub fn inputs() -> Vec<ColumnSpec> {
    vec![
        col("person_id", ColumnType::Int, Some((1, 1_000_000_000_000)), true),
        col("birth_date", ColumnType::Date, Some((-18_263, 13_148)), false), // 1920-01-01 ..= 2005-12-31
        col("contribution", ColumnType::Months, Some((0, 720)), false),
        col("monthly_pension", ColumnType::Money, Some((0, 10_000_000)), false),
        col(
            "category",
            ColumnType::Enum { name: "Category".into(), variants: vec!["Enterprise".into(), "Institution".into()] },
            None,
            false,
        ),
        col("military_cadre", ColumnType::Bool, None, false),
    ]
}

/// A pension adjustment: a fixed amount, a part per contribution year, 0.6% of the pension, an
/// age tilt, and extras; plus outputs of every type. It faults with `R0001` when
/// `contribution % 97 == 1` and with `R0002` when the pension is zero.
pub struct AdjustKernel {
    sig: KernelSignature,
}

impl AdjustKernel {
    /// `cap_num / cap_den` is the aggregate cap: `sum(adjustment) <= cap × sum(monthly_pension)`.
    pub fn new(cap_num: i128, cap_den: i128) -> Self {
        let band = ColumnType::Enum { name: "Band".into(), variants: vec!["Low".into(), "High".into()] };
        let outputs = vec![
            col("adjustment", ColumnType::Money, None, false),
            col("new_pension", ColumnType::Money, None, false),
            col("years", ColumnType::Int, None, false),
            col("band", band, None, false),
            col("senior", ColumnType::Bool, None, false),
            col("review_date", ColumnType::Date, None, false),
            col("ratio", ColumnType::Decimal { scale: 4 }, None, false),
        ];
        let aggregates = vec![AggregateSpec {
            slot: "pension_adjustment".into(),
            text: "sum(result) <= cap * sum(r.monthly_pension)".into(),
            origin: "national.pol:12".into(),
            cite: Some("test citation".into()),
            lhs: AggregateTerm { column: ColumnRef::Output(0), factor_num: 1, factor_den: 1 },
            cmp: AggregateCmp::Le,
            rhs: AggregateTerm { column: ColumnRef::Input(3), factor_num: cap_num, factor_den: cap_den },
        }];
        AdjustKernel { sig: KernelSignature { program: "test_adjust".into(), inputs: inputs(), outputs, aggregates } }
    }

    /// The kernel's result for one row, for checking outputs independently of the runtime.
    pub fn eval_row(row: &[i64]) -> Result<[i64; 7], RowStatus> {
        let (birth, contribution, pension, category, cadre) = (row[1], row[2], row[3], row[4], row[5]);
        if contribution % 97 == 1 {
            return Err(R_OVERFLOW);
        }
        if pension == 0 {
            return Err(R_DIV_ZERO);
        }
        let years = contribution / 12;
        let age = (AS_OF - birth) / 365;
        let tilt = if age >= 80 {
            6000
        } else if age >= 75 {
            4000
        } else if age >= 70 {
            3000
        } else {
            0
        };
        let adjustment = 2500
            + years * 150
            + (pension * 6 + 500) / 1000
            + tilt
            + if cadre == 1 { 1000 } else { 0 }
            + if category == 1 { 500 } else { 0 };
        let ratio = adjustment * 10_000 / pension;
        Ok([adjustment, pension + adjustment, years, i64::from(pension >= 500_000), i64::from(age >= 75), birth + 29_220, ratio])
    }
}

impl Kernel for AdjustKernel {
    fn signature(&self) -> &KernelSignature {
        &self.sig
    }

    fn eval_batch(&self, inputs: &[&[i64]], outputs: &mut [&mut [i64]], status: &mut [RowStatus]) {
        let mut row = [0i64; 6];
        for i in 0..status.len() {
            for (c, column) in inputs.iter().enumerate() {
                row[c] = column[i];
            }
            match Self::eval_row(&row) {
                Ok(values) => {
                    for (out, v) in outputs.iter_mut().zip(values) {
                        out[i] = v;
                    }
                    status[i] = ROW_OK;
                }
                Err(code) => status[i] = code,
            }
        }
    }

    fn describe_error(&self, status: RowStatus) -> RowErrorInfo {
        match status {
            R_OVERFLOW => RowErrorInfo {
                code: "R0001",
                rule: "pension_adjustment".into(),
                message: "overflow in rule `pension_adjustment` (scheme.pol:7)".into(),
            },
            _ => RowErrorInfo { code: "R0002", rule: "ratio".into(), message: "division by zero in rule `ratio` (scheme.pol:9)".into() },
        }
    }

    fn engine(&self) -> &'static str {
        "test"
    }
}

/// A temporary directory that lives as long as the test.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temporary directory")
}

/// The names in `dir`, sorted.
pub fn listing(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> =
        fs::read_dir(dir).expect("read dir").map(|e| e.expect("entry").file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    names
}

/// Every batch of a Parquet file.
pub fn read_parquet(path: &Path) -> Vec<RecordBatch> {
    let file = fs::File::open(path).expect("open parquet");
    let reader = ParquetRecordBatchReaderBuilder::try_new(file).expect("parquet").build().expect("reader");
    reader.map(|b| b.expect("batch")).collect()
}

/// The header of the test CSV inputs.
pub const CSV_HEADER: &str = "person_id,birth_date,contribution,monthly_pension,category,military_cadre,extra";

/// Writes `lines` under [`CSV_HEADER`] to `dir/name`.
pub fn write_csv(dir: &Path, name: &str, lines: &[&str]) -> PathBuf {
    let path = dir.join(name);
    let mut text = String::from(CSV_HEADER);
    text.push('\n');
    for line in lines {
        text.push_str(line);
        text.push('\n');
    }
    fs::write(&path, text).expect("write csv");
    path
}

/// The records of a CSV file (header included), unquoting quoted fields.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    for line in text.lines() {
        let mut fields = Vec::new();
        let mut field = String::new();
        let mut quoted = false;
        let mut chars = line.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '"' if quoted && chars.peek() == Some(&'"') => {
                    field.push('"');
                    chars.next();
                }
                '"' => quoted = !quoted,
                ',' if !quoted => fields.push(std::mem::take(&mut field)),
                c => field.push(c),
            }
        }
        fields.push(field);
        rows.push(fields);
    }
    rows
}
