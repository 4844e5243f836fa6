//! The summary of a run, returned to the caller and written as JSON next to the output.

use std::collections::BTreeMap;
use std::time::Duration;

use serde::Serialize;

use crate::aggregate::AggregateResult;

/// What a run did. Serialized as the summary JSON file.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RunSummary {
    /// The kernel's program name.
    pub program: String,
    /// The engine that evaluated (`interp`, `jit`).
    pub engine: String,
    pub threads: usize,
    pub batch_rows: usize,
    pub input: String,
    pub output: String,
    pub errors: String,
    /// The run's manifest, written last (see `pol verify`).
    pub manifest: String,
    pub rows_in: u64,
    pub rows_out: u64,
    pub rows_in_ledger: u64,
    /// Ledger rows per error code.
    pub ledger_by_code: BTreeMap<String, u64>,
    /// The ledger rows allowed (`--max-errors`): a count, or a percentage of `rows_in`.
    pub max_errors: String,
    pub aggregates: Vec<AggregateResult>,
    /// Every aggregate requirement holds (true when there are none).
    pub aggregates_hold: bool,
    /// Whether the output file was written: `failures` is empty.
    pub output_written: bool,
    /// Why the output was not written: a broken aggregate requirement (unless
    /// `warn_aggregates`), more ledger rows than `max_errors`, no row reaching the output.
    pub failures: Vec<String>,
    /// Files of an earlier run moved aside by a failed run (`from -> to`).
    pub previous_files_moved: Vec<String>,
    /// Temporary files that killed earlier runs had left, removed by this run.
    pub stale_temporaries_removed: Vec<String>,
    /// Wall time from opening the input to the last file committed.
    #[serde(rename = "elapsed_ms", serialize_with = "as_millis")]
    pub elapsed: Duration,
}

fn as_millis<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl RunSummary {
    /// Rows per second over the whole run (input rows / elapsed).
    pub fn rows_per_second(&self) -> u64 {
        let micros = self.elapsed.as_micros().max(1);
        u64::try_from(u128::from(self.rows_in) * 1_000_000 / micros).unwrap_or(u64::MAX)
    }
}
