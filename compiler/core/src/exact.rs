//! Exact arithmetic: the numeric semantics of Pol, shared by the interpreter and (operation for
//! operation) by the JIT.
//!
//! Inside an expression, `Money`, `Rate` and `Decimal` values are exact fractions [`Frac`] with a
//! 128-bit numerator and a positive 128-bit denominator. Money is counted in fen. No operation
//! normalises a fraction (no gcd): the exact sequence of checked 128-bit operations below *is*
//! the semantics, so that an overflow happens at the same place in every engine. An overflow is
//! an [`ArithError::Overflow`], never a wrap.

use std::cmp::Ordering;
use std::fmt;

/// An arithmetic failure; the evaluator attaches the rule and the span.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArithError {
    Overflow,
    DivisionByZero,
}

pub type ArithResult<T> = Result<T, ArithError>;

/// An exact fraction `num / den` with `den > 0`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Frac {
    pub num: i128,
    pub den: i128,
}

/// How to round an exact value to a whole multiple of a quantum.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum RoundMode {
    /// Half away from zero (四舍五入): 2.5 → 3, −2.5 → −3.
    HalfAwayFromZero,
    /// Half to even (banker's rounding): 2.5 → 2, 3.5 → 4.
    HalfEven,
    /// Toward negative infinity.
    Down,
    /// Toward positive infinity.
    Up,
    /// Toward zero (truncation).
    TowardZero,
}

impl RoundMode {
    pub fn name(self) -> &'static str {
        match self {
            RoundMode::HalfAwayFromZero => "round",
            RoundMode::HalfEven => "round_half_even",
            RoundMode::Down => "round_down",
            RoundMode::Up => "round_up",
            RoundMode::TowardZero => "truncate",
        }
    }
}

fn ck(v: Option<i128>) -> ArithResult<i128> {
    v.ok_or(ArithError::Overflow)
}

// `add`, `mul`, … are checked: they return a `Result` (overflow, division by zero), which the
// operator traits cannot.
#[allow(clippy::should_implement_trait)]
impl Frac {
    pub const ZERO: Frac = Frac { num: 0, den: 1 };
    pub const ONE: Frac = Frac { num: 1, den: 1 };

    /// A whole number.
    pub const fn int(n: i64) -> Frac {
        Frac { num: n as i128, den: 1 }
    }

    /// `num / den` for a positive `den` (the caller guarantees it; literals always have one).
    pub const fn new(num: i128, den: i128) -> Frac {
        Frac { num, den }
    }

    /// `a + b`: when the denominators are equal the numerators are added, otherwise the
    /// fractions are cross-multiplied.
    pub fn add(self, b: Frac) -> ArithResult<Frac> {
        if self.den == b.den {
            Ok(Frac { num: ck(self.num.checked_add(b.num))?, den: self.den })
        } else {
            let l = ck(self.num.checked_mul(b.den))?;
            let r = ck(b.num.checked_mul(self.den))?;
            Ok(Frac { num: ck(l.checked_add(r))?, den: ck(self.den.checked_mul(b.den))? })
        }
    }

    /// `a - b`, by the same steps as [`Frac::add`].
    pub fn sub(self, b: Frac) -> ArithResult<Frac> {
        if self.den == b.den {
            Ok(Frac { num: ck(self.num.checked_sub(b.num))?, den: self.den })
        } else {
            let l = ck(self.num.checked_mul(b.den))?;
            let r = ck(b.num.checked_mul(self.den))?;
            Ok(Frac { num: ck(l.checked_sub(r))?, den: ck(self.den.checked_mul(b.den))? })
        }
    }

    pub fn mul(self, b: Frac) -> ArithResult<Frac> {
        Ok(Frac { num: ck(self.num.checked_mul(b.num))?, den: ck(self.den.checked_mul(b.den))? })
    }

