//! Calendar arithmetic on dates stored as days since 1970-01-01 (proleptic Gregorian).
//!
//! The functions named `pol_*` are `extern "C"` so that JIT code calls exactly the code the
//! interpreter runs. Dates outside years 1..=9999 are invalid; a function that would produce or
//! read one returns [`INVALID`].

/// The value calendar functions return for an invalid date or argument.
pub const INVALID: i64 = i64::MIN;

pub use pol_kernel::cell::{MAX_DAY, MIN_DAY, format_date, is_leap, parse_date};

/// Days since 1970-01-01 of a civil date, or `None` when the date does not exist (the
/// calendar itself is [`pol_kernel::cell`], shared with the runtime).
pub fn days_from_civil(y: i64, m: i64, d: i64) -> Option<i64> {
    pol_kernel::cell::days_from_civil(y, u32::try_from(m).ok()?, u32::try_from(d).ok()?)
}

/// The civil date `(year, month, day)` of a day number in the valid range.
pub fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let (y, m, d) = pol_kernel::cell::civil_from_days(z);
    (y, i64::from(m), i64::from(d))
}

pub fn days_in_month(y: i64, m: i64) -> i64 {
    u32::try_from(m).map_or(0, |m| i64::from(pol_kernel::cell::days_in_month(y, m)))
}

fn valid(day: i64) -> bool {
    pol_kernel::cell::is_valid_day(day)
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
