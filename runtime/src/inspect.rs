//! Looking at a source before a run: its columns and their types, the distinct values of a
//! column (for `pol bind init`), and a dry run of a binding over every row (`pol bind check`).

use std::collections::BTreeMap;
use std::path::Path;

use arrow::array::{Array, AsArray};
use arrow::datatypes::DataType;
use pol_kernel::ColumnSpec;
use serde::Serialize;

use crate::binding::{Binding, SourceOptions};
use crate::error::RuntimeError;
use crate::keys::duplicate_keys;
use crate::read::{open_input, source_columns};
use crate::validate::convert_batch;

/// One column of a source as the reader sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SourceColumn {
    pub name: String,
    /// The Arrow type (`Utf8` for every CSV column).
    pub ty: String,
}

/// The columns of `path` (Parquet schema, or a CSV header decoded as `options` say).
pub fn columns(path: &Path, options: &SourceOptions) -> Result<Vec<SourceColumn>, RuntimeError> {
    if crate::postgres::is_url(path) {
        return crate::postgres::source_columns(&path.to_string_lossy(), options);
    }
    source_columns(path, options)
}

/// Up to `limit` distinct values of `column` among the first `rows` rows, in order of first
/// appearance, as text, with how often each occurred.
pub fn distinct_values(
    path: &Path,
    column: &str,
    options: &SourceOptions,
    rows: usize,
    limit: usize,
) -> Result<Vec<(String, u64)>, RuntimeError> {
    if crate::postgres::is_url(path) {
        return crate::postgres::distinct(&path.to_string_lossy(), options, column, rows, limit);
    }
    let binding = Binding { source: options.clone(), ..Binding::default() };
    let mut reader = crate::read::open_raw(path, column, rows.clamp(1, 65_536), &binding)?;
    let mut seen: Vec<(String, u64)> = Vec::new();
    let mut read = 0usize;
    static OPTIONS: arrow::util::display::FormatOptions<'static> = arrow::util::display::FormatOptions::new();
    while read < rows {
        let Some(batch) = reader.next_batch()? else { break };
        let array = batch.column(0);
        let formatter =
            arrow::util::display::ArrayFormatter::try_new(array.as_ref(), &OPTIONS).map_err(|e| RuntimeError::arrow(path, e))?;
        for i in 0..array.len().min(rows - read) {
            let text = if array.is_null(i) {
                String::new()
            } else if let DataType::Utf8 = array.data_type() {
                array.as_string::<i32>().value(i).to_string()
            } else {
                formatter.value(i).to_string()
            };
            let full = seen.len() >= limit;
            match seen.iter_mut().find(|(t, _)| *t == text) {
                Some((_, n)) => *n += 1,
                None if !full => seen.push((text, 1)),
                None => {}
            }
        }
        read += array.len();
    }
    Ok(seen)
}

/// What a dry run of a binding found.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct BindingReport {
    pub rows: u64,
    /// Rows that would go to the ledger before any rule runs.
    pub rows_with_problems: u64,
    /// Per column: how many cells are bad, and the first few (row, code, message).
    pub columns: BTreeMap<String, ColumnProblems>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct ColumnProblems {
    pub cells: u64,
    pub examples: Vec<(u64, String, String)>,
}

/// Reads every row of `path` through `binding` exactly as a run would (conversions, domains,
/// duplicate keys), without evaluating: what would reach the ledger for input reasons.
pub fn check_binding(
    inputs: &[ColumnSpec],
    path: &Path,
    binding: Option<&Binding>,
    batch_rows: usize,
) -> Result<BindingReport, RuntimeError> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let spill = std::env::temp_dir();
    let duplicates = duplicate_keys(path, inputs, binding, batch_rows, if spill.is_dir() { &spill } else { dir }, &|| false)?;
    let mut reader = open_input(path, inputs, batch_rows, binding)?;
    let mut report = BindingReport::default();
    let mut first_row = 1u64;
    while let Some(batch) = reader.next_batch()? {
        let converted = convert_batch(&batch, inputs, &reader.bound);
        let mut faulty: std::collections::BTreeSet<usize> = converted.faults.keys().copied().collect();
        for (row, fault) in &converted.faults {
            let entry = report.columns.entry(fault.column.clone()).or_default();
            entry.cells += 1;
            if entry.examples.len() < 5 {
                entry.examples.push((first_row + *row as u64, fault.code.to_string(), fault.message.clone()));
            }
        }
        let last = first_row + batch.num_rows() as u64;
        for (row, message) in duplicates.range(first_row..last) {
            let key = inputs.iter().filter(|s| s.is_id).map(|s| s.name.as_str()).collect::<Vec<_>>().join(",");
            let entry = report.columns.entry(key).or_default();
            entry.cells += 1;
            if entry.examples.len() < 5 {
                entry.examples.push((*row, crate::keys::CODE_DUPLICATE_KEY.to_string(), message.clone()));
            }
            faulty.insert((row - first_row) as usize);
        }
        report.rows_with_problems += faulty.len() as u64;
        report.rows += batch.num_rows() as u64;
        first_row = last;
    }
    Ok(report)
}
