//! Opening an input file (Parquet or CSV), checking it against the kernel's inputs before any
//! work, and streaming record batches that hold only the needed columns.

use std::fs::File;
use std::io::BufReader;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow::csv;
use arrow::datatypes::{DataType, Field, Schema};
use arrow::record_batch::RecordBatch;
use parquet::arrow::ProjectionMask;
use parquet::arrow::arrow_reader::{ArrowReaderMetadata, ArrowReaderOptions, ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use pol_kernel::ColumnSpec;

use crate::binding::{Binding, Encoding, SourceOptions};
use crate::decode;
use crate::error::RuntimeError;
use crate::excel::ExcelSheet;
use crate::schema::{FileFormat, InputBinding, Source, bind_inputs};

/// A kernel input located in the batches an [`InputReader`] yields.
#[derive(Clone, Debug)]
pub(crate) struct BoundInput {
    /// Column index inside each yielded batch; `None` for an absent input the kernel does not read.
    pub column: Option<usize>,
    pub source: Source,
}

enum Inner {
    Parquet(ParquetRecordBatchReader),
    Csv(Box<csv::Reader<Box<dyn std::io::BufRead + Send>>>),
    Excel(Box<ExcelSheet>),
    Postgres(Box<crate::postgres::PgReader>),
}

/// A stream of record batches holding the needed columns of one input file.
pub(crate) struct InputReader {
    file: PathBuf,
    inner: Inner,
    /// The number of rows when the format records it (Parquet), for progress bars.
    pub total_rows: Option<u64>,
    /// One per input, then one per kept column ([`Source::Keep`]).
    pub bound: Vec<BoundInput>,
}

impl InputReader {
    /// The kept columns: their index in each batch and their name, in the binding's order.
    pub fn kept(&self, binding: Option<&Binding>) -> Vec<(usize, String)> {
        kept_columns(&self.bound, binding)
    }
}

/// The kept columns among `bound` (inputs, then one [`Source::Keep`] per kept column): their
/// index in each batch and their name, in the binding's order.
pub(crate) fn kept_columns(bound: &[BoundInput], binding: Option<&Binding>) -> Vec<(usize, String)> {
    let keep = binding.map_or(&[][..], |b| b.keep.as_slice());
    let bound = bound.iter().filter(|b| matches!(b.source, Source::Keep));
    keep.iter().zip(bound).filter_map(|(name, b)| Some((b.column?, name.clone()))).collect()
}

/// Bindings to the columns of an in-memory batch, whose columns are the schema's: each input
/// is read from the column it was bound to.
pub(crate) fn bound_in_batch(bindings: Vec<InputBinding>) -> Vec<BoundInput> {
    bindings.into_iter().map(|b| BoundInput { column: b.file_index, source: b.source }).collect()
}

impl InputReader {
    /// The snapshot a second read of the same PostgreSQL source should import, so that both
    /// reads see the same rows.
    pub fn snapshot(&self) -> Option<String> {
        match &self.inner {
            Inner::Postgres(reader) => reader.snapshot().map(str::to_string),
            _ => None,
        }
    }

    /// The next batch, or `None` at the end of the file.
    pub fn next_batch(&mut self) -> Result<Option<RecordBatch>, RuntimeError> {
        match &mut self.inner {
            Inner::Parquet(reader) => match reader.next() {
                None => Ok(None),
                Some(batch) => batch.map(Some).map_err(|e| RuntimeError::arrow(&self.file, e)),
            },
            Inner::Csv(reader) => match reader.next() {
                None => Ok(None),
                Some(batch) => batch.map(Some).map_err(|e| RuntimeError::arrow(&self.file, e)),
            },
            Inner::Excel(sheet) => sheet.next_batch(&self.file),
            Inner::Postgres(reader) => reader.next_batch(),
        }
    }
}

fn open_file(path: &Path) -> Result<File, RuntimeError> {
    File::open(path).map_err(|e| RuntimeError::io(path, "open", e))
}

/// The UTF-8 text of a CSV file, decoded as the binding says (or as detected).
fn csv_text(path: &Path, options: &SourceOptions) -> Result<Box<dyn std::io::BufRead + Send>, RuntimeError> {
    let encoding = options.encoding().map_err(RuntimeError::invalid)?;
    let head = decode::sniff(path).map_err(|e| RuntimeError::io(path, "read", e))?;
    let encoding = match encoding {
        // A UTF-8 byte-order mark says what the file is, whatever was declared.
        _ if head.starts_with(b"\xEF\xBB\xBF") => Encoding::Utf8,
        Encoding::Auto => decode::detect(&head),
        e => e,
    };
    let file = open_file(path)?;
    Ok(match encoding {
        // GB18030's own byte-order mark decodes to U+FEFF, which the UTF-8 side then drops.
        Encoding::Gb18030 => Box::new(BufReader::with_capacity(1 << 20, decode::SkipBom::new(decode::Gb18030Reader::new(file)))),
        _ => Box::new(BufReader::with_capacity(1 << 20, decode::SkipBom::new(file))),
    })
}

/// The column names of a CSV file: its header, or `1`, `2`, … without one.
fn csv_header(path: &Path, options: &SourceOptions) -> Result<Vec<String>, RuntimeError> {
    let format = csv_format(options)?;
    let (header, _) = format.infer_schema(csv_text(path, options)?, Some(0)).map_err(|e| RuntimeError::arrow(path, e))?;
    let names = header.fields().iter().map(|f| f.name().clone());
    Ok(if options.header { names.collect() } else { (1..=header.fields().len()).map(|i| i.to_string()).collect() })
}

fn csv_format(options: &SourceOptions) -> Result<csv::reader::Format, RuntimeError> {
    let delimiter = options.delimiter_byte().map_err(RuntimeError::invalid)?;
    let quote = options.quote_byte().map_err(RuntimeError::invalid)?;
    Ok(csv::reader::Format::default().with_header(options.header).with_delimiter(delimiter).with_quote(quote))
}

/// Opens `path`, checks every input's presence and type (all problems at once), and returns a
/// reader of batches of at most `batch_rows` rows. `binding` maps fields to columns and says
/// how to convert them (and how a CSV file is laid out).
pub(crate) fn open_input(
    path: &Path,
    inputs: &[ColumnSpec],
    batch_rows: usize,
    binding: Option<&Binding>,
) -> Result<InputReader, RuntimeError> {
    let batch_rows = batch_rows.max(1);
    if crate::postgres::is_url(path) {
        let url = path.to_string_lossy();
        let (reader, bound) = crate::postgres::open(&url, inputs, batch_rows, binding)?;
        let file = reader.name().to_path_buf();
        return Ok(InputReader { file, inner: Inner::Postgres(Box::new(reader)), total_rows: None, bound });
    }
    let format = FileFormat::from_path(path, "input")?;
    let default_options = SourceOptions::default();
    let options = binding.map_or(&default_options, |b| &b.source);
    let (inner, schema, bindings, total_rows, names) = match format {
        FileFormat::Parquet => {
            let builder = ParquetRecordBatchReaderBuilder::try_new(open_file(path)?).map_err(|e| RuntimeError::parquet(path, e))?;
            let bindings = bind_inputs(path, builder.schema(), inputs, binding, false)?;
            let names: Vec<String> = builder.schema().fields().iter().map(|f| f.name().clone()).collect();
            let mut roots: Vec<usize> = bindings.iter().filter_map(|b| b.file_index).collect();
            roots.sort_unstable();
            roots.dedup();
            let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
            let total = u64::try_from(builder.metadata().file_metadata().num_rows()).ok();
            let builder = with_string_views(path, builder, &bindings)?;
            let reader = builder.with_projection(mask).with_batch_size(batch_rows).build().map_err(|e| RuntimeError::parquet(path, e))?;
            let schema = reader_schema(&reader);
            (Inner::Parquet(reader), schema, bindings, total, names)
        }
        FileFormat::Csv => {
            // Every column is read as text and parsed here, so that one bad cell sends one row to
            // the ledger instead of failing the whole file.
            let header = csv_header(path, options)?;
            let fields: Vec<Field> = header.iter().map(|name| Field::new(name.clone(), DataType::Utf8, true)).collect();
            let text_schema = Arc::new(Schema::new(fields));
            let bindings = bind_inputs(path, &text_schema, inputs, binding, true)?;
            let mut projection: Vec<usize> = bindings.iter().filter_map(|b| b.file_index).collect();
            projection.sort_unstable();
            projection.dedup();
            let reader = csv::ReaderBuilder::new(text_schema)
                .with_format(csv_format(options)?)
                .with_projection(projection)
                .with_batch_size(batch_rows)
                .build(csv_text(path, options)?)
                .map_err(|e| RuntimeError::arrow(path, e))?;
            let schema = reader.schema();
            (Inner::Csv(Box::new(reader)), schema, bindings, None, header)
        }
        FileFormat::Excel => {
            // Cells become text (numbers through their shortest decimal, dates by Excel's
            // serial rules) and are then parsed as CSV cells are.
            let sheet = ExcelSheet::open(path, options.sheet.as_deref())?;
            let header = sheet.names.clone();
            let fields: Vec<Field> = header.iter().map(|name| Field::new(name.clone(), DataType::Utf8, true)).collect();
            let bindings = bind_inputs(path, &Schema::new(fields), inputs, binding, true)?;
            let mut projection: Vec<usize> = bindings.iter().filter_map(|b| b.file_index).collect();
            projection.sort_unstable();
            projection.dedup();
            let sheet = sheet.project(projection, batch_rows);
            let (schema, total) = (sheet.schema(), Some(sheet.total_rows()));
            (Inner::Excel(Box::new(sheet)), schema, bindings, total, header)
        }
    };
    let bound = locate(path, &schema, &names, bindings)?;
    Ok(InputReader { file: path.to_path_buf(), inner, total_rows, bound })
}

/// Each binding's column inside the projected batches (found by the file column's name).
fn locate(path: &Path, projected: &Schema, names: &[String], bindings: Vec<InputBinding>) -> Result<Vec<BoundInput>, RuntimeError> {
    bindings
        .into_iter()
        .map(|b| {
            let column = match b.file_index {
                None => None,
                Some(i) => {
                    let name =
                        names.get(i).ok_or_else(|| RuntimeError::invalid(format!("internal error: column {i} of `{}`", path.display())))?;
                    Some(projected.index_of(name).map_err(|e| RuntimeError::arrow(path, e))?)
                }
            };
            Ok(BoundInput { column, source: b.source })
        })
        .collect()
}

/// The same reader, decoding the needed plain string columns (enum names) as `Utf8View`: for
/// short strings this decodes faster than `Utf8` (no offsets to build), and a name of at most 12
/// bytes is then compared as one 128-bit view (see `validate`). Types are checked before this,
/// against the file's own schema, so messages name the file's types.
fn with_string_views(
    path: &Path,
    builder: ParquetRecordBatchReaderBuilder<File>,
    bindings: &[InputBinding],
) -> Result<ParquetRecordBatchReaderBuilder<File>, RuntimeError> {
    let schema = builder.schema().clone();
    let is_string = |i: usize| matches!(schema.field(i).data_type(), DataType::Utf8 | DataType::LargeUtf8);
    let names_at = |i: usize| bindings.iter().any(|b| b.file_index == Some(i) && matches!(b.source, Source::Names(_)));
    if !(0..schema.fields().len()).any(|i| is_string(i) && names_at(i)) {
        return Ok(builder);
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let view = is_string(i) && names_at(i);
            let field = f.as_ref().clone();
            if view { field.with_data_type(DataType::Utf8View) } else { field }
        })
        .collect();
    let views = Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()));
    let options = ArrowReaderOptions::new().with_schema(views);
    let metadata = ArrowReaderMetadata::try_new(builder.metadata().clone(), options).map_err(|e| RuntimeError::parquet(path, e))?;
    Ok(ParquetRecordBatchReaderBuilder::new_with_metadata(open_file(path)?, metadata))
}

