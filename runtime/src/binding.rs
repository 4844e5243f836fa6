//! Bindings: how a province's own export maps onto a framework record, without an ETL pass.
//!
//! A binding is a TOML file (format in `docs/data.md`):
//!
//! ```toml
//! record = "Retiree"                 # optional: the record this binding reads
//!
//! [source]                           # CSV only; all optional
//! encoding = "gbk"                   # utf-8 | gbk | gb18030 | auto (default: BOM, else UTF-8 if valid, else GB18030)
//! delimiter = ","                    # one character; "\t" for tab
//! quote = '"'
//! header = true                      # false: columns are named 1, 2, 3, …
//! # table = "pension.retirees"       # a PostgreSQL input: the table, or
//! # query = "SELECT * FROM retirees WHERE region = '4401'"
//!
//! [fields]
//! person_id = "人员编号"              # a rename only
//! birth_date = { column = "出生日期", date = ["%Y%m%d", "%Y/%m/%d"] }
//! sex = { column = "性别", codes = { Male = ["男", "1"], Female = ["女", "2"] } }
//! monthly_pension = { column = "月养老金", unit = "yuan" }   # integer or text cells in yuan (or "fen")
//! contribution_months = { column = "缴费年限", unit = "years" }
//! military_cadre = { column = "军转干部", true = ["是"], false = ["否"] }
//! ```
//!
//! Every conversion is exact or the row goes to the ledger; nothing passes through a float.

use std::collections::BTreeMap;
use std::path::Path;

use pol_kernel::{ColumnSpec, ColumnType};
use serde::Deserialize;

use crate::error::RuntimeError;
use crate::value::days_from_civil;

/// A binding file, as parsed.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Binding {
    /// The record type this binding is for (checked by the CLI against the scheme's record).
    pub record: Option<String>,
    #[serde(default)]
    pub source: SourceOptions,
    /// Record field name → where and how it is read.
    #[serde(default)]
    pub fields: BTreeMap<String, FieldBinding>,
    /// Source columns copied to the output as they were read (as text; empty cells stay
    /// empty), after the key and the results: a name, a unit, a case number an office wants
    /// beside each result.
    #[serde(default)]
    pub keep: Vec<String>,
}

/// How a text file is laid out (CSV); ignored for typed sources.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SourceOptions {
    #[serde(default = "default_encoding")]
    pub encoding: String,
    #[serde(default = "default_delimiter")]
    pub delimiter: String,
    #[serde(default = "default_quote")]
    pub quote: String,
    #[serde(default = "default_header")]
    pub header: bool,
    /// The sheet of a workbook (default: the first).
    pub sheet: Option<String>,
    /// A PostgreSQL input's table (`retirees`, `pension.retirees`, `"Retirees 2024"`).
    pub table: Option<String>,
    /// A PostgreSQL input's query (`SELECT …`), instead of a table.
    pub query: Option<String>,
    /// The exported snapshot a second read of the same PostgreSQL source imports (set by the
    /// run, never by a binding file).
    #[serde(skip)]
    #[doc(hidden)]
    pub snapshot: Option<String>,
}

fn default_encoding() -> String {
    "auto".into()
}
fn default_delimiter() -> String {
    ",".into()
}
fn default_quote() -> String {
    "\"".into()
}
fn default_header() -> bool {
    true
}

impl Default for SourceOptions {
    fn default() -> Self {
        SourceOptions {
            encoding: default_encoding(),
            delimiter: default_delimiter(),
            quote: default_quote(),
            header: true,
            sheet: None,
            table: None,
            query: None,
            snapshot: None,
        }
    }
}

/// The text encodings a CSV file may be in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Encoding {
    Utf8,
    /// GB18030, the superset of GBK (and of GB2312) that decodes every GBK file the same.
    Gb18030,
    /// UTF-8 when the file starts with a UTF-8 byte-order mark or its first megabyte is valid
    /// UTF-8; GB18030 otherwise.
    Auto,
}

impl SourceOptions {
    pub fn encoding(&self) -> Result<Encoding, String> {
        match self.encoding.to_ascii_lowercase().replace('_', "-").as_str() {
            "utf-8" | "utf8" => Ok(Encoding::Utf8),
            "gbk" | "gb18030" | "gb2312" | "cp936" => Ok(Encoding::Gb18030),
            "auto" => Ok(Encoding::Auto),
            other => Err(format!("unknown encoding `{other}` (utf-8, gbk, gb18030 or auto)")),
        }
    }

