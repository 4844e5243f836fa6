//! Exact fraction operations, step for step as `pol_core::exact::Frac`: the same checked
//! multiplications and additions in the same cases, so that an overflow faults exactly where the
//! interpreter's does.
//!
//! The decision "are the denominators equal?" is taken at compile time whenever the ranges of
//! the two denominators settle it (always, when both are constants), and at run time otherwise.

use super::int::HELPER_COST;
use super::{Frac, FunctionTranslator, Int, Val};
use crate::helpers::round_mode_code;
use crate::interval::Interval;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, Value, types};
use pol_core::exact::RoundMode;
use pol_core::ir::{ArithOp, FaultKind, SiteId};

/// Every denominator of a fraction that did not fault is at least one.
const POSITIVE: Interval = Interval::new(1, i128::MAX);

impl FunctionTranslator<'_, '_> {
    pub fn frac_arith(&mut self, op: ArithOp, x: Frac, y: Frac, site: SiteId) -> Frac {
        match op {
            ArithOp::Add | ArithOp::Sub => self.frac_add_sub(op, x, y, site),
            ArithOp::Mul => self.frac_mul(x, y, site),
            ArithOp::Div => self.frac_div(x, y, site),
            ArithOp::Rem => {
                // The interpreter reports a remainder on fractions as an overflow.
                self.fault_always(site, FaultKind::Overflow);
                x
            }
        }
    }

    /// `Some(answer)` when the ranges decide whether two denominators are equal.
    fn dens_equal(a: Int, b: Int) -> Option<bool> {
        match (a.iv.as_point(), b.iv.as_point()) {
            (Some(p), Some(q)) => Some(p == q),
            _ if a.iv.disjoint(b.iv) => Some(false),
            _ => None,
        }
    }

    /// Runs `same` when the denominators are equal and `cross` otherwise, deciding at compile
    /// time where possible.
    fn by_den_equality(&mut self, x: Frac, y: Frac, same: &dyn Fn(&mut Self) -> Val, cross: &dyn Fn(&mut Self) -> Val) -> Val {
        match Self::dens_equal(x.den, y.den) {
            Some(true) => same(self),
            Some(false) => cross(self),
            None => {
                let eq = self.compare(IntCC::Equal, x.den, y.den);
                let eq = self.bool_int(eq);
                self.choose(eq, same, cross)
            }
        }
    }

    fn frac_add_sub(&mut self, op: ArithOp, x: Frac, y: Frac, site: SiteId) -> Frac {
        let v = self.by_den_equality(
            x,
            y,
            &|t: &mut Self| {
                let num = t.checked(op, x.num, y.num, Interval::I128, site);
                Val::N(Frac { num, den: x.den })
            },
            &|t: &mut Self| {
                let l = t.checked(ArithOp::Mul, x.num, y.den, Interval::I128, site);
                let r = t.checked(ArithOp::Mul, y.num, x.den, Interval::I128, site);
                let num = t.checked(op, l, r, Interval::I128, site);
                let den = t.checked(ArithOp::Mul, x.den, y.den, Interval::I128, site);
                Val::N(Frac { num, den })
            },
        );
        self.expect_frac(v)
    }

    pub fn frac_mul(&mut self, x: Frac, y: Frac, site: SiteId) -> Frac {
        let num = self.checked(ArithOp::Mul, x.num, y.num, Interval::I128, site);
        let den = self.checked(ArithOp::Mul, x.den, y.den, Interval::I128, site);
        Frac { num, den }
    }

    pub fn frac_div(&mut self, x: Frac, y: Frac, site: SiteId) -> Frac {
        if y.num.iv.as_point() == Some(0) {
            self.fault_always(site, FaultKind::DivisionByZero);
        } else if y.num.iv.contains(0) {
            let zero = self.int_const(0);
            let is_zero = self.compare(IntCC::Equal, y.num, zero);
            self.fault_if(is_zero, site, FaultKind::DivisionByZero);
        }
        let num = self.checked(ArithOp::Mul, x.num, y.den, Interval::I128, site);
        let den = self.checked(ArithOp::Mul, x.den, y.num, Interval::I128, site);
        // The sign moves to the numerator so that the denominator stays positive.
        let (num, den) = if den.iv.lo >= 1 {
            (num, den)
        } else if den.iv.hi <= -1 {
            let num = self.checked_neg(num, Interval::I128, site);
            let den = self.checked_neg(den, Interval::I128, site);
            (num, den)
        } else {
            let zero = self.int_const(0);
            let negative = self.compare(IntCC::SignedLessThan, den, zero);
            let num = self.cond_neg(negative, num, site);
            let den = self.cond_neg(negative, den, site);
            (num, den)
        };
        let den = self.refine(den, POSITIVE);
        Frac { num, den }
    }

