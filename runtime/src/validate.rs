//! Per-row validation: turns the Arrow cells of a batch into the kernel's `i64` cells, and sends
//! every row with a missing, unparseable, inexact or out-of-domain cell to the ledger.
//!
//! A faulty cell is replaced by an in-domain placeholder so that the kernel can still run over the
//! whole batch (its result for that row is discarded); only the first fault of a row is kept.

use std::collections::BTreeMap;

use arrow::array::builder::make_view;
use arrow::array::{Array, ArrayAccessor, AsArray, MAX_INLINE_VIEW_LEN, StringViewArray};
use arrow::datatypes::{
    DataType, Decimal32Type, Decimal64Type, Decimal128Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow::record_batch::RecordBatch;
use pol_kernel::{ColumnSpec, ColumnType};

use crate::binding::Conversion;
use crate::read::BoundInput;
use crate::schema::Source;
use crate::value::{DecimalParseError, format_domain, format_value, parse_decimal};

/// Code of a row with no value in a needed column.
pub const CODE_MISSING: &str = "V0001";
/// Code of a row with a value outside its column's declared domain.
pub const CODE_OUT_OF_DOMAIN: &str = "V0002";
/// Code of a row with a value that cannot be read as, or represented exactly in, its type.
pub const CODE_BAD_VALUE: &str = "V0003";

/// Why one row cannot be evaluated, found before the kernel runs.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct InputFault {
    pub code: &'static str,
    pub column: String,
    pub message: String,
}

/// A batch in the kernel's representation, with the rows that must not reach the output.
pub(crate) struct Converted {
    pub columns: Vec<Vec<i64>>,
    /// Faulty rows by index in the batch; the first fault of each row.
    pub faults: BTreeMap<usize, InputFault>,
}

/// One cell as read, before the domain check.
enum Cell {
    Value(i64),
    Missing,
    /// The text of the message after "column `x`: ".
    Bad(String),
}

/// Converts every kernel input of `batch`.
pub(crate) fn convert_batch(batch: &RecordBatch, inputs: &[ColumnSpec], bound: &[BoundInput]) -> Converted {
    let mut columns = vec![Vec::new(); inputs.len()];
    let faults = convert_batch_into(batch, inputs, bound, &mut columns);
    Converted { columns, faults }
}

/// [`convert_batch`] into existing buffers (one per input, overwritten), so that a run does not
/// allocate and page-fault fresh columns for every batch; returns the faulty rows.
pub(crate) fn convert_batch_into(
    batch: &RecordBatch,
    inputs: &[ColumnSpec],
    bound: &[BoundInput],
    columns: &mut [Vec<i64>],
) -> BTreeMap<usize, InputFault> {
    let mut faults = BTreeMap::new();
    for ((spec, b), out) in inputs.iter().zip(bound).zip(columns.iter_mut()) {
        let schema = batch.schema_ref();
        let source_name = b.column.map_or(spec.name.as_str(), |c| schema.field(c).name().as_str());
        convert_column(b.column.map(|c| batch.column(c).as_ref()), batch.num_rows(), spec, source_name, &b.source, &mut faults, out);
    }
    faults
}

/// The range a column's values must lie in: [`ColumnType::admitted`], the domain the compiler's
/// prover assumes; `None` when that is every 64-bit value (nothing to check).
fn effective_domain(spec: &ColumnSpec) -> Option<(i64, i64)> {
    Some(spec.ty.admitted(spec.domain)).filter(|d| *d != (i64::MIN, i64::MAX))
}

/// An in-domain value standing in for a faulty cell.
fn placeholder(spec: &ColumnSpec) -> i64 {
    match effective_domain(spec) {
        Some((lo, hi)) if lo <= 0 && 0 <= hi => 0,
        Some((lo, _)) => lo,
        None => 0,
    }
}

/// How messages name a cell of `spec` read from the column `source_name`.
fn label(spec: &ColumnSpec, source_name: &str) -> String {
    if source_name == spec.name { format!("column `{}`", spec.name) } else { format!("field `{}` (column `{source_name}`)", spec.name) }
}

