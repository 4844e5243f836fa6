//! The runtime's error type: every failure names the file it concerns and what is wrong with it.

use std::fmt;
use std::path::PathBuf;

use crate::summary::RunSummary;

/// One reason why an input file does not fit a kernel's signature.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum SchemaProblem {
    /// A column the kernel needs is absent.
    MissingColumn { column: String, expected: String },
    /// A column is present but its type cannot carry the kernel's type.
    WrongType { column: String, expected: String, found: String },
    /// The file has more than one column of this name.
    DuplicateColumn { column: String },
    /// The binding itself is wrong for this run (an unknown field, a code of no variant, …).
    Binding { message: String },
}

impl fmt::Display for SchemaProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SchemaProblem::MissingColumn { column, expected } => {
                write!(f, "missing column `{column}` (expected {expected})")
            }
            SchemaProblem::WrongType { column, expected, found } => {
                write!(f, "column `{column}` has type {found}, expected {expected}")
            }
            SchemaProblem::DuplicateColumn { column } => {
                write!(f, "column `{column}` appears more than once")
            }
            SchemaProblem::Binding { message } => write!(f, "binding: {message}"),
        }
    }
}

/// Everything that can make a run, a generation or a measurement fail.
#[derive(Debug)]
pub enum RuntimeError {
    /// The input's columns do not fit the kernel; found before any work is done.
    Schema { file: PathBuf, problems: Vec<SchemaProblem> },
    /// The file name has no extension the runtime can read or write.
    UnsupportedFormat { file: PathBuf, role: &'static str },
    /// Reading, writing, syncing or renaming a file failed.
    Io { file: PathBuf, action: &'static str, source: std::io::Error },
    /// Arrow (CSV decoding and encoding, array construction) reported an error.
    Arrow { file: PathBuf, source: arrow::error::ArrowError },
    /// The Parquet reader or writer reported an error.
    Parquet { file: PathBuf, source: parquet::errors::ParquetError },
    /// The options or the arguments cannot be used (message says why).
    Invalid { message: String },
    /// `rows_in = rows_out + rows_in_ledger` did not hold: a row was lost or duplicated.
    RowCountMismatch { rows_in: u64, rows_out: u64, rows_in_ledger: u64 },
    /// An aggregate sum went beyond 128 bits; the run cannot decide its requirements exactly.
    AggregateOverflow { slot: String },
    /// The run read every row but may not write its output: an aggregate requirement is broken,
    /// the ledger has more rows than `max_errors` allows, or no row reached the output. The
    /// ledger, the summary (whose `failures` say why) and a manifest of outcome `failed` were
    /// written; the earlier run's files were moved aside (`previous_files_moved`).
    RunFailed { summary: Box<RunSummary> },
    /// The run was cancelled (a signal); its temporary files are removed.
    Interrupted,
    /// A run that had started failed with `cause`; the earlier run's files were moved aside
    /// (`from`, `to`), so that no output stays under the output's name.
    Stopped { cause: Box<RuntimeError>, retired: Vec<(PathBuf, PathBuf)> },
}

impl RuntimeError {
    /// Whether the run failed because of what the rules say about the data (a broken or
    /// undecidable aggregate requirement: exit code 1), not because of usage or IO (exit 2).
    pub fn is_rule_failure(&self) -> bool {
        match self {
            RuntimeError::RunFailed { .. } | RuntimeError::AggregateOverflow { .. } => true,
            RuntimeError::Stopped { cause, .. } => cause.is_rule_failure(),
            _ => false,
        }
    }

    /// The error itself, without the note on moved files.
    pub fn cause(&self) -> &RuntimeError {
        match self {
            RuntimeError::Stopped { cause, .. } => cause,
            other => other,
        }
    }

    pub(crate) fn io(file: impl Into<PathBuf>, action: &'static str, source: std::io::Error) -> Self {
        RuntimeError::Io { file: file.into(), action, source }
    }
    pub(crate) fn arrow(file: impl Into<PathBuf>, source: arrow::error::ArrowError) -> Self {
        RuntimeError::Arrow { file: file.into(), source }
    }
    pub(crate) fn parquet(file: impl Into<PathBuf>, source: parquet::errors::ParquetError) -> Self {
        RuntimeError::Parquet { file: file.into(), source }
    }
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        RuntimeError::Invalid { message: message.into() }
    }
}

impl fmt::Display for RuntimeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RuntimeError::Schema { file, problems } => {
                write!(f, "input `{}` does not fit the record the rules read:", file.display())?;
                for problem in problems {
                    write!(f, "\n  - {problem}")?;
                }
                Ok(())
            }
            RuntimeError::UnsupportedFormat { file, role } => {
                write!(f, "{role} `{}`: unsupported file extension (use .parquet, .csv or .xlsx; .xls is read only)", file.display())
            }
            RuntimeError::Io { file, action, source } => {
                write!(f, "cannot {action} `{}`: {source}", file.display())
            }
            RuntimeError::Arrow { file, source } => write!(f, "`{}`: {source}", file.display()),
            RuntimeError::Parquet { file, source } => write!(f, "`{}`: {source}", file.display()),
            RuntimeError::Invalid { message } => f.write_str(message),
            RuntimeError::RowCountMismatch { rows_in, rows_out, rows_in_ledger } => {
                write!(f, "internal error: {rows_in} rows read but {rows_out} written and {rows_in_ledger} in the ledger")
            }
            RuntimeError::AggregateOverflow { slot } => {
                write!(f, "aggregate requirement of `{slot}`: sums too large to compare exactly")
            }
            RuntimeError::RunFailed { summary } => {
                write!(f, "the run failed; output `{}` not written:", summary.output)?;
                for failure in &summary.failures {
                    write!(f, "\n  - {failure}")?;
                }
                for moved in &summary.previous_files_moved {
                    write!(f, "\n  the earlier run's file was moved: {moved}")?;
                }
                write!(f, "\n  the ledger `{}` and the summary say more", summary.errors)
            }
            RuntimeError::Interrupted => f.write_str("interrupted; the run's temporary files were removed and nothing was written"),
            RuntimeError::Stopped { cause, retired } => {
                write!(f, "{cause}")?;
                for (from, to) in retired {
                    write!(f, "\n  the earlier run's file was moved: {} -> {}", from.display(), to.display())?;
                }
                Ok(())
            }
        }
    }
}

impl std::error::Error for RuntimeError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            RuntimeError::Io { source, .. } => Some(source),
            RuntimeError::Arrow { source, .. } => Some(source),
            RuntimeError::Parquet { source, .. } => Some(source),
            _ => None,
        }
    }
}
