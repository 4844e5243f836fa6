//! Evaluating one record batch: validation, the kernel call, the split of rows between the output
//! and the ledger, and the batch's aggregate sums. Also the public Arrow-level entry point.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

use arrow::array::{Array, ArrayRef, make_array};
use arrow::buffer::NullBuffer;
use arrow::datatypes::{DataType, Field, Schema, SchemaRef};
use arrow::record_batch::{RecordBatch, RecordBatchOptions};
use arrow::util::display::{ArrayFormatter, FormatOptions};
use pol_kernel::{Kernel, KernelSignature, ROW_OK, RowErrorInfo, RowStatus};

use crate::aggregate::{AggregateResult, SideSums, add_batch};
use crate::binding::Binding;
use crate::error::RuntimeError;
use crate::keys::{CODE_DUPLICATE_KEY, DuplicateRows, RepeatedKeys};
use crate::ledger::RowError;
use crate::read::{BoundInput, bound_in_batch, kept_columns};
use crate::schema::{ColumnFrom, OutputColumn, bind_inputs, output_columns, output_schema, output_type};
use crate::validate::{InputFault, convert_batch_into};
use crate::write::{build_array, build_array_from, representable};

/// Code of a row whose result cannot be written in its output type (e.g. money beyond
/// `Decimal128(18, 2)`, an enum index with no variant).
pub const CODE_UNWRITABLE: &str = "V0004";

/// What one batch contributes to a run.
pub(crate) struct BatchOutcome {
    pub rows_in: usize,
    /// The rows that evaluated, in input order, in the output schema.
    pub output: RecordBatch,
    /// The rows that did not, in input order.
    pub ledger: Vec<RowError>,
    pub sums: Vec<SideSums>,
}

/// A batch after the kernel ran, before the output is assembled.
struct Evaluated {
    inputs: Vec<Vec<i64>>,
    outputs: Vec<Vec<i64>>,
    status: Vec<RowStatus>,
    /// Whether each row reaches the output; empty when `all_kept`.
    kept: Vec<bool>,
    all_kept: bool,
    ledger: Vec<RowError>,
    sums: Vec<SideSums>,
}

/// Evaluates batches of one input layout with one kernel.
pub(crate) struct Evaluator<'k> {
    kernel: &'k dyn Kernel,
    bound: Vec<BoundInput>,
    columns: Vec<OutputColumn>,
    schema: SchemaRef,
    /// Column buffers of finished batches, reused by the next ones: fresh half-megabyte vectors
    /// for every batch cost more in page faults than the kernel's arithmetic. It holds at most
    /// the buffers of the batches evaluated at once (one per pool thread).
    spare: Mutex<Spare>,
    /// Rows whose key another row also has ([`crate::keys`]).
    repeats: Repeats<'k>,
    /// Source columns copied to the output as text: index in each batch, name.
    kept: Vec<(usize, String)>,
}

/// The output schema of `columns` followed by the kept columns (nullable text).
fn schema_with_kept<'a>(columns: &[OutputColumn], kept: impl Iterator<Item = &'a String>) -> SchemaRef {
    let base = output_schema(columns);
    let mut fields: Vec<Field> = base.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.extend(kept.map(|name| Field::new(name.clone(), DataType::Utf8, true)));
    Arc::new(Schema::new(fields))
}

/// A kept source column (`batch`'s column `index`, named `name`) as text.
fn kept_text(batch: &RecordBatch, index: usize, name: &str) -> Result<ArrayRef, RuntimeError> {
    arrow::compute::cast(batch.column(index), &DataType::Utf8)
        .map_err(|e| RuntimeError::invalid(format!("the kept column `{name}` cannot be written as text: {e}")))
}

/// Which rows hold a key another row also holds.
pub(crate) enum Repeats<'k> {
    /// By record number: a run's key pass over its one input.
    Rows(DuplicateRows),
    /// By key: a part of a population whose keys an engine grouped.
    Keys(&'k RepeatedKeys),
}

#[derive(Default)]
struct Spare {
    cells: Vec<Vec<i64>>,
    status: Vec<Vec<RowStatus>>,
}

impl<'k> Evaluator<'k> {
    /// An evaluator writing the id columns, the outputs, then `kept` (as nullable text);
    /// a kept name that is also an id or an output is an error.
    pub fn new(
        kernel: &'k dyn Kernel,
        bound: Vec<BoundInput>,
        repeats: Repeats<'k>,
        kept: Vec<(usize, String)>,
    ) -> Result<Self, RuntimeError> {
        let columns = output_columns(kernel.signature());
        if let Some((_, name)) = kept.iter().find(|(_, k)| columns.iter().any(|c| &c.spec.name == k)) {
            return Err(RuntimeError::invalid(format!(
                "the kept column `{name}` has the name of an output column; rename it in the source"
            )));
        }
        let schema = schema_with_kept(&columns, kept.iter().map(|(_, name)| name));
        Ok(Evaluator { kernel, bound, columns, schema, spare: Mutex::new(Spare::default()), repeats, kept })
    }

