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

use crate::error::RuntimeError;
use crate::schema::{FileFormat, Source, bind_inputs};

/// A kernel input located in the batches an [`InputReader`] yields.
#[derive(Clone, Debug)]
pub(crate) struct BoundInput {
    /// Column index inside each yielded batch.
    pub column: usize,
    pub source: Source,
}

enum Inner {
    Parquet(ParquetRecordBatchReader),
    Csv(Box<csv::Reader<BufReader<File>>>),
}

/// A stream of record batches holding the needed columns of one input file.
pub(crate) struct InputReader {
    file: PathBuf,
    inner: Inner,
    /// The number of rows when the format records it (Parquet), for progress bars.
    pub total_rows: Option<u64>,
    pub bound: Vec<BoundInput>,
}

impl InputReader {
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
        }
    }
}

fn open_file(path: &Path) -> Result<File, RuntimeError> {
    File::open(path).map_err(|e| RuntimeError::io(path, "open", e))
}

/// Opens `path`, checks every input's presence and type (all problems at once), and returns a
/// reader of batches of at most `batch_rows` rows.
pub(crate) fn open_input(path: &Path, inputs: &[ColumnSpec], batch_rows: usize) -> Result<InputReader, RuntimeError> {
    let batch_rows = batch_rows.max(1);
    let format = FileFormat::from_path(path, "input")?;
    let (inner, schema, bindings, total_rows) = match format {
        FileFormat::Parquet => {
            let builder = ParquetRecordBatchReaderBuilder::try_new(open_file(path)?).map_err(|e| RuntimeError::parquet(path, e))?;
            let bindings = bind_inputs(path, builder.schema(), inputs, false)?;
            let mut roots: Vec<usize> = bindings.iter().map(|b| b.file_index).collect();
            roots.sort_unstable();
            roots.dedup();
            let mask = ProjectionMask::roots(builder.parquet_schema(), roots);
            let total = u64::try_from(builder.metadata().file_metadata().num_rows()).ok();
            let builder = with_string_views(path, builder, &bindings)?;
            let reader = builder.with_projection(mask).with_batch_size(batch_rows).build().map_err(|e| RuntimeError::parquet(path, e))?;
            let schema = reader_schema(&reader);
            (Inner::Parquet(reader), schema, bindings, total)
        }
        FileFormat::Csv => {
            let format = csv::reader::Format::default().with_header(true);
            let (header, _) = format.infer_schema(open_file(path)?, Some(0)).map_err(|e| RuntimeError::arrow(path, e))?;
            // Every column is read as text and parsed here, so that one bad cell sends one row to
            // the ledger instead of failing the whole file.
            let fields: Vec<Field> = header.fields().iter().map(|f| Field::new(f.name().clone(), DataType::Utf8, true)).collect();
            let text_schema = Arc::new(Schema::new(fields));
            let bindings = bind_inputs(path, &text_schema, inputs, true)?;
            let mut projection: Vec<usize> = bindings.iter().map(|b| b.file_index).collect();
            projection.sort_unstable();
            projection.dedup();
            let reader = csv::ReaderBuilder::new(text_schema)
                .with_header(true)
                .with_projection(projection)
                .with_batch_size(batch_rows)
                .build(BufReader::with_capacity(1 << 20, open_file(path)?))
                .map_err(|e| RuntimeError::arrow(path, e))?;
            let schema = reader.schema();
            (Inner::Csv(Box::new(reader)), schema, bindings, None)
        }
    };
    let mut bound = Vec::with_capacity(inputs.len());
    for (spec, binding) in inputs.iter().zip(bindings) {
        let column = schema.index_of(&spec.name).map_err(|e| RuntimeError::arrow(path, e))?;
        bound.push(BoundInput { column, source: binding.source });
    }
    Ok(InputReader { file: path.to_path_buf(), inner, total_rows, bound })
}

/// The same reader, decoding the needed plain string columns (enum names) as `Utf8View`: for
/// short strings this decodes faster than `Utf8` (no offsets to build), and a name of at most 12
/// bytes is then compared as one 128-bit view (see `validate`). Types are checked before this,
/// against the file's own schema, so messages name the file's types.
fn with_string_views(
    path: &Path,
    builder: ParquetRecordBatchReaderBuilder<File>,
    bindings: &[crate::schema::InputBinding],
) -> Result<ParquetRecordBatchReaderBuilder<File>, RuntimeError> {
    let schema = builder.schema().clone();
    let is_string = |i: usize| matches!(schema.field(i).data_type(), DataType::Utf8 | DataType::LargeUtf8);
    if !bindings.iter().any(|b| b.source == Source::Names && is_string(b.file_index)) {
        return Ok(builder);
    }
    let fields: Vec<Field> = schema
        .fields()
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let view = is_string(i) && bindings.iter().any(|b| b.file_index == i && b.source == Source::Names);
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
