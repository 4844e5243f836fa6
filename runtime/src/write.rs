//! Output files: the kernel's `i64` cells as typed Arrow arrays, written to Parquet or CSV under
//! a temporary name, in write calls aligned so that the bytes do not depend on batch sizes.

use std::io::BufWriter;
use std::path::Path;
use std::sync::Arc;

use arrow::array::{ArrayRef, BooleanArray, Date32Array, Decimal128Array, Int64Array, StringArray};
use arrow::compute::concat_batches;
use arrow::csv;
use arrow::datatypes::SchemaRef;
use arrow::record_batch::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use pol_kernel::ColumnType;

use crate::atomic::AtomicFile;
use crate::background::{BackgroundWriter, Written};
use crate::error::RuntimeError;
use crate::schema::FileFormat;

/// Rows per Parquet mini-batch. Every write call starts at a multiple of this row offset, so
/// page boundaries (checked after each mini-batch) are the same whatever the batch sizes were.
pub const WRITE_ALIGN: usize = 1024;

/// Rows per Parquet row group (a multiple of [`WRITE_ALIGN`]).
pub const ROW_GROUP_ROWS: usize = 1024 * 1024;

/// The Parquet settings used for every file the runtime writes.
///
/// Uncompressed and without dictionary encoding: TOOLCHAIN.md measured this twice as fast as the
/// defaults (29M vs 13M rows/s), and benefit outputs are mostly distinct amounts that dictionaries
/// do not shrink. Statistics are kept per column chunk only (no page index), which readers still
/// use to skip row groups.
pub fn parquet_writer_properties() -> WriterProperties {
    WriterProperties::builder()
        .set_compression(Compression::UNCOMPRESSED)
        .set_dictionary_enabled(false)
        .set_statistics_enabled(EnabledStatistics::Chunk)
        .set_write_batch_size(WRITE_ALIGN)
        .set_max_row_group_row_count(Some(ROW_GROUP_ROWS))
        .build()
}

/// Whether `value` can be written as `ty` (see [`crate::schema::output_type`]).
pub(crate) fn representable(ty: &ColumnType, value: i64) -> bool {
    const DEC18: i64 = 999_999_999_999_999_999;
    match ty {
        ColumnType::Int | ColumnType::Months => true,
        ColumnType::Bool => value == 0 || value == 1,
        ColumnType::Date => i32::try_from(value).is_ok(),
        ColumnType::Money | ColumnType::Decimal { .. } => (-DEC18..=DEC18).contains(&value),
        ColumnType::Enum { variants, .. } => usize::try_from(value).is_ok_and(|i| i < variants.len()),
    }
}

/// A typed Arrow array of `values`, which must all be [`representable`] (others become the
/// type's zero, never a panic).
pub(crate) fn build_array(ty: &ColumnType, values: Vec<i64>) -> Result<ArrayRef, arrow::error::ArrowError> {
    match ty {
        ColumnType::Int | ColumnType::Months => Ok(Arc::new(Int64Array::from(values))),
        _ => build_slice(ty, &values),
    }
}

/// [`build_array`] from a buffer that stays reusable: an integer column takes the buffer (no
/// copy), every other type is converted from it and leaves it as it was.
pub(crate) fn build_array_from(ty: &ColumnType, values: &mut Vec<i64>) -> Result<ArrayRef, arrow::error::ArrowError> {
    match ty {
        ColumnType::Int | ColumnType::Months => build_array(ty, std::mem::take(values)),
        _ => build_slice(ty, values),
    }
}

fn build_slice(ty: &ColumnType, values: &[i64]) -> Result<ArrayRef, arrow::error::ArrowError> {
    Ok(match ty {
        ColumnType::Int | ColumnType::Months => Arc::new(Int64Array::from_iter_values(values.iter().copied())),
        ColumnType::Bool => Arc::new(values.iter().map(|v| Some(*v != 0)).collect::<BooleanArray>()),
        ColumnType::Date => Arc::new(Date32Array::from_iter_values(values.iter().map(|v| i32::try_from(*v).unwrap_or(0)))),
        ColumnType::Money | ColumnType::Decimal { .. } => {
            let scale = i8::try_from(crate::value::scale_of(ty)).unwrap_or(0);
            Arc::new(Decimal128Array::from_iter_values(values.iter().map(|v| i128::from(*v))).with_precision_and_scale(18, scale)?)
        }
        ColumnType::Enum { variants, .. } => Arc::new(StringArray::from_iter_values(
            values.iter().map(|v| usize::try_from(*v).ok().and_then(|i| variants.get(i)).map_or("", String::as_str)),
        )),
    })
}

enum Sink {
    Parquet(ArrowWriter<BackgroundWriter>),
    Csv(csv::Writer<BufWriter<BackgroundWriter>>),
    Xlsx(Box<crate::excel::XlsxWriter>),
}

