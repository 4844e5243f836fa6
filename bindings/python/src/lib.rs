//! `pol._pol`, the native half of the Python package `pol` (the Python half is
//! `python/pol/`): checking and compiling files exactly as the CLI does (it calls `pol_cli`), and
//! evaluating a compiled kernel on Arrow record batches through `pol_runtime`'s part API, so
//! that Spark and Ray workers produce the output, ledger and aggregate sums of `pol run`.
//!
//! Arrow data crosses through the Arrow C data interface (`arrow-pyarrow`), without copies; the
//! GIL is released while a kernel is compiled or evaluates. A [`Kernel`] pickles as its
//! [`Spec`] (the source texts and options), and a process compiles each spec once ([`CACHE`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use arrow_array::builder::{ListBuilder, StringBuilder};
use arrow_array::{Array, ArrayRef, Int64Array, RecordBatch, RecordBatchOptions};
use arrow_data::ArrayData;
use arrow_pyarrow::{FromPyArrow, PyArrowType, ToPyArrow};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use pol_cli::load::{Found, Loaded, check_found, find_framework, read_source};
use pol_core::compliance::prove::Budget;
use pol_core::span::SourceFile;
use pol_runtime::{Binding, KeyGroup, PartEvaluation, RepeatedKeys, RowNumbers, RuntimeError, SideSums};
use pyo3::prelude::*;
use serde::{Deserialize, Serialize};

/// Everything a kernel is compiled from: what a pickled [`Kernel`] carries to a worker.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct Spec {
    scheme_name: String,
    scheme: String,
    /// The framework a scheme implements (none for a file that is not a scheme).
    framework_name: Option<String>,
    framework: Option<String>,
    as_of: Option<String>,
    rules: Vec<String>,
    /// The binding's TOML text.
    binding: Option<String>,
    /// `jit` or `interp`.
    engine: String,
}

impl Spec {
    /// The SHA-256 of the spec: its cache key.
    fn key(&self) -> String {
        use sha2::{Digest, Sha256};
        let json = serde_json::to_vec(self).unwrap_or_default();
        Sha256::digest(&json).iter().map(|b| format!("{b:02x}")).collect()
    }
}

/// A compiled spec.
struct Compiled {
    kernel: Box<dyn pol_kernel::Kernel>,
    binding: Option<Binding>,
    /// The schema of a result batch ([`result_schema`]).
    result: SchemaRef,
    /// The key fields' names, in signature order.
    keys: Vec<String>,
}

/// The kernels compiled in this process, by [`Spec::key`]: a worker compiles a spec once.
static CACHE: OnceLock<Mutex<HashMap<String, Arc<Compiled>>>> = OnceLock::new();

/// Why a spec did not compile: diagnostics (a `pol.CompileError`) or a usage mistake.
enum Failure {
    Diagnostics { text: String, json: String },
    Usage(String),
}

impl Failure {
    fn usage(e: impl std::fmt::Display) -> Failure {
        Failure::Usage(e.to_string())
    }

    fn of_loaded(loaded: &Loaded) -> Failure {
        Failure::Diagnostics { text: loaded.render(), json: serde_json::to_string(&loaded.json_diagnostics()).unwrap_or_default() }
    }

    fn of_lowering(loaded: &Loaded, errs: &[(usize, pol_core::diagnostic::Diagnostic)]) -> Failure {
        let diags: Vec<_> =
            errs.iter().filter_map(|(file, d)| Some(pol_core::diagnostic::to_json(loaded.sources.get(*file)?, d))).collect();
        Failure::Diagnostics {
            text: pol_cli::records::render_errors(loaded, errs),
            json: serde_json::to_string(&diags).unwrap_or_default(),
        }
    }

    fn into_py(self, py: Python<'_>) -> PyErr {
        match self {
            Failure::Diagnostics { text, json } => raise(py, "CompileError", (text, json)),
            Failure::Usage(message) => raise(py, "PolError", (message,)),
        }
    }
}

/// An exception of `pol.errors` (defined in Python, so that it carries attributes).
fn raise<'py, A: pyo3::call::PyCallArgs<'py>>(py: Python<'py>, class: &str, args: A) -> PyErr {
    let made = py.import("pol.errors").and_then(|m| m.getattr(class)).and_then(|c| c.call1(args));
    match made {
        Ok(instance) => PyErr::from_value(instance),
        Err(e) => e,
    }
}

