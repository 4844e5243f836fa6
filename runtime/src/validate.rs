//! Per-row validation: turns the Arrow cells of a batch into the kernel's `i64` cells, and sends
//! every row with a missing, unparseable, inexact or out-of-domain cell to the ledger.
//!
//! A faulty cell is replaced by an in-domain placeholder so that the kernel can still run over the
//! whole batch (its result for that row is discarded); only the first fault of a row is kept.

use std::collections::BTreeMap;

use arrow::array::builder::make_view;
use arrow::array::{Array, ArrayAccessor, AsArray, MAX_INLINE_VIEW_LEN, StringViewArray};
use arrow::datatypes::ArrowNativeType;
use arrow::datatypes::{
    DataType, Decimal32Type, Decimal64Type, Decimal128Type, Int8Type, Int16Type, Int32Type, Int64Type, UInt8Type, UInt16Type, UInt32Type,
    UInt64Type,
};
use arrow::record_batch::RecordBatch;
use pol_kernel::{ColumnSpec, ColumnType};

use crate::read::BoundInput;
use crate::schema::Source;
use crate::value::{DecimalParseError, format_domain, format_value, parse_date, parse_decimal};

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
        convert_column(batch.column(b.column).as_ref(), spec, &b.source, &mut faults, out);
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

fn convert_column(array: &dyn Array, spec: &ColumnSpec, source: &Source, faults: &mut BTreeMap<usize, InputFault>, out: &mut Vec<i64>) {
    let n = array.len();
    out.clear();
    out.reserve(n);
    if array.null_count() == 0 && fast_column(array, spec, source, out) {
        check_domain_in_place(spec, out, faults);
        return;
    }
    out.clear();
    let mut sink = CellSink { spec, out, faults, placeholder: placeholder(spec) };
    macro_rules! integers {
        ($t:ty) => {{
            let a = array.as_primitive::<$t>();
            for i in 0..n {
                sink.push(
                    i,
                    if a.is_null(i) {
                        Cell::Missing
                    } else {
                        let v = a.value(i);
                        match v.to_i64() {
                            Some(v) => Cell::Value(v),
                            None => Cell::Bad(format!("{v} is beyond the 64-bit integer range")),
                        }
                    },
                );
            }
        }};
    }
    macro_rules! decimals {
        ($t:ty, $scale:expr) => {{
            let a = array.as_primitive::<$t>();
            let target = crate::value::scale_of(&spec.ty);
            let factor = 10i128.pow(target.saturating_sub($scale));
            for i in 0..n {
                sink.push(
                    i,
                    if a.is_null(i) {
                        Cell::Missing
                    } else {
                        let raw = i128::from(a.value(i));
                        match raw.checked_mul(factor).and_then(|v| i64::try_from(v).ok()) {
                            Some(v) => Cell::Value(v),
                            None => Cell::Bad(format!("{} is too large", crate::value::format_decimal(raw, $scale))),
                        }
                    },
                );
            }
        }};
    }
    match (source, array.data_type()) {
        (Source::Integer, DataType::Int8) => integers!(Int8Type),
        (Source::Integer, DataType::Int16) => integers!(Int16Type),
        (Source::Integer, DataType::Int32) => integers!(Int32Type),
        (Source::Integer, DataType::Int64) => integers!(Int64Type),
        (Source::Integer, DataType::UInt8) => integers!(UInt8Type),
        (Source::Integer, DataType::UInt16) => integers!(UInt16Type),
        (Source::Integer, DataType::UInt32) => integers!(UInt32Type),
        (Source::Integer, DataType::UInt64) => integers!(UInt64Type),
        (Source::Decimal { scale }, DataType::Decimal32(..)) => decimals!(Decimal32Type, *scale),
        (Source::Decimal { scale }, DataType::Decimal64(..)) => decimals!(Decimal64Type, *scale),
        (Source::Decimal { scale }, DataType::Decimal128(..)) => decimals!(Decimal128Type, *scale),
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
        (Source::Names | Source::Text, DataType::Utf8) => text_cells(array.as_string::<i32>(), &mut sink),
        (Source::Names | Source::Text, DataType::LargeUtf8) => text_cells(array.as_string::<i64>(), &mut sink),
        (Source::Names | Source::Text, DataType::Utf8View) => text_cells(array.as_string_view(), &mut sink),
        (Source::Names, DataType::Dictionary(..)) => dictionary_cells(array, &mut sink),
        (_, other) => {
            // The schema check admits no other combination; keep every row accounted for anyway.
            for i in 0..n {
                sink.push(i, Cell::Bad(format!("cannot read a {other} cell")));
            }
        }
    }
}