    fn spare(&self) -> std::sync::MutexGuard<'_, Spare> {
        self.spare.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Hands the buffers of a finished batch back for reuse (those moved into arrays are empty).
    fn recycle(&self, ev: Evaluated) {
        let mut spare = self.spare();
        let keep = ev.inputs.into_iter().chain(ev.outputs).filter(|v| v.capacity() > 0);
        spare.cells.extend(keep);
        spare.status.push(ev.status);
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    fn sig(&self) -> &KernelSignature {
        self.kernel.signature()
    }

    /// Validates and evaluates `batch`, whose rows are the records `rows` (1-based).
    fn evaluate(&self, batch: &RecordBatch, rows: RowNumbers<'_>) -> Evaluated {
        let sig = self.sig();
        let n = batch.num_rows();
        let (mut inputs, mut outputs, mut status) = {
            let mut spare = self.spare();
            let mut take = |_| spare.cells.pop().unwrap_or_default();
            let inputs: Vec<Vec<i64>> = (0..sig.inputs.len()).map(&mut take).collect();
            let outputs: Vec<Vec<i64>> = (0..sig.outputs.len()).map(&mut take).collect();
            (inputs, outputs, spare.status.pop().unwrap_or_default())
        };
        let mut faults = convert_batch_into(batch, &sig.inputs, &self.bound, &mut inputs);
        let column = || sig.inputs.iter().filter(|s| s.is_id).map(|s| s.name.as_str()).collect::<Vec<_>>().join(",");
        let fault = |message: String| InputFault { code: CODE_DUPLICATE_KEY, column: column(), message };
        match &self.repeats {
            Repeats::Rows(duplicates) if !duplicates.is_empty() => {
                let found: Vec<(usize, &String)> = match rows {
                    RowNumbers::From(first) => {
                        duplicates.range(first..first + n as u64).map(|(row, m)| ((row - first) as usize, m)).collect()
                    }
                    RowNumbers::Listed(listed) => {
                        listed.iter().enumerate().filter_map(|(i, row)| Some((i, duplicates.get(row)?))).collect()
                    }
                };
                for (i, message) in found {
                    faults.entry(i).or_insert_with(|| fault(message.clone()));
                }
            }
            Repeats::Keys(repeated) if !repeated.is_empty() => {
                let key_columns: Vec<&Vec<i64>> = sig.inputs.iter().zip(&inputs).filter(|(s, _)| s.is_id).map(|(_, c)| c).collect();
                // A row with another fault keeps it, as in a run (the first problem is recorded).
                let found: Vec<(usize, String)> = (0..n)
                    .filter(|i| !faults.contains_key(i))
                    .filter_map(|i| {
                        let key: Vec<i64> = key_columns.iter().map(|c| c[i]).collect();
                        Some((i, repeated.message(&key, rows.number(i))?))
                    })
                    .collect();
                for (i, message) in found {
                    faults.insert(i, fault(message));
                }
            }
            _ => {}
        }
        for out in &mut outputs {
            out.clear();
            out.resize(n, 0);
        }
        status.clear();
        status.resize(n, ROW_OK);
        {
            let ins: Vec<&[i64]> = inputs.iter().map(Vec::as_slice).collect();
            let mut outs: Vec<&mut [i64]> = outputs.iter_mut().map(Vec::as_mut_slice).collect();
            self.kernel.eval_batch(&ins, &mut outs, &mut status);
        }
        // The per-row pass below is needed only when some row failed; usually none did.
        let all_ok = faults.is_empty()
            && status.iter().all(|s| *s == ROW_OK)
            && sig.outputs.iter().zip(&outputs).all(|(spec, col)| col.iter().all(|v| representable(&spec.ty, *v)));
        if all_ok {
            let mut sums = vec![SideSums::default(); sig.aggregates.len()];
            add_batch(sig, &inputs, &outputs, None, &mut sums);
            return Evaluated { inputs, outputs, status, kept: Vec::new(), all_kept: true, ledger: Vec::new(), sums };
        }
        let mut kept = vec![true; n];
        let mut ledger = Vec::new();
        let mut described: BTreeMap<RowStatus, RowErrorInfo> = BTreeMap::new();
        let mut ids: Option<Vec<ArrayFormatter<'_>>> = None;
        for row in 0..n {
            let error = if let Some(fault) = faults.get(&row) {
                Some((fault.code.to_string(), String::new(), fault.column.clone(), fault.message.clone()))
            } else if status[row] != ROW_OK {
                let info = described.entry(status[row]).or_insert_with(|| self.kernel.describe_error(status[row]));
                Some((info.code.to_string(), info.rule.clone(), String::new(), info.message.clone()))
            } else {
                self.unwritable(&outputs, row)
            };
            let Some((code, rule, column, message)) = error else { continue };
            kept[row] = false;
            let formatters = ids.get_or_insert_with(|| self.id_formatters(batch));
            let ids = formatters.iter().map(|f| f.value(row).to_string()).collect();
            ledger.push(RowError { row: rows.number(row), ids, code, rule, column, message });
        }
        let all_kept = ledger.is_empty();
        let mut sums = vec![SideSums::default(); sig.aggregates.len()];
        add_batch(sig, &inputs, &outputs, (!all_kept).then_some(kept.as_slice()), &mut sums);
        Evaluated { inputs, outputs, status, kept, all_kept, ledger, sums }
    }

    /// Formatters of the id columns' cells as read (an empty string for a null cell).
    fn id_formatters<'b>(&self, batch: &'b RecordBatch) -> Vec<ArrayFormatter<'b>> {
        let sig = self.sig();
        static OPTIONS: FormatOptions<'static> = FormatOptions::new();
        sig.inputs
            .iter()
            .zip(&self.bound)
            .filter(|(spec, _)| spec.is_id)
            .filter_map(|(_, b)| ArrayFormatter::try_new(batch.column(b.column?).as_ref(), &OPTIONS).ok())
            .collect()
    }

    /// The first output cell of `row` that its type cannot hold, as a ledger entry.
    fn unwritable(&self, outputs: &[Vec<i64>], row: usize) -> Option<(String, String, String, String)> {
        let sig = self.sig();
        sig.outputs.iter().zip(outputs).find_map(|(spec, col)| {
            let v = col[row];
            (!representable(&spec.ty, v)).then(|| {
                (
                    CODE_UNWRITABLE.to_string(),
                    spec.name.clone(),
                    spec.name.clone(),
                    format!(
                        "output `{}`: value {} cannot be written as {}",
                        spec.name,
                        crate::value::format_value(&spec.ty, v),
                        output_type(&spec.ty)
                    ),
                )
            })
        })
    }

    /// Evaluates `batch` for a run: the output holds the kept rows only.
    pub fn run_batch(&self, batch: &RecordBatch, first_row: u64) -> Result<BatchOutcome, RuntimeError> {
        let mut ev = self.evaluate(batch, RowNumbers::From(first_row));
        let mut arrays: Vec<ArrayRef> = Vec::with_capacity(self.columns.len());
        for col in &self.columns {
            let source = match col.from {
                ColumnFrom::Input(i) => &mut ev.inputs[i],
                ColumnFrom::Output(j) => &mut ev.outputs[j],
            };
            let array = if ev.all_kept {
                build_array_from(&col.spec.ty, source)
            } else {
                let values = source.iter().zip(&ev.kept).filter(|(_, k)| **k).map(|(v, _)| *v).collect();
                build_array(&col.spec.ty, values)
            };
            arrays.push(array.map_err(|e| RuntimeError::invalid(e.to_string()))?);
        }
        if !self.kept.is_empty() {
            let mask = (!ev.all_kept).then(|| arrow::array::BooleanArray::from(ev.kept.clone()));
            for (index, name) in &self.kept {
                let text = kept_text(batch, *index, name)?;
                let array = match &mask {
                    None => text,
                    Some(mask) => arrow::compute::filter(&text, mask).map_err(|e| RuntimeError::invalid(format!("internal error: {e}")))?,
                };
                arrays.push(array);
            }
        }
        let rows = if ev.all_kept { batch.num_rows() } else { ev.kept.iter().filter(|k| **k).count() };
        let options = RecordBatchOptions::new().with_row_count(Some(rows));
        let output = RecordBatch::try_new_with_options(self.schema.clone(), arrays, &options)
            .map_err(|e| RuntimeError::invalid(format!("internal error: {e}")))?;
        let ledger = std::mem::take(&mut ev.ledger);
        let sums = std::mem::take(&mut ev.sums);
        self.recycle(ev);
        Ok(BatchOutcome { rows_in: batch.num_rows(), output, ledger, sums })
    }
}