/// A runtime error as the `pol.errors` exception that says what kind it is.
fn runtime_error(py: Python<'_>, e: RuntimeError) -> PyErr {
    match &e {
        RuntimeError::Schema { problems, .. } => {
            let problems: Vec<String> = problems.iter().map(ToString::to_string).collect();
            raise(py, "SchemaError", (e.to_string(), problems))
        }
        _ => raise(py, "PolError", (e.to_string(),)),
    }
}

fn compile_spec(spec: &Spec) -> Result<Compiled, Failure> {
    let scheme = SourceFile::new(spec.scheme_name.clone(), spec.scheme.clone());
    let found = match (&spec.framework_name, &spec.framework) {
        (Some(name), Some(text)) => Found::Framework(SourceFile::new(name.clone(), text.clone())),
        _ => Found::NotAScheme,
    };
    let loaded = check_found(scheme, found, &Budget::default());
    if loaded.has_errors() {
        return Err(Failure::of_loaded(&loaded));
    }
    let as_of = pol_cli::parse_date_arg(spec.as_of.as_deref()).map_err(|e| Failure::Usage(e.0))?;
    let program = match pol_cli::run::run_program(&loaded, &spec.rules, as_of).map_err(|e| Failure::Usage(e.0))? {
        Ok(p) => p,
        Err(errs) => return Err(Failure::of_lowering(&loaded, &errs)),
    };
    let binding = match &spec.binding {
        None => None,
        Some(text) => {
            let binding = Binding::parse(text).map_err(|e| Failure::Usage(format!("the binding: {e}")))?;
            Some(pol_cli::bind::binding_for(&loaded, binding, "the binding").map_err(|e| Failure::Usage(e.0))?)
        }
    };
    let kernel: Box<dyn pol_kernel::Kernel> = match spec.engine.as_str() {
        "jit" => Box::new(pol_jit::JitKernel::compile(&program).map_err(|e| Failure::usage(format!("JIT compilation failed: {e}")))?),
        "interp" => Box::new(pol_core::interp::InterpKernel::new(program)),
        other => return Err(Failure::Usage(format!("engine `{other}`: choose `jit` or `interp`"))),
    };
    let result = result_schema(kernel.as_ref(), binding.as_ref());
    let keys = kernel.signature().inputs.iter().filter(|s| s.is_id).map(|s| s.name.clone()).collect();
    Ok(Compiled { kernel, binding, result, keys })
}

/// The compiled kernel of `spec`, from this process's cache or compiled now (without the GIL).
fn compiled(py: Python<'_>, spec: &Spec) -> PyResult<Arc<Compiled>> {
    let key = spec.key();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(c) = cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).get(&key) {
        return Ok(c.clone());
    }
    let owned = spec.clone();
    let made = py.detach(move || pol_core::on_compiler_stack(move || compile_spec(&owned)));
    let made = Arc::new(made.map_err(|f| f.into_py(py))?);
    cache.lock().unwrap_or_else(std::sync::PoisonError::into_inner).insert(key, made.clone());
    Ok(made)
}

/// Columns a result batch has after the run's output columns.
const STATUS_FIELDS: [&str; 6] = ["pol_row", "pol_status", "pol_rule", "pol_column", "pol_message", "pol_ids"];

/// The schema of [`Kernel::__call__`]'s result: the run's output columns (nullable), then the
/// row number, the status (`ok` or the ledger code), rule, column, message and the key cells as
/// read (null for a row that is ok).
fn result_schema(kernel: &dyn pol_kernel::Kernel, binding: Option<&Binding>) -> SchemaRef {
    let part = pol_runtime::part_schema(kernel, binding);
    let mut fields: Vec<Field> = part.fields().iter().map(|f| f.as_ref().clone()).collect();
    fields.push(Field::new(STATUS_FIELDS[0], DataType::Int64, false));
    fields.push(Field::new(STATUS_FIELDS[1], DataType::Utf8, false));
    for name in &STATUS_FIELDS[2..5] {
        fields.push(Field::new(*name, DataType::Utf8, true));
    }
    fields.push(Field::new(STATUS_FIELDS[5], DataType::List(Arc::new(Field::new("item", DataType::Utf8, true))), true));
    Arc::new(Schema::new(fields))
}

