//! Matching a file's columns to a kernel's inputs by name, and the Arrow types each Pol type
//! accepts (input) and is written as (output).

use std::path::Path;
use std::sync::Arc;

use arrow::datatypes::{DataType, Field, Schema, SchemaRef, TimeUnit};
use pol_kernel::{ColumnSpec, ColumnType, KernelSignature};

use crate::binding::{Binding, Conversion, FieldBinding};
use crate::error::{RuntimeError, SchemaProblem};

/// The file formats the runtime reads and writes, chosen by extension.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    Parquet,
    Csv,
    /// `.xlsx` (read and written) and `.xls` (read only).
    Excel,
}

impl FileFormat {
    /// `.parquet`/`.pq` is Parquet, `.csv` is CSV, `.xlsx`/`.xls` a workbook (case-insensitive);
    /// anything else is an error, and so is an `.xls` output (written as `.xlsx` only).
    pub fn from_path(path: &Path, role: &'static str) -> Result<Self, RuntimeError> {
        let ext = path.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase);
        match ext.as_deref() {
            Some("parquet") | Some("pq") => Ok(FileFormat::Parquet),
            Some("csv") => Ok(FileFormat::Csv),
            Some("xlsx") => Ok(FileFormat::Excel),
            Some("xls") if role == "input" => Ok(FileFormat::Excel),
            _ => Err(RuntimeError::UnsupportedFormat { file: path.to_path_buf(), role }),
        }
    }
}

/// How the cells of one file column become the kernel's `i64` cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Source {
    /// No column: the kernel never reads this input (placeholders fill it).
    Absent,
    /// Any signed or unsigned integer type, times `factor` (Int; Months, ×12 from years; Money
    /// in fen ×1 or in yuan ×100; Decimal{s} ×10^s).
    Integer { factor: i64 },
    /// Integers 0 and 1 (Bool).
    IntegerBool,
    /// Integers `YYYYMMDD` (Date).
    IntegerDate,
    /// Integers naming enum variants through the binding's codes (Enum).
    IntegerCodes(Conversion),
    /// Arrow `Boolean` (Bool).
    Boolean,
    /// Arrow `Date32` (Date).
    Date32,
    /// Arrow `Date64` or a timestamp: this many units per day; a time of day is a bad cell.
    Instant { per_day: i64 },
    /// A decimal of the given scale, times `factor`, brought exactly to the kernel's scale (a
    /// cell that is not a whole number of the kernel's unit is a bad cell).
    Decimal { scale: u32, factor: i64 },
    /// Strings naming an enum variant, or one of the binding's codes, plain or dictionary-encoded.
    Names(Conversion),
    /// Text parsed according to the kernel's type and the binding (CSV, Excel, PostgreSQL).
    Text(Conversion),
    /// A column the binding keeps: copied to the output as text, not read by the kernel. These
    /// bindings follow the inputs' (one per `keep` entry, in order).
    Keep,
}

/// Where a kernel input is found in the batches a reader yields, and how to convert it.
#[derive(Clone, Debug)]
pub(crate) struct InputBinding {
    /// Index of the column in the file's full schema; `None` for [`Source::Absent`].
    pub file_index: Option<usize>,
    pub source: Source,
}

/// A check of one Arrow type against one kernel type: the conversion, or the expectation text.
fn accept(spec: &ColumnSpec, found: &DataType, conv: Conversion) -> Result<Source, String> {
    let ty = &spec.ty;
    let string = |dt: &DataType| matches!(dt, DataType::Utf8 | DataType::LargeUtf8 | DataType::Utf8View);
    let decimal_scale = |dt: &DataType| match dt {
        DataType::Decimal32(_, s) | DataType::Decimal64(_, s) | DataType::Decimal128(_, s) => u32::try_from(*s).ok(),
        _ => None,
    };
    if string(found) {
        return Ok(match ty {
            ColumnType::Enum { .. } => Source::Names(conv),
            _ => Source::Text(conv),
        });
    }
    let declared_date = conv.dates.len() > 1;
    match ty {
        ColumnType::Int | ColumnType::Months if found.is_integer() => Ok(Source::Integer { factor: conv.factor }),
        ColumnType::Int | ColumnType::Months => match decimal_scale(found) {
            Some(scale) => Ok(Source::Decimal { scale, factor: conv.factor }),
            None => Err("an integer or decimal type, or text".into()),
        },
        ColumnType::Bool if *found == DataType::Boolean => Ok(Source::Boolean),
        ColumnType::Bool if found.is_integer() => Ok(Source::IntegerBool),
        ColumnType::Bool => Err("Boolean, integers 0/1, or text".into()),
        ColumnType::Date => match found {
            DataType::Date32 => Ok(Source::Date32),
            DataType::Date64 => Ok(Source::Instant { per_day: 86_400_000 }),
            DataType::Timestamp(unit, None) => Ok(Source::Instant {
                per_day: match unit {
                    TimeUnit::Second => 86_400,
                    TimeUnit::Millisecond => 86_400_000,
                    TimeUnit::Microsecond => 86_400_000_000,
                    TimeUnit::Nanosecond => 86_400_000_000_000,
                },
            }),
            dt if dt.is_integer() && declared_date && conv.dates.iter().any(|d| d.text() == "%Y%m%d") => Ok(Source::IntegerDate),
            dt if dt.is_integer() => Err("Date32; integers only with `date = [\"%Y%m%d\"]` in the binding".into()),
            _ => Err("Date32, Date64, a timestamp without time zone, integers YYYYMMDD, or text".into()),
        },
        ColumnType::Money | ColumnType::Decimal { .. } => {
            let target = crate::value::scale_of(ty);
            if let Some(scale) = decimal_scale(found) {
                return Ok(Source::Decimal { scale, factor: 1 });
            }
            if found.is_integer() {
                return match (ty, conv.fen, spec_unit(&conv)) {
                    (ColumnType::Money, true, _) => Ok(Source::Integer { factor: 1 }),
                    (ColumnType::Money, false, true) => Ok(Source::Integer { factor: 100 }),
                    (ColumnType::Money, _, _) => Err(
                        "a decimal type; an integer column holds yuan or fen, which only the binding can say (`unit = \"fen\"` or `\"yuan\"`)"
                            .into(),
                    ),
                    _ => Ok(Source::Integer { factor: 10i64.pow(target) }),
                };
            }
            if matches!(found, DataType::Float16 | DataType::Float32 | DataType::Float64) {
                return Err("a decimal type (binary floating point cannot hold amounts exactly: cast to decimal, or export as text)".into());
            }
            Err(format!("a decimal type (any scale: exact to {target} places or the row goes to the ledger), or text"))
        }
        ColumnType::Enum { .. } => match found {
            DataType::Dictionary(key, value) if key.is_integer() && string(value) => Ok(Source::Names(conv)),
            dt if dt.is_integer() && conv.codes.as_ref().is_some_and(|c| !c.names_only) => Ok(Source::IntegerCodes(conv)),
            _ => Err("text naming the variants (or codes given in the binding)".into()),
        },
    }
}

