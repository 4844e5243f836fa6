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
use std::sync::mpsc;
use std::time::Instant;

use arrow::record_batch::RecordBatch;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use pol_kernel::Kernel;

use crate::aggregate::{self, SideSums};
use crate::atomic::write_atomically;
use crate::error::RuntimeError;
use crate::eval::{BatchOutcome, Evaluator};
use crate::ledger::LedgerWriter;
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

/// What to run and where to put the results.
#[derive(Clone, Debug)]
pub struct RunOptions {
    /// A `.parquet`/`.pq` or `.csv` file.
    pub input: PathBuf,
    /// A `.parquet`/`.pq` or `.csv` file: the id columns then every kernel output.
    pub output: PathBuf,
    /// The row error ledger (CSV); default `<output without extension>.errors.csv`.
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
        }
    }

    fn sibling(&self, suffix: &str) -> PathBuf {
        let stem = self.output.file_stem().map(|s| s.to_string_lossy().into_owned());
        self.output.with_file_name(format!("{}{suffix}", stem.unwrap_or_default()))
    }

    /// Where the ledger goes.
    pub fn errors_path(&self) -> PathBuf {
        self.errors.clone().unwrap_or_else(|| self.sibling(".errors.csv"))
    }

    /// Where the summary goes.
    pub fn summary_path(&self) -> PathBuf {
        self.summary.clone().unwrap_or_else(|| self.sibling(".summary.json"))
    }

    /// The thread count a run uses.
    pub fn thread_count(&self) -> usize {
        self.threads.unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get())).max(1)
    }
}

/// Checks the options that can be checked without opening the input.
fn check_paths(opts: &RunOptions) -> Result<(), RuntimeError> {
    FileFormat::from_path(&opts.output, "output")?;
    let errors = opts.errors_path();
    if FileFormat::from_path(&errors, "error ledger")? != FileFormat::Csv {
        return Err(RuntimeError::invalid(format!("error ledger `{}` must be a .csv file", errors.display())));
    }
    let paths = [opts.input.clone(), opts.output.clone(), errors, opts.summary_path()];
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
        match reader.next_batch() {
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
    check_paths(opts)?;
    let threads = opts.thread_count();
    let batch_rows = opts.batch_rows.max(1);
    // The input is checked against the signature before any output file exists.
    let reader = open_input(&opts.input, &sig.inputs, batch_rows)?;
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .thread_name(|i| format!("pol-eval-{i}"))
        // The reference interpreter recurses over expressions; give it the compiler's stack
        // (address space reserved, touched only as used).
        .stack_size(EVAL_STACK_BYTES)
        .build()
        .map_err(|e| RuntimeError::invalid(format!("cannot start {threads} threads: {e}")))?;
    let evaluator = Evaluator::new(kernel, reader.bound.clone());
    let errors_path = opts.errors_path();
    let id_names: Vec<String> = sig.inputs.iter().filter(|s| s.is_id).map(|s| s.name.clone()).collect();
    let mut output = OutputWriter::create(&opts.output, evaluator.schema())?;
    let mut ledger = LedgerWriter::create(&errors_path, &id_names)?;
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
        scope.spawn(move || read_loop(reader, credit_rx, reader_events));
        let evaluator = &evaluator;
        pool.in_place_scope(|tasks| -> Result<(), RuntimeError> {
            let mut pending: BTreeMap<u64, BatchOutcome> = BTreeMap::new();
            let mut next = 0u64;
            let mut batches: Option<u64> = None;
            while batches != Some(next) {
                let event = event_rx.recv().map_err(|_| RuntimeError::invalid("internal error: the reader stopped"))?;
                match event {
                    Event::Read { seq, first_row, batch } => {
                        let events = event_tx.clone();
                        tasks.spawn(move |_| {
                            let outcome = evaluator.run_batch(&batch, first_row);
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
    let rows_out = finished.rows;
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
    let output_written = aggregates_hold || opts.warn_aggregates;
    let display = |p: &Path| p.display().to_string();
    let mut summary = RunSummary {
        program: sig.program.clone(),
        engine: kernel.engine().to_string(),
        threads,
        batch_rows,
        input: display(&opts.input),
        output: display(&opts.output),
        errors: display(&errors_path),
        rows_in: totals.rows_in,
        rows_out,
        rows_in_ledger,
        ledger_by_code: totals.by_code,
        aggregates,
        aggregates_hold,
        output_written,
        elapsed: start.elapsed(),
    };
    if output_written {
        finished.commit()?;
    } else {
        drop(finished);
    }
    ledger_file.commit()?;
    summary.elapsed = start.elapsed();
    let json = serde_json::to_vec_pretty(&summary).map_err(|e| RuntimeError::invalid(format!("cannot serialize the summary: {e}")))?;
    write_atomically(&opts.summary_path(), &json)?;
    if output_written { Ok(summary) } else { Err(RuntimeError::AggregatesFailed { summary: Box::new(summary) }) }
}