/// A part's rows with their status columns, in [`result_schema`].
fn result_batch(schema: &SchemaRef, part: &PartEvaluation, numbers: &[i64]) -> Result<RecordBatch, arrow_schema::ArrowError> {
    let n = part.rows.num_rows();
    let mut status = StringBuilder::with_capacity(n, 2 * n);
    let (mut rule, mut column, mut message) = (StringBuilder::new(), StringBuilder::new(), StringBuilder::new());
    let mut ids = ListBuilder::new(StringBuilder::new());
    let mut failed = part.failed.iter().zip(&part.errors).peekable();
    for i in 0..n {
        match failed.next_if(|(j, _)| **j == i) {
            Some((_, e)) => {
                status.append_value(&e.code);
                rule.append_value(&e.rule);
                column.append_value(&e.column);
                message.append_value(&e.message);
                for id in &e.ids {
                    ids.values().append_value(id);
                }
                ids.append(true);
            }
            None => {
                status.append_value("ok");
                rule.append_null();
                column.append_null();
                message.append_null();
                ids.append(false);
            }
        }
    }
    let mut columns: Vec<ArrayRef> = part.rows.columns().to_vec();
    columns.push(Arc::new(Int64Array::from(numbers.to_vec())));
    columns.push(Arc::new(status.finish()));
    columns.push(Arc::new(rule.finish()));
    columns.push(Arc::new(column.finish()));
    columns.push(Arc::new(message.finish()));
    columns.push(Arc::new(ids.finish()));
    RecordBatch::try_new_with_options(schema.clone(), columns, &RecordBatchOptions::new().with_row_count(Some(n)))
}

/// The row numbers of a batch: `rows` (an integer array, one positive number per row) or
/// consecutive from `first_row`.
fn row_numbers(py: Python<'_>, n: usize, first_row: u64, rows: Option<PyArrowType<ArrayData>>) -> PyResult<Vec<u64>> {
    let Some(PyArrowType(data)) = rows else {
        if first_row == 0 {
            return Err(raise(py, "PolError", ("first_row is 1-based: the first record is row 1",)));
        }
        return Ok((0..n as u64).map(|i| first_row + i).collect());
    };
    let array = arrow_array::make_array(data);
    let bad = |why: &str| raise(py, "PolError", (format!("rows: {why}"),));
    if array.len() != n {
        return Err(bad(&format!("{} numbers for a batch of {n} rows", array.len())));
    }
    if array.null_count() > 0 {
        return Err(bad("a row number is null"));
    }
    let numbers: Vec<i64> = match array.data_type() {
        DataType::Int64 => array.as_any().downcast_ref::<Int64Array>().map(|a| a.values().to_vec()),
        DataType::Int32 => {
            array.as_any().downcast_ref::<arrow_array::Int32Array>().map(|a| a.values().iter().map(|v| i64::from(*v)).collect())
        }
        DataType::UInt64 => array
            .as_any()
            .downcast_ref::<arrow_array::UInt64Array>()
            .map(|a| a.values().iter().map(|v| i64::try_from(*v).unwrap_or(-1)).collect()),
        _ => None,
    }
    .ok_or_else(|| bad(&format!("an integer array is needed, not {}", array.data_type())))?;
    numbers.iter().map(|v| u64::try_from(*v).ok().filter(|v| *v > 0).ok_or_else(|| bad("row numbers are 1-based and positive"))).collect()
}

/// A batch of a `pyarrow.RecordBatch` (or any object with the Arrow PyCapsule interface).
fn record_batch(py: Python<'_>, batch: &Bound<'_, PyAny>) -> PyResult<RecordBatch> {
    RecordBatch::from_pyarrow_bound(batch).map_err(|e| {
        raise(
            py,
            "PolError",
            (format!("a pyarrow.RecordBatch is needed ({}): {e}", batch.get_type().name().map(|n| n.to_string()).unwrap_or_default()),),
        )
    })
}

/// Key groups as Python sees them: `(key cells, row numbers)`.
type PyGroups = Vec<(Vec<i64>, Vec<u64>)>;

/// What `Duplicates` pickles as: the function that rebuilds it and its arguments.
type Reduced<'py> = (Bound<'py, PyAny>, (Py<Kernel>, PyGroups));