    /// `a / b`; the sign moves to the numerator so the denominator stays positive.
    pub fn div(self, b: Frac) -> ArithResult<Frac> {
        if b.num == 0 {
            return Err(ArithError::DivisionByZero);
        }
        let num = ck(self.num.checked_mul(b.den))?;
        let den = ck(self.den.checked_mul(b.num))?;
        if den < 0 { Ok(Frac { num: ck(num.checked_neg())?, den: ck(den.checked_neg())? }) } else { Ok(Frac { num, den }) }
    }

    pub fn neg(self) -> ArithResult<Frac> {
        Ok(Frac { num: ck(self.num.checked_neg())?, den: self.den })
    }

    /// Compares exactly; cross-multiplies when the denominators differ.
    pub fn cmp(self, b: Frac) -> ArithResult<Ordering> {
        if self.den == b.den {
            Ok(self.num.cmp(&b.num))
        } else {
            let l = ck(self.num.checked_mul(b.den))?;
            let r = ck(b.num.checked_mul(self.den))?;
            Ok(l.cmp(&r))
        }
    }

    /// The smaller of the two; the first one when they are equal.
    pub fn min(self, b: Frac) -> ArithResult<Frac> {
        Ok(if self.cmp(b)? == Ordering::Greater { b } else { self })
    }

    /// The larger of the two; the first one when they are equal.
    pub fn max(self, b: Frac) -> ArithResult<Frac> {
        Ok(if self.cmp(b)? == Ordering::Less { b } else { self })
    }

    /// Rounds to a whole number that fits in 64 bits.
    pub fn round_to_int(self, mode: RoundMode) -> ArithResult<i64> {
        let q = round_quotient(self.num, self.den, mode);
        i64::try_from(q).map_err(|_| ArithError::Overflow)
    }

    /// Rounds to a whole multiple of `quantum` (a positive fraction): `round(x / q) × q`.
    pub fn round_to(self, quantum: Frac, mode: RoundMode) -> ArithResult<Frac> {
        let ratio = self.div(quantum)?;
        let k = ratio.round_to_int(mode)?;
        Frac::int(k).mul(quantum)
    }

    /// True when the value is a whole number.
    pub fn is_integral(self) -> bool {
        self.num % self.den == 0
    }

    /// Whole part, exact only when [`Frac::is_integral`].
    pub fn to_i64_exact(self) -> ArithResult<i64> {
        i64::try_from(self.num / self.den).map_err(|_| ArithError::Overflow)
    }

    /// Renders the value in decimal with at most `max_places` places (rounding half away from
    /// zero past them); whole and terminating values print exactly.
    pub fn to_decimal_string(self, max_places: u32) -> String {
        // Find the fewest places that represent the value exactly, up to the limit.
        let mut places = 0u32;
        let mut scale: i128 = 1;
        while places < max_places {
            match self.num.checked_mul(scale) {
                Some(n) if n % self.den == 0 => break,
                Some(_) => {}
                None => break,
            }
            places += 1;
            scale = match scale.checked_mul(10) {
                Some(s) => s,
                None => break,
            };
        }
        let scaled = match self.num.checked_mul(scale) {
            Some(n) => round_quotient(n, self.den, RoundMode::HalfAwayFromZero),
            None => return format!("{}/{}", self.num, self.den),
        };
        format_scaled(scaled, places)
    }
}

/// `num / den` rounded by `mode`, for `den > 0`. Never overflows: the quotient is at most `num`.
pub fn round_quotient(num: i128, den: i128, mode: RoundMode) -> i128 {
    let q = num / den;
    let r = num % den;
    if r == 0 {
        return q;
    }
    let away = if num < 0 { -1 } else { 1 };
    let ar = r.abs();
    // Compare |r| with den - |r| instead of 2|r| with den, which could overflow.
    let rest = den - ar;
    match mode {
        RoundMode::HalfAwayFromZero => {
            if ar >= rest {
                q + away
            } else {
                q
            }
        }
        RoundMode::HalfEven => match ar.cmp(&rest) {
            Ordering::Greater => q + away,
            Ordering::Less => q,
            Ordering::Equal => {
                if q % 2 == 0 {
                    q
                } else {
                    q + away
                }
            }
        },
        RoundMode::Down => {
            if num < 0 {
                q - 1
            } else {
                q
            }
        }
        RoundMode::Up => {
            if num > 0 {
                q + 1
            } else {
                q
            }
        }
        RoundMode::TowardZero => q,
    }
}

