//! A whole run: stream the input, evaluate batches in parallel on a local thread pool, write the
//! rows in input order, keep the ledger, decide the aggregates, and commit the files atomically.
//!
//! Three kinds of thread cooperate. A reader thread decodes batches; it must take a credit
//! before each read, and a credit comes back only when a batch has been written, so at most
//! `window` batches exist at any time and memory does not grow with the row count. Pool threads
//! validate and evaluate batches. The calling thread reorders results by sequence number and
//! writes them, so the output is in input order and identical whatever the thread count.

use std::collections::BTreeMap;
use std::io::IsTerminal;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use arrow::record_batch::RecordBatch;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pol_kernel::Kernel;

use crate::aggregate::{self, AggregateResult, SideSums};
use crate::binding::Binding;
use crate::commit::{FinishedOutput, RunFiles, probe_writable};
use crate::error::RuntimeError;
use crate::eval::{BatchOutcome, Evaluator};
use crate::keys::{DuplicateRows, duplicate_keys};
use crate::ledger::LedgerWriter;
use crate::postgres::TableWriter;
use crate::read::{InputReader, open_input};
use crate::schema::{FileFormat, check_signature};
use crate::summary::RunSummary;
use crate::write::OutputWriter;

/// Stack of each evaluation thread: enough for the interpreter on the deepest expression the
/// parser accepts (the same figure as `pol_core::STACK_BYTES`, which this crate cannot name).
const EVAL_STACK_BYTES: usize = 512 << 20;

/// Default rows per batch: large enough to amortize per-batch costs, small enough that a window
/// of batches stays in the tens of megabytes.
pub const DEFAULT_BATCH_ROWS: usize = 65_536;

/// The largest `batch_rows` accepted: a window of `2 × threads + 2` batches of this many rows
/// stays within a few hundred megabytes for records of a few dozen fields.
pub const MAX_BATCH_ROWS: usize = 1 << 20;

/// The most evaluation threads accepted.
pub const MAX_THREADS: usize = 1024;

/// How many ledger rows a run may have and still write its output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorLimit {
    /// At most this many rows.
    Rows(u64),
    /// At most this share of the input rows, in millionths (`0.5%` is 5 000).
    Millionths(u64),
}

impl ErrorLimit {
    /// `N` (rows) or `N%` (a share of the input rows, up to 4 decimal places).
    pub fn parse(text: &str) -> Result<Self, String> {
        let t = text.trim();
        let bad = || format!("`{text}` is not a row count (`100`) or a percentage (`0.5%`)");
        if let Some(pct) = t.strip_suffix('%') {
            let (whole, frac) = pct.trim().split_once('.').unwrap_or((pct.trim(), ""));
            if whole.is_empty() || frac.len() > 4 || !whole.bytes().chain(frac.bytes()).all(|b| b.is_ascii_digit()) {
                return Err(bad());
            }
            let whole: u64 = whole.parse().map_err(|_| bad())?;
            let frac: u64 = format!("{frac:0<4}").parse().map_err(|_| bad())?;
            let m = whole.checked_mul(10_000).and_then(|w| w.checked_add(frac)).ok_or_else(bad)?;
            if m > 1_000_000 {
                return Err(format!("`{text}` is more than 100%"));
            }
            Ok(ErrorLimit::Millionths(m))
        } else {
            t.parse::<u64>().map(ErrorLimit::Rows).map_err(|_| bad())
        }
    }

    /// Whether `ledger` rows out of `rows_in` stay within the limit (exact integer arithmetic).
    pub fn allows(&self, ledger: u64, rows_in: u64) -> bool {
        match *self {
            ErrorLimit::Rows(n) => ledger <= n,
            ErrorLimit::Millionths(m) => u128::from(ledger) * 1_000_000 <= u128::from(m) * u128::from(rows_in),
        }
    }
}

impl std::fmt::Display for ErrorLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match *self {
            ErrorLimit::Rows(n) => write!(f, "{n}"),
            ErrorLimit::Millionths(m) => {
                let frac = format!("{:04}", m % 10_000);
                let frac = frac.trim_end_matches('0');
                if frac.is_empty() { write!(f, "{}%", m / 10_000) } else { write!(f, "{}.{frac}%", m / 10_000) }
            }
        }
    }
}

