//! Matching a file's columns to a kernel's inputs by name, and the Arrow types each Pol type
//! accepts (input) and is written as (output).

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use pol_kernel::{ColumnSpec, ColumnType, KernelSignature};

use crate::error::{RuntimeError, SchemaProblem};

/// The file formats the runtime reads and writes, chosen by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Parquet,
    Csv,
}

impl FileFormat {
    /// `.parquet`/`.pq` is Parquet, `.csv` is CSV (case-insensitive); anything else is an error.
    pub fn from_path(path: &Path, role: &'static str) -> Result<Self, RuntimeError> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("parquet") | Some("pq") => Ok(FileFormat::Parquet),
            Some("csv") => Ok(FileFormat::Csv),
            _ => Err(RuntimeError::UnsupportedFormat { file: path.to_path_buf(), role }),
        }
    }
}

/// How the cells of one file column become the kernel's `i64` cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// Any signed or unsigned integer type (Int, Months).
    Integer,
    /// Arrow `Boolean` (Bool).
    Boolean,
    /// Arrow `Date32` (Date).
    Date32,
    /// A decimal of the given scale, multiplied up to the kernel's scale (Money, Decimal).
    Decimal { scale: u32 },
    /// Strings naming an enum variant, plain or dictionary-encoded (Enum).
    Names,
    /// Text to be parsed according to the kernel's type (every CSV column).
    Text,
}

/// Where a kernel input is found in the batches a reader yields, and how to convert it.
#[derive(Clone, Debug)]
pub(crate) struct InputBinding {
    /// Index of the column in the file's full schema.
    pub file_index: usize,
    pub source: Source,
}

/// A check of one Arrow type against one kernel type: the conversion, or the expectation text.
fn accept(ty: &ColumnType, found: &DataType) -> Result<Source, String> {
    let integer = |dt: &DataType| dt.is_integer();
    let string = |dt: &DataType| matches!(dt, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    let decimal_scale = |dt: &DataType| match dt {
        DataType::Decimal32(_, s) | DataType::Decimal64(_, s) | DataType::Decimal128(_, s) => u32::try_from(*s).ok(),
        _ => None,
    };
    match ty {
        ColumnType::Int | ColumnType::Months if integer(found) => Ok(Source::Integer),
        ColumnType::Int | ColumnType::Months => Err("an integer type".into()),
        ColumnType::Bool if *found == DataType::Boolean => Ok(Source::Boolean),
        ColumnType::Bool => Err("Boolean".into()),
        ColumnType::Date if *found == DataType::Date32 => Ok(Source::Date32),
        ColumnType::Date => Err("Date32".into()),
        ColumnType::Money | ColumnType::Decimal { .. } => {
            let target = crate::value::scale_of(ty);
            match decimal_scale(found) {
                Some(scale) if scale <= target => Ok(Source::Decimal { scale }),
                _ => Err(format!("Decimal128(p, s) with 0 <= s <= {target}")),
            }
        }
        ColumnType::Enum { .. } => match found {
            dt if string(dt) => Ok(Source::Names),
            DataType::Dictionary(key, value) if key.is_integer() && string(value) => Ok(Source::Names),
            _ => Err("Utf8 (variant names)".into()),
        },
    }
}

/// Binds every input of `inputs` to a column of `schema`, or lists everything that is wrong.
///
/// With `all_text` (CSV), only presence is checked here: every cell is parsed, and a cell that
/// does not parse sends its row to the ledger.
pub(crate) fn bind_inputs(file: &Path, schema: &Schema, inputs: &[ColumnSpec], all_text: bool) -> Result<Vec<InputBinding>, RuntimeError> {
    let mut problems = Vec::new();
    let mut bindings = Vec::with_capacity(inputs.len());
    for spec in inputs {
        let matches: Vec<usize> = schema.fields().iter().enumerate().filter(|(_, f)| f.name() == &spec.name).map(|(i, _)| i).collect();
        let Some(&file_index) = matches.first() else {
            problems.push(SchemaProblem::MissingColumn { column: spec.name.clone(), expected: spec.ty.describe() });
            continue;
        };
        if matches.len() > 1 {
            problems.push(SchemaProblem::DuplicateColumn { column: spec.name.clone() });
            continue;
        }
        if all_text {
            bindings.push(InputBinding { file_index, source: Source::Text });
            continue;
        }
        let found = schema.field(file_index).data_type();
        match accept(&spec.ty, found) {
            Ok(source) => bindings.push(InputBinding { file_index, source }),
            Err(expected) => problems.push(SchemaProblem::WrongType {
                column: spec.name.clone(),
                expected: format!("{expected} for {}", spec.ty.describe()),
                found: found.to_string(),
            }),
        }
    }
    if problems.is_empty() { Ok(bindings) } else { Err(RuntimeError::Schema { file: file.to_path_buf(), problems }) }
}

/// The Arrow type a value of `ty` is written as.
pub fn output_type(ty: &ColumnType) -> DataType {
    match ty {
        ColumnType::Int | ColumnType::Months => DataType::Int64,
        ColumnType::Bool => DataType::Boolean,
        ColumnType::Date => DataType::Date32,
        ColumnType::Money => DataType::Decimal128(18, 2),
        ColumnType::Decimal { scale } => DataType::Decimal128(18, i8::try_from(*scale).unwrap_or(i8::MAX)),
        ColumnType::Enum { .. } => DataType::Utf8,
    }
}

/// The columns of an output file: the signature's id inputs, then every output.
pub(crate) fn output_columns(sig: &KernelSignature) -> Vec<OutputColumn> {
    let ids = sig.inputs.iter().enumerate().filter(|(_, s)| s.is_id);
    let ids = ids.map(|(i, s)| OutputColumn { spec: s.clone(), from: ColumnFrom::Input(i) });
    let outs = sig.outputs.iter().enumerate();
    let outs = outs.map(|(j, s)| OutputColumn { spec: s.clone(), from: ColumnFrom::Output(j) });
    ids.chain(outs).collect()
}

/// Where an output file's column comes from.
#[derive(Clone, Copy, Debug)]
pub(crate) enum ColumnFrom {
    Input(usize),
    Output(usize),
}

#[derive(Clone, Debug)]
pub(crate) struct OutputColumn {
    pub spec: ColumnSpec,
    pub from: ColumnFrom,
}

/// The Arrow schema of an output file; columns are never null.
pub(crate) fn output_schema(columns: &[OutputColumn]) -> SchemaRef {
    let fields: Vec<Field> = columns.iter().map(|c| Field::new(c.spec.name.clone(), output_type(&c.spec.ty), false)).collect();
    Arc::new(Schema::new(fields))
}

/// Rejects signatures the runtime cannot write: clashing output names, decimals of scale > 18.
pub(crate) fn check_signature(sig: &KernelSignature) -> Result<(), RuntimeError> {
    let mut seen = std::collections::BTreeSet::new();
    for col in output_columns(sig) {
        if !seen.insert(col.spec.name.clone()) {
            return Err(RuntimeError::invalid(format!(
                "kernel `{}`: output column `{}` appears twice (an id and an output share a name?)",
                sig.program, col.spec.name
            )));
        }
    }
    let all = sig.inputs.iter().chain(sig.outputs.iter());
    if let Some(spec) = all.into_iter().find(|s| crate::value::scale_of(&s.ty) > 18) {
        return Err(RuntimeError::invalid(format!(
            "kernel `{}`: column `{}` has a scale above 18, which Decimal128(18, s) cannot hold",
            sig.program, spec.name
        )));
    }
    Ok(())
}
