//! Province-style exports of a canonical population, for `pol bench --formats`: the same records
//! as a Parquet file with its own names and types (renamed columns, money as decimal(14,3),
//! integers as int32, enums as numeric codes, dates as int32 YYYYMMDD, Bool as int8) and as a
//! GBK CSV with Chinese headers (money as yuan text, codes, 是/否, YYYYMMDD), each with the
//! binding that reads it back to the canonical cells. Measuring a run over them against the
//! canonical file gives the cost of a binding.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::array::{ArrayRef, Decimal128Array, Int8Array, Int32Array, Int64Array, StringArray};
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use pol_kernel::{ColumnSpec, ColumnType};

use crate::error::RuntimeError;
use crate::read::open_input;
use crate::validate::convert_batch;
use crate::value::{civil_from_days, format_decimal};
use crate::write::parquet_writer_properties;

/// The files [`write_exports`] made.
#[derive(Clone, Debug)]
pub struct Exports {
    pub parquet: PathBuf,
    pub parquet_binding: PathBuf,
    pub gbk_csv: PathBuf,
    pub csv_binding: PathBuf,
}

fn code(i: i64) -> String {
    (i + 1).to_string()
}

fn yyyymmdd(days: i64) -> i64 {
    let (y, m, d) = civil_from_days(days);
    y * 10_000 + i64::from(m) * 100 + i64::from(d)
}

