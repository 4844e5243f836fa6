//! Drawing the cells of a profiled column from their random words, with integer arithmetic
//! only: Irwin–Hall normal variates in Q32, a Q60 exponential for the log-normal, rounding to
//! whole cells half away from zero. Every cell is a pure function of its word.

use crate::generate::{in_range, splitmix64};
use crate::value::days_from_civil;
use pol_kernel::cell::{MAX_DAY, MIN_DAY, is_leap};

/// Means and standard deviations are held in micro-units of the field's cells (micro-years for
/// ages).
pub(super) const MOMENT_ONE: i64 = 1_000_000;

/// Shares are held in units of 10^-18; they sum to exactly this.
pub(super) const SHARE_ONE: i64 = 1_000_000_000_000_000_000;

/// Truncation is by rejection: a draw outside the bounds is drawn again from the next words of
/// the cell's stream. After this many rejections the last draw is clamped to the bounds.
const MAX_ATTEMPTS: u64 = 32;

/// How one column's cells are drawn from their random words, every value already in cells.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Sampler {
    /// Uniform over `lo..=hi`; the sampler of a column without a profile.
    Uniform {
        lo: i64,
        hi: i64,
    },
    /// A normal truncated to `lo..=hi`; `mean` and `sd` in micro-cells.
    Normal {
        mean: i64,
        sd: i64,
        lo: i64,
        hi: i64,
    },
    /// `median × e^(sigma z)` truncated to `lo..=hi`; `median` in cells, `sigma` in Q60.
    LogNormal {
        median: i64,
        sigma: i128,
        lo: i64,
        hi: i64,
    },
    /// `values[i]` when the word's share falls below `cumulative[i]` (in `SHARE_ONE` units).
    Shares {
        values: Vec<i64>,
        cumulative: Vec<i64>,
    },
    /// A birth date whose whole age at `at` is a normal (micro-years) rounded to whole years and
    /// truncated to `min..=max`, the day uniform among the days that give that age.
    Age {
        at: (i64, u32, u32),
        mean: i64,
        sd: i64,
        min: i64,
        max: i64,
    },
    Constant(i64),
}

/// The date `years` years before `at` (29 February becomes 28 February in a common year).
fn years_before(at: (i64, u32, u32), years: i64) -> i64 {
    let (y, m, d) = at;
    let year = y - years;
    let day = if m == 2 && d == 29 && !is_leap(year) { 28 } else { d };
    // Outside years 1..=9999 the date is clamped to the calendar's ends; the profile's bounds
    // are checked against the field's domain before any draw.
    days_from_civil(year, m, day).unwrap_or(if year < 1 { MIN_DAY } else { MAX_DAY })
}

/// The first and last birth dates of a person whose whole age at `at` is `age`.
pub(super) fn birth_dates(at: (i64, u32, u32), age: i64) -> (i64, i64) {
    (years_before(at, age + 1) + 1, years_before(at, age))
}

/// Word `k` of a cell's stream: the splitmix64 sequence seeded with the cell's word.
fn stream(word: u64, k: u64) -> u64 {
    splitmix64(word.wrapping_add(k.wrapping_mul(0x9E37_79B9_7F4A_7C15)))
}

/// Words of the stream one attempt uses: six for the normal variate, one for the day.
const STREAM_STRIDE: u64 = 7;

/// An approximately standard normal variate in Q32 fixed point (`z × 2^32`): the sum of twelve
/// uniforms on (0, 1) minus 6 (Irwin–Hall: mean 0, variance 1, support ±6), the uniforms being
/// the halves of six words of the cell's stream, each centred in its 2^-32 step.
fn irwin_hall(word: u64, attempt: u64) -> i128 {
    let mut sum: i128 = 0;
    for i in 0..6 {
        let w = stream(word, attempt * STREAM_STRIDE + 1 + i);
        sum += i128::from(w >> 32) + i128::from(w & 0xFFFF_FFFF);
    }
    sum + 6 - (6i128 << 32)
}