fn convert_column(
    array: Option<&dyn Array>,
    n: usize,
    spec: &ColumnSpec,
    source_name: &str,
    source: &Source,
    faults: &mut BTreeMap<usize, InputFault>,
    out: &mut Vec<i64>,
) {
    out.clear();
    let Some(array) = array else {
        // An input the kernel does not read, absent from the file.
        out.resize(n, placeholder(spec));
        return;
    };
    out.reserve(n);
    if array.null_count() == 0 && fast_column(array, spec, source, out) {
        check_domain_in_place(spec, source_name, out, faults);
        return;
    }
    out.clear();
    let mut sink = CellSink { spec, label: label(spec, source_name), out, faults, placeholder: placeholder(spec) };
    macro_rules! integers {
        ($t:ty) => {{
            let a = array.as_primitive::<$t>();
            for i in 0..n {
                let cell = if a.is_null(i) { Cell::Missing } else { integer_cell(spec, source, i128::from(a.value(i))) };
                sink.push(i, cell);
            }
        }};
    }
    macro_rules! decimals {
        ($t:ty, $scale:expr, $factor:expr) => {{
            let a = array.as_primitive::<$t>();
            for i in 0..n {
                let cell = if a.is_null(i) { Cell::Missing } else { decimal_cell(spec, i128::from(a.value(i)), $scale, $factor) };
                sink.push(i, cell);
            }
        }};
    }
    match (source, array.data_type()) {
        (_, DataType::Int8) => integers!(Int8Type),
        (_, DataType::Int16) => integers!(Int16Type),
        (_, DataType::Int32) => integers!(Int32Type),
        (_, DataType::Int64) => integers!(Int64Type),
        (_, DataType::UInt8) => integers!(UInt8Type),
        (_, DataType::UInt16) => integers!(UInt16Type),
        (_, DataType::UInt32) => integers!(UInt32Type),
        (_, DataType::UInt64) => integers!(UInt64Type),
        (Source::Decimal { scale, factor }, DataType::Decimal32(..)) => decimals!(Decimal32Type, *scale, *factor),
        (Source::Decimal { scale, factor }, DataType::Decimal64(..)) => decimals!(Decimal64Type, *scale, *factor),
        (Source::Decimal { scale, factor }, DataType::Decimal128(..)) => decimals!(Decimal128Type, *scale, *factor),
        (Source::Boolean, DataType::Boolean) => {
            let a = array.as_boolean();
            for i in 0..n {
                let cell = if a.is_null(i) { Cell::Missing } else { Cell::Value(i64::from(a.value(i))) };
                sink.push(i, cell);
            }
        }
        (Source::Date32, DataType::Date32) => {
            let a = array.as_primitive::<arrow::datatypes::Date32Type>();
            for i in 0..n {
                let cell = if a.is_null(i) { Cell::Missing } else { Cell::Value(i64::from(a.value(i))) };
                sink.push(i, cell);
            }
        }
        (Source::Instant { per_day }, DataType::Date64 | DataType::Timestamp(..)) => match arrow::compute::cast(array, &DataType::Int64) {
            Ok(raw) => {
                let a = raw.as_primitive::<Int64Type>();
                for i in 0..n {
                    let cell = if a.is_null(i) {
                        Cell::Missing
                    } else if a.value(i).rem_euclid(*per_day) != 0 {
                        Cell::Bad(format!("{} has a time of day; a date is wanted", display_cell(array, i)))
                    } else {
                        Cell::Value(a.value(i).div_euclid(*per_day))
                    };
                    sink.push(i, cell);
                }
            }
            Err(e) => (0..n).for_each(|i| sink.push(i, Cell::Bad(format!("cannot read the column: {e}")))),
        },
        (Source::Names(conv) | Source::Text(conv), DataType::Utf8) => text_cells(array.as_string::<i32>(), conv, &mut sink),
        (Source::Names(conv) | Source::Text(conv), DataType::LargeUtf8) => text_cells(array.as_string::<i64>(), conv, &mut sink),
        (Source::Names(conv) | Source::Text(conv), DataType::Utf8View) => text_cells(array.as_string_view(), conv, &mut sink),
        (Source::Names(conv), DataType::Dictionary(..)) => dictionary_cells(array, conv, &mut sink),
        (_, other) => {
            // The schema check admits no other combination; keep every row accounted for anyway.
            for i in 0..n {
                sink.push(i, Cell::Bad(format!("cannot read a {other} cell")));
            }
        }
    }
}

/// A cell as Arrow prints it, for messages.
fn display_cell(array: &dyn Array, i: usize) -> String {
    static OPTIONS: arrow::util::display::FormatOptions<'static> = arrow::util::display::FormatOptions::new();
    arrow::util::display::ArrayFormatter::try_new(array, &OPTIONS).map(|f| f.value(i).to_string()).unwrap_or_default()
}