/// What to run and where to put the results.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// A `.parquet`/`.pq` or `.csv` file, or a `postgresql://` URL (the binding's source then
    /// names the table or query; see the `postgres` module of this crate).
    pub input: PathBuf,
    /// A `.parquet`/`.pq` or `.csv` file: the id columns then every kernel output; or a
    /// `postgresql://` URL with [`RunOptions::output_table`].
    pub output: PathBuf,
    /// The row error ledger (CSV); default `<output without extension>.errors.csv` (for an
    /// output table, `<table>.errors.csv` in the current folder; so for the summary and manifest).
    pub errors: Option<PathBuf>,
    /// The summary (JSON); default `<output without extension>.summary.json`.
    pub summary: Option<PathBuf>,
    /// Evaluation threads; default the number of available cores.
    pub threads: Option<usize>,
    /// Rows per batch (see [`DEFAULT_BATCH_ROWS`]).
    pub batch_rows: usize,
    /// Report broken aggregate requirements without failing the run.
    pub warn_aggregates: bool,
    /// Show a progress bar on stderr, if stderr is a terminal.
    pub progress: bool,
    /// Ledger rows allowed before the run fails (default none: [`ErrorLimit::Rows`]`(0)`).
    pub max_errors: ErrorLimit,
    /// Set (by a signal handler, say) to stop the run: it then fails with
    /// [`RuntimeError::Interrupted`] and removes its temporary files.
    pub cancel: Option<Arc<AtomicBool>>,
    /// How the input's columns map to the record's fields and convert (see [`crate::Binding`]).
    pub binding: Option<Binding>,
    /// The table an output `postgresql://…` URL is written to (required then, refused for a
    /// file): replaced in one transaction that commits only when the run succeeds.
    pub output_table: Option<String>,
}

impl RunOptions {
    /// Options with every default: ledger and summary next to the output.
    pub fn new(input: impl Into<PathBuf>, output: impl Into<PathBuf>) -> Self {
        RunOptions {
            input: input.into(),
            output: output.into(),
            errors: None,
            summary: None,
            threads: None,
            batch_rows: DEFAULT_BATCH_ROWS,
            warn_aggregates: false,
            progress: false,
            max_errors: ErrorLimit::Rows(0),
            cancel: None,
            binding: None,
            output_table: None,
        }
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        if crate::postgres::is_url(&self.output) {
            // A table's files are named after it, beside the ledger (default: in the current
            // folder).
            let table = self.output_table.as_deref().unwrap_or("output").trim();
            let stem: String = table.chars().map(|c| if matches!(c, '/' | '\\' | '\0' | '"') { '_' } else { c }).collect();
            let dir = self.errors.as_ref().and_then(|e| e.parent()).map(Path::to_path_buf).unwrap_or_default();
            return dir.join(format!("{stem}{suffix}"));
        }
        let stem = self.output.file_stem().map(|s| s.to_string_lossy().into_owned());
        self.output.with_file_name(format!("{}{suffix}", stem.unwrap_or_default()))
    }

    /// The output table, when the output is a PostgreSQL URL.
    fn table(&self) -> Result<Option<crate::postgres::TableName>, RuntimeError> {
        match (crate::postgres::is_url(&self.output), &self.output_table) {
            (true, Some(table)) => crate::postgres::TableName::parse(table).map(Some),
            (true, None) => Err(RuntimeError::invalid(format!(
                "output `{}` is a PostgreSQL database: name the table to write (--output-table)",
                crate::postgres::redact(&self.output.to_string_lossy())
            ))),
            (false, Some(table)) => Err(RuntimeError::invalid(format!(
                "an output table (`{table}`) is for a PostgreSQL output; `{}` is a file",
                self.output.display()
            ))),
            (false, None) => Ok(None),
        }
    }

    /// How the input or output is shown: the path, or the URL without its password.
    fn shown(&self, path: &Path, is_output: bool) -> String {
        if !crate::postgres::is_url(path) {
            return path.display().to_string();
        }
        let url = path.to_string_lossy();
        match (is_output, &self.output_table, &self.binding) {
            (true, Some(table), _) => crate::postgres::table_display(&url, table),
            (false, _, Some(binding)) => crate::postgres::source_display(&url, &binding.source),
            _ => crate::postgres::redact(&url),
        }
    }

