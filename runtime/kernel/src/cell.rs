//! The one home of how a cell's `i64` is read from and written as text: calendar dates (days
//! since 1970-01-01, proleptic Gregorian, years 1 to 9999), fixed-point decimals (money is a
//! decimal of scale 2), and the human form of a value used in messages and outputs. The
//! compiler (literals, `--as-of`, `pol eval`, traces, the prover's messages) and the runtime
//! (CSV cells, the ledger, `pol gen` profiles) both use these, so a date or an amount reads and
//! prints the same everywhere. Nothing here goes through floating point.

use crate::ColumnType;

/// The first and last valid day numbers (0001-01-01 and 9999-12-31).
pub const MIN_DAY: i64 = -719_162;
pub const MAX_DAY: i64 = 2_932_896;

pub fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

/// Days in a month of a year (0 for a month outside 1..=12).
pub fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(year) => 29,
        2 => 28,
        _ => 0,
    }
}

/// Days since 1970-01-01 of a date in years 1..=9999, or `None` when it does not exist.
pub fn days_from_civil(year: i64, month: u32, day: u32) -> Option<i64> {
    if !(1..=9999).contains(&year) || day == 0 || day > days_in_month(year, month) {
        return None;
    }
    // Howard Hinnant's algorithm.
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The date `(year, month, day)` of a day number.
pub fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Whether a day number is a date Pol can represent (years 1..=9999).
pub fn is_valid_day(days: i64) -> bool {
    (MIN_DAY..=MAX_DAY).contains(&days)
}

/// Parses `YYYY-MM-DD`: exactly four year digits, two month and two day digits, a date that
/// exists, in years 1..=9999.
pub fn parse_date(text: &str) -> Option<i64> {
    let bytes = text.as_bytes();
    if bytes.len() != 10 || bytes[4] != b'-' || bytes[7] != b'-' {
        return None;
    }
    let digits = |range: std::ops::Range<usize>| -> Option<u32> {
        let part = &text[range];
        if part.bytes().all(|b| b.is_ascii_digit()) { part.parse().ok() } else { None }
    };
    days_from_civil(i64::from(digits(0..4)?), digits(5..7)?, digits(8..10)?)
}

/// `YYYY-MM-DD`; a day number outside years 1..=9999 is shown as `<invalid date N>`.
pub fn format_date(days: i64) -> String {
    if !is_valid_day(days) {
        return format!("<invalid date {days}>");
    }
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Why a decimal text could not become a scaled integer.
#[derive(Debug, PartialEq, Eq)]
pub enum DecimalParseError {
    /// Not a decimal number at all.
    Syntax,
    /// More non-zero fraction digits than the scale allows.
    TooPrecise,
    /// Beyond the `i64` range once scaled.
    TooLarge,
}

/// Parses `[+-]digits[.digits]` into `value × 10^scale` exactly. Trailing zeros beyond the scale
/// are accepted (`3265.400` at scale 2); any other extra digit is [`DecimalParseError::TooPrecise`].
pub fn parse_decimal(text: &str, scale: u32) -> Result<i64, DecimalParseError> {
    let (negative, body) = match text.as_bytes().first() {
        Some(b'-') => (true, &text[1..]),
        Some(b'+') => (false, &text[1..]),
        _ => (false, text),
    };
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if (int_part.is_empty() && frac_part.is_empty())
        || !int_part.bytes().all(|b| b.is_ascii_digit())
        || !frac_part.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(DecimalParseError::Syntax);
    }
    let scale = scale as usize;
    if frac_part.len() > scale && frac_part[scale..].bytes().any(|b| b != b'0') {
        return Err(DecimalParseError::TooPrecise);
    }
    let mut value: i128 = 0;
    let frac_digits = frac_part.bytes().chain(std::iter::repeat(b'0')).take(scale);
    for digit in int_part.bytes().chain(frac_digits) {
        value = value * 10 + i128::from(digit - b'0');
        if value > i128::from(i64::MAX) + 1 {
            return Err(DecimalParseError::TooLarge);
        }
    }
    let value = if negative { -value } else { value };
    i64::try_from(value).map_err(|_| DecimalParseError::TooLarge)
}

/// Formats `value × 10^-scale` with exactly `scale` fraction digits (`-3265.40`).
pub fn format_decimal(value: i128, scale: u32) -> String {
    if scale == 0 {
        return value.to_string();
    }
    let digits = value.unsigned_abs().to_string();
    let scale = scale as usize;
    let padded = if digits.len() <= scale { format!("{}{}", "0".repeat(scale + 1 - digits.len()), digits) } else { digits };
    let (int_part, frac_part) = padded.split_at(padded.len() - scale);
    let sign = if value < 0 { "-" } else { "" };
    format!("{sign}{int_part}.{frac_part}")
}

/// The number of fraction digits of a type's `i64` representation (money: 2).
pub fn scale_of(ty: &ColumnType) -> u32 {
    match ty {
        ColumnType::Money => 2,
        ColumnType::Decimal { scale } => *scale,
        _ => 0,
    }
}

/// A cell in the form a benefit officer reads it: `3265.40`, `1950-06-01`, `true`, `Enterprise`.
pub fn format_cell(ty: &ColumnType, value: i64) -> String {
    match ty {
        ColumnType::Int | ColumnType::Months => value.to_string(),
        ColumnType::Bool => match value {
            0 => "false".into(),
            1 => "true".into(),
            other => other.to_string(),
        },
        ColumnType::Date => format_date(value),
        ColumnType::Money | ColumnType::Decimal { .. } => format_decimal(i128::from(value), scale_of(ty)),
        ColumnType::Enum { variants, .. } => {
            usize::try_from(value).ok().and_then(|i| variants.get(i)).cloned().unwrap_or_else(|| format!("#{value}"))
        }
    }
}

/// `lo ..= hi` in human form, for messages.
pub fn format_domain(ty: &ColumnType, domain: (i64, i64)) -> String {
    format!("{} ..= {}", format_cell(ty, domain.0), format_cell(ty, domain.1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_reject_impossible_days() {
        assert_eq!(parse_date("1970-01-01"), Some(0));
        assert_eq!(parse_date("2026-01-01"), Some(20_454));
        assert_eq!(parse_date("2000-03-01"), Some(11_017));
        assert_eq!(parse_date("1900-02-29"), None);
        assert_eq!(parse_date("2025-02-29"), None);
        assert_eq!(parse_date("2000-02-29").map(format_date).as_deref(), Some("2000-02-29"));
        // One spelling only: four year digits, two month and day digits, years 1..=9999.
        for bad in ["2026-1-01", "2024-1-5", "0000-01-01", "12024-01-01", "2024-01-01 ", "+024-01-01", "2024/01/01"] {
            assert_eq!(parse_date(bad), None, "{bad}");
        }
        for days in [MIN_DAY, -700_000, -1, 0, 59, 365, 11_016, 20_454, MAX_DAY] {
            assert_eq!(parse_date(&format_date(days)), Some(days));
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), Some(days));
        }
        assert_eq!(format_date(MIN_DAY - 1), format!("<invalid date {}>", MIN_DAY - 1));
        assert_eq!(format_date(MAX_DAY + 1), format!("<invalid date {}>", MAX_DAY + 1));
    }

    #[test]
    fn decimals_parse_and_print_exactly() {
        assert_eq!(parse_decimal("0.07", 2), Ok(7));
        assert_eq!(parse_decimal("3265.4", 2), Ok(326_540));
        assert_eq!(parse_decimal("3265.400", 2), Ok(326_540));
        assert_eq!(parse_decimal("-.5", 2), Ok(-50));
        assert_eq!(parse_decimal("12", 2), Ok(1200));
        assert_eq!(parse_decimal("3265.401", 2), Err(DecimalParseError::TooPrecise));
        assert_eq!(parse_decimal("1e3", 2), Err(DecimalParseError::Syntax));
        assert_eq!(parse_decimal(".", 2), Err(DecimalParseError::Syntax));
        assert_eq!(parse_decimal("", 2), Err(DecimalParseError::Syntax));
        assert_eq!(parse_decimal("99999999999999999999", 2), Err(DecimalParseError::TooLarge));
        assert_eq!(parse_decimal("-92233720368547758.08", 2), Ok(i64::MIN));
        assert_eq!(format_decimal(7, 2), "0.07");
        assert_eq!(format_decimal(-326_540, 2), "-3265.40");
        assert_eq!(format_decimal(12, 0), "12");
        assert_eq!(format_cell(&ColumnType::Money, -5), "-0.05");
        assert_eq!(format_cell(&ColumnType::Bool, 1), "true");
    }
}