/// One integer cell converted by `source`.
fn integer_cell(spec: &ColumnSpec, source: &Source, v: i128) -> Cell {
    let too_large = || Cell::Bad(format!("{v} is beyond the 64-bit integer range"));
    match source {
        Source::Integer { factor } => match v.checked_mul(i128::from(*factor)).and_then(|x| i64::try_from(x).ok()) {
            Some(x) => Cell::Value(x),
            None => too_large(),
        },
        Source::IntegerBool => match v {
            0 | 1 => Cell::Value(v as i64),
            _ => Cell::Bad(format!("{v} is not 0 or 1")),
        },
        Source::IntegerDate => {
            let (y, m, d) = (v / 10_000, (v / 100) % 100, v % 100);
            match (v >= 0).then(|| crate::value::days_from_civil(y as i64, m as u32, d as u32)).flatten() {
                Some(days) => Cell::Value(days),
                None => Cell::Bad(format!("{v} is not a date YYYYMMDD")),
            }
        }
        Source::IntegerCodes(conv) => match conv.codes.as_ref().and_then(|c| c.lookup(&v.to_string()).map(|x| (x, c))) {
            Some((x, _)) => Cell::Value(x),
            None => {
                Cell::Bad(format!("code {v} is not a variant or code of {}", conv.codes.as_ref().map(|c| c.describe()).unwrap_or_default()))
            }
        },
        _ => Cell::Bad(format!("cannot read an integer cell as {}", spec.ty.describe())),
    }
}

/// A decimal cell `raw × 10^-scale`, times `factor`, exactly at the kernel's scale.
fn decimal_cell(spec: &ColumnSpec, raw: i128, scale: u32, factor: i64) -> Cell {
    let target = crate::value::scale_of(&spec.ty);
    let shown = || crate::value::format_decimal(raw, scale);
    let Some(num) = raw.checked_mul(i128::from(factor)).and_then(|x| x.checked_mul(10i128.pow(target))) else {
        return Cell::Bad(format!("{} is too large", shown()));
    };
    let den = 10i128.pow(scale.min(38));
    if num % den != 0 {
        let unit = match (&spec.ty, factor) {
            (ColumnType::Money, _) => "fen".to_string(),
            (ColumnType::Months, 12) => "months (as years × 12)".to_string(),
            (ColumnType::Int | ColumnType::Months, _) => "units".to_string(),
            (_, _) => format!("units of 10^-{target}"),
        };
        return Cell::Bad(format!("{} is not a whole number of {unit} and cannot be represented exactly", shown()));
    }
    match i64::try_from(num / den) {
        Ok(v) => Cell::Value(v),
        Err(_) => Cell::Bad(format!("{} is too large", shown())),
    }
}