/// The keys that several rows of the whole population hold, with those rows: made by
/// [`Kernel::duplicates`] from the key groups an engine found, for `duplicates=`. Pickles as
/// its kernel and groups.
#[pyclass(module = "pol", frozen)]
struct Duplicates {
    kernel: Py<Kernel>,
    keys: RepeatedKeys,
}

#[pymethods]
impl Duplicates {
    /// How many rows hold a repeated key.
    fn __len__(&self) -> usize {
        self.keys.rows()
    }

    /// `[(key cells, rows)]`, in key order.
    fn groups(&self) -> PyGroups {
        self.keys.groups().into_iter().map(|g| (g.key, g.rows)).collect()
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<Reduced<'py>> {
        Ok((py.import("pol._pol")?.getattr("_duplicates_from_groups")?, (self.kernel.clone_ref(py), self.groups())))
    }

    fn __repr__(&self) -> String {
        format!("<pol.Duplicates: {} rows share their key with another row>", self.keys.rows())
    }
}

#[pyfunction]
fn _duplicates_from_groups(py: Python<'_>, kernel: Bound<'_, Kernel>, groups: PyGroups) -> PyResult<Duplicates> {
    let keys = repeated_keys(py, kernel.get(), groups)?;
    Ok(Duplicates { kernel: kernel.unbind(), keys })
}

fn repeated_keys(py: Python<'_>, kernel: &Kernel, groups: PyGroups) -> PyResult<RepeatedKeys> {
    let groups: Vec<KeyGroup> = groups.into_iter().map(|(key, rows)| KeyGroup { key, rows }).collect();
    RepeatedKeys::new(&kernel.signature().inputs, &groups).map_err(|e| runtime_error(py, e))
}

/// A compiled scheme (or rule file): evaluates Arrow record batches as `pol run` evaluates a
/// file's, exactly. Made by `pol.compile`; pickles as its source texts and options, and a
/// process that unpickles it compiles it once.
#[pyclass(module = "pol", frozen)]
struct Kernel {
    spec: Spec,
    compiled: Arc<Compiled>,
}

impl Kernel {
    /// The aggregate requirements decided on the sums of every part.
    fn aggregate_results(&self, py: Python<'_>, parts: &Bound<'_, PyAny>) -> PyResult<Vec<pol_runtime::AggregateResult>> {
        let sig = self.signature();
        let mut total = vec![SideSums::default(); sig.aggregates.len()];
        for part in parts.try_iter()? {
            let part: PySums = part?.extract()?;
            if part.len() != total.len() {
                return Err(raise(
                    py,
                    "PolError",
                    (format!("a part has {} aggregate sums; the scheme has {} aggregate requirements", part.len(), total.len()),),
                ));
            }
            for (t, (lhs, rhs)) in total.iter_mut().zip(part) {
                *t = t.checked_add(SideSums { lhs, rhs }).ok_or_else(|| raise(py, "PolError", ("the aggregate sums exceed 128 bits",)))?;
            }
        }
        pol_runtime::check_aggregates(sig, &total).map_err(|e| runtime_error(py, e))
    }

    /// Evaluates one batch without the GIL; the result batch, the aggregate sums.
    fn run_part(
        &self,
        py: Python<'_>,
        batch: &Bound<'_, PyAny>,
        first_row: u64,
        rows: Option<PyArrowType<ArrayData>>,
        duplicates: Option<&Duplicates>,
    ) -> PyResult<(RecordBatch, Vec<SideSums>)> {
        let batch = record_batch(py, batch)?;
        let numbers = row_numbers(py, batch.num_rows(), first_row, rows)?;
        let c = &self.compiled;
        let empty = RepeatedKeys::default();
        let dups = duplicates.map_or(&empty, |d| &d.keys);
        let evaluated = py.detach(|| -> Result<Result<(RecordBatch, Vec<SideSums>), String>, RuntimeError> {
            let part = pol_runtime::eval_part(c.kernel.as_ref(), &batch, c.binding.as_ref(), RowNumbers::Listed(&numbers), dups)?;
            let signed: Vec<i64> = numbers.iter().map(|v| *v as i64).collect();
            Ok(result_batch(&c.result, &part, &signed).map(|b| (b, part.sums)).map_err(|e| e.to_string()))
        });
        match evaluated {
            Err(e) => Err(runtime_error(py, e)),
            Ok(Err(e)) => Err(raise(py, "PolError", (format!("internal error: {e}"),))),
            Ok(Ok(done)) => Ok(done),
        }
    }