    /// Where the ledger goes.
    pub fn errors_path(&self) -> PathBuf {
        self.errors.clone().unwrap_or_else(|| self.sibling(".errors.csv"))
    }

    /// Where the summary goes.
    pub fn summary_path(&self) -> PathBuf {
        self.summary.clone().unwrap_or_else(|| self.sibling(".summary.json"))
    }

    /// Where the manifest goes: `<output without extension>.manifest.json`.
    pub fn manifest_path(&self) -> PathBuf {
        self.sibling(".manifest.json")
    }

    fn files(&self) -> RunFiles {
        RunFiles { output: self.output.clone(), ledger: self.errors_path(), summary: self.summary_path(), manifest: self.manifest_path() }
    }

    fn cancelled(&self) -> bool {
        self.cancel.as_ref().is_some_and(|c| c.load(Ordering::Relaxed))
    }

    /// The thread count a run uses.
    pub fn thread_count(&self) -> usize {
        self.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
    }
}

/// Checks the options that can be checked without opening the input.
fn check_options(opts: &RunOptions) -> Result<(), RuntimeError> {
    if !(1..=MAX_BATCH_ROWS).contains(&opts.batch_rows) {
        return Err(RuntimeError::invalid(format!("batch rows {} is outside 1 ..= {MAX_BATCH_ROWS}", opts.batch_rows)));
    }
    if let Some(t) = opts.threads
        && !(1..=MAX_THREADS).contains(&t)
    {
        return Err(RuntimeError::invalid(format!("threads {t} is outside 1 ..= {MAX_THREADS}")));
    }
    if opts.table()?.is_none() {
        FileFormat::from_path(&opts.output, "output")?;
    }
    let source = opts.binding.as_ref().map(|b| &b.source);
    if crate::postgres::is_url(&opts.input) {
        crate::postgres::check_source(source.unwrap_or(&crate::binding::SourceOptions::default()))?;
    } else if let Some(s) = source.filter(|s| s.table.is_some() || s.query.is_some()) {
        let what = if s.table.is_some() { "table" } else { "query" };
        return Err(RuntimeError::invalid(format!(
            "the binding's source {what} is for a PostgreSQL input; `{}` is a file",
            opts.input.display()
        )));
    }
    let errors = opts.errors_path();
    if FileFormat::from_path(&errors, "error ledger")? != FileFormat::Csv {
        return Err(RuntimeError::invalid(format!("error ledger `{}` must be a .csv file", errors.display())));
    }
    let paths = [opts.input.clone(), opts.output.clone(), errors, opts.summary_path(), opts.manifest_path()];
    // A database is no file: a run may read from and write to the same one.
    let paths: Vec<PathBuf> = paths.into_iter().filter(|p| !crate::postgres::is_url(p)).collect();
    for (i, a) in paths.iter().enumerate() {
        for b in &paths[i + 1..] {
            if a == b || std::fs::canonicalize(a).ok().is_some_and(|c| std::fs::canonicalize(b).ok() == Some(c)) {
                return Err(RuntimeError::invalid(format!("`{}` is used for two files of the run", a.display())));
            }
        }
    }
    Ok(())
}

/// Messages from the reader thread and the pool to the writing thread.
enum Event {
    Read { seq: u64, first_row: u64, batch: RecordBatch },
    ReadEnd { batches: u64 },
    ReadFailed(RuntimeError),
    Evaluated { seq: u64, outcome: Result<BatchOutcome, RuntimeError> },
}

/// Reads batches, one per credit, until the input ends or the credits stop.
fn read_loop(mut reader: InputReader, credits: mpsc::Receiver<()>, events: mpsc::Sender<Event>) {
    let mut seq = 0u64;
    let mut first_row = 1u64;
    while credits.recv().is_ok() {
        let next = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| reader.next_batch())).unwrap_or_else(|panic| {
            Err(RuntimeError::invalid(format!("internal error: reading from record {first_row} panicked: {}", panic_text(&panic))))
        });
        match next {
            Ok(Some(batch)) => {
                let rows = batch.num_rows() as u64;
                if events.send(Event::Read { seq, first_row, batch }).is_err() {
                    return;
                }
                seq += 1;
                first_row += rows;
            }
            Ok(None) => {
                let _ = events.send(Event::ReadEnd { batches: seq });
                return;
            }
            Err(e) => {
                let _ = events.send(Event::ReadFailed(e));
                return;
            }
        }
    }
}