/// Converts a column without nulls in one pass into `out` (empty, with room for every cell);
/// `false` when some cell needs the per-cell path (a value beyond 64 bits, an enum cell that is
/// not exactly a variant name or code, an inexact decimal) or the type has no fast path.
fn fast_column(array: &dyn Array, spec: &ColumnSpec, source: &Source, out: &mut Vec<i64>) -> bool {
    macro_rules! widen {
        ($t:ty) => {{
            out.extend(array.as_primitive::<$t>().values().iter().map(|v| i64::from(*v)));
            true
        }};
    }
    macro_rules! rescale {
        ($t:ty, $scale:expr) => {{
            let factor = 10i128.pow(crate::value::scale_of(&spec.ty).saturating_sub($scale));
            let values = array.as_primitive::<$t>().values();
            let mut exact = true;
            out.extend(values.iter().map(|v| match i128::from(*v).checked_mul(factor).and_then(|v| i64::try_from(v).ok()) {
                Some(v) => v,
                None => {
                    exact = false;
                    0
                }
            }));
            exact
        }};
    }
    let target = crate::value::scale_of(&spec.ty);
    let done = match (source, array.data_type()) {
        (Source::Integer { .. }, DataType::Int64) => {
            out.extend_from_slice(array.as_primitive::<Int64Type>().values());
            true
        }
        (Source::Integer { .. }, DataType::Int32) => widen!(Int32Type),
        (Source::Integer { .. }, DataType::Int16) => widen!(Int16Type),
        (Source::Integer { .. }, DataType::Int8) => widen!(Int8Type),
        (Source::Integer { .. }, DataType::UInt32) => widen!(UInt32Type),
        (Source::Integer { .. }, DataType::UInt16) => widen!(UInt16Type),
        (Source::Integer { .. }, DataType::UInt8) => widen!(UInt8Type),
        (Source::Date32, DataType::Date32) => widen!(arrow::datatypes::Date32Type),
        (Source::Decimal { scale, factor: 1 }, DataType::Decimal128(..)) if *scale <= target => rescale!(Decimal128Type, *scale),
        (Source::Decimal { scale, factor: 1 }, DataType::Decimal64(..)) if *scale <= target => rescale!(Decimal64Type, *scale),
        (Source::Decimal { scale, factor: 1 }, DataType::Decimal32(..)) if *scale <= target => rescale!(Decimal32Type, *scale),
        (Source::Boolean, DataType::Boolean) => {
            out.extend(array.as_boolean().values().iter().map(i64::from));
            true
        }
        (Source::Names(conv), DataType::Utf8) => exact_codes(array.as_string::<i32>(), conv, out),
        (Source::Names(conv), DataType::LargeUtf8) => exact_codes(array.as_string::<i64>(), conv, out),
        (Source::Names(conv), DataType::Utf8View) => {
            let array = array.as_string_view();
            exact_views(array, conv, out) || {
                out.clear();
                exact_codes(array, conv, out)
            }
        }
        _ => false,
    };
    // Integers times a unit factor (yuan → fen, years → months), checked.
    if done
        && let Source::Integer { factor } = source
        && *factor != 1
    {
        let mut exact = true;
        for v in out.iter_mut() {
            match v.checked_mul(*factor) {
                Some(x) => *v = x,
                None => exact = false,
            }
        }
        return exact;
    }
    done
}

/// Pushes the variant indexes of an enum column whose every cell is exactly a variant name or a
/// code (the usual case); `false` when some cell needs [`parse_text`] (surrounding whitespace,
/// an unknown name), or a name or code is too long for [`short_key`].
fn exact_codes<'a, A: ArrayAccessor<Item = &'a str>>(array: A, conv: &Conversion, out: &mut Vec<i64>) -> bool {
    let Some(codes) = &conv.codes else { return false };
    let Some(keys) = codes.entries.iter().map(|(t, v)| Some((short_key(t.as_bytes())?, *v))).collect::<Option<Vec<(u128, i64)>>>() else {
        return false;
    };
    for i in 0..array.len() {
        let found = short_key(array.value(i).as_bytes()).and_then(|key| keys.iter().find(|(k, _)| *k == key));
        match found {
            Some((_, v)) => out.push(*v),
            None => return false,
        }
    }
    true
}

/// [`exact_codes`] for a `Utf8View` column whose names and codes all have at most 12 bytes:
/// such a string is held whole in its 128-bit view (length, then the bytes, zero-padded), so
/// the views are compared directly. `false` when some view is no variant's.
fn exact_views(array: &StringViewArray, conv: &Conversion, out: &mut Vec<i64>) -> bool {
    let Some(codes) = &conv.codes else { return false };
    if codes.entries.iter().any(|(t, _)| t.len() > MAX_INLINE_VIEW_LEN as usize) {
        return false;
    }
    let keys: Vec<(u128, i64)> = codes.entries.iter().map(|(t, v)| (make_view(t.as_bytes(), 0, 0), *v)).collect();
    // Branch-free: which variant a random cell names is unpredictable.
    let mut all_found = true;
    out.extend(array.views().iter().map(|view| {
        let (mut index, mut found) = (0i64, false);
        for (key, v) in &keys {
            let hit = key == view;
            index |= if hit { *v } else { 0 };
            found |= hit;
        }
        all_found &= found;
        index
    }));
    all_found
}

/// A string of at most 15 bytes as one number (length in the low byte, then the bytes), so
/// that equal numbers mean equal strings and a comparison is one instruction, not a `memcmp` call.
#[inline]
fn short_key(bytes: &[u8]) -> Option<u128> {
    if bytes.len() > 15 {
        return None;
    }
    let mut key = bytes.len() as u128;
    for (i, b) in bytes.iter().enumerate() {
        key |= u128::from(*b) << (8 * (i + 1));
    }
    Some(key)
}