    fn one_byte(text: &str, what: &str) -> Result<u8, String> {
        let t = if text == "\\t" { "\t" } else { text };
        match t.as_bytes() {
            [b] if b.is_ascii() => Ok(*b),
            _ => Err(format!("the {what} must be one ASCII character, not `{text}`")),
        }
    }

    pub fn delimiter_byte(&self) -> Result<u8, String> {
        Self::one_byte(&self.delimiter, "delimiter")
    }

    pub fn quote_byte(&self) -> Result<u8, String> {
        Self::one_byte(&self.quote, "quote")
    }
}

/// Where one field is read from: a column name, or a table with conversions.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum FieldBinding {
    Column(String),
    Detailed(FieldRules),
}

/// The conversions of one field.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldRules {
    /// The source column (default: the field's name).
    pub column: Option<String>,
    /// Enum variant → the codes that mean it (text, or integers written as text).
    pub codes: Option<BTreeMap<String, Vec<String>>>,
    /// Date formats of text or integer cells (`%Y`, `%m`, `%d` and literal characters).
    pub date: Option<Vec<String>>,
    /// Money: `yuan` or `fen` for integer and text cells; Months: `months` or `years`.
    pub unit: Option<String>,
    /// Words that mean true / false (default: true/false, 1/0, 是/否, Y/N, yes/no, T/F).
    #[serde(rename = "true")]
    pub true_words: Option<Vec<String>>,
    #[serde(rename = "false")]
    pub false_words: Option<Vec<String>>,
}

impl FieldBinding {
    pub fn column(&self) -> Option<&str> {
        match self {
            FieldBinding::Column(c) => Some(c),
            FieldBinding::Detailed(r) => r.column.as_deref(),
        }
    }

    pub fn rules(&self) -> FieldRules {
        match self {
            FieldBinding::Column(c) => FieldRules { column: Some(c.clone()), ..FieldRules::default() },
            FieldBinding::Detailed(r) => r.clone(),
        }
    }
}

impl Binding {
    /// Reads and parses a binding file.
    pub fn load(path: &Path) -> Result<Binding, RuntimeError> {
        let text = std::fs::read_to_string(path).map_err(|e| RuntimeError::io(path, "read", e))?;
        Binding::parse(&text).map_err(|e| RuntimeError::invalid(format!("binding `{}`: {e}", path.display())))
    }

    pub fn parse(text: &str) -> Result<Binding, String> {
        let binding: Binding = toml::from_str(text).map_err(|e| e.to_string())?;
        binding.source.encoding()?;
        binding.source.delimiter_byte()?;
        binding.source.quote_byte()?;
        Ok(binding)
    }

    /// Problems of the binding itself against the kernel's inputs: fields the record does not
    /// have, rules that do not fit a field's type, codes of unknown variants, bad date formats.
    pub fn problems(&self, inputs: &[ColumnSpec]) -> Vec<String> {
        let mut problems = Vec::new();
        for (name, field) in &self.fields {
            let Some(spec) = inputs.iter().find(|s| &s.name == name) else {
                let known: Vec<&str> = inputs.iter().map(|s| s.name.as_str()).collect();
                problems.push(format!("field `{name}` is not a field the run reads ({})", known.join(", ")));
                continue;
            };
            if let Err(e) = Conversion::of(spec, Some(&field.rules())) {
                problems.push(format!("field `{name}`: {e}"));
            }
        }
        problems
    }

    /// The column a field is read from: the binding's, else the field's own name.
    pub fn column_of<'a>(&'a self, field: &'a str) -> &'a str {
        self.fields.get(field).and_then(FieldBinding::column).unwrap_or(field)
    }
}

/// A date layout: `%Y` (4 digits), `%m`, `%d` (1–2 digits, exactly 2 when another number
/// follows directly) and literal characters (`-`, `/`, `.`, `年`, …).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DateFormat {
    items: Vec<DateItem>,
    text: String,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum DateItem {
    Year,
    Month,
    Day,
    Literal(char),
}