/// Whether a Money conversion came from an explicit `unit = "yuan"`.
fn spec_unit(conv: &Conversion) -> bool {
    conv.yuan
}

/// Binds every input of `inputs` to a column of `schema`, or lists everything that is wrong.
///
/// A field is read from the column its binding names, else from the column of its own name
/// (else from the one column whose name equals it ignoring ASCII case). A field the kernel does
/// not read may have no column. With `all_text` (CSV), only presence is checked here: every cell
/// is parsed, and a cell that does not parse sends its row to the ledger.
pub(crate) fn bind_inputs(
    file: &Path,
    schema: &Schema,
    inputs: &[ColumnSpec],
    binding: Option<&Binding>,
    all_text: bool,
) -> Result<Vec<InputBinding>, RuntimeError> {
    let mut problems: Vec<SchemaProblem> = Vec::new();
    if let Some(b) = binding {
        problems.extend(b.problems(inputs).into_iter().map(|message| SchemaProblem::Binding { message }));
    }
    let mut bindings = Vec::with_capacity(inputs.len());
    for spec in inputs {
        let field = binding.and_then(|b| b.fields.get(&spec.name));
        let column = field.and_then(FieldBinding::column).unwrap_or(&spec.name);
        let mut matches: Vec<usize> = schema.fields().iter().enumerate().filter(|(_, f)| f.name() == column).map(|(i, _)| i).collect();
        if matches.is_empty() && field.and_then(FieldBinding::column).is_none() {
            matches = schema.fields().iter().enumerate().filter(|(_, f)| f.name().eq_ignore_ascii_case(column)).map(|(i, _)| i).collect();
        }
        let Some(&file_index) = matches.first() else {
            if !spec.read && field.is_none() {
                bindings.push(InputBinding { file_index: None, source: Source::Absent });
                continue;
            }
            problems.push(SchemaProblem::MissingColumn { column: column.to_string(), expected: spec.ty.describe() });
            continue;
        };
        if matches.len() > 1 {
            problems.push(SchemaProblem::DuplicateColumn { column: column.to_string() });
            continue;
        }
        let conv = match Conversion::of(spec, field.map(FieldBinding::rules).as_ref()) {
            Ok(c) => c,
            // Reported with the binding's problems above.
            Err(_) => continue,
        };
        if all_text {
            let source = match spec.ty {
                ColumnType::Enum { .. } => Source::Names(conv),
                _ => Source::Text(conv),
            };
            bindings.push(InputBinding { file_index: Some(file_index), source });
            continue;
        }
        let found = schema.field(file_index).data_type();
        match accept(spec, found, conv) {
            Ok(source) => bindings.push(InputBinding { file_index: Some(file_index), source }),
            Err(expected) => problems.push(SchemaProblem::WrongType {
                column: column.to_string(),
                expected: format!("{expected} for {}", spec.ty.describe()),
                found: found.to_string(),
            }),
        }
    }
    for column in binding.map_or(&[][..], |b| b.keep.as_slice()) {
        let matches: Vec<usize> = schema.fields().iter().enumerate().filter(|(_, f)| f.name() == column).map(|(i, _)| i).collect();
        match matches.as_slice() {
            [i] => bindings.push(InputBinding { file_index: Some(*i), source: Source::Keep }),
            [] => problems.push(SchemaProblem::MissingColumn { column: column.clone(), expected: "a column to keep (`keep`)".into() }),
            _ => problems.push(SchemaProblem::DuplicateColumn { column: column.clone() }),
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
