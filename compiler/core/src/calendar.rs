//! Calendar arithmetic on dates stored as days since 1970-01-01 (proleptic Gregorian).
//!
//! The functions named `pol_*` are `extern "C"` so that JIT code calls exactly the code the
//! interpreter runs. Dates outside years 1..=9999 are invalid; a function that would produce or
//! read one returns [`INVALID`].

/// The value calendar functions return for an invalid date or argument.
pub const INVALID: i64 = i64::MIN;

/// The first and last valid day numbers (0001-01-01 and 9999-12-31).
pub const MIN_DAY: i64 = -719_162;
pub const MAX_DAY: i64 = 2_932_896;

/// Days since 1970-01-01 of a civil date, or `None` when the date does not exist.
pub fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    if !(1..=9999).contains(&y) || !(1..=12).contains(&m) || d < 1 || d > days_in_month(y, m) {
        return None;
    }
    // Howard Hinnant's algorithm.
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some(era * 146_097 + doe - 719_468)
}

/// The civil date `(year, month, day)` of a day number in the valid range.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

pub fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if is_leap(y) => 29,
        2 => 28,
        _ => 0,
    }
}

fn valid(day: i64) -> bool {
    (MIN_DAY..=MAX_DAY).contains(&day)
}

/// `YYYY-MM-DD`.
pub fn format_date(day: i64) -> String {
    if !valid(day) {
        return format!("<invalid date {day}>");
    }
    let (y, m, d) = civil_from_days(day);
    format!("{y:04}-{m:02}-{d:02}")
}

/// Parses `YYYY-MM-DD`.
pub fn parse_date(s: &str) -> Option<i64> {
    let mut it = s.split('-');
    let y = it.next()?.parse().ok()?;
    let m = it.next()?.parse().ok()?;
    let d = it.next()?.parse().ok()?;
    if it.next().is_some() {
        return None;
    }
    days_from_civil(y, m, d)
}

/// Whole calendar months from `from` to `to`: a month counts once its day of month is reached
/// (from 2000-01-31 to 2000-02-29 is 0 months; to 2000-03-31 is 2). Negative when `to < from`.
#[unsafe(no_mangle)]
pub extern "C" fn pol_months_between(from: i64, to: i64) -> i64 {
    if !valid(from) || !valid(to) {
        return INVALID;
    }
    if to < from {
        let m = pol_months_between(to, from);
        return -m;
    }
    let (y1, m1, d1) = civil_from_days(from);
    let (y2, m2, d2) = civil_from_days(to);
    let mut months = (y2 - y1) * 12 + (m2 - m1);
    if d2 < d1 {
        months -= 1;
    }
    months
}

/// Whole years of age on `at` for someone born on `birth` (a birthday on 29 February is
/// reached on 1 March in common years). Negative when `at < birth`.
#[unsafe(no_mangle)]
pub extern "C" fn pol_age_years(birth: i64, at: i64) -> i64 {
    let m = pol_months_between(birth, at);
    if m == INVALID {
        return INVALID;
    }
    m.div_euclid(12)
}

/// The date `months` months after `date`; the day is clamped to the end of the target month.
#[unsafe(no_mangle)]
pub extern "C" fn pol_add_months(date: i64, months: i64) -> i64 {
    if !valid(date) || months.unsigned_abs() > 12 * 10_000 {
        return INVALID;
    }
    let (y, m, d) = civil_from_days(date);
    let total = y * 12 + (m - 1) + months;
    let ny = total.div_euclid(12);
    let nm = total.rem_euclid(12) + 1;
    if !(1..=9999).contains(&ny) {
        return INVALID;
    }
    let nd = d.min(days_in_month(ny, nm));
    days_from_civil(ny, nm, nd).unwrap_or(INVALID)
}

#[unsafe(no_mangle)]
pub extern "C" fn pol_year(date: i64) -> i64 {
    if !valid(date) {
        return INVALID;
    }
    civil_from_days(date).0
}

#[unsafe(no_mangle)]
pub extern "C" fn pol_month(date: i64) -> i64 {
    if !valid(date) {
        return INVALID;
    }
    civil_from_days(date).1
}

#[unsafe(no_mangle)]
pub extern "C" fn pol_day(date: i64) -> i64 {
    if !valid(date) {
        return INVALID;
    }
    civil_from_days(date).2
}

#[unsafe(no_mangle)]
pub extern "C" fn pol_make_date(y: i64, m: i64, d: i64) -> i64 {
    days_from_civil(y, m, d).unwrap_or(INVALID)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(s: &str) -> i64 {
        parse_date(s).unwrap()
    }

    #[test]
    fn round_trips_and_epoch() {
        assert_eq!(d("1970-01-01"), 0);
        assert_eq!(d("2000-03-01"), 11_017);
        for day in [MIN_DAY, -1, 0, 59, 11_016, 20_000, MAX_DAY] {
            let (y, m, dd) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, dd), Some(day));
        }
        assert_eq!(format_date(d("2026-01-01")), "2026-01-01");
        assert_eq!(parse_date("2025-02-29"), None);
    }

    #[test]
    fn ages_and_months() {
        assert_eq!(pol_age_years(d("1950-06-01"), d("2026-01-01")), 75);
        assert_eq!(pol_age_years(d("1950-01-01"), d("2026-01-01")), 76);
        assert_eq!(pol_age_years(d("1950-01-02"), d("2026-01-01")), 75);
        assert_eq!(pol_months_between(d("2000-01-31"), d("2000-02-29")), 0);
        assert_eq!(pol_months_between(d("2000-01-31"), d("2000-03-31")), 2);
        assert_eq!(pol_months_between(d("2000-03-31"), d("2000-01-31")), -2);
        assert_eq!(pol_add_months(d("2000-01-31"), 1), d("2000-02-29"));
        assert_eq!(pol_add_months(d("1965-01-15"), 721), d("2025-02-15"));
        assert_eq!(pol_make_date(2025, 2, 29), INVALID);
    }
}