/// Converts a column without nulls in one pass into `out` (empty, with room for every cell);
/// `false` when some cell needs the per-cell path (a value beyond 64 bits, an enum cell that is
/// not exactly a variant name) or the type has no fast path.
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
    match (source, array.data_type()) {
        (Source::Integer, DataType::Int64) => {
            out.extend_from_slice(array.as_primitive::<Int64Type>().values());
            true
        }
        (Source::Integer, DataType::Int32) => widen!(Int32Type),
        (Source::Integer, DataType::Int16) => widen!(Int16Type),
        (Source::Integer, DataType::Int8) => widen!(Int8Type),
        (Source::Integer, DataType::UInt32) => widen!(UInt32Type),
        (Source::Integer, DataType::UInt16) => widen!(UInt16Type),
        (Source::Integer, DataType::UInt8) => widen!(UInt8Type),
        (Source::Date32, DataType::Date32) => widen!(arrow::datatypes::Date32Type),
        (Source::Decimal { scale }, DataType::Decimal128(..)) => rescale!(Decimal128Type, *scale),
        (Source::Decimal { scale }, DataType::Decimal64(..)) => rescale!(Decimal64Type, *scale),
        (Source::Decimal { scale }, DataType::Decimal32(..)) => rescale!(Decimal32Type, *scale),
        (Source::Boolean, DataType::Boolean) => {
            out.extend(array.as_boolean().values().iter().map(i64::from));
            true
        }
        (Source::Names | Source::Text, DataType::Utf8) => exact_variants(array.as_string::<i32>(), &spec.ty, out),
        (Source::Names | Source::Text, DataType::LargeUtf8) => exact_variants(array.as_string::<i64>(), &spec.ty, out),
        (Source::Names | Source::Text, DataType::Utf8View) => {
            let array = array.as_string_view();
            exact_views(array, &spec.ty, out) || {
                out.clear();
                exact_variants(array, &spec.ty, out)
            }
        }
        _ => false,
    }
}

/// Pushes the variant indexes of an enum column whose every cell is exactly a variant name (the
/// usual case); `false` when some cell needs [`parse_text`] (surrounding whitespace, an unknown
/// name), the type is not an enum, or a variant name is too long for [`short_key`].
fn exact_variants<'a, A: ArrayAccessor<Item = &'a str>>(array: A, ty: &ColumnType, out: &mut Vec<i64>) -> bool {
    let ColumnType::Enum { variants, .. } = ty else { return false };
    let Some(keys) = variants.iter().map(|v| short_key(v.as_bytes())).collect::<Option<Vec<u128>>>() else {
        return false;
    };
    for i in 0..array.len() {
        let found = short_key(array.value(i).as_bytes()).and_then(|key| keys.iter().position(|k| *k == key));
        match found {
            Some(v) => out.push(v as i64),
            None => return false,
        }
    }
    true
}

/// [`exact_variants`] for a `Utf8View` column whose variant names all have at most 12 bytes:
/// such a string is held whole in its 128-bit view (length, then the bytes, zero-padded), so
/// the views are compared directly. `false` when some view is no variant's.
fn exact_views(array: &StringViewArray, ty: &ColumnType, out: &mut Vec<i64>) -> bool {
    let ColumnType::Enum { variants, .. } = ty else { return false };
    if variants.iter().any(|v| v.len() > MAX_INLINE_VIEW_LEN as usize) {
        return false;
    }
    let keys: Vec<u128> = variants.iter().map(|v| make_view(v.as_bytes(), 0, 0)).collect();
    // Branch-free: which variant a random cell names is unpredictable.
    let mut all_found = true;
    out.extend(array.views().iter().map(|view| {
        let (mut index, mut found) = (0usize, false);
        for (i, key) in keys.iter().enumerate() {
            let hit = key == view;
            index |= if hit { i } else { 0 };
            found |= hit;
        }
        all_found &= found;
        index as i64
    }));
    all_found
}

/// A string of at most 15 bytes as one number (length in the low byte, then the bytes), so that
/// equal numbers mean equal strings and a comparison is one instruction, not a `memcmp` call.
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

/// Sends every out-of-domain cell of `out` to the ledger and replaces it with a placeholder.
fn check_domain_in_place(spec: &ColumnSpec, out: &mut [i64], faults: &mut BTreeMap<usize, InputFault>) {
    let Some((lo, hi)) = effective_domain(spec) else { return };
    if !out.iter().any(|v| *v < lo || *v > hi) {
        return;
    }
    let mut scratch = Vec::with_capacity(out.len());
    let mut sink = CellSink { spec, out: &mut scratch, faults, placeholder: placeholder(spec) };
    for (row, v) in out.iter().enumerate() {
        sink.push(row, Cell::Value(*v));
    }
    out.copy_from_slice(&scratch);
}