fn check_domain_in_place(spec: &ColumnSpec, source_name: &str, out: &mut [i64], faults: &mut BTreeMap<usize, InputFault>) {
    let Some((lo, hi)) = effective_domain(spec) else { return };
    if !out.iter().any(|v| *v < lo || *v > hi) {
        return;
    }
    let mut scratch = Vec::with_capacity(out.len());
    let mut sink = CellSink { spec, label: label(spec, source_name), out: &mut scratch, faults, placeholder: placeholder(spec) };
    for (row, v) in out.iter().enumerate() {
        sink.push(row, Cell::Value(*v));
    }
    out.copy_from_slice(&scratch);
}

/// Collects converted cells, checking domains and recording faults.
struct CellSink<'a> {
    spec: &'a ColumnSpec,
    /// How messages name the cell: `column `x``, or `field `x` (column `y`)` when a binding
    /// reads the field from a column of another name.
    label: String,
    out: &'a mut Vec<i64>,
    faults: &'a mut BTreeMap<usize, InputFault>,
    placeholder: i64,
}

impl CellSink<'_> {
    #[inline]
    fn push(&mut self, row: usize, cell: Cell) {
        let fault = match cell {
            Cell::Value(v) => match effective_domain(self.spec) {
                Some((lo, hi)) if v < lo || v > hi => Some((
                    crate::validate::CODE_OUT_OF_DOMAIN,
                    format!(
                        "{}: value {} is outside the {} {}",
                        self.label,
                        format_value(&self.spec.ty, v),
                        if self.spec.domain.is_some() { "declared domain" } else { "calendar's dates" },
                        format_domain(&self.spec.ty, (lo, hi))
                    ),
                )),
                _ => {
                    self.out.push(v);
                    return;
                }
            },
            Cell::Missing => Some((CODE_MISSING, format!("{} has no value", self.label))),
            Cell::Bad(why) => Some((CODE_BAD_VALUE, format!("{}: {why}", self.label))),
        };
        self.out.push(self.placeholder);
        if let Some((code, message)) = fault {
            self.faults.entry(row).or_insert(InputFault { code, column: self.spec.name.clone(), message });
        }
    }
}

fn text_cells<'a, A: ArrayAccessor<Item = &'a str>>(array: A, conv: &Conversion, sink: &mut CellSink<'_>) {
    for i in 0..array.len() {
        let cell = if array.is_null(i) { Cell::Missing } else { parse_text(&sink.spec.ty, array.value(i), conv) };
        sink.push(i, cell);
    }
}

fn dictionary_cells(array: &dyn Array, conv: &Conversion, sink: &mut CellSink<'_>) {
    let Some(dict) = array.as_any_dictionary_opt() else {
        for i in 0..array.len() {
            sink.push(i, Cell::Bad("cannot read the dictionary column".into()));
        }
        return;
    };
    let values = dict.values();
    // Each distinct string is looked up once, then every row copies its entry.
    let lookup: Vec<Option<Result<i64, String>>> = match values.data_type() {
        DataType::Utf8 => dictionary_entries(values.as_string::<i32>(), &sink.spec.ty, conv),
        DataType::LargeUtf8 => dictionary_entries(values.as_string::<i64>(), &sink.spec.ty, conv),
        DataType::Utf8View => dictionary_entries(values.as_string_view(), &sink.spec.ty, conv),
        _ => vec![None; values.len()],
    };
    let keys = dict.normalized_keys();
    for (i, key) in keys.iter().enumerate() {
        let cell = match lookup.get(*key) {
            _ if array.is_null(i) => Cell::Missing,
            Some(Some(Ok(v))) => Cell::Value(*v),
            Some(Some(Err(why))) => Cell::Bad(why.clone()),
            _ => Cell::Missing,
        };
        sink.push(i, cell);
    }
}

fn dictionary_entries<'a, A: ArrayAccessor<Item = &'a str>>(
    values: A,
    ty: &ColumnType,
    conv: &Conversion,
) -> Vec<Option<Result<i64, String>>> {
    (0..values.len())
        .map(|i| {
            if values.is_null(i) {
                return None;
            }
            match parse_text(ty, values.value(i), conv) {
                Cell::Value(v) => Some(Ok(v)),
                Cell::Bad(why) => Some(Err(why)),
                Cell::Missing => None,
            }
        })
        .collect()
}