/// The record numbers of a batch's rows (1-based, as the ledger gives them).
#[derive(Clone, Copy, Debug)]
pub enum RowNumbers<'a> {
    /// Consecutive records from this one on.
    From(u64),
    /// One number for each row.
    Listed(&'a [u64]),
}

impl RowNumbers<'_> {
    /// The number of row `i` (a listed batch's length was checked against the batch's).
    fn number(&self, i: usize) -> u64 {
        match self {
            RowNumbers::From(first) => first + i as u64,
            RowNumbers::Listed(rows) => rows[i],
        }
    }
}

/// What one batch of a population split into parts (an engine's partitions) contributes to its
/// run: the output rows, the ledger rows and the aggregate sums, exactly as `run` computes them.
#[derive(Debug)]
pub struct PartEvaluation {
    /// A run's output columns (the key columns, then every output, typed as in an output file,
    /// then the binding's kept columns as text) for every row of the batch, in order; every
    /// column is nullable and the cells of a row that failed are null.
    pub rows: RecordBatch,
    /// The rows that failed, in order, with the numbers given.
    pub errors: Vec<RowError>,
    /// The index in the batch of each row of `errors`.
    pub failed: Vec<usize>,
    /// Each aggregate requirement's two sides summed over the rows that evaluated: the parts'
    /// sums, added with [`SideSums::checked_add`], decide the requirement in [`check_aggregates`].
    pub sums: Vec<SideSums>,
}

