//! Measurements for `pol bench`: reading a file's needed columns into memory, and the IO floor
//! (decode the input, encode an output of the same shape, no evaluation). The end-to-end figure
//! is [`crate::run`]'s [`crate::RunSummary`].

use std::path::Path;
use std::time::{Duration, Instant};

use arrow::array::ArrayRef;
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use pol_kernel::{ColumnSpec, KernelSignature};

use crate::error::RuntimeError;
use crate::read::open_input;
use crate::schema::{ColumnFrom, output_columns, output_schema};
use crate::validate::convert_batch;
use crate::write::{OutputWriter, build_array};

/// A file's needed columns in the kernel's representation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnsInMemory {
    /// `columns[i]` is the column of `inputs[i]`, one cell per row.
    pub columns: Vec<Vec<i64>>,
    pub rows: u64,
    /// Rows with a missing, invalid or out-of-domain cell; their faulty cells hold an in-domain
    /// placeholder, so a kernel can still be timed over every row.
    pub invalid_rows: u64,
    /// Time to open, decode, validate and convert.
    pub elapsed: Duration,
}

/// Reads the columns `inputs` of `path` (matched by name, checked as in a run) into memory.
pub fn read_columns(inputs: &[ColumnSpec], path: &Path, batch_rows: usize) -> Result<ColumnsInMemory, RuntimeError> {
    let start = Instant::now();
    let mut reader = open_input(path, inputs, batch_rows, None)?;
    let capacity = reader.total_rows.and_then(|n| usize::try_from(n).ok()).unwrap_or(0);
    let mut columns: Vec<Vec<i64>> = inputs.iter().map(|_| Vec::with_capacity(capacity)).collect();
    let mut rows = 0u64;
    let mut invalid_rows = 0u64;
    while let Some(batch) = reader.next_batch()? {
        let converted = convert_batch(&batch, inputs, &reader.bound);
        for (all, part) in columns.iter_mut().zip(&converted.columns) {
            all.extend_from_slice(part);
        }
        rows += batch.num_rows() as u64;
        invalid_rows += converted.faults.len() as u64;
    }
    Ok(ColumnsInMemory { columns, rows, invalid_rows, elapsed: start.elapsed() })
}

/// The cost of a run without its evaluation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IoFloor {
    pub rows: u64,
    /// Waiting for the reader thread to decode the needed input columns.
    pub read: Duration,
    /// Converting ids and encoding the output file (ids plus every output column).
    pub write: Duration,
    /// Wall time of the whole measurement.
    pub elapsed: Duration,
}

/// Reads `input` and writes `output` with the shape a run of `sig` would give (ids as read,
/// every output column zero), with the run's threads minus evaluation: a reader thread decodes
/// batches, the calling thread builds and encodes the output, the output writer's helper thread
/// does the `write` calls, and the file is synced and renamed as a run's output is.
pub fn measure_io_floor(sig: &KernelSignature, input: &Path, output: &Path, batch_rows: usize) -> Result<IoFloor, RuntimeError> {
    let start = Instant::now();
    let mut reader = open_input(input, &sig.inputs, batch_rows, None)?;
    let columns = output_columns(sig);
    let schema = output_schema(&columns);
    let mut writer = OutputWriter::create(output, schema.clone())?;
    let id_inputs: Vec<ColumnSpec> = sig.inputs.iter().filter(|s| s.is_id).cloned().collect();
    let id_bound: Vec<_> = sig.inputs.iter().zip(&reader.bound).filter(|(s, _)| s.is_id).map(|(_, b)| b.clone()).collect();
    let (mut read, mut write, mut rows) = (Duration::ZERO, Duration::ZERO, 0u64);
    // As in a run, a reader thread decodes batches ahead (a few at most) while this thread
    // encodes; `read` is then the time spent waiting for the reader.
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Option<RecordBatch>, RuntimeError>>(4);
    let reading = std::thread::spawn(move || {
        loop {
            let next = reader.next_batch();
            let stop = !matches!(next, Ok(Some(_)));
            if tx.send(next).is_err() || stop {
                return;
            }
        }
    });
    loop {
        let t = Instant::now();
        let batch = rx.recv().map_err(|_| RuntimeError::invalid("internal error: the reader stopped"))??;
        read += t.elapsed();
        let Some(batch) = batch else { break };
        let t = Instant::now();
        let n = batch.num_rows();
        let mut ids = convert_batch(&batch, &id_inputs, &id_bound).columns.into_iter();
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(columns.len());
        for col in &columns {
            let values = match col.from {
                ColumnFrom::Input(_) => ids.next().unwrap_or_default(),
                ColumnFrom::Output(_) => vec![0; n],
            };
            arrays.push(build_array(&col.spec.ty, values).map_err(|e| RuntimeError::arrow(output, e))?);
        }
        let options = RecordBatchOptions::new().with_row_count(Some(n));
        let out = RecordBatch::try_new_with_options(schema.clone(), arrays, &options).map_err(|e| RuntimeError::arrow(output, e))?;
        writer.write(&out)?;
        write += t.elapsed();
        rows += n as u64;
    }
    drop(rx);
    let _ = reading.join();
    let t = Instant::now();
    writer.finish()?.atomic.commit()?;
    write += t.elapsed();
    Ok(IoFloor { rows, read, write, elapsed: start.elapsed() })
}
