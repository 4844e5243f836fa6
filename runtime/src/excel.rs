//! Spreadsheets: `.xlsx`/`.xls` input (calamine) and `.xlsx` output (rust_xlsxwriter).
//!
//! Input: the first row of the sheet (the binding's `sheet`, else the first) is the header; every
//! cell becomes text, then the same exact text conversions as a CSV cell apply. Excel stores every
//! number as a binary double, so a numeric cell is read through its shortest round-trip decimal
//! form (what Excel shows: `3265.4`), exact when that has at most the field's places, else a
//! ledger row; nothing is rounded. A date-formatted cell is converted by Excel's serial-day rules
//! (1900 system: serial 1 is 1900-01-01, the nonexistent 1900-02-29 is serial 60, so later serials
//! count from 1899-12-30; 1904 system: serial 0 is 1904-01-01), and is a bad cell when it holds a
//! time of day. An error cell (`#N/A`) is a bad cell. A sheet is read into memory whole (an Excel
//! sheet has at most 1,048,576 rows).
//!
//! Output: a header row in bold, then one row per record; Money as a number with the format
//! `0.00` (the double nearest to the amount, which Excel shows and reads back exactly for every
//! amount below 2^53 fen; larger amounts are written as text), Decimal{s} likewise, Int as a
//! number below 2^53 and text above, Date as a date formatted `yyyy-mm-dd`, Bool as a boolean,
//! Enum as its variant name. Beyond 1,048,575 records a sheet continues on the next (`data2`, …).

use std::path::Path;
use std::sync::Arc;

use arrow::array::{Array, ArrayRef, AsArray, StringBuilder};
use arrow::datatypes::{DataType, Date32Type, Decimal128Type, Field, Int64Type, Schema, SchemaRef};
use arrow::record_batch::RecordBatch;
use calamine::{Data, Range, Reader, Sheets, open_workbook_auto};
use rust_xlsxwriter::{ExcelDateTime, Format, Workbook, Worksheet};

use crate::error::RuntimeError;
use crate::value::{civil_from_days, days_from_civil};

/// Rows per Excel sheet, the header included.
const SHEET_ROWS: u32 = 1_048_576;

/// The largest integer a double holds exactly (2^53).
const EXACT_IN_DOUBLE: i128 = 1 << 53;

fn excel_error(path: &Path, e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::invalid(format!("`{}`: {e}", path.display()))
}

/// A sheet read into memory, yielding batches of text columns.
pub(crate) struct ExcelSheet {
    range: Range<Data>,
    pub names: Vec<String>,
    is_1904: bool,
    /// The next data row (0 is the header).
    next: usize,
    projection: Vec<usize>,
    batch_rows: usize,
    schema: SchemaRef,
}

impl ExcelSheet {
    /// Opens `sheet` (default: the first) of the workbook at `path`.
    pub fn open(path: &Path, sheet: Option<&str>) -> Result<ExcelSheet, RuntimeError> {
        let mut book: Sheets<_> = open_workbook_auto(path).map_err(|e| excel_error(path, e))?;
        let is_1904 = match &book {
            Sheets::Xlsx(x) => x.has_1904_epoch(),
            Sheets::Xls(x) => x.has_1904_epoch(),
            Sheets::Xlsb(x) => x.has_1904_epoch(),
            Sheets::Ods(_) => false,
        };
        let names = book.sheet_names();
        let name = match sheet {
            Some(s) if names.iter().any(|n| n == s) => s.to_string(),
            Some(s) => return Err(excel_error(path, format!("no sheet `{s}`; the sheets are {}", names.join(", ")))),
            None => names.first().cloned().ok_or_else(|| excel_error(path, "the workbook has no sheet"))?,
        };
        let range = book.worksheet_range(&name).map_err(|e| excel_error(path, e))?;
        let header: Vec<String> = match range.rows().next() {
            Some(row) => row.iter().map(header_text).collect(),
            None => Vec::new(),
        };
        Ok(ExcelSheet { range, names: header, is_1904, next: 1, projection: Vec::new(), batch_rows: 1, schema: Arc::new(Schema::empty()) })
    }

    /// Yields only the columns `projection` (indexes into [`ExcelSheet::names`]), as Utf8.
    pub fn project(mut self, projection: Vec<usize>, batch_rows: usize) -> ExcelSheet {
        let fields: Vec<Field> = projection.iter().map(|i| Field::new(self.names[*i].clone(), DataType::Utf8, true)).collect();
        self.schema = Arc::new(Schema::new(fields));
        self.projection = projection;
        self.batch_rows = batch_rows.max(1);
        self
    }