    fn signature(&self) -> &pol_kernel::KernelSignature {
        self.compiled.kernel.signature()
    }
}

/// Aggregate sums as Python sees them: one `(lhs, rhs)` pair of integers per requirement.
type PySums = Vec<(i128, i128)>;

fn sums_to_py(sums: &[SideSums]) -> PySums {
    sums.iter().map(|s| (s.lhs, s.rhs)).collect()
}

#[pymethods]
impl Kernel {
    /// Evaluates a `pyarrow.RecordBatch` of records: the result batch has the run's output
    /// columns (null on a failed row), then `pol_row`, `pol_status` (`ok` or the ledger code),
    /// `pol_rule`, `pol_column`, `pol_message` and `pol_ids` (the key cells as read). Its rows are
    /// records `first_row`… of the population, or those of `rows` (an integer array);
    /// `duplicates` are the population's rows whose key another row also has.
    #[pyo3(signature = (batch, first_row = 1, rows = None, duplicates = None))]
    fn __call__<'py>(
        &self,
        py: Python<'py>,
        batch: &Bound<'py, PyAny>,
        first_row: u64,
        rows: Option<PyArrowType<ArrayData>>,
        duplicates: Option<PyRef<'py, Duplicates>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (result, _) = self.run_part(py, batch, first_row, rows, duplicates.as_deref())?;
        result.to_pyarrow(py)
    }

    /// `(result, sums)`: the result of `kernel(batch)` and the batch's aggregate sums, one
    /// `(lhs, rhs)` pair of exact integers (in fen for money) per aggregate requirement, over
    /// the rows that evaluated. Add the sums of every batch and pass them to `check_aggregates`.
    #[pyo3(signature = (batch, first_row = 1, rows = None, duplicates = None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        batch: &Bound<'py, PyAny>,
        first_row: u64,
        rows: Option<PyArrowType<ArrayData>>,
        duplicates: Option<PyRef<'py, Duplicates>>,
    ) -> PyResult<(Bound<'py, PyAny>, PySums)> {
        let (result, sums) = self.run_part(py, batch, first_row, rows, duplicates.as_deref())?;
        Ok((result.to_pyarrow(py)?, sums_to_py(&sums)))
    }

    /// The batch's aggregate sums only (see `evaluate`).
    #[pyo3(signature = (batch, first_row = 1, rows = None, duplicates = None))]
    fn aggregates<'py>(
        &self,
        py: Python<'py>,
        batch: &Bound<'py, PyAny>,
        first_row: u64,
        rows: Option<PyArrowType<ArrayData>>,
        duplicates: Option<PyRef<'py, Duplicates>>,
    ) -> PyResult<PySums> {
        Ok(sums_to_py(&self.run_part(py, batch, first_row, rows, duplicates.as_deref())?.1))
    }

    /// Decides the aggregate requirements from the sums of every part (an iterable of
    /// `evaluate`'s or `aggregates`' sums, added exactly here): a list of dicts with `slot`,
    /// `text`, `cmp`, `lhs`, `rhs` (exact decimals), `holds` and where the framework says so.
    fn check_aggregates<'py>(&self, py: Python<'py>, parts: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        let results = self.aggregate_results(py, parts)?;
        json_to_py(py, &serde_json::to_string(&results).unwrap_or_default())
    }

    /// The outcome of a run over all the parts, decided as `pol run` decides: `{"aggregates":
    /// check_aggregates(parts), "failures": [why the run fails…]}` (no failures: it succeeds)
    /// given the input and ledger row counts, `max_errors` (`"0"`, `"100"`, `"0.5%"`) and
    /// `warn_aggregates`.
    #[pyo3(signature = (parts, rows_in, rows_in_ledger, max_errors = "0", warn_aggregates = false))]
    fn decide<'py>(
        &self,
        py: Python<'py>,
        parts: &Bound<'py, PyAny>,
        rows_in: u64,
        rows_in_ledger: u64,
        max_errors: &str,
        warn_aggregates: bool,
    ) -> PyResult<Bound<'py, PyAny>> {
        let limit = pol_runtime::ErrorLimit::parse(max_errors).map_err(|e| raise(py, "PolError", (format!("max_errors: {e}"),)))?;
        if rows_in_ledger > rows_in {
            return Err(raise(py, "PolError", (format!("{rows_in_ledger} ledger rows of only {rows_in} rows in"),)));
        }
        let aggregates = self.aggregate_results(py, parts)?;
        let failures = pol_runtime::run_failures(rows_in, rows_in_ledger, &aggregates, limit, warn_aggregates);
        let all = serde_json::json!({"aggregates": aggregates, "failures": failures});
        json_to_py(py, &all.to_string())
    }

    /// The key cells of a batch's rows as a run reads them, to find keys held by two rows:
    /// `pol_row`, then one Int64 column `pol_key_<i>` per key field; rows whose key cannot be read
    /// are left out (the run sends them to the ledger with their own code).
    #[pyo3(signature = (batch, first_row = 1, rows = None))]
    fn keys<'py>(
        &self,
        py: Python<'py>,
        batch: &Bound<'py, PyAny>,
        first_row: u64,
        rows: Option<PyArrowType<ArrayData>>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let batch = record_batch(py, batch)?;
        let numbers = row_numbers(py, batch.num_rows(), first_row, rows)?;
        let c = &self.compiled;
        let keys = py
            .detach(|| pol_runtime::batch_keys(&c.kernel.signature().inputs, &batch, c.binding.as_ref()))
            .map_err(|e| runtime_error(py, e))?;
        let keep = |col: &[i64]| -> Vec<i64> { col.iter().zip(&keys.readable).filter(|(_, r)| **r).map(|(v, _)| *v).collect() };
        let signed: Vec<i64> = numbers.iter().map(|v| *v as i64).collect();
        let mut fields = vec![Field::new("pol_row", DataType::Int64, false)];
        let mut columns: Vec<ArrayRef> = vec![Arc::new(Int64Array::from(keep(&signed)))];
        for (i, col) in keys.columns.iter().enumerate() {
            fields.push(Field::new(format!("pol_key_{i}"), DataType::Int64, false));
            columns.push(Arc::new(Int64Array::from(keep(col))));
        }
        let out = RecordBatch::try_new(Arc::new(Schema::new(fields)), columns)
            .map_err(|e| raise(py, "PolError", (format!("internal error: {e}"),)))?;
        out.to_pyarrow(py)
    }

    /// The keys held by more than one row, from `groups` (`(key cells, row numbers)` pairs, as
    /// found by grouping `keys` results; groups of one row are ignored), for `duplicates=`.
    fn duplicates(slf: &Bound<'_, Self>, groups: PyGroups) -> PyResult<Duplicates> {
        let keys = repeated_keys(slf.py(), slf.get(), groups)?;
        Ok(Duplicates { kernel: slf.clone().unbind(), keys })
    }

    /// The names of the columns of a source with this `pyarrow.Schema` that the kernel reads
    /// (checked as a run checks a file's columns: a `pol.SchemaError` names every problem).
    fn source_columns(&self, py: Python<'_>, schema: PyArrowType<Schema>) -> PyResult<Vec<String>> {
        let c = &self.compiled;
        pol_runtime::source_columns(c.kernel.as_ref(), &schema.0, c.binding.as_ref()).map_err(|e| runtime_error(py, e))
    }

    /// The `pyarrow.Schema` of a result batch.
    #[getter]
    fn result_schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        self.compiled.result.as_ref().to_pyarrow(py)
    }

    /// The number of output columns before the status columns (key columns, outputs, kept).
    #[getter]
    fn output_width(&self) -> usize {
        self.compiled.result.fields().len() - STATUS_FIELDS.len()
    }

    /// The key fields' names.
    #[getter]
    fn key_fields(&self) -> Vec<String> {
        self.compiled.keys.clone()
    }

    /// The kernel's columns: `inputs` (field, type, domain as written in the framework, key,
    /// read, the source column),
    /// `outputs` (name, type, the Arrow type written) and `aggregates`.
    #[getter]
    fn schema<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let sig = self.signature();
        let binding = self.compiled.binding.as_ref();
        let inputs: Vec<serde_json::Value> = sig
            .inputs
            .iter()
            .map(|s| {
                let column = binding.and_then(|b| b.fields.get(&s.name)).and_then(|f| f.column()).unwrap_or(&s.name);
                serde_json::json!({
                    "field": s.name, "type": s.ty.describe(), "key": s.is_id, "read": s.read,
                    "domain": s.domain.map(|(lo, hi)| [pol_kernel::cell::format_cell(&s.ty, lo), pol_kernel::cell::format_cell(&s.ty, hi)]),
                    "column": column,
                })
            })
            .collect();
        let outputs: Vec<serde_json::Value> = sig
            .outputs
            .iter()
            .map(|s| serde_json::json!({"name": s.name, "type": s.ty.describe(), "arrow": pol_runtime::output_type(&s.ty).to_string()}))
            .collect();
        let aggregates: Vec<serde_json::Value> = sig
            .aggregates
            .iter()
            .map(|a| serde_json::json!({"slot": a.slot, "text": a.text, "origin": a.origin, "cite": a.cite}))
            .collect();
        let all = serde_json::json!({"program": sig.program, "inputs": inputs, "outputs": outputs, "aggregates": aggregates});
        json_to_py(py, &all.to_string())
    }

    /// The scheme's (or file's) program name.
    #[getter]
    fn program(&self) -> String {
        self.signature().program.clone()
    }

    fn __reduce__<'py>(&self, py: Python<'py>) -> PyResult<(Bound<'py, PyAny>, (String,))> {
        let spec = serde_json::to_string(&self.spec).map_err(|e| raise(py, "PolError", (e.to_string(),)))?;
        Ok((py.import("pol._pol")?.getattr("_kernel_from_spec")?, (spec,)))
    }

    fn __repr__(&self) -> String {
        let sig = self.signature();
        format!(
            "<pol.Kernel {} ({}): {} inputs, {} outputs, {} aggregate requirements>",
            sig.program,
            self.spec.engine,
            sig.inputs.len(),
            sig.outputs.len(),
            sig.aggregates.len()
        )
    }
}