/// Evaluates one batch of a population whose parts are evaluated separately (by Spark or Ray
/// workers): the batch's rows are the records `rows`, and `repeated` are the keys of the whole
/// population that several rows hold ([`RepeatedKeys`]). The output, ledger and
/// aggregate sums of all parts together are those of a run over the whole population.
pub fn eval_part(
    kernel: &dyn Kernel,
    batch: &RecordBatch,
    binding: Option<&Binding>,
    rows: RowNumbers<'_>,
    repeated: &RepeatedKeys,
) -> Result<PartEvaluation, RuntimeError> {
    if let RowNumbers::Listed(listed) = rows
        && listed.len() != batch.num_rows()
    {
        return Err(RuntimeError::invalid(format!("{} row numbers were given for a batch of {} rows", listed.len(), batch.num_rows())));
    }
    let sig = kernel.signature();
    let bindings = bind_inputs(Path::new(BATCH), batch.schema_ref(), &sig.inputs, binding, false)?;
    let bound = bound_in_batch(bindings);
    let kept = kept_columns(&bound, binding);
    let evaluator = Evaluator::new(kernel, bound, Repeats::Keys(repeated), kept)?;
    evaluator.part_batch(batch, rows)
}

/// The schema of [`PartEvaluation::rows`] for `kernel` read through `binding`.
pub fn part_schema(kernel: &dyn Kernel, binding: Option<&Binding>) -> SchemaRef {
    let schema = schema_with_kept(&output_columns(kernel.signature()), binding.map_or(&[][..], |b| b.keep.as_slice()).iter());
    let fields: Vec<Field> = schema.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect();
    Arc::new(Schema::new(fields))
}

/// The names of the columns of a source of `schema` that a run of `kernel` through `binding`
/// reads (the fields' columns and the kept ones), in the source's order; a source that cannot be
/// read so is an error naming every problem, as for a run.
pub fn source_columns(kernel: &dyn Kernel, schema: &Schema, binding: Option<&Binding>) -> Result<Vec<String>, RuntimeError> {
    let bindings = bind_inputs(Path::new(BATCH), schema, &kernel.signature().inputs, binding, false)?;
    let mut used: Vec<usize> = bindings.iter().filter_map(|b| b.file_index).collect();
    used.sort_unstable();
    used.dedup();
    Ok(used.into_iter().map(|i| schema.field(i).name().clone()).collect())
}

/// How an in-memory batch is named in messages.
const BATCH: &str = "<record batch>";