    /// `x cc y` as an `i8` condition; cross-multiplies only when the denominators differ.
    pub fn frac_cmp(&mut self, cc: IntCC, x: Frac, y: Frac, site: SiteId) -> Value {
        match Self::dens_equal(x.den, y.den) {
            Some(true) => self.compare(cc, x.num, y.num),
            Some(false) => self.cross_compare(cc, x, y, site),
            None => {
                let v = self.by_den_equality(
                    x,
                    y,
                    &|t: &mut Self| {
                        let c = t.compare(cc, x.num, y.num);
                        Val::I(t.bool_int(c))
                    },
                    &|t: &mut Self| {
                        let c = t.cross_compare(cc, x, y, site);
                        Val::I(t.bool_int(c))
                    },
                );
                let holds = self.as_int(v);
                let zero = self.int_const(0);
                self.compare(IntCC::NotEqual, holds, zero)
            }
        }
    }

    fn cross_compare(&mut self, cc: IntCC, x: Frac, y: Frac, site: SiteId) -> Value {
        let l = self.checked(ArithOp::Mul, x.num, y.den, Interval::I128, site);
        let r = self.checked(ArithOp::Mul, y.num, x.den, Interval::I128, site);
        self.compare(cc, l, r)
    }

    /// `Frac::round_to`: `round(x / quantum) × quantum`, every step checked at `site`.
    pub fn frac_round_to(&mut self, x: Frac, quantum: pol_core::exact::Frac, mode: RoundMode, site: SiteId) -> Frac {
        let q = self.frac_const(quantum.num, quantum.den);
        let ratio = self.frac_div(x, q, site);
        let k = self.round_quotient(ratio.num, ratio.den, mode);
        let k = self.fit_i64_checked(k, site);
        let one = self.int_const(1);
        self.frac_mul(Frac { num: k, den: one }, q, site)
    }

    /// `exact::round_quotient(num, den, mode)` for `den >= 1`: inline in 64 bits when both
    /// operands fit (a division by a constant becomes a multiplication), out of line otherwise.
    pub fn round_quotient(&mut self, num: Int, den: Int, mode: RoundMode) -> Int {
        if den.iv.as_point() == Some(1) {
            return num;
        }
        let den = self.refine(den, POSITIVE);
        if num.iv.fits_i64() && den.iv.fits_i64() {
            return self.round_quotient_i64(num, den, mode);
        }
        let fits = self.fits_i64_at_run_time(num, den);
        let fast = |t: &mut Self| {
            let n = t.refine(num, Interval::I64);
            let d = t.refine(den, Interval::I64);
            Val::I(t.round_quotient_i64(n, d, mode))
        };
        let slow = |t: &mut Self| Val::I(t.round_quotient_helper(num, den, mode));
        let v = self.choose_with(fits, &fast, &slow, false);
        self.as_int(v)
    }

    /// 1 when both values fit 64 bits, as an `I64` condition.
    fn fits_i64_at_run_time(&mut self, a: Int, b: Int) -> Int {
        if self.dry {
            return self.dummy(Interval::BOOL);
        }
        let mut all: Option<Value> = None;
        for x in [a, b] {
            if x.iv.fits_i64() {
                continue;
            }
            let lo = self.builder.ins().ireduce(types::I64, x.v);
            let back = self.builder.ins().sextend(types::I128, lo);
            let fits = self.builder.ins().icmp(IntCC::Equal, back, x.v);
            all = Some(match all {
                Some(prev) => self.builder.ins().band(prev, fits),
                None => fits,
            });
        }
        match all {
            Some(c) => self.bool_int(c),
            None => self.int_const(1),
        }
    }

    fn round_quotient_helper(&mut self, num: Int, den: Int, mode: RoundMode) -> Int {
        self.tick(HELPER_COST);
        let iv = num.iv.quotient(den.iv);
        if self.dry {
            return self.dummy(iv);
        }
        let n = self.widen(num);
        let d = self.widen(den);
        let (n_lo, n_hi) = self.builder.ins().isplit(n);
        let (d_lo, d_hi) = self.builder.ins().isplit(d);
        let mode = self.builder.ins().iconst(types::I64, round_mode_code(mode));
        let out = self.builder.ins().stack_addr(self.ptr, self.scratch, 0);
        self.builder.ins().call(self.imports.round_quotient, &[n_lo, n_hi, d_lo, d_hi, mode, out]);
        let v = self.load_i128(out);
        self.refine(Int { v, iv: Interval::I128 }, iv)
    }