    pub fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }

    pub fn total_rows(&self) -> u64 {
        self.range.height().saturating_sub(1) as u64
    }

    pub fn next_batch(&mut self, path: &Path) -> Result<Option<RecordBatch>, RuntimeError> {
        let height = self.range.height();
        if self.next >= height {
            return Ok(None);
        }
        let end = (self.next + self.batch_rows).min(height);
        let start = self.range.start().unwrap_or((0, 0));
        let columns: Vec<ArrayRef> = self
            .projection
            .iter()
            .map(|col| {
                let mut b = StringBuilder::new();
                for row in self.next..end {
                    let cell = self.range.get_value((start.0 + row as u32, start.1 + *col as u32));
                    match cell.map(|c| cell_text(c, self.is_1904)) {
                        None | Some(None) => b.append_null(),
                        Some(Some(t)) => b.append_value(t),
                    }
                }
                Arc::new(b.finish()) as ArrayRef
            })
            .collect();
        let rows = end - self.next;
        self.next = end;
        let options = arrow::record_batch::RecordBatchOptions::new().with_row_count(Some(rows));
        RecordBatch::try_new_with_options(self.schema.clone(), columns, &options).map(Some).map_err(|e| RuntimeError::arrow(path, e))
    }
}

fn header_text(cell: &Data) -> String {
    cell_text(cell, false).unwrap_or_default().trim().to_string()
}

/// The text of a cell for the exact text conversions; `None` for an empty cell.
fn cell_text(cell: &Data, is_1904: bool) -> Option<String> {
    Some(match cell {
        Data::Empty => return None,
        Data::String(s) => s.clone(),
        Data::Int(i) => i.to_string(),
        // Rust prints the shortest decimal that reads back as the same double, never in
        // exponent form: what Excel shows, without its 15-digit display rounding.
        Data::Float(f) if f.is_finite() => format!("{f}"),
        Data::Float(f) => format!("{f} (not a number)"),
        Data::Bool(b) => b.to_string(),
        Data::DateTime(dt) => serial_date(dt.as_f64(), is_1904),
        Data::DateTimeIso(s) => s.strip_suffix("T00:00:00").unwrap_or(s).to_string(),
        Data::DurationIso(s) => s.clone(),
        Data::Error(e) => format!("{e} (an error cell)"),
    })
}

/// The date of an Excel serial as `YYYY-MM-DD`, or text that no date layout reads (a time of
/// day, the 1900 system's nonexistent 1900-02-29), so that the row goes to the ledger.
fn serial_date(serial: f64, is_1904: bool) -> String {
    if serial.fract() != 0.0 || !serial.is_finite() || serial.abs() > 3.0e6 {
        return format!("{serial} (an Excel date and time; a date is wanted)");
    }
    let n = serial as i64;
    let days = if is_1904 {
        days_from_civil(1904, 1, 1).map(|d| d + n)
    } else if n == 60 {
        return "1900-02-29 (Excel's serial 60, a day that does not exist)".into();
    } else if (1..60).contains(&n) {
        days_from_civil(1899, 12, 31).map(|d| d + n)
    } else if n > 60 {
        days_from_civil(1899, 12, 30).map(|d| d + n)
    } else {
        None
    };
    match days {
        Some(d) => {
            let (y, m, dd) = civil_from_days(d);
            format!("{y:04}-{m:02}-{dd:02}")
        }
        None => format!("{serial} (not an Excel date serial)"),
    }
}

/// An `.xlsx` file being written: rows go to the workbook's temporary files as they come.
pub(crate) struct XlsxWriter {
    book: Workbook,
    sheet: Worksheet,
    sheets: u32,
    /// The next row of the current sheet.
    row: u32,
    header: Vec<String>,
    bold: Format,
    money: Vec<Option<Format>>,
    date: Format,
}

impl XlsxWriter {
    pub fn new(schema: &SchemaRef, temp_dir: &Path) -> Result<XlsxWriter, RuntimeError> {
        let mut book = Workbook::new();
        book.set_tempdir(temp_dir).map_err(|e| excel_error(temp_dir, e))?;
        let header: Vec<String> = schema.fields().iter().map(|f| f.name().clone()).collect();
        let money = schema
            .fields()
            .iter()
            .map(|f| match f.data_type() {
                DataType::Decimal128(_, s) => {
                    Some(Format::new().set_num_format(if *s <= 0 { "0".to_string() } else { format!("0.{}", "0".repeat(*s as usize)) }))
                }
                _ => None,
            })
            .collect();
        let mut w = XlsxWriter {
            sheet: Worksheet::new(),
            book,
            sheets: 0,
            row: 0,
            header,
            bold: Format::new().set_bold(),
            money,
            date: Format::new().set_num_format("yyyy-mm-dd"),
        };
        w.new_sheet(temp_dir)?;
        Ok(w)
    }

    fn new_sheet(&mut self, path: &Path) -> Result<(), RuntimeError> {
        let err = |e| excel_error(path, e);
        let fresh = self.book.new_worksheet_with_constant_memory().map_err(err)?;
        let done = std::mem::replace(&mut self.sheet, fresh);
        if self.sheets > 0 {
            self.book.push_worksheet(done);
        }
        self.sheets += 1;
        let name = if self.sheets == 1 { "data".to_string() } else { format!("data{}", self.sheets) };
        self.sheet.set_name(&name).map_err(err)?;
        for (c, h) in self.header.iter().enumerate() {
            self.sheet.write_string_with_format(0, c as u16, h, &self.bold).map_err(err)?;
        }
        self.row = 1;
        Ok(())
    }

