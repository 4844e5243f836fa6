//! Closed integer intervals over `i128`: the range analysis that lets the translator drop
//! overflow checks and use 64-bit instructions where it proves the result is the same.
//!
//! Every operation returns `None` when a bound itself leaves `i128`; the caller then emits a
//! checked instruction, exactly where the interpreter's checked arithmetic could fail.

/// The values an integer can take at run time, `lo ..= hi`, with `lo <= hi`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Interval {
    pub lo: i128,
    pub hi: i128,
}

impl Interval {
    /// Every value of a 64-bit cell.
    pub const I64: Interval = Interval { lo: i64::MIN as i128, hi: i64::MAX as i128 };
    /// Every value of a 128-bit intermediate.
    pub const I128: Interval = Interval { lo: i128::MIN, hi: i128::MAX };
    /// The result of a comparison or a logical operator.
    pub const BOOL: Interval = Interval { lo: 0, hi: 1 };

    pub const fn new(lo: i128, hi: i128) -> Interval {
        Interval { lo, hi }
    }

    pub const fn point(value: i128) -> Interval {
        Interval { lo: value, hi: value }
    }

    /// The single value, when the interval has only one.
    pub fn as_point(self) -> Option<i128> {
        (self.lo == self.hi).then_some(self.lo)
    }

    pub fn contains(self, value: i128) -> bool {
        self.lo <= value && value <= self.hi
    }

    pub fn within(self, outer: Interval) -> bool {
        outer.lo <= self.lo && self.hi <= outer.hi
    }

    pub fn fits_i64(self) -> bool {
        self.within(Interval::I64)
    }

    /// True when no value of `self` equals a value of `other`.
    pub fn disjoint(self, other: Interval) -> bool {
        self.hi < other.lo || other.hi < self.lo
    }

    pub fn union(self, other: Interval) -> Interval {
        Interval { lo: self.lo.min(other.lo), hi: self.hi.max(other.hi) }
    }

    /// The values of `self` that also lie in `outer`. When they do not meet (only on paths
    /// that always fault before), the point of `outer` nearest to `self`, so that the result
    /// never needs a wider register than `self`.
    pub fn clamp_to(self, outer: Interval) -> Interval {
        let lo = self.lo.max(outer.lo);
        let hi = self.hi.min(outer.hi);
        if lo <= hi {
            Interval { lo, hi }
        } else if self.hi < outer.lo {
            Interval::point(outer.lo)
        } else {
            Interval::point(outer.hi)
        }
    }

    pub fn add(self, o: Interval) -> Option<Interval> {
        Some(Interval { lo: self.lo.checked_add(o.lo)?, hi: self.hi.checked_add(o.hi)? })
    }

    pub fn sub(self, o: Interval) -> Option<Interval> {
        Some(Interval { lo: self.lo.checked_sub(o.hi)?, hi: self.hi.checked_sub(o.lo)? })
    }

    pub fn mul(self, o: Interval) -> Option<Interval> {
        let corners = [self.lo.checked_mul(o.lo)?, self.lo.checked_mul(o.hi)?, self.hi.checked_mul(o.lo)?, self.hi.checked_mul(o.hi)?];
        let lo = corners.iter().copied().min()?;
        let hi = corners.iter().copied().max()?;
        Some(Interval { lo, hi })
    }

    pub fn neg(self) -> Option<Interval> {
        Some(Interval { lo: self.hi.checked_neg()?, hi: self.lo.checked_neg()? })
    }

    /// The range of `round(num / den)` for any rounding mode, when every `den >= 1`: the
    /// quotient moves toward zero as `den` grows and rounding moves it by at most one.
    pub fn quotient(self, den: Interval) -> Interval {
        let d = den.lo.max(1);
        let lo = self.lo.div_euclid(d).min(0);
        // `hi / d` rounded up, without overflow for `hi` near `i128::MAX`.
        let hi = (self.hi / d + i128::from(self.hi % d > 0)).max(0);
        Interval { lo: lo.max(self.lo.min(0)), hi: hi.min(self.hi.max(0)) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_that_leave_i128_give_none() {
        assert_eq!(Interval::I128.add(Interval::point(1)), None);
        assert_eq!(Interval::point(i128::MIN).neg(), None);
        let big = Interval::I64.mul(Interval::I64);
        assert!(big.is_some());
        assert_eq!(big.and_then(|b| b.mul(Interval::point(4))), None);
    }

    #[test]
    fn quotient_brackets_every_rounding() {
        let q = Interval::new(-7, 7).quotient(Interval::point(2));
        assert!(q.contains(-4) && q.contains(4));
        let q = Interval::new(1, 1).quotient(Interval::new(3, 5));
        assert!(q.contains(0) && q.contains(1));
        let q = Interval::new(i128::MIN, i128::MAX).quotient(Interval::point(1));
        assert_eq!(q, Interval::I128);
    }
}