fn json_to_py<'py>(py: Python<'py>, text: &str) -> PyResult<Bound<'py, PyAny>> {
    py.import("json")?.call_method1("loads", (text,))
}

/// A kernel rebuilt from a pickled spec (compiled once per process).
#[pyfunction]
fn _kernel_from_spec(py: Python<'_>, spec: &str) -> PyResult<Kernel> {
    let spec: Spec = serde_json::from_str(spec).map_err(|e| raise(py, "PolError", (format!("not a pickled pol.Kernel: {e}"),)))?;
    let compiled = compiled(py, &spec)?;
    Ok(Kernel { spec, compiled })
}

fn path_of(p: &Bound<'_, PyAny>) -> PyResult<std::path::PathBuf> {
    p.extract()
}

/// Compiles a scheme (or rule file) for evaluation on Arrow batches: the framework is found as
/// `pol run` finds it (or given); `as_of` a date `YYYY-MM-DD`; `rules` the rules to evaluate
/// (default: the framework's outputs); `binding` a binding file; `engine` `jit` or `interp`.
#[pyfunction]
#[pyo3(signature = (scheme, framework = None, as_of = None, rules = None, binding = None, engine = "jit"))]
fn compile(
    py: Python<'_>,
    scheme: &Bound<'_, PyAny>,
    framework: Option<&Bound<'_, PyAny>>,
    as_of: Option<String>,
    rules: Option<Vec<String>>,
    binding: Option<&Bound<'_, PyAny>>,
    engine: &str,
) -> PyResult<Kernel> {
    let path = path_of(scheme)?;
    let framework = framework.map(path_of).transpose()?;
    let usage = |e: pol_cli::load::UsageError| raise(py, "PolError", (e.0,));
    let src = read_source(&path).map_err(usage)?;
    let (framework_name, framework_text) = match find_framework(&path, &src, framework.as_deref()).map_err(usage)? {
        Found::NotAScheme => (None, None),
        Found::Framework(fw) => (Some(fw.name), Some(fw.text)),
        missing @ Found::Missing { .. } => return Err(Failure::of_loaded(&check_found(src, missing, &Budget::default())).into_py(py)),
    };
    let binding = match binding {
        None => None,
        Some(b) => {
            let p = path_of(b)?;
            Some(std::fs::read_to_string(&p).map_err(|e| raise(py, "PolError", (format!("cannot read {}: {e}", p.display()),)))?)
        }
    };
    let spec = Spec {
        scheme_name: src.name,
        scheme: src.text,
        framework_name,
        framework: framework_text,
        as_of,
        rules: rules.unwrap_or_default(),
        binding,
        engine: engine.to_string(),
    };
    let compiled = compiled(py, &spec)?;
    Ok(Kernel { spec, compiled })
}