fn progress_bar(wanted: bool, total_rows: Option<u64>) -> Option<ProgressBar> {
    if !wanted || !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = match total_rows {
        Some(total) => {
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{elapsed_precise} [{bar:40}] {human_pos}/{human_len} rows ({per_sec}, eta {eta})");
            if let Ok(style) = style {
                bar.set_style(style.progress_chars("=> "));
            }
            bar
        }
        None => {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            if let Ok(style) = ProgressStyle::with_template("{elapsed_precise} {human_pos} rows ({per_sec})") {
                bar.set_style(style);
            }
            bar
        }
    };
    Some(bar)
}

/// Totals collected while writing.
#[derive(Default)]
struct Totals {
    rows_in: u64,
    sums: Vec<SideSums>,
    by_code: BTreeMap<String, u64>,
}

/// Runs `kernel` over `opts.input`. See the crate documentation for the files written.
pub fn run(kernel: &dyn Kernel, opts: &RunOptions) -> Result<RunSummary, RuntimeError> {
    let start = Instant::now();
    let sig = kernel.signature();
    check_signature(sig)?;
    check_options(opts)?;
    let files = opts.files();
    let stale = files.remove_stale();
    // Everything that can be found wrong without reading a record is found here, before the
    // earlier run's files are touched: the input's schema, and folders that cannot be written.
    let reader = open_input(&opts.input, &sig.inputs, opts.batch_rows, opts.binding.as_ref())?;
    let table = opts.table()?;
    for path in [&files.output, &files.ledger, &files.summary, &files.manifest] {
        if table.is_none() || path != &files.output {
            probe_writable(path)?;
        }
    }
    if let Some(table) = &table {
        let schema = crate::schema::output_schema(&crate::schema::output_columns(sig));
        crate::postgres::probe_table(&opts.output.to_string_lossy(), table, &schema)?;
    }
    let spill_dir = match files.manifest.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    // A second read of a PostgreSQL source sees the rows of the first one's snapshot.
    let key_binding = match reader.snapshot() {
        Some(snapshot) => opts.binding.clone().map(|mut b| {
            b.source.snapshot = Some(snapshot);
            b
        }),
        None => opts.binding.clone(),
    };
    let duplicates = duplicate_keys(&opts.input, &sig.inputs, key_binding.as_ref(), opts.batch_rows, &spill_dir, &|| opts.cancelled())?;
    match execute(kernel, opts, &files, reader, duplicates, stale, start) {
        Ok(summary) => Ok(summary),
        Err(e @ RuntimeError::RunFailed { .. }) => Err(e),
        // Stopped on purpose, like a killed run: the last committed set stays as it was.
        Err(e @ RuntimeError::Interrupted) => Err(e),
        Err(cause) => {
            // The run started and failed: no output may stay under the output's name.
            let retired = files.retire_previous().unwrap_or_default();
            if retired.is_empty() { Err(cause) } else { Err(RuntimeError::Stopped { cause: Box::new(cause), retired }) }
        }
    }
}

/// Why a run with these counts and aggregate results fails (empty: it succeeds): more ledger
/// rows than `max_errors` allows, no row in the output, a broken aggregate requirement unless
/// `warn_aggregates`. Engines that evaluate a population in parts decide with it too.
pub fn run_failures(
    rows_in: u64,
    rows_in_ledger: u64,
    aggregates: &[AggregateResult],
    max_errors: ErrorLimit,
    warn_aggregates: bool,
) -> Vec<String> {
    let mut failures = Vec::new();
    if !max_errors.allows(rows_in_ledger, rows_in) {
        failures.push(format!("{rows_in_ledger} of {rows_in} rows are in the error ledger, more than --max-errors {max_errors} allows"));
    }
    if rows_in_ledger == rows_in && rows_in > 0 {
        failures.push(format!("none of the {rows_in} rows reached the output"));
    }
    if !warn_aggregates {
        for agg in aggregates.iter().filter(|a| !a.holds) {
            failures
                .push(format!("aggregate requirement broken: {} `{}` ({}): {} vs {}", agg.slot, agg.text, agg.origin, agg.lhs, agg.rhs));
        }
    }
    failures
}