    pub fn write(&mut self, batch: &RecordBatch, path: &Path) -> Result<(), RuntimeError> {
        let err = |e| excel_error(path, e);
        for r in 0..batch.num_rows() {
            if self.row >= SHEET_ROWS {
                self.new_sheet(path)?;
            }
            let row = self.row;
            for (c, column) in batch.columns().iter().enumerate() {
                let col = c as u16;
                match column.data_type() {
                    DataType::Int64 => {
                        let v = i128::from(column.as_primitive::<Int64Type>().value(r));
                        if v.abs() < EXACT_IN_DOUBLE {
                            self.sheet.write_number(row, col, v as f64).map_err(err)?;
                        } else {
                            self.sheet.write_string(row, col, v.to_string()).map_err(err)?;
                        }
                    }
                    DataType::Decimal128(_, s) => {
                        let v = column.as_primitive::<Decimal128Type>().value(r);
                        let scale = u32::try_from(*s).unwrap_or(0);
                        if v.abs() < EXACT_IN_DOUBLE {
                            // The correctly rounded quotient of two exact doubles: the double
                            // nearest to the amount, whose shortest form is the amount itself.
                            let x = v as f64 / 10f64.powi(scale as i32);
                            let format = self.money[c].as_ref().unwrap_or(&self.bold);
                            self.sheet.write_number_with_format(row, col, x, format).map_err(err)?;
                        } else {
                            self.sheet.write_string(row, col, crate::value::format_decimal(v, scale)).map_err(err)?;
                        }
                    }
                    DataType::Date32 => {
                        let (y, m, d) = civil_from_days(i64::from(column.as_primitive::<Date32Type>().value(r)));
                        match u16::try_from(y).ok().and_then(|y| ExcelDateTime::from_ymd(y, m as u8, d as u8).ok()) {
                            Some(dt) if y >= 1900 => self.sheet.write_datetime_with_format(row, col, &dt, &self.date).map_err(err)?,
                            _ => self.sheet.write_string(row, col, format!("{y:04}-{m:02}-{d:02}")).map_err(err)?,
                        };
                    }
                    DataType::Boolean => {
                        self.sheet.write_boolean(row, col, column.as_boolean().value(r)).map_err(err)?;
                    }
                    DataType::Utf8 if column.is_null(r) => {}
                    DataType::Utf8 => {
                        self.sheet.write_string(row, col, column.as_string::<i32>().value(r)).map_err(err)?;
                    }
                    other => return Err(excel_error(path, format!("cannot write a {other} column"))),
                }
            }
            self.row += 1;
        }
        Ok(())
    }

    /// The finished workbook, written into `out`.
    pub fn finish<W: std::io::Write + std::io::Seek + Send>(mut self, out: W, path: &Path) -> Result<(), RuntimeError> {
        let sheet = std::mem::replace(&mut self.sheet, Worksheet::new());
        self.book.push_worksheet(sheet);
        self.book.save_to_writer(out).map_err(|e| excel_error(path, e))
    }
}

/// Data rows of an `.xlsx` file (every sheet, headers excluded), for `pol verify`.
pub(crate) fn count_rows(path: &Path) -> Result<u64, RuntimeError> {
    let mut book: Sheets<_> = open_workbook_auto(path).map_err(|e| excel_error(path, e))?;
    let mut rows = 0u64;
    for name in book.sheet_names() {
        let range = book.worksheet_range(&name).map_err(|e| excel_error(path, e))?;
        rows += range.height().saturating_sub(1) as u64;
    }
    Ok(rows)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn excel_serials_follow_excels_calendar() {
        assert_eq!(serial_date(1.0, false), "1900-01-01");
        assert_eq!(serial_date(59.0, false), "1900-02-28");
        assert!(serial_date(60.0, false).contains("does not exist"));
        assert_eq!(serial_date(61.0, false), "1900-03-01");
        assert_eq!(serial_date(20149.0, false), "1955-03-01");
        assert_eq!(serial_date(45292.0, false), "2024-01-01");
        assert_eq!(serial_date(0.0, true), "1904-01-01");
        assert_eq!(serial_date(45292.0 - 1462.0, true), "2024-01-01");
        assert!(serial_date(45292.5, false).contains("a date is wanted"));
    }

    #[test]
    fn numeric_cells_read_as_their_shortest_decimal() {
        assert_eq!(cell_text(&Data::Float(3265.4), false).as_deref(), Some("3265.4"));
        assert_eq!(cell_text(&Data::Float(0.1 + 0.2), false).as_deref(), Some("0.30000000000000004"));
        assert_eq!(cell_text(&Data::Float(19550301.0), false).as_deref(), Some("19550301"));
        assert_eq!(cell_text(&Data::Float(1e21), false).as_deref(), Some("1000000000000000000000"));
        assert_eq!(cell_text(&Data::Empty, false), None);
    }
}