/// Formats `scaled / 10^places` as a decimal string (the one decimal printer,
/// [`pol_kernel::cell::format_decimal`]).
pub fn format_scaled(scaled: i128, places: u32) -> String {
    pol_kernel::cell::format_decimal(scaled, places)
}

/// Formats an amount of fen as yuan with two places (`-12.05`).
pub fn format_fen(fen: i64) -> String {
    format_scaled(fen as i128, 2)
}

impl fmt::Display for Frac {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_decimal_string(12))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(n: i128, d: i128) -> i64 {
        Frac::new(n, d).round_to_int(RoundMode::HalfAwayFromZero).unwrap()
    }

    #[test]
    fn half_away_from_zero_on_exact_halves() {
        assert_eq!(r(5, 2), 3);
        assert_eq!(r(-5, 2), -3);
        assert_eq!(r(3, 2), 2);
        assert_eq!(r(-3, 2), -2);
        assert_eq!(r(249, 100), 2);
        assert_eq!(r(-251, 100), -3);
    }

    #[test]
    fn other_modes() {
        let m = |n, d, mode| Frac::new(n, d).round_to_int(mode).unwrap();
        assert_eq!(m(5, 2, RoundMode::HalfEven), 2);
        assert_eq!(m(7, 2, RoundMode::HalfEven), 4);
        assert_eq!(m(-7, 2, RoundMode::HalfEven), -4);
        assert_eq!(m(-1, 3, RoundMode::Down), -1);
        assert_eq!(m(1, 3, RoundMode::Up), 1);
        assert_eq!(m(-1, 3, RoundMode::Up), 0);
        assert_eq!(m(-5, 3, RoundMode::TowardZero), -1);
    }

    #[test]
    fn the_2825_35_example() {
        // C = 7346 yuan, indexed = 6379.27 yuan (already a named Money), N = 41.17 years.
        let c = Frac::int(734600);
        let indexed = Frac::int(637927);
        let basic = c
            .add(indexed)
            .and_then(|s| s.div(Frac::int(2)))
            .and_then(|h| h.mul(Frac::new(4117, 100)))
            .and_then(|x| x.mul(Frac::new(1, 100)))
            .unwrap();
        assert_eq!(basic.round_to_int(RoundMode::HalfAwayFromZero), Ok(282535));
    }

    #[test]
    fn overflow_is_an_error_not_a_wrap() {
        let big = Frac::int(i64::MAX);
        let sq = big.mul(big).unwrap();
        assert_eq!(sq.mul(Frac::int(4)), Err(ArithError::Overflow));
        assert_eq!(big.round_to_int(RoundMode::Up), Ok(i64::MAX));
        assert_eq!(big.add(Frac::int(1)).unwrap().round_to_int(RoundMode::Up), Err(ArithError::Overflow));
        assert_eq!(Frac::int(1).div(Frac::ZERO), Err(ArithError::DivisionByZero));
    }

    #[test]
    fn decimal_rendering() {
        assert_eq!(Frac::new(3395, 20).to_decimal_string(6), "169.75");
        assert_eq!(Frac::new(1, 3).to_decimal_string(4), "0.3333");
        assert_eq!(Frac::new(-5, 1000).to_decimal_string(6), "-0.005");
        assert_eq!(format_fen(-1205), "-12.05");
        assert_eq!(format_fen(5), "0.05");
    }
}