/// `v / 2^shift` rounded half away from zero.
fn round_shift(v: i128, shift: u32) -> i128 {
    if shift == 0 {
        return v;
    }
    if shift >= 127 {
        return 0;
    }
    let half = 1i128 << (shift - 1);
    if v >= 0 { (v + half) >> shift } else { -((-v + half) >> shift) }
}

/// `a / b` rounded half away from zero, for `b > 0`.
pub(super) fn div_round(a: i128, b: i128) -> i128 {
    let half = b / 2;
    if a >= 0 { (a + half) / b } else { -((-a + half) / b) }
}

/// ln 2 in Q60, rounded to nearest.
const LN2_Q60: i128 = 799_144_290_325_165_979;
pub(super) const ONE_Q60: i128 = 1 << 60;

/// `e^t` for `t` in Q60, as `(m, k)` with `e^t = m × 2^(k - 60)` and `m` in Q60 within
/// `[2^-0.5, 2^0.5]`: `t = k ln 2 + r` with `|r| <= ln 2 / 2`, then the Taylor series of `e^r`
/// until its terms vanish in Q60. Integer operations only, so every machine agrees.
fn exp_q60(t: i128) -> (i128, i32) {
    let k = div_round(t, LN2_Q60);
    let r = t - k * LN2_Q60;
    let mut sum = ONE_Q60;
    let mut term = ONE_Q60;
    for n in 1..40 {
        term = round_shift(term * r, 60) / n;
        if term == 0 {
            break;
        }
        sum += term;
    }
    (sum, k as i32)
}

/// `median × e^(sigma z)` rounded to a whole cell, or `None` beyond `i64`.
fn lognormal_cell(median: i64, sigma: i128, z: i128) -> Option<i64> {
    let t = round_shift(sigma * z, 32);
    let (m, k) = exp_q60(t);
    let scaled = i128::from(median) * m;
    let shift = 60 - k;
    if shift <= 0 {
        return None;
    }
    i64::try_from(round_shift(scaled, shift as u32)).ok()
}

/// A normal variate `mean + sd z` (micro-units) rounded to whole units, saturating to `i64`.
fn normal_units(mean: i64, sd: i64, z: i128) -> i64 {
    let micro = i128::from(mean) + round_shift(i128::from(sd) * z, 32);
    let units = div_round(micro, i128::from(MOMENT_ONE));
    units.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64
}

/// Draws by rejection from `draw(attempt)` until a value falls in `lo..=hi`; the last draw is
/// clamped after [`MAX_ATTEMPTS`].
fn truncated(lo: i64, hi: i64, mut draw: impl FnMut(u64) -> i64) -> (i64, u64) {
    let mut last = lo;
    for attempt in 0..MAX_ATTEMPTS {
        last = draw(attempt);
        if (lo..=hi).contains(&last) {
            return (last, attempt);
        }
    }
    (last.clamp(lo, hi), MAX_ATTEMPTS - 1)
}