    /// `round_quotient` on 64-bit operands with `den >= 1`. Never overflows: when the remainder
    /// is not zero, `den >= 2`, so the truncated quotient is at most half of `num` in size.
    fn round_quotient_i64(&mut self, num: Int, den: Int, mode: RoundMode) -> Int {
        self.tick(10);
        let iv = num.iv.quotient(den.iv);
        if self.dry {
            return self.dummy(iv);
        }
        let d = self.positive_divisor(den);
        let n = num.v;
        if let Some(q) = self.round_non_negative(num, den, mode) {
            return Int { v: q, iv };
        }
        let q = self.builder.ins().sdiv(n, d);
        let r = self.builder.ins().srem(n, d);
        let v = match mode {
            RoundMode::TowardZero => q,
            RoundMode::Down => {
                let below = self.builder.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
                let borrow = self.builder.ins().uextend(types::I64, below);
                self.builder.ins().isub(q, borrow)
            }
            RoundMode::Up => {
                let above = self.builder.ins().icmp_imm_s(IntCC::SignedGreaterThan, r, 0);
                let carry = self.builder.ins().uextend(types::I64, above);
                self.builder.ins().iadd(q, carry)
            }
            RoundMode::HalfAwayFromZero | RoundMode::HalfEven => {
                // Compare |r| with den - |r| rather than 2|r| with den, as `round_quotient` does.
                let negative = self.builder.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
                let minus_r = self.builder.ins().ineg(r);
                let abs_r = self.builder.ins().select(negative, minus_r, r);
                let rest = self.builder.ins().isub(d, abs_r);
                let bump = if mode == RoundMode::HalfAwayFromZero {
                    self.builder.ins().icmp(IntCC::SignedGreaterThanOrEqual, abs_r, rest)
                } else {
                    let above = self.builder.ins().icmp(IntCC::SignedGreaterThan, abs_r, rest);
                    let half = self.builder.ins().icmp(IntCC::Equal, abs_r, rest);
                    let low_bit = self.builder.ins().band_imm_s(q, 1);
                    let odd = self.builder.ins().icmp_imm_s(IntCC::NotEqual, low_bit, 0);
                    let tie_to_even = self.builder.ins().band(half, odd);
                    self.builder.ins().bor(above, tie_to_even)
                };
                // A zero remainder never bumps: then |r| = 0 < den = rest.
                let minus_one = self.builder.ins().iconst(types::I64, -1);
                let one = self.builder.ins().iconst(types::I64, 1);
                let away = self.builder.ins().select(negative, minus_one, one);
                let zero = self.builder.ins().iconst(types::I64, 0);
                let step = self.builder.ins().select(bump, away, zero);
                self.builder.ins().iadd(q, step)
            }
        };
        Int { v, iv }
    }

    /// The common case of a non-negative numerator over a constant denominator, where one
    /// unsigned division by a constant does: `(num + bias) / den` with `bias` 0 (down or toward
    /// zero), `den - 1` (up) or `den / 2` (half away from zero: for an odd `den` there are no
    /// halves, and `(den - 1) / 2` is what `den / 2` rounds to). `None` when it does not apply.
    fn round_non_negative(&mut self, num: Int, den: Int, mode: RoundMode) -> Option<Value> {
        let d = den.iv.as_point()?;
        if num.iv.lo < 0 {
            return None;
        }
        let bias = match mode {
            RoundMode::Down | RoundMode::TowardZero => 0,
            RoundMode::Up => d - 1,
            RoundMode::HalfAwayFromZero => d / 2,
            RoundMode::HalfEven => return None,
        };
        if num.iv.hi.checked_add(bias).is_none_or(|hi| hi > i64::MAX as i128) {
            return None;
        }
        let biased = self.builder.ins().iadd_imm_s(num.v, bias as i64);
        Some(self.builder.ins().udiv(biased, den.v))
    }

    fn expect_frac(&mut self, v: Val) -> Frac {
        match v {
            Val::N(f) => f,
            Val::I(i) => {
                let den = self.int_const(1);
                Frac { num: i, den }
            }
        }
    }
}