/// Checks files as `pol check` does: `(verdict, diagnostics, rendered)` for `pol.check`.
#[pyfunction]
#[pyo3(signature = (file, framework = None))]
fn _check<'py>(
    py: Python<'py>,
    file: &Bound<'py, PyAny>,
    framework: Option<&Bound<'py, PyAny>>,
) -> PyResult<(String, Bound<'py, PyAny>, String, Option<String>)> {
    let path = path_of(file)?;
    let framework = framework.map(path_of).transpose()?;
    let loaded = py
        .detach(|| pol_core::on_compiler_stack(|| pol_cli::load::load(&path, framework.as_deref(), &Budget::default())))
        .map_err(|e| raise(py, "PolError", (e.0,)))?;
    let diags = loaded.json_diagnostics();
    let against = loaded.sources.first().filter(|_| loaded.is_scheme() && loaded.sources.len() > 1).map(|f| f.name.clone());
    Ok((pol_cli::verdict(&loaded), json_to_py(py, &serde_json::to_string(&diags).unwrap_or_default())?, loaded.render(), against))
}

/// `pol run` with the command line's arguments (after `run`), in this process: the exit code
/// and the summary as JSON when the run wrote one. Ctrl-C stops the run as SIGINT stops the CLI.
#[pyfunction]
fn _run(py: Python<'_>, args: Vec<String>) -> PyResult<(u8, Option<String>)> {
    let args = pol_cli::run::parse_run_args(args).map_err(|e| raise(py, "PolError", (e,)))?;
    let cancel = Arc::new(AtomicBool::new(false));
    let flag = cancel.clone();
    let worker = std::thread::Builder::new()
        .name("pol-run".into())
        .stack_size(64 << 20)
        .spawn(move || pol_core::on_compiler_stack(move || pol_cli::run::run_with(&args, flag)))
        .map_err(|e| raise(py, "PolError", (format!("cannot start the run: {e}"),)))?;
    // The run goes on without the GIL; Python's signal handlers run here between waits.
    let mut interrupted = None;
    while !worker.is_finished() {
        py.detach(|| std::thread::sleep(std::time::Duration::from_millis(50)));
        if interrupted.is_none()
            && let Err(e) = py.check_signals()
        {
            cancel.store(true, Ordering::SeqCst);
            interrupted = Some(e);
        }
    }
    let outcome = worker.join().map_err(|_| raise(py, "PolError", ("internal error: the run panicked",)))?;
    if let Some(e) = interrupted {
        return Err(e);
    }
    let (code, summary) = outcome.map_err(|e| raise(py, "PolError", (e.0,)))?;
    let code: u8 = if code == std::process::ExitCode::SUCCESS { 0 } else { exit_code_number(code) };
    Ok((code, summary.map(|s| serde_json::to_string(&s).unwrap_or_default())))
}

/// The number of an exit code (`ExitCode` does not give it back; the CLI uses 1, 2 and 130).
fn exit_code_number(code: std::process::ExitCode) -> u8 {
    [1u8, 2, 130].into_iter().find(|n| std::process::ExitCode::from(*n) == code).unwrap_or(1)
}

/// Explains a diagnostic or ledger code, as `pol explain` does: `(code, name, explanation)`.
#[pyfunction]
fn explain(code: &str) -> Option<(String, String, String)> {
    pol_core::codes::lookup(code).map(|c| (c.code.to_string(), c.name.to_string(), c.explanation.to_string()))
}

#[pymodule]
fn _pol(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Kernel>()?;
    m.add_class::<Duplicates>()?;
    m.add_function(wrap_pyfunction!(compile, m)?)?;
    m.add_function(wrap_pyfunction!(_check, m)?)?;
    m.add_function(wrap_pyfunction!(_run, m)?)?;
    m.add_function(wrap_pyfunction!(explain, m)?)?;
    m.add_function(wrap_pyfunction!(_kernel_from_spec, m)?)?;
    m.add_function(wrap_pyfunction!(_duplicates_from_groups, m)?)?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