/// Collects converted cells, checking domains and recording faults.
struct CellSink<'a> {
    spec: &'a ColumnSpec,
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
                        "column `{}`: value {} is outside the {} {}",
                        self.spec.name,
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
            Cell::Missing => Some((CODE_MISSING, format!("column `{}` has no value", self.spec.name))),
            Cell::Bad(why) => Some((CODE_BAD_VALUE, format!("column `{}`: {why}", self.spec.name))),
        };
        self.out.push(self.placeholder);
        if let Some((code, message)) = fault {
            self.faults.entry(row).or_insert(InputFault { code, column: self.spec.name.clone(), message });
        }
    }
}

fn text_cells<'a, A: ArrayAccessor<Item = &'a str>>(array: A, sink: &mut CellSink<'_>) {
    for i in 0..array.len() {
        let cell = if array.is_null(i) { Cell::Missing } else { parse_text(&sink.spec.ty, array.value(i)) };
        sink.push(i, cell);
    }
}

fn dictionary_cells(array: &dyn Array, sink: &mut CellSink<'_>) {
    let Some(dict) = array.as_any_dictionary_opt() else {
        for i in 0..array.len() {
            sink.push(i, Cell::Bad("cannot read the dictionary column".into()));
        }
        return;
    };
    let values = dict.values();
    // Each distinct string is looked up once, then every row copies its entry.
    let lookup: Vec<Option<Result<i64, String>>> = match values.data_type() {
        DataType::Utf8 => dictionary_entries(values.as_string::<i32>(), &sink.spec.ty),
        DataType::LargeUtf8 => dictionary_entries(values.as_string::<i64>(), &sink.spec.ty),
        DataType::Utf8View => dictionary_entries(values.as_string_view(), &sink.spec.ty),
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

fn dictionary_entries<'a, A: ArrayAccessor<Item = &'a str>>(values: A, ty: &ColumnType) -> Vec<Option<Result<i64, String>>> {
    (0..values.len())
        .map(|i| {
            if values.is_null(i) {
                return None;
            }
            match parse_text(ty, values.value(i)) {
                Cell::Value(v) => Some(Ok(v)),
                Cell::Bad(why) => Some(Err(why)),
                Cell::Missing => None,
            }
        })
        .collect()
}

/// Parses one text cell as a value of `ty`. Surrounding ASCII whitespace is ignored; an empty
/// cell is a missing value.
fn parse_text(ty: &ColumnType, raw: &str) -> Cell {
    let text = raw.trim_ascii();
    if text.is_empty() {
        return Cell::Missing;
    }
    let bad = |what: &str| Cell::Bad(format!("`{raw}` is not {what}"));
    match ty {
        ColumnType::Int | ColumnType::Months => match text.parse::<i64>() {
            Ok(v) => Cell::Value(v),
            Err(_) => bad("a whole number"),
        },
        ColumnType::Bool => {
            if text.eq_ignore_ascii_case("true") {
                Cell::Value(1)
            } else if text.eq_ignore_ascii_case("false") {
                Cell::Value(0)
            } else {
                bad("true or false")
            }
        }
        ColumnType::Date => match parse_date(text) {
            Some(v) => Cell::Value(v),
            None => bad("a date (YYYY-MM-DD)"),
        },
        ColumnType::Money | ColumnType::Decimal { .. } => {
            let scale = crate::value::scale_of(ty);
            match parse_decimal(text, scale) {
                Ok(v) => Cell::Value(v),
                Err(DecimalParseError::Syntax) => bad("a decimal number"),
                Err(DecimalParseError::TooPrecise) => {
                    Cell::Bad(format!("`{raw}` has more than {scale} decimal places and cannot be represented exactly"))
                }
                Err(DecimalParseError::TooLarge) => Cell::Bad(format!("`{raw}` is too large")),
            }
        }
        ColumnType::Enum { name, variants } => match variants.iter().position(|v| v == text) {
            Some(i) => Cell::Value(i as i64),
            None => Cell::Bad(format!("`{raw}` is not a variant of enum {name} ({})", variants.join(", "))),
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
        let spec = ColumnSpec { name: "review_date".into(), ty: pol_kernel::ColumnType::Date, domain: None, is_id: false };
        let mut out = vec![MAX_DAY + 1, 0, MIN_DAY - 1, MIN_DAY, MAX_DAY];
        let mut faults = BTreeMap::new();
        check_domain_in_place(&spec, &mut out, &mut faults);
        let rows: Vec<usize> = faults.keys().copied().collect();
        assert_eq!(rows, [0, 2]);
        assert!(faults.values().all(|f| f.code == CODE_OUT_OF_DOMAIN && f.message.contains("0001-01-01 ..= 9999-12-31")), "{faults:?}");
        assert_eq!(&out[3..], &[MIN_DAY, MAX_DAY]);
    }
}
