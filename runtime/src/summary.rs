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
    pub rows_in: u64,
    pub rows_out: u64,
    pub rows_in_ledger: u64,
    /// Ledger rows per error code.
    pub ledger_by_code: BTreeMap<String, u64>,
    pub aggregates: Vec<AggregateResult>,
    /// Every aggregate requirement holds (true when there are none).
    pub aggregates_hold: bool,
    /// Whether the output file was written (false when an aggregate requirement failed and
    /// `warn_aggregates` was off).
    pub output_written: bool,
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