/// Parses one text cell as a value of `ty` under the binding's conversion. Surrounding
/// whitespace (also the full-width space U+3000) is ignored; an empty cell is a missing value.
fn parse_text(ty: &ColumnType, raw: &str, conv: &Conversion) -> Cell {
    let text = raw.trim();
    if text.is_empty() {
        return Cell::Missing;
    }
    let bad = |what: &str| Cell::Bad(format!("`{raw}` is not {what}"));
    let decimal = |scale: u32| -> Result<i64, Cell> {
        parse_decimal(text, scale).map_err(|e| match e {
            DecimalParseError::Syntax => bad("a decimal number"),
            DecimalParseError::TooPrecise => {
                Cell::Bad(format!("`{raw}` has more than {scale} decimal places and cannot be represented exactly"))
            }
            DecimalParseError::TooLarge => Cell::Bad(format!("`{raw}` is too large")),
        })
    };
    match ty {
        ColumnType::Int => match text.parse::<i64>() {
            Ok(v) => Cell::Value(v),
            Err(_) => bad("a whole number"),
        },
        ColumnType::Months if conv.factor == 1 => match text.parse::<i64>() {
            Ok(v) => Cell::Value(v),
            Err(_) => bad("a whole number of months"),
        },
        ColumnType::Months => {
            // Years, possibly with a fraction, exact in whole months: 15.5 years = 186 months.
            let micro = match parse_decimal(text, 6) {
                Ok(v) => i128::from(v),
                Err(DecimalParseError::TooPrecise) => return Cell::Bad(format!("`{raw}` years is not a whole number of months")),
                Err(_) => return bad("a number of years"),
            };
            let months = micro * i128::from(conv.factor);
            if months % 1_000_000 != 0 {
                return Cell::Bad(format!("`{raw}` years is not a whole number of months"));
            }
            i64::try_from(months / 1_000_000).map_or_else(|_| Cell::Bad(format!("`{raw}` is too large")), Cell::Value)
        }
        ColumnType::Bool => match conv.word(text) {
            Some(b) => Cell::Value(i64::from(b)),
            None => Cell::Bad(format!("`{raw}` is not one of {} / {}", conv.true_words.join(", "), conv.false_words.join(", "))),
        },
        ColumnType::Date => match conv.date(text) {
            Some(v) => Cell::Value(v),
            None => bad(&format!("a date ({})", conv.date_formats().replace("%Y", "YYYY").replace("%m", "MM").replace("%d", "DD"))),
        },
        ColumnType::Money if conv.fen => match text.parse::<i64>() {
            Ok(v) => Cell::Value(v),
            Err(_) => bad("a whole number of fen"),
        },
        ColumnType::Money | ColumnType::Decimal { .. } => match decimal(crate::value::scale_of(ty)) {
            Ok(v) => Cell::Value(v),
            Err(cell) => cell,
        },
        ColumnType::Enum { name, variants } => match conv.codes.as_ref().and_then(|c| c.lookup(text)) {
            Some(i) => Cell::Value(i),
            None => match &conv.codes {
                Some(codes) if !codes.names_only => Cell::Bad(format!("`{raw}` is not a variant or code of {}", codes.describe())),
                _ => Cell::Bad(format!("`{raw}` is not a variant of enum {name} ({})", variants.join(", "))),
            },
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use pol_kernel::cell::{MAX_DAY, MIN_DAY};

    /// A date column without a declared domain accepts exactly the calendar the compiler's
    /// prover assumes (years 1..=9999); a day number outside goes to the ledger.
    #[test]
    fn dates_without_a_domain_are_held_to_years_1_to_9999() {
        let spec = ColumnSpec { name: "review_date".into(), ty: pol_kernel::ColumnType::Date, domain: None, is_id: false, read: true };
        let mut out = vec![MAX_DAY + 1, 0, MIN_DAY - 1, MIN_DAY, MAX_DAY];
        let mut faults = BTreeMap::new();
        check_domain_in_place(&spec, "review_date", &mut out, &mut faults);
        let rows: Vec<usize> = faults.keys().copied().collect();
        assert_eq!(rows, [0, 2]);
        assert!(faults.values().all(|f| f.code == CODE_OUT_OF_DOMAIN && f.message.contains("0001-01-01 ..= 9999-12-31")), "{faults:?}");
        assert_eq!(&out[3..], &[MIN_DAY, MAX_DAY]);
    }
}
