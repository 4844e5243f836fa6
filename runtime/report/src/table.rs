//! A report's tables: bilingual headings, cells already written as exact text, and their CSV and
//! xlsx forms.

use std::io::Write;

/// A heading in Chinese and English.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Title {
    pub zh: String,
    pub en: String,
}

impl Title {
    pub fn new(zh: impl Into<String>, en: impl Into<String>) -> Self {
        Title { zh: zh.into(), en: en.into() }
    }

    /// `中文 / English`, as CSV headers and sheet cells show it.
    pub fn both(&self) -> String {
        if self.en.is_empty() { self.zh.clone() } else { format!("{} / {}", self.zh, self.en) }
    }
}

/// One table of the report, also written as `<report>.<id>.csv` and a sheet of `<report>.xlsx`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Table {
    /// A short file-safe name (`deciles`, `group-hardship_class`).
    pub id: String,
    pub title: Title,
    pub columns: Vec<Title>,
    pub rows: Vec<Vec<String>>,
    /// What the figures mean (how deciles are cut, what a bucket holds), shown under the table.
    pub note: Option<Title>,
}

impl Table {
    pub fn new(id: impl Into<String>, title: Title, columns: Vec<Title>) -> Self {
        Table { id: id.into(), title, columns, rows: Vec::new(), note: None }
    }

    pub fn push(&mut self, row: Vec<String>) {
        debug_assert_eq!(row.len(), self.columns.len(), "table {}: a row of {} cells", self.id, row.len());
        self.rows.push(row);
    }

    /// The table as CSV (RFC 4180 quoting; UTF-8 with a byte-order mark, which spreadsheet
    /// programs need to read Chinese text as UTF-8).
    pub fn csv(&self) -> Vec<u8> {
        let mut out = b"\xEF\xBB\xBF".to_vec();
        let line = |cells: &mut dyn Iterator<Item = String>, out: &mut Vec<u8>| {
            let cells: Vec<String> = cells.map(|c| csv_cell(&c)).collect();
            let _ = writeln!(out, "{}", cells.join(","));
        };
        line(&mut self.columns.iter().map(Title::both), &mut out);
        for row in &self.rows {
            line(&mut row.iter().cloned(), &mut out);
        }
        out
    }
}

fn csv_cell(text: &str) -> String {
    if text.contains([',', '"', '\n', '\r']) { format!("\"{}\"", text.replace('"', "\"\"")) } else { text.to_string() }
}

/// Every table as a sheet of one workbook; cells stay text, as exact as in the CSV files.
pub fn xlsx(tables: &[Table]) -> Result<Vec<u8>, String> {
    let mut book = rust_xlsxwriter::Workbook::new();
    let bold = rust_xlsxwriter::Format::new().set_bold();
    let mut names = std::collections::BTreeSet::new();
    for t in tables {
        let sheet = book.add_worksheet();
        // Sheet names: at most 31 characters, unique, none of []:*?/\.
        let mut name: String = t.id.chars().filter(|c| !"[]:*?/\\".contains(*c)).take(28).collect();
        while !names.insert(name.clone()) {
            name.push('_');
        }
        sheet.set_name(&name).map_err(|e| e.to_string())?;
        sheet.write_string_with_format(0, 0, t.title.both(), &bold).map_err(|e| e.to_string())?;
        for (c, col) in t.columns.iter().enumerate() {
            sheet.write_string_with_format(1, c as u16, col.both(), &bold).map_err(|e| e.to_string())?;
        }
        for (r, row) in t.rows.iter().enumerate() {
            for (c, cell) in row.iter().enumerate() {
                sheet.write_string(r as u32 + 2, c as u16, cell).map_err(|e| e.to_string())?;
            }
        }
    }
    book.save_to_buffer().map_err(|e| e.to_string())
}