impl DateFormat {
    pub fn parse(text: &str) -> Result<DateFormat, String> {
        let mut items = Vec::new();
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            if c == '%' {
                items.push(match chars.next() {
                    Some('Y') => DateItem::Year,
                    Some('m') => DateItem::Month,
                    Some('d') => DateItem::Day,
                    other => {
                        return Err(format!(
                            "date format `{text}`: `%{}` is not %Y, %m or %d",
                            other.map(String::from).unwrap_or_default()
                        ));
                    }
                });
            } else {
                items.push(DateItem::Literal(c));
            }
        }
        for needed in [DateItem::Year, DateItem::Month, DateItem::Day] {
            if items.iter().filter(|i| **i == needed).count() != 1 {
                return Err(format!("date format `{text}` must have each of %Y, %m and %d once"));
            }
        }
        Ok(DateFormat { items, text: text.to_string() })
    }

    /// The ISO layout every date column accepts.
    pub fn iso() -> DateFormat {
        DateFormat::parse("%Y-%m-%d").unwrap_or(DateFormat { items: Vec::new(), text: String::new() })
    }

    pub fn text(&self) -> &str {
        &self.text
    }

    /// Days since 1970-01-01 of `text` in this layout, or `None`.
    pub fn read(&self, text: &str) -> Option<i64> {
        let bytes = text.as_bytes();
        let mut at = 0usize;
        let (mut y, mut m, mut d) = (None, None, None);
        for (k, item) in self.items.iter().enumerate() {
            let number =
                |i: Option<usize>| matches!(i.and_then(|i| self.items.get(i)), Some(DateItem::Year | DateItem::Month | DateItem::Day));
            // A number next to another number (`%Y%m%d`) has its full width; between literals
            // (`%Y/%m/%d`) a month or day may have one digit.
            let next_is_number = number(Some(k + 1)) || number(k.checked_sub(1));
            let digits = |at: usize, min: usize, max: usize| -> Option<(i64, usize)> {
                let run = bytes[at..].iter().take(max).take_while(|b| b.is_ascii_digit()).count();
                if run < min {
                    return None;
                }
                let value = bytes[at..at + run].iter().fold(0i64, |v, b| v * 10 + i64::from(b - b'0'));
                Some((value, run))
            };
            match item {
                DateItem::Year => {
                    let (v, n) = digits(at, 4, 4)?;
                    y = Some(v);
                    at += n;
                }
                DateItem::Month | DateItem::Day => {
                    let (v, n) = if next_is_number { digits(at, 2, 2)? } else { digits(at, 1, 2)? };
                    if *item == DateItem::Month {
                        m = Some(v)
                    } else {
                        d = Some(v)
                    }
                    at += n;
                }
                DateItem::Literal(c) => {
                    let mut buf = [0u8; 4];
                    let lit = c.encode_utf8(&mut buf).as_bytes();
                    if !bytes[at..].starts_with(lit) {
                        return None;
                    }
                    at += lit.len();
                }
            }
        }
        if at != bytes.len() {
            return None;
        }
        days_from_civil(y?, u32::try_from(m?).ok()?, u32::try_from(d?).ok()?)
    }
}

/// Text → enum variant: the variant names themselves and the binding's codes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct CodeMap {
    /// Every accepted text with its variant index, names first.
    pub entries: Vec<(String, i64)>,
    /// Only the variant names, in order (the fast paths then apply).
    pub names_only: bool,
    pub enum_name: String,
}

impl CodeMap {
    fn of(ty: &ColumnType, codes: Option<&BTreeMap<String, Vec<String>>>) -> Result<CodeMap, String> {
        let ColumnType::Enum { name, variants } = ty else {
            return Err("codes are for enum fields".into());
        };
        let mut entries: Vec<(String, i64)> = variants.iter().enumerate().map(|(i, v)| (v.clone(), i as i64)).collect();
        if let Some(codes) = codes {
            for (variant, list) in codes {
                let Some(index) = variants.iter().position(|v| v == variant) else {
                    return Err(format!("`{variant}` is not a variant of enum {name} ({})", variants.join(", ")));
                };
                for code in list {
                    match entries.iter().find(|(t, _)| t == code) {
                        Some((_, other)) if *other != index as i64 => {
                            return Err(format!("code `{code}` means both {} and {variant}", variants[*other as usize]));
                        }
                        Some(_) => {}
                        None => entries.push((code.clone(), index as i64)),
                    }
                }
            }
        }
        let names_only = entries.len() == variants.len();
        Ok(CodeMap { entries, names_only, enum_name: name.clone() })
    }

