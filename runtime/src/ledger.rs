//! The row error ledger: one CSV line for every input row that did not reach the output.
//!
//! Columns: `row` (1-based number of the record in the input; in a CSV input, record 1 is on
//! line 2, after the header), each id column's value as read (empty if missing), `code`
//! (`V000x` input errors, the kernel's `R000x` faults), `rule` (empty for input errors),
//! `column` (the input or output column at fault, empty for kernel faults) and `message`.

use std::io::Write;
use std::path::Path;

use serde::Serialize;

use crate::atomic::AtomicFile;
use crate::background::BackgroundWriter;
use crate::error::RuntimeError;
use crate::write::FinishedFile;

/// One row that did not reach the output, and why.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RowError {
    /// 1-based record number in the input file.
    pub row: u64,
    /// The id columns' cells as read, in signature order (empty string for a missing cell).
    pub ids: Vec<String>,
    pub code: String,
    /// The rule that faulted; empty for input errors.
    pub rule: String,
    /// The column at fault; empty for kernel faults.
    pub column: String,
    pub message: String,
}

/// Quotes a CSV field when it holds a separator, a quote or a line break.
fn csv_field(out: &mut Vec<u8>, field: &str) {
    if field.bytes().any(|b| matches!(b, b',' | b'"' | b'\n' | b'\r')) {
        out.push(b'"');
        out.extend_from_slice(field.replace('"', "\"\"").as_bytes());
        out.push(b'"');
    } else {
        out.extend_from_slice(field.as_bytes());
    }
}

/// The ledger file being written under a temporary name.
pub(crate) struct LedgerWriter {
    atomic: AtomicFile,
    out: BackgroundWriter,
    line: Vec<u8>,
    pub rows: u64,
}

impl LedgerWriter {
    /// Creates the ledger and writes its header; `id_names` are the id columns' names.
    pub fn create(path: &Path, id_names: &[String]) -> Result<Self, RuntimeError> {
        let atomic = AtomicFile::create(path)?;
        let out = BackgroundWriter::new(atomic.file()?).map_err(|e| RuntimeError::io(path, "write", e))?;
        let mut ledger = LedgerWriter { atomic, out, line: Vec::new(), rows: 0 };
        let mut header: Vec<&str> = vec!["row"];
        header.extend(id_names.iter().map(String::as_str));
        header.extend(["code", "rule", "column", "message"]);
        ledger.write_line(&header)?;
        Ok(ledger)
    }

    fn write_line(&mut self, fields: &[&str]) -> Result<(), RuntimeError> {
        self.line.clear();
        for (i, field) in fields.iter().enumerate() {
            if i > 0 {
                self.line.push(b',');
            }
            csv_field(&mut self.line, field);
        }
        self.line.push(b'\n');
        self.out.write_all(&self.line).map_err(|e| RuntimeError::io(self.atomic.final_path(), "write", e))
    }

    pub fn write(&mut self, error: &RowError) -> Result<(), RuntimeError> {
        let row = error.row.to_string();
        let mut fields: Vec<&str> = vec![&row];
        fields.extend(error.ids.iter().map(String::as_str));
        fields.extend([error.code.as_str(), &error.rule, &error.column, &error.message]);
        self.rows += 1;
        self.write_line(&fields)
    }

    /// Writes the last bytes; the ledger keeps its temporary name until the run commits.
    pub fn finish(mut self) -> Result<FinishedFile, RuntimeError> {
        let written = self.out.finish().map_err(|e| RuntimeError::io(self.atomic.final_path(), "write", e))?;
        Ok(FinishedFile { atomic: self.atomic, rows: self.rows, written })
    }
}