/// Writes the two exports of the canonical file `canonical` (columns `inputs`) into `dir`.
pub fn write_exports(inputs: &[ColumnSpec], canonical: &Path, dir: &Path) -> Result<Exports, RuntimeError> {
    std::fs::create_dir_all(dir).map_err(|e| RuntimeError::io(dir, "create the folder", e))?;
    let files = Exports {
        parquet: dir.join("export.parquet"),
        parquet_binding: dir.join("export-parquet.toml"),
        gbk_csv: dir.join("export-gbk.csv"),
        csv_binding: dir.join("export-gbk.toml"),
    };
    let source = |s: &ColumnSpec| format!("{}_src", s.name.to_ascii_uppercase());
    let header = |s: &ColumnSpec| format!("{}（导出）", s.name);
    // Bindings.
    let mut pb = String::from("[fields]\n");
    let mut cb = String::from("[source]\nencoding = \"gbk\"\n\n[fields]\n");
    for s in inputs {
        let rules = |column: String, csv: bool| -> String {
            let q = |t: &str| toml::Value::String(t.to_string()).to_string();
            match &s.ty {
                ColumnType::Enum { variants, .. } => {
                    let codes: Vec<String> = variants.iter().enumerate().map(|(i, v)| format!("{v} = [{}]", q(&code(i as i64)))).collect();
                    format!("{{ column = {}, codes = {{ {} }} }}", q(&column), codes.join(", "))
                }
                ColumnType::Date => format!("{{ column = {}, date = [\"%Y%m%d\"] }}", q(&column)),
                ColumnType::Bool if csv => format!("{{ column = {}, true = [\"是\"], false = [\"否\"] }}", q(&column)),
                ColumnType::Money if csv => format!("{{ column = {}, unit = \"yuan\" }}", q(&column)),
                _ => q(&column),
            }
        };
        let _ = writeln!(pb, "{} = {}", s.name, rules(source(s), false));
        let _ = writeln!(cb, "{} = {}", s.name, rules(header(s), true));
    }
    std::fs::write(&files.parquet_binding, pb).map_err(|e| RuntimeError::io(&files.parquet_binding, "write", e))?;
    std::fs::write(&files.csv_binding, cb).map_err(|e| RuntimeError::io(&files.csv_binding, "write", e))?;

    let fields: Vec<Field> = inputs
        .iter()
        .map(|s| {
            let ty = match &s.ty {
                ColumnType::Money => DataType::Decimal128(14, 3),
                ColumnType::Decimal { scale } => DataType::Decimal128(18, i8::try_from(*scale).unwrap_or(0)),
                ColumnType::Bool => DataType::Int8,
                ColumnType::Enum { .. } => DataType::Utf8,
                ColumnType::Date => DataType::Int32,
                ColumnType::Int | ColumnType::Months => DataType::Int64,
            };
            Field::new(source(s), ty, false)
        })
        .collect();
    let schema = Arc::new(Schema::new(fields));
    let file = std::fs::File::create(&files.parquet).map_err(|e| RuntimeError::io(&files.parquet, "create", e))?;
    let mut parquet = ArrowWriter::try_new(file, schema.clone(), Some(parquet_writer_properties()))
        .map_err(|e| RuntimeError::parquet(&files.parquet, e))?;
    let csv_file = std::fs::File::create(&files.gbk_csv).map_err(|e| RuntimeError::io(&files.gbk_csv, "create", e))?;
    let mut csv = std::io::BufWriter::with_capacity(1 << 20, csv_file);
    let line = inputs.iter().map(header).collect::<Vec<_>>().join(",") + "\r\n";
    csv.write_all(&encoding_rs::GB18030.encode(&line).0).map_err(|e| RuntimeError::io(&files.gbk_csv, "write", e))?;

    let mut reader = open_input(canonical, inputs, crate::DEFAULT_BATCH_ROWS, None)?;
    while let Some(batch) = reader.next_batch()? {
        let cells = convert_batch(&batch, inputs, &reader.bound).columns;
        let n = batch.num_rows();
        let arrays: Vec<ArrayRef> = inputs
            .iter()
            .zip(&cells)
            .map(|(s, col)| -> Result<ArrayRef, RuntimeError> {
                Ok(match &s.ty {
                    ColumnType::Money => Arc::new(
                        Decimal128Array::from_iter_values(col.iter().map(|v| i128::from(*v) * 10))
                            .with_precision_and_scale(14, 3)
                            .map_err(|e| RuntimeError::arrow(&files.parquet, e))?,
                    ),
                    ColumnType::Decimal { scale } => Arc::new(
                        Decimal128Array::from_iter_values(col.iter().map(|v| i128::from(*v)))
                            .with_precision_and_scale(18, i8::try_from(*scale).unwrap_or(0))
                            .map_err(|e| RuntimeError::arrow(&files.parquet, e))?,
                    ),
                    ColumnType::Bool => Arc::new(Int8Array::from_iter_values(col.iter().map(|v| i8::from(*v != 0)))),
                    ColumnType::Enum { .. } => Arc::new(StringArray::from_iter_values(col.iter().map(|v| code(*v)))),
                    ColumnType::Date => {
                        Arc::new(Int32Array::from_iter_values(col.iter().map(|v| i32::try_from(yyyymmdd(*v)).unwrap_or(0))))
                    }
                    ColumnType::Int | ColumnType::Months => Arc::new(Int64Array::from_iter_values(col.iter().copied())),
                })
            })
            .collect::<Result<_, _>>()?;
        let out = RecordBatch::try_new(schema.clone(), arrays).map_err(|e| RuntimeError::arrow(&files.parquet, e))?;
        parquet.write(&out).map_err(|e| RuntimeError::parquet(&files.parquet, e))?;
        let mut text = String::with_capacity(n * 64);
        for row in 0..n {
            for (k, (s, col)) in inputs.iter().zip(&cells).enumerate() {
                if k > 0 {
                    text.push(',');
                }
                let v = col[row];
                match &s.ty {
                    ColumnType::Money => text.push_str(&format_decimal(i128::from(v), 2)),
                    ColumnType::Decimal { scale } => text.push_str(&format_decimal(i128::from(v), *scale)),
                    ColumnType::Bool => text.push_str(if v != 0 { "是" } else { "否" }),
                    ColumnType::Enum { .. } => text.push_str(&code(v)),
                    ColumnType::Date => {
                        let _ = write!(text, "{}", yyyymmdd(v));
                    }
                    ColumnType::Int | ColumnType::Months => {
                        let _ = write!(text, "{v}");
                    }
                }
            }
            text.push_str("\r\n");
        }
        csv.write_all(&encoding_rs::GB18030.encode(&text).0).map_err(|e| RuntimeError::io(&files.gbk_csv, "write", e))?;
    }
    parquet.close().map_err(|e| RuntimeError::parquet(&files.parquet, e))?;
    csv.flush().map_err(|e| RuntimeError::io(&files.gbk_csv, "write", e))?;
    Ok(files)
}