    pub fn lookup(&self, text: &str) -> Option<i64> {
        self.entries.iter().find(|(t, _)| t == text).map(|(_, v)| *v)
    }

    /// `enum Sex (Male: 男, 1; Female: 女, 2)`: each variant with its codes, in variant order.
    pub fn describe(&self) -> String {
        let variants = self.entries.iter().filter(|(_, v)| *v >= 0).map(|(_, v)| *v).max().map_or(0, |m| m + 1);
        let shown: Vec<String> = (0..variants)
            .filter_map(|v| {
                let mut texts = self.entries.iter().filter(|(_, x)| *x == v).map(|(t, _)| t.as_str());
                let name = texts.next()?;
                let codes: Vec<&str> = texts.take(8).collect();
                Some(if codes.is_empty() { name.to_string() } else { format!("{name}: {}", codes.join(", ")) })
            })
            .collect();
        format!("enum {} ({})", self.enum_name, shown.join("; "))
    }
}

/// Everything a binding says about one field, resolved against its type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Conversion {
    /// Integer and text cells are multiplied by this to reach the kernel's unit: 100 for money
    /// in yuan written as integers, 12 for months given in years; text money in yuan is read as
    /// a decimal (factor 1 at scale 2).
    pub factor: i64,
    /// Money cells are whole fen (`unit = "fen"`).
    pub fen: bool,
    /// Money cells are yuan, said explicitly (`unit = "yuan"`): integer columns are then read.
    pub yuan: bool,
    pub dates: Vec<DateFormat>,
    pub true_words: Vec<String>,
    pub false_words: Vec<String>,
    pub codes: Option<CodeMap>,
}

const DEFAULT_TRUE: [&str; 6] = ["true", "1", "是", "y", "yes", "t"];
const DEFAULT_FALSE: [&str; 6] = ["false", "0", "否", "n", "no", "f"];

impl Conversion {
    pub fn of(spec: &ColumnSpec, rules: Option<&FieldRules>) -> Result<Conversion, String> {
        let default = FieldRules::default();
        let rules = rules.unwrap_or(&default);
        let ty = &spec.ty;
        let (factor, fen, yuan) = match (ty, rules.unit.as_deref()) {
            (_, None) => (1, false, false),
            (ColumnType::Money, Some("yuan")) => (1, false, true),
            (ColumnType::Money, Some("fen")) => (1, true, false),
            (ColumnType::Months, Some("months")) => (1, false, false),
            (ColumnType::Months, Some("years")) => (12, false, false),
            (ColumnType::Money, Some(u)) => return Err(format!("unit `{u}` is not yuan or fen")),
            (ColumnType::Months, Some(u)) => return Err(format!("unit `{u}` is not months or years")),
            (_, Some(u)) => return Err(format!("a unit (`{u}`) is only for Money (yuan, fen) and Months (months, years) fields")),
        };
        let dates = match (&rules.date, ty) {
            (None, _) => vec![DateFormat::iso()],
            (Some(list), ColumnType::Date) => {
                let mut formats = list.iter().map(|f| DateFormat::parse(f)).collect::<Result<Vec<_>, _>>()?;
                if formats.is_empty() {
                    return Err("`date` lists no format".into());
                }
                formats.push(DateFormat::iso());
                formats
            }
            (Some(_), _) => return Err("date formats are for Date fields".into()),
        };
        let words = |given: &Option<Vec<String>>, default: &[&str]| -> Vec<String> {
            given.clone().unwrap_or_else(|| default.iter().map(|w| w.to_string()).collect())
        };
        if (rules.true_words.is_some() || rules.false_words.is_some()) && *ty != ColumnType::Bool {
            return Err("true/false words are for Bool fields".into());
        }
        let true_words = words(&rules.true_words, &DEFAULT_TRUE);
        let false_words = words(&rules.false_words, &DEFAULT_FALSE);
        if let Some(w) = true_words.iter().find(|w| false_words.iter().any(|f| f.eq_ignore_ascii_case(w))) {
            return Err(format!("`{w}` is both a true and a false word"));
        }
        let codes = match ty {
            ColumnType::Enum { .. } => Some(CodeMap::of(ty, rules.codes.as_ref())?),
            _ if rules.codes.is_some() => return Err("codes are for enum fields".into()),
            _ => None,
        };
        Ok(Conversion { factor, fen, yuan, dates, true_words, false_words, codes })
    }