fn reader_schema(reader: &ParquetRecordBatchReader) -> Arc<Schema> {
    use arrow::record_batch::RecordBatchReader;
    reader.schema()
}

/// The columns of a source and their types, for `pol bind init`.
pub(crate) fn source_columns(path: &Path, options: &SourceOptions) -> Result<Vec<crate::inspect::SourceColumn>, RuntimeError> {
    let column = |name: &str, ty: &DataType| crate::inspect::SourceColumn { name: name.to_string(), ty: ty.to_string() };
    match FileFormat::from_path(path, "input")? {
        FileFormat::Parquet => {
            let builder = ParquetRecordBatchReaderBuilder::try_new(open_file(path)?).map_err(|e| RuntimeError::parquet(path, e))?;
            Ok(builder.schema().fields().iter().map(|f| column(f.name(), f.data_type())).collect())
        }
        FileFormat::Csv => Ok(csv_header(path, options)?.iter().map(|n| column(n, &DataType::Utf8)).collect()),
        FileFormat::Excel => {
            Ok(ExcelSheet::open(path, options.sheet.as_deref())?.names.iter().map(|n| column(n, &DataType::Utf8)).collect())
        }
    }
}

/// A reader of one column of a source as it is stored (text for CSV), for inspection.
pub(crate) fn open_raw(path: &Path, column: &str, batch_rows: usize, binding: &Binding) -> Result<InputReader, RuntimeError> {
    let missing = || RuntimeError::Schema {
        file: path.to_path_buf(),
        problems: vec![crate::error::SchemaProblem::MissingColumn { column: column.to_string(), expected: "a column".into() }],
    };
    let options = &binding.source;
    let inner = match FileFormat::from_path(path, "input")? {
        FileFormat::Parquet => {
            let builder = ParquetRecordBatchReaderBuilder::try_new(open_file(path)?).map_err(|e| RuntimeError::parquet(path, e))?;
            let index = builder.schema().fields().iter().position(|f| f.name() == column).ok_or_else(missing)?;
            let mask = ProjectionMask::roots(builder.parquet_schema(), [index]);
            Inner::Parquet(builder.with_projection(mask).with_batch_size(batch_rows).build().map_err(|e| RuntimeError::parquet(path, e))?)
        }
        FileFormat::Csv => {
            let header = csv_header(path, options)?;
            let index = header.iter().position(|n| n == column).ok_or_else(missing)?;
            let fields: Vec<Field> = header.iter().map(|name| Field::new(name.clone(), DataType::Utf8, true)).collect();
            let reader = csv::ReaderBuilder::new(Arc::new(Schema::new(fields)))
                .with_format(csv_format(options)?)
                .with_projection(vec![index])
                .with_batch_size(batch_rows)
                .build(csv_text(path, options)?)
                .map_err(|e| RuntimeError::arrow(path, e))?;
            Inner::Csv(Box::new(reader))
        }
        FileFormat::Excel => {
            let sheet = ExcelSheet::open(path, options.sheet.as_deref())?;
            let index = sheet.names.iter().position(|n| n == column).ok_or_else(missing)?;
            Inner::Excel(Box::new(sheet.project(vec![index], batch_rows)))
        }
    };
    Ok(InputReader { file: path.to_path_buf(), inner, total_rows: None, bound: Vec::new() })
}