impl Evaluator<'_> {
    /// Evaluates `batch` as one part of a population: every row kept, failed rows null.
    fn part_batch(&self, batch: &RecordBatch, rows: RowNumbers<'_>) -> Result<PartEvaluation, RuntimeError> {
        let place = Path::new(BATCH);
        let mut ev = self.evaluate(batch, rows);
        let failed = (!ev.all_kept).then(|| NullBuffer::from(ev.kept.clone()));
        let with_nulls = |array: ArrayRef| -> Result<ArrayRef, RuntimeError> {
            let Some(failed) = &failed else { return Ok(array) };
            let nulls = NullBuffer::union(array.nulls(), Some(failed));
            let data = array.to_data().into_builder().nulls(nulls);
            Ok(make_array(data.build().map_err(|e| RuntimeError::arrow(place, e))?))
        };
        let mut arrays = Vec::with_capacity(self.schema.fields().len());
        for col in &self.columns {
            let values = match col.from {
                ColumnFrom::Input(i) => &mut ev.inputs[i],
                ColumnFrom::Output(j) => &mut ev.outputs[j],
            };
            // A failed row's cells may not be writable (that may be why it failed); they are
            // null in the result, so any writable value stands in.
            if !ev.all_kept {
                for (v, _) in values.iter_mut().zip(&ev.kept).filter(|(_, k)| !**k) {
                    *v = 0;
                }
            }
            let array = build_array(&col.spec.ty, std::mem::take(values)).map_err(|e| RuntimeError::arrow(place, e))?;
            arrays.push(with_nulls(array)?);
        }
        for (index, name) in &self.kept {
            arrays.push(with_nulls(kept_text(batch, *index, name)?)?);
        }
        let fields: Vec<Field> = self.schema.fields().iter().map(|f| f.as_ref().clone().with_nullable(true)).collect();
        let options = RecordBatchOptions::new().with_row_count(Some(batch.num_rows()));
        let rows = RecordBatch::try_new_with_options(Arc::new(Schema::new(fields)), arrays, &options)
            .map_err(|e| RuntimeError::arrow(place, e))?;
        let failed = if ev.all_kept { Vec::new() } else { ev.kept.iter().enumerate().filter(|(_, k)| !**k).map(|(i, _)| i).collect() };
        Ok(PartEvaluation { rows, errors: std::mem::take(&mut ev.ledger), failed, sums: std::mem::take(&mut ev.sums) })
    }
}

/// The result of [`eval_record_batch`].
#[derive(Debug)]
pub struct BatchEvaluation {
    /// One column per kernel output (types as in output files), one row per input row; the cells
    /// of a row that failed are null.
    pub outputs: RecordBatch,
    /// The rows that failed, in order; `row` is the 1-based row number within the batch.
    pub errors: Vec<RowError>,
}

/// Evaluates `kernel` over an in-memory Arrow batch, with the same type rules, validation and
/// error codes as a file run (for callers such as DataFusion that hold Arrow data already).
///
/// Columns are matched by name; a schema mismatch is an error naming every problem.
pub fn eval_record_batch(kernel: &dyn Kernel, batch: &RecordBatch) -> Result<BatchEvaluation, RuntimeError> {
    eval_record_batch_with(kernel, batch, None)
}

/// [`eval_record_batch`] with a binding: its columns and conversions (its CSV layout and kept
/// columns are ignored).
pub fn eval_record_batch_with(
    kernel: &dyn Kernel,
    batch: &RecordBatch,
    binding: Option<&Binding>,
) -> Result<BatchEvaluation, RuntimeError> {
    let without_keep = binding.filter(|b| !b.keep.is_empty()).map(|b| Binding { keep: Vec::new(), ..b.clone() });
    let part = eval_part(kernel, batch, without_keep.as_ref().or(binding), RowNumbers::From(1), &RepeatedKeys::default())?;
    // The outputs follow the key columns.
    let keys = kernel.signature().inputs.iter().filter(|s| s.is_id).count();
    let outputs =
        part.rows.project(&(keys..part.rows.num_columns()).collect::<Vec<_>>()).map_err(|e| RuntimeError::arrow(Path::new(BATCH), e))?;
    let fields: Vec<Field> = outputs
        .schema()
        .fields()
        .iter()
        .zip(outputs.columns())
        .map(|(f, a)| f.as_ref().clone().with_nullable(a.null_count() > 0))
        .collect();
    let outputs = RecordBatch::try_new_with_options(
        Arc::new(Schema::new(fields)),
        outputs.columns().to_vec(),
        &RecordBatchOptions::new().with_row_count(Some(batch.num_rows())),
    )
    .map_err(|e| RuntimeError::arrow(Path::new(BATCH), e))?;
    Ok(BatchEvaluation { outputs, errors: part.errors })
}

/// Decides every aggregate requirement of `sig` from the sums of all the parts of a run
/// ([`PartEvaluation::sums`] added up), exactly as a run does.
pub fn check_aggregates(sig: &KernelSignature, sums: &[SideSums]) -> Result<Vec<AggregateResult>, RuntimeError> {
    if sums.len() != sig.aggregates.len() {
        return Err(RuntimeError::invalid(format!(
            "{} aggregate sums were given; the scheme has {} aggregate requirements",
            sums.len(),
            sig.aggregates.len()
        )));
    }
    crate::aggregate::evaluate(sig, sums)
}