    /// A Bool word: `Some(true/false)`, compared without ASCII case.
    pub fn word(&self, text: &str) -> Option<bool> {
        if self.true_words.iter().any(|w| w.eq_ignore_ascii_case(text)) {
            Some(true)
        } else if self.false_words.iter().any(|w| w.eq_ignore_ascii_case(text)) {
            Some(false)
        } else {
            None
        }
    }

    pub fn date(&self, text: &str) -> Option<i64> {
        self.dates.iter().find_map(|f| f.read(text))
    }

    pub fn date_formats(&self) -> String {
        self.dates.iter().map(DateFormat::text).collect::<Vec<_>>().join(" or ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn date_formats_read_exactly() {
        let f = DateFormat::parse("%Y%m%d").expect("format");
        assert_eq!(f.read("19550301"), days_from_civil(1955, 3, 1));
        assert_eq!(f.read("1955031"), None);
        assert_eq!(f.read("19550230"), None, "no 30 February");
        let f = DateFormat::parse("%Y/%m/%d").expect("format");
        assert_eq!(f.read("1955/3/1"), days_from_civil(1955, 3, 1));
        assert_eq!(f.read("1955/03/01 "), None);
        let f = DateFormat::parse("%Y年%m月%d日").expect("format");
        assert_eq!(f.read("1955年3月1日"), days_from_civil(1955, 3, 1));
        assert!(DateFormat::parse("%Y-%m").is_err() && DateFormat::parse("%Y-%q-%d").is_err());
    }

    #[test]
    fn bindings_parse_renames_and_rules() {
        let b = Binding::parse(
            r#"
record = "Retiree"
[source]
encoding = "gbk"
delimiter = "\t"
[fields]
person_id = "人员编号"
sex = { column = "性别", codes = { Male = ["男", "1"], Female = ["女", "2"] } }
"#,
        )
        .expect("binding");
        assert_eq!(b.source.encoding(), Ok(Encoding::Gb18030));
        assert_eq!(b.source.delimiter_byte(), Ok(b'\t'));
        assert_eq!(b.column_of("person_id"), "人员编号");
        assert_eq!(b.column_of("birth_date"), "birth_date");
        assert!(Binding::parse("[fields]\nx = { colum = \"a\" }").is_err(), "unknown keys are errors");
        assert!(Binding::parse("[source]\ndelimiter = \";;\"").is_err());
    }

    #[test]
    fn codes_must_name_variants_and_not_clash() {
        let ty = ColumnType::Enum { name: "Sex".into(), variants: vec!["Male".into(), "Female".into()] };
        let spec = ColumnSpec { name: "sex".into(), ty, domain: None, is_id: false, read: true };
        let rules = |codes: &[(&str, &[&str])]| FieldRules {
            codes: Some(codes.iter().map(|(v, c)| (v.to_string(), c.iter().map(|s| s.to_string()).collect())).collect()),
            ..FieldRules::default()
        };
        let c = Conversion::of(&spec, Some(&rules(&[("Male", &["男", "1"]), ("Female", &["女", "2"])]))).expect("codes");
        let map = c.codes.expect("enum");
        assert_eq!((map.lookup("男"), map.lookup("2"), map.lookup("Male"), map.lookup("X")), (Some(0), Some(1), Some(0), None));
        assert!(Conversion::of(&spec, Some(&rules(&[("Man", &["男"])]))).unwrap_err().contains("not a variant"));
        assert!(Conversion::of(&spec, Some(&rules(&[("Male", &["1"]), ("Female", &["1"])]))).unwrap_err().contains("means both"));
        assert!(Conversion::of(&spec, Some(&rules(&[("Male", &["Female"])]))).unwrap_err().contains("means both"));
    }
}