/// An output file being written; it appears under its final name only through
/// [`FinishedOutput::commit`].
pub(crate) struct OutputWriter {
    atomic: AtomicFile,
    schema: SchemaRef,
    sink: Sink,
    /// Rows held back so that the next write call starts at an aligned offset.
    tail: Option<RecordBatch>,
    /// Rows written so far, excluding the held-back rows.
    rows: u64,
}

/// A complete file of a run still under its temporary name, with what the manifest records.
pub(crate) struct FinishedFile {
    pub atomic: AtomicFile,
    /// Data rows in the file (the header of a CSV file is not one).
    pub rows: u64,
    pub written: Written,
}

impl OutputWriter {
    pub fn create(path: &Path, schema: SchemaRef) -> Result<Self, RuntimeError> {
        let format = FileFormat::from_path(path, "output")?;
        let atomic = AtomicFile::create(path)?;
        if format == FileFormat::Excel {
            // The workbook keeps its rows in temporary files beside the output until it is saved.
            let dir = atomic.temp_path().parent().map(Path::to_path_buf).unwrap_or_default();
            let sink = Sink::Xlsx(Box::new(crate::excel::XlsxWriter::new(&schema, &dir)?));
            return Ok(OutputWriter { atomic, schema, sink, tail: None, rows: 0 });
        }
        let background = BackgroundWriter::new(atomic.file()?).map_err(|e| RuntimeError::io(path, "write", e))?;
        let sink = match format {
            // The Parquet writer buffers whole pages itself; the background writer chunks them.
            FileFormat::Parquet => Sink::Parquet(
                ArrowWriter::try_new(background, schema.clone(), Some(parquet_writer_properties()))
                    .map_err(|e| RuntimeError::parquet(path, e))?,
            ),
            FileFormat::Csv | FileFormat::Excel => {
                Sink::Csv(csv::WriterBuilder::new().with_header(true).build(BufWriter::with_capacity(1 << 16, background)))
            }
        };
        Ok(OutputWriter { atomic, schema, sink, tail: None, rows: 0 })
    }

    fn path(&self) -> &Path {
        self.atomic.final_path()
    }

    fn write_raw(&mut self, batch: &RecordBatch) -> Result<(), RuntimeError> {
        if batch.num_rows() == 0 {
            return Ok(());
        }
        self.rows += batch.num_rows() as u64;
        match &mut self.sink {
            Sink::Parquet(w) => w.write(batch).map_err(|e| RuntimeError::parquet(self.atomic.final_path(), e)),
            Sink::Csv(w) => w.write(batch).map_err(|e| RuntimeError::arrow(self.atomic.final_path(), e)),
            Sink::Xlsx(w) => w.write(batch, self.atomic.final_path()),
        }
    }

    /// Appends `batch` (of the output schema).
    pub fn write(&mut self, batch: &RecordBatch) -> Result<(), RuntimeError> {
        let mut rest = batch.clone();
        if let Some(tail) = self.tail.take() {
            let take = (WRITE_ALIGN - tail.num_rows()).min(rest.num_rows());
            let head = rest.slice(0, take);
            let merged = concat_batches(&self.schema, [&tail, &head]).map_err(|e| RuntimeError::arrow(self.path(), e))?;
            rest = rest.slice(take, rest.num_rows() - take);
            if merged.num_rows() < WRITE_ALIGN {
                self.tail = Some(merged);
                return Ok(());
            }
            self.write_raw(&merged)?;
        }
        let whole = rest.num_rows() / WRITE_ALIGN * WRITE_ALIGN;
        if whole > 0 {
            self.write_raw(&rest.slice(0, whole))?;
        }
        if whole < rest.num_rows() {
            self.tail = Some(rest.slice(whole, rest.num_rows() - whole));
        }
        Ok(())
    }

    /// Writes the held-back rows and the file's footer; the file keeps its temporary name.
    pub fn finish(mut self) -> Result<FinishedFile, RuntimeError> {
        if let Some(tail) = self.tail.take() {
            self.write_raw(&tail)?;
        }
        let path = self.atomic.final_path().to_path_buf();
        let mut buffered = match self.sink {
            Sink::Parquet(w) => w.into_inner().map_err(|e| RuntimeError::parquet(&path, e))?,
            Sink::Xlsx(w) => {
                w.finish(self.atomic.file()?, &path)?;
                let written = crate::commit::hash_file(self.atomic.temp_path())?;
                return Ok(FinishedFile { atomic: self.atomic, rows: self.rows, written: Written { bytes: written.0, sha256: written.1 } });
            }
            Sink::Csv(w) => {
                let mut w = w;
                if self.rows == 0 {
                    // The CSV writer prints the header with the first batch; an empty output
                    // still gets one.
                    w.write(&RecordBatch::new_empty(self.schema.clone())).map_err(|e| RuntimeError::arrow(&path, e))?;
                }
                w.into_inner().into_inner().map_err(|e| RuntimeError::io(&path, "write", e.into_error()))?
            }
        };
        let written = buffered.finish().map_err(|e| RuntimeError::io(&path, "write", e))?;
        Ok(FinishedFile { atomic: self.atomic, rows: self.rows, written })
    }
}