fn execute(
    kernel: &dyn Kernel,
    opts: &RunOptions,
    files: &RunFiles,
    reader: InputReader,
    duplicates: DuplicateRows,
    stale: Vec<PathBuf>,
    start: Instant,
) -> Result<RunSummary, RuntimeError> {
    let sig = kernel.signature();
    let threads = opts.thread_count();
    let batch_rows = opts.batch_rows;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("pol-eval-{i}"))
        // The reference interpreter recurses over expressions; give it the compiler's stack
        // (address space reserved, touched only as used).
        .stack_size(EVAL_STACK_BYTES)
        .build()
        .map_err(|e| RuntimeError::invalid(format!("cannot start {threads} threads: {e}")))?;
    let evaluator =
        Evaluator::new(kernel, reader.bound.clone(), crate::eval::Repeats::Rows(duplicates), reader.kept(opts.binding.as_ref()))?;
    let id_names: Vec<String> = sig.inputs.iter().filter(|s| s.is_id).map(|s| s.name.clone()).collect();
    let mut output = match opts.table()? {
        Some(table) => Output::Table(TableWriter::create(&opts.output.to_string_lossy(), &table, evaluator.schema())?),
        None => Output::File(Box::new(OutputWriter::create(&files.output, evaluator.schema())?)),
    };
    let mut ledger = LedgerWriter::create(&files.ledger, &id_names)?;
    let bar = progress_bar(opts.progress, reader.total_rows);
    let mut totals = Totals { sums: vec![SideSums::default(); sig.aggregates.len()], ..Totals::default() };
    let window = 2 * threads + 2;

    std::thread::scope(|scope| -> Result<(), RuntimeError> {
        let (event_tx, event_rx) = mpsc::channel::<Event>();
        let (credit_tx, credit_rx) = mpsc::sync_channel::<()>(window);
        for _ in 0..window {
            let _ = credit_tx.send(());
        }
        let reader_events = event_tx.clone();
        let reader_thread = scope.spawn(move || read_loop(reader, credit_rx, reader_events));
        let evaluator = &evaluator;
        pool.in_place_scope(|tasks| -> Result<(), RuntimeError> {
            let mut pending: BTreeMap<u64, BatchOutcome> = BTreeMap::new();
            let mut next = 0u64;
            let mut batches: Option<u64> = None;
            while batches != Some(next) {
                if opts.cancelled() {
                    return Err(RuntimeError::Interrupted);
                }
                let event = match event_rx.recv_timeout(Duration::from_millis(50)) {
                    Ok(event) => event,
                    Err(mpsc::RecvTimeoutError::Timeout) => {
                        // A reader that ended without saying so (it cannot: it catches panics)
                        // must not leave the run waiting forever.
                        if batches.is_none() && reader_thread.is_finished() {
                            match event_rx.try_recv() {
                                Ok(event) => event,
                                Err(_) => return Err(RuntimeError::invalid("internal error: the reader thread stopped without a word")),
                            }
                        } else {
                            continue;
                        }
                    }
                    Err(mpsc::RecvTimeoutError::Disconnected) => return Err(RuntimeError::invalid("internal error: the reader stopped")),
                };
                match event {
                    Event::Read { seq, first_row, batch } => {
                        let events = event_tx.clone();
                        tasks.spawn(move |_| {
                            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| evaluator.run_batch(&batch, first_row)))
                                .unwrap_or_else(|panic| {
                                    Err(RuntimeError::invalid(format!(
                                        "internal error: evaluating rows {first_row}.. panicked: {}",
                                        panic_text(&panic)
                                    )))
                                });
                            let _ = events.send(Event::Evaluated { seq, outcome });
                        });
                    }
                    Event::ReadEnd { batches: n } => batches = Some(n),
                    Event::ReadFailed(e) => return Err(e),
                    Event::Evaluated { seq, outcome } => {
                        pending.insert(seq, outcome?);
                        while let Some(done) = pending.remove(&next) {
                            output.write(&done.output)?;
                            for error in &done.ledger {
                                ledger.write(error)?;
                                *totals.by_code.entry(error.code.clone()).or_default() += 1;
                            }
                            totals.rows_in += done.rows_in as u64;
                            for (total, part) in totals.sums.iter_mut().zip(&done.sums) {
                                total.lhs = total.lhs.checked_add(part.lhs).unwrap_or(i128::MAX);
                                total.rhs = total.rhs.checked_add(part.rhs).unwrap_or(i128::MAX);
                            }
                            if let Some(bar) = &bar {
                                bar.inc(done.rows_in as u64);
                            }
                            next += 1;
                            let _ = credit_tx.send(());
                        }
                    }
                }
            }
            Ok(())
        })
        // Leaving the closure drops the credits, which stops the reader if it is still running.
    })?;
    if let Some(bar) = &bar {
        bar.finish_and_clear();
    }

    let finished = output.finish()?;
    let rows_out = finished.rows();
    let rows_in_ledger = ledger.rows;
    let ledger_file = ledger.finish()?;
    if totals.rows_in != rows_out + rows_in_ledger {
        return Err(RuntimeError::RowCountMismatch { rows_in: totals.rows_in, rows_out, rows_in_ledger });
    }
    if totals.sums.iter().any(|s| s.lhs == i128::MAX || s.rhs == i128::MAX) {
        let slot = sig.aggregates.first().map_or_else(String::new, |a| a.slot.clone());
        return Err(RuntimeError::AggregateOverflow { slot });
    }
    let aggregates = aggregate::evaluate(sig, &totals.sums)?;
    let aggregates_hold = aggregates.iter().all(|a| a.holds);
    let failures = run_failures(totals.rows_in, rows_in_ledger, &aggregates, opts.max_errors, opts.warn_aggregates);
    let output_written = failures.is_empty();
    let finished = if output_written { Some(finished) } else { None };
    let previous = if output_written { Vec::new() } else { files.retire_previous()? };
    let display = |p: &Path| p.display().to_string();
    let mut summary = RunSummary {
        program: sig.program.clone(),
        engine: kernel.engine().to_string(),
        threads,
        batch_rows,
        input: opts.shown(&opts.input, false),
        output: opts.shown(&opts.output, true),
        errors: display(&files.ledger),
        manifest: display(&files.manifest),
        rows_in: totals.rows_in,
        rows_out,
        rows_in_ledger,
        ledger_by_code: totals.by_code,
        max_errors: opts.max_errors.to_string(),
        aggregates,
        aggregates_hold,
        output_written,
        failures,
        previous_files_moved: previous.iter().map(|(from, to)| format!("{} -> {}", display(from), display(to))).collect(),
        stale_temporaries_removed: stale.iter().map(|p| display(p)).collect(),
        elapsed: start.elapsed(),
    };
    summary.elapsed = start.elapsed();
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| RuntimeError::invalid(format!("cannot serialize the summary: {e}")))?;
    files.commit(&sig.program, totals.rows_in, finished, ledger_file, &json)?;
    if output_written { Ok(summary) } else { Err(RuntimeError::RunFailed { summary: Box::new(summary) }) }
}

/// Where the output rows go.
enum Output {
    File(Box<OutputWriter>),
    Table(TableWriter),
}

impl Output {
    fn write(&mut self, batch: &RecordBatch) -> Result<(), RuntimeError> {
        match self {
            Output::File(w) => w.write(batch),
            Output::Table(w) => w.write(batch),
        }
    }

    fn finish(self) -> Result<FinishedOutput, RuntimeError> {
        Ok(match self {
            Output::File(w) => FinishedOutput::File(w.finish()?),
            Output::Table(w) => FinishedOutput::Table(w.finish()?),
        })
    }
}

fn panic_text(panic: &Box<dyn std::any::Any + Send>) -> String {
    panic.downcast_ref::<&str>().map(|s| s.to_string()).or_else(|| panic.downcast_ref::<String>().cloned()).unwrap_or_default()
}
