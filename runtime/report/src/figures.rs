//! Exact figures as text: money in yuan from fen, means and percentages of integer sums, every
//! one rounded half away from zero at the last place shown, computed in 128-bit integers.

/// `num / den` rounded half away from zero to an integer; `None` when `den` is 0.
pub fn div_round(num: i128, den: i128) -> Option<i128> {
    if den == 0 {
        return None;
    }
    let (n, d) = if den < 0 { (-num, -den) } else { (num, den) };
    let (q, r) = (n / d, n % d);
    Some(if 2 * r.unsigned_abs() >= d.unsigned_abs() { q + n.signum() } else { q })
}

/// Fen as yuan with two places (`-12.05`).
pub fn yuan(fen: i128) -> String {
    let sign = if fen < 0 { "-" } else { "" };
    format!("{sign}{}.{:02}", fen.unsigned_abs() / 100, fen.unsigned_abs() % 100)
}

/// `yuan` with thousands separators, for people (`1,234,567.89`).
pub fn yuan_grouped(fen: i128) -> String {
    let plain = yuan(fen);
    let (sign, rest) = plain.strip_prefix('-').map_or(("", plain.as_str()), |r| ("-", r));
    let (whole, frac) = rest.split_once('.').unwrap_or((rest, ""));
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i) % 3 == 0 {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{frac}")
}

/// The mean of `n` values summing to `sum` fen, in fen, rounded half away from zero.
pub fn mean_fen(sum: i128, n: u64) -> Option<i128> {
    div_round(sum, i128::from(n))
}

/// `num / den` as a percentage with `places` decimals (`2.95%`); `—` when `den` is 0.
pub fn percent(num: i128, den: i128, places: u32) -> String {
    match ratio_scaled(num, den, places + 2) {
        None => "—".into(),
        Some(v) => format!("{}%", decimal(v, places)),
    }
}

/// `num / den × 10^places`, rounded half away from zero.
pub fn ratio_scaled(num: i128, den: i128, places: u32) -> Option<i128> {
    div_round(num.checked_mul(10i128.checked_pow(places)?)?, den)
}

/// An integer scaled by `10^places` as decimal text.
pub fn decimal(v: i128, places: u32) -> String {
    if places == 0 {
        return v.to_string();
    }
    let p = 10u128.pow(places);
    let sign = if v < 0 { "-" } else { "" };
    format!("{sign}{}.{:0width$}", v.unsigned_abs() / p, v.unsigned_abs() % p, width = places as usize)
}

/// A signed amount of yuan (`+12.05`, `-3.00`, `0.00`).
pub fn signed_yuan(fen: i128) -> String {
    if fen > 0 { format!("+{}", yuan(fen)) } else { yuan(fen) }
}

/// A signed percentage.
pub fn signed_percent(num: i128, den: i128, places: u32) -> String {
    let text = percent(num, den, places);
    if num.signum() * den.signum() > 0 && !text.starts_with('-') && text != "—" { format!("+{text}") } else { text }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rounding_is_half_away_from_zero() {
        assert_eq!(div_round(5, 2), Some(3));
        assert_eq!(div_round(-5, 2), Some(-3));
        assert_eq!(div_round(4, 3), Some(1));
        assert_eq!(div_round(-4, 3), Some(-1));
        assert_eq!(div_round(7, -2), Some(-4));
        assert_eq!(div_round(1, 0), None);
    }

    #[test]
    fn figures_read_as_a_person_writes_them() {
        assert_eq!(yuan(-1205), "-12.05");
        assert_eq!(yuan(7), "0.07");
        assert_eq!(yuan_grouped(12_345_678_901), "123,456,789.01");
        assert_eq!(yuan_grouped(-100_000), "-1,000.00");
        assert_eq!(percent(287, 10_000, 2), "2.87%");
        assert_eq!(percent(1, 3, 2), "33.33%");
        assert_eq!(percent(2, 3, 2), "66.67%");
        assert_eq!(percent(1, 0, 2), "—");
        assert_eq!(signed_percent(1, 8, 1), "+12.5%");
        assert_eq!(signed_percent(-1, 8, 1), "-12.5%");
        assert_eq!(signed_yuan(0), "0.00");
        assert_eq!(decimal(-5, 2), "-0.05");
    }
}