impl Sampler {
    /// The cell for a cell's random word.
    pub(crate) fn sample(&self, word: u64) -> i64 {
        match self {
            Sampler::Uniform { lo, hi } => in_range(word, *lo, *hi),
            Sampler::Constant(v) => *v,
            Sampler::Normal { mean, sd, lo, hi } => truncated(*lo, *hi, |a| normal_units(*mean, *sd, irwin_hall(word, a))).0,
            Sampler::LogNormal { median, sigma, lo, hi } => {
                truncated(*lo, *hi, |a| lognormal_cell(*median, *sigma, irwin_hall(word, a)).unwrap_or(i64::MAX)).0
            }
            Sampler::Shares { values, cumulative } => {
                let u = in_range(word, 0, SHARE_ONE - 1);
                let i = cumulative.partition_point(|&c| c <= u);
                values[i.min(values.len() - 1)]
            }
            Sampler::Age { at, mean, sd, min, max } => {
                let (age, attempt) = truncated(*min, *max, |a| normal_units(*mean, *sd, irwin_hall(word, a)));
                let (first, last) = birth_dates(*at, age);
                in_range(stream(word, attempt * STREAM_STRIDE + STREAM_STRIDE), first, last)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use pol_kernel::{ColumnSpec, ColumnType};

    use super::*;
    use crate::generate::cell_word;
    use crate::profile::Profile;
    use crate::profile::tests::{sex, spec};
    use crate::value::{civil_from_days, parse_date};

    /// The sampler a one-field profile `name = text` gives a column.
    fn one(text: &str, spec: ColumnSpec) -> Sampler {
        let profile = format!("[fields]\n{} = {text}\n", spec.name);
        let samplers = Profile::parse(&profile).and_then(|p| p.samplers(&[spec])).expect(text);
        samplers.into_iter().next().flatten().expect("a sampler")
    }

    /// `n` draws of a sampler over the words of column 3, rows `0..n`, seed 1.
    fn draws(sampler: &Sampler, n: u64) -> Vec<i64> {
        (0..n).map(|r| sampler.sample(cell_word(1, 3, r))).collect()
    }

    fn mean(values: &[i64]) -> f64 {
        // Floats only to judge statistics in tests; no sampled value goes through them.
        values.iter().map(|&v| v as f64).sum::<f64>() / values.len() as f64
    }

    fn sd(values: &[i64]) -> f64 {
        let m = mean(values);
        (values.iter().map(|&v| (v as f64 - m).powi(2)).sum::<f64>() / values.len() as f64).sqrt()
    }

    fn median(values: &[i64]) -> i64 {
        let mut sorted = values.to_vec();
        sorted.sort_unstable();
        sorted[sorted.len() / 2]
    }

    #[test]
    fn exp_q60_matches_known_values() {
        assert_eq!(exp_q60(0), (ONE_Q60, 0));
        let (m, k) = exp_q60(ONE_Q60);
        // e in Q60 is 3133965575612453543 (rounded); e = m × 2^(k - 60).
        assert_eq!(k, 1);
        assert!(((m << 1) - 3_133_965_575_612_453_543).abs() < 64, "e^1 = {m} × 2^{k}");
        let (m, k) = exp_q60(LN2_Q60 * 10);
        assert_eq!(k, 10);
        assert!((m - ONE_Q60).abs() < 64);
        let (m, k) = exp_q60(-ONE_Q60 * 30);
        let e_minus_30 = 9.357_622_968_840_175e-14;
        let got = m as f64 / ONE_Q60 as f64 * 2f64.powi(k);
        assert!((got / e_minus_30 - 1.0).abs() < 1e-12, "{got}");
    }

    #[test]
    fn irwin_hall_is_centred_with_unit_variance_and_bounded() {
        let z: Vec<i64> = (0..100_000).map(|r| irwin_hall(cell_word(9, 0, r), 0) as i64).collect();
        let one = (1i64 << 32) as f64;
        assert!((mean(&z) / one).abs() < 0.01, "mean {}", mean(&z) / one);
        assert!((sd(&z) / one - 1.0).abs() < 0.01, "sd {}", sd(&z) / one);
        assert!(z.iter().all(|&v| v.abs() <= 6i64 << 32));
        assert_ne!(irwin_hall(5, 0), irwin_hall(5, 1), "attempts draw fresh words");
    }

    #[test]
    fn lognormal_has_its_median_and_mean_and_respects_bounds() {
        let s = one(
            r#"{ lognormal = { median = "3800.00", sigma = "0.45", min = 1000, max = 40000 } }"#,
            spec("p", ColumnType::Money, Some((0, 10_000_000))),
        );
        let v = draws(&s, 100_000);
        let med = median(&v) as f64;
        assert!((med / 380_000.0 - 1.0).abs() < 0.01, "median {med}");
        // E = median × e^(sigma²/2) = 3800 × 1.1066 before truncation, which removes little.
        assert!((mean(&v) / (380_000.0 * 1.1066) - 1.0).abs() < 0.01, "mean {}", mean(&v));
        assert!(v.iter().all(|&x| (100_000..=4_000_000).contains(&x)));
        let distinct: BTreeSet<i64> = v[..1000].iter().copied().collect();
        assert!(distinct.len() > 990, "different rows draw different pensions");
    }

    #[test]
    fn normal_has_its_mean_and_sd_and_truncation_keeps_bounds() {
        let wide = one("{ normal = { mean = 360, sd = 84 } }", spec("c", ColumnType::Months, Some((0, 10_000))));
        let v = draws(&wide, 100_000);
        assert!((mean(&v) - 360.0).abs() < 1.0, "mean {}", mean(&v));
        assert!((sd(&v) / 84.0 - 1.0).abs() < 0.01, "sd {}", sd(&v));
        let narrow = one("{ normal = { mean = 360, sd = 84, min = 300, max = 380 } }", spec("c", ColumnType::Months, Some((0, 720))));
        let v = draws(&narrow, 100_000);
        assert!(v.iter().all(|&x| (300..=380).contains(&x)));
        assert!(v.contains(&300) && v.contains(&380));
        let money = one(r#"{ normal = { mean = "3800", sd = "150.5" } }"#, spec("m", ColumnType::Money, None));
        let v = draws(&money, 100_000);
        assert!((mean(&v) - 380_000.0).abs() < 200.0 && (sd(&v) / 15_050.0 - 1.0).abs() < 0.01);
    }

    #[test]
    fn shares_are_drawn_in_proportion() {
        let s = one(r#"{ shares = { "0" = "0.6", "1" = 0.3, "3" = "0.1", "2" = "0" } }"#, spec("h", ColumnType::Int, Some((0, 3))));
        let v = draws(&s, 100_000);
        for (value, share) in [(0, 0.6), (1, 0.3), (2, 0.0), (3, 0.1)] {
            let got = v.iter().filter(|&&x| x == value).count() as f64 / 100_000.0;
            assert!((got - share).abs() < 0.005, "share of {value}: {got}");
        }
        let cadre = one(r#"{ shares = { true = "0.005", FALSE = "0.995" } }"#, spec("b", ColumnType::Bool, None));
        let ones = draws(&cadre, 100_000).iter().filter(|&&x| x == 1).count();
        assert!((400..=600).contains(&ones), "{ones} cadres in 100000");
        let s = one(r#"{ shares = { Female = "0.52", Male = "0.48" } }"#, spec("s", sex(), None));
        let women = draws(&s, 100_000).iter().filter(|&&x| x == 1).count() as f64 / 100_000.0;
        assert!((women - 0.52).abs() < 0.005);
    }

    #[test]
    fn ages_follow_the_normal_and_dates_stay_in_the_domain() {
        let date = |t: &str| parse_date(t).expect("date");
        let birth = spec("birth_date", ColumnType::Date, Some((date("1900-01-01"), date("1975-12-31"))));
        let s = one(r#"{ age = { at = "2024-01-01", mean = 70, sd = 8, min = 50, max = 100 } }"#, birth.clone());
        let v = draws(&s, 100_000);
        let at = parse_date("2024-01-01").expect("date");
        let ages: Vec<i64> = v
            .iter()
            .map(|&d| {
                let (y, m, day) = civil_from_days(d);
                2024 - y - i64::from((m, day) > (1, 1))
            })
            .collect();
        // Truncation at 50 (2.5 sd below) lifts the mean by about 0.14 years.
        assert!((mean(&ages) - 70.14).abs() < 0.1, "mean age {}", mean(&ages));
        assert!((sd(&ages) / 8.0 - 1.0).abs() < 0.03, "sd {}", sd(&ages));
        assert!(ages.iter().all(|&a| (50..=100).contains(&a)));
        let (lo, hi) = birth.domain.expect("domain");
        assert!(v.iter().all(|&d| d < at && (lo..=hi).contains(&d)));
        let days: BTreeSet<u32> = v.iter().map(|&d| civil_from_days(d).2).collect();
        assert_eq!(days.len(), 31, "every day of the month occurs");
        // Without bounds, the ages default to those whose birth dates fit the domain.
        let open = one(r#"{ age = { at = "2024-01-01", mean = 70, sd = 40 } }"#, birth.clone());
        assert!(draws(&open, 10_000).iter().all(|d| (lo..=hi).contains(d)));
    }
}
