//! Integer primitives: constants, width changes, and the checked add/sub/mul/neg that the
//! fraction operations and `I64` arithmetic are built from.
//!
//! A check is emitted only where the range analysis cannot prove the exact result fits the
//! target width (`i64` for `I64` values, `i128` for fraction parts); a proven result is computed
//! with plain wrapping instructions in the narrowest width that holds it, which gives the same
//! bits because the exact value fits.

use super::{FunctionTranslator, Int};
use crate::interval::Interval;
use cranelift_codegen::ir::condcodes::IntCC;
use cranelift_codegen::ir::{InstBuilder, MemFlagsData, Value, types};
use cranelift_codegen::packed_option::ReservedValue;
use pol_core::ir::{ArithOp, FaultKind, SiteId};

/// What a call to an out-of-line helper costs, in instructions, when deciding on selects.
pub(super) const HELPER_COST: u32 = 30;

impl FunctionTranslator<'_, '_> {
    pub fn int_const(&mut self, c: i128) -> Int {
        let iv = Interval::point(c);
        if self.dry {
            return self.dummy(iv);
        }
        let v = if iv.fits_i64() {
            self.builder.ins().iconst(types::I64, c as i64)
        } else {
            let lo = self.builder.ins().iconst(types::I64, c as i64);
            let hi = self.builder.ins().iconst(types::I64, (c >> 64) as i64);
            self.builder.ins().iconcat(lo, hi)
        };
        Int { v, iv }
    }

    pub fn frac_const(&mut self, num: i128, den: i128) -> super::Frac {
        let num = self.int_const(num);
        let den = self.int_const(den);
        super::Frac { num, den }
    }

    /// The low 64 bits (the whole value when it fits).
    pub fn narrow(&mut self, x: Int) -> Value {
        if self.dry || !x.wide() { x.v } else { self.builder.ins().ireduce(types::I64, x.v) }
    }

    /// The value sign-extended to 128 bits.
    pub fn widen(&mut self, x: Int) -> Value {
        if self.dry || x.wide() { x.v } else { self.builder.ins().sextend(types::I128, x.v) }
    }

    pub fn at_width(&mut self, x: Int, wide: bool) -> Value {
        if wide { self.widen(x) } else { self.narrow(x) }
    }

    /// `x` known to lie in `iv` as well: narrows the register when the range now fits 64 bits.
    pub fn refine(&mut self, x: Int, iv: Interval) -> Int {
        let iv = x.iv.clamp_to(iv);
        if x.wide() && iv.fits_i64() {
            let v = self.narrow(x);
            Int { v, iv }
        } else {
            Int { v: x.v, iv }
        }
    }

    /// `x op y` whose exact result is known to lie in `iv`.
    fn plain(&mut self, op: ArithOp, x: Int, y: Int, iv: Interval) -> Int {
        self.tick(1);
        if let Some(c) = iv.as_point() {
            return self.int_const(c);
        }
        if self.dry {
            return self.dummy(iv);
        }
        let wide = !iv.fits_i64();
        let a = self.at_width(x, wide);
        let b = self.at_width(y, wide);
        let v = match op {
            ArithOp::Add => self.builder.ins().iadd(a, b),
            ArithOp::Sub => self.builder.ins().isub(a, b),
            _ => self.builder.ins().imul(a, b),
        };
        Int { v, iv }
    }

    /// `x op y` for `op` in add, sub, mul, faulting with an overflow at `site` when the exact
    /// result leaves `target` (`Interval::I64` or `Interval::I128`).
    pub fn checked(&mut self, op: ArithOp, x: Int, y: Int, target: Interval, site: SiteId) -> Int {
        let exact = match op {
            ArithOp::Add => x.iv.add(y.iv),
            ArithOp::Sub => x.iv.sub(y.iv),
            _ => x.iv.mul(y.iv),
        };
        if let Some(iv) = exact
            && iv.within(target)
        {
            return self.plain(op, x, y, iv);
        }
        let iv = exact.map_or(target, |e| e.clamp_to(target));
        let wide = !target.fits_i64();
        if wide && op == ArithOp::Mul {
            return self.mul_i128_helper(x, y, site);
        }
        self.tick(2);
        let (v, overflow) = if self.dry {
            (Value::reserved_value(), Value::reserved_value())
        } else {
            let a = self.at_width(x, wide);
            let b = self.at_width(y, wide);
            match op {
                ArithOp::Add => self.builder.ins().sadd_overflow(a, b),
                ArithOp::Sub => self.builder.ins().ssub_overflow(a, b),
                _ => self.builder.ins().smul_overflow(a, b),
            }
        };
        self.fault_if(overflow, site, FaultKind::Overflow);
        let result = Int { v, iv: if wide { Interval::I128 } else { Interval::I64 } };
        self.refine(result, iv)
    }

    /// A 128-bit multiplication that may overflow: out of line, since Cranelift has no
    /// overflow-checked 128-bit multiply.
    fn mul_i128_helper(&mut self, x: Int, y: Int, site: SiteId) -> Int {
        self.tick(HELPER_COST);
        let (status, out) = if self.dry {
            (Value::reserved_value(), Value::reserved_value())
        } else {
            let a = self.widen(x);
            let b = self.widen(y);
            let (a_lo, a_hi) = self.builder.ins().isplit(a);
            let (b_lo, b_hi) = self.builder.ins().isplit(b);
            let out = self.builder.ins().stack_addr(self.ptr, self.scratch, 0);
            let call = self.builder.ins().call(self.imports.mul_i128, &[a_lo, a_hi, b_lo, b_hi, out]);
            let status = self.builder.inst_results(call)[0];
            (status, out)
        };
        let failed = self.nonzero(status);
        self.fault_if(failed, site, FaultKind::Overflow);
        let v = self.load_i128(out);
        Int { v, iv: Interval::I128 }
    }

    /// Reads a 128-bit result a helper wrote as two words at `addr`.
    pub fn load_i128(&mut self, addr: Value) -> Value {
        if self.dry {
            return addr;
        }
        let lo = self.builder.ins().load(types::I64, MemFlagsData::trusted(), addr, 0);
        let hi = self.builder.ins().load(types::I64, MemFlagsData::trusted(), addr, 8);
        self.builder.ins().iconcat(lo, hi)
    }

    /// `x != 0` for a helper's `i64` status.
    pub fn nonzero(&mut self, x: Value) -> Value {
        if self.dry { x } else { self.builder.ins().icmp_imm_s(IntCC::NotEqual, x, 0) }
    }

    /// `-x`, faulting when the exact result leaves `target`.
    pub fn checked_neg(&mut self, x: Int, target: Interval, site: SiteId) -> Int {
        let zero = self.int_const(0);
        self.checked(ArithOp::Sub, zero, x, target, site)
    }

    /// `c ? -x : x`, faulting only when the negation is taken and overflows 128 bits.
    pub fn cond_neg(&mut self, c: Value, x: Int, site: SiteId) -> Int {
        self.tick(3);
        let negated = x.iv.neg();
        let iv = negated.map_or(Interval::I128, |n| n.union(x.iv));
        if self.dry {
            if negated.is_none() {
                self.fault_if(c, site, FaultKind::Overflow);
            }
            return self.dummy(iv);
        }
        let wide = !iv.fits_i64();
        let a = self.at_width(x, wide);
        let neg = self.builder.ins().ineg(a);
        if negated.is_none() {
            let min = self.int_const(i128::MIN);
            let is_min = self.builder.ins().icmp(IntCC::Equal, a, min.v);
            let overflow = self.builder.ins().band(c, is_min);
            self.fault_if(overflow, site, FaultKind::Overflow);
        }
        let v = self.builder.ins().select(c, neg, a);
        Int { v, iv }
    }

    /// `x cc y` as an `i8` condition.
    pub fn compare(&mut self, cc: IntCC, x: Int, y: Int) -> Value {
        self.tick(1);
        if self.dry {
            return Value::reserved_value();
        }
        let wide = x.wide() || y.wide();
        let a = self.at_width(x, wide);
        let b = self.at_width(y, wide);
        if !wide || matches!(cc, IntCC::Equal | IntCC::NotEqual) {
            return self.builder.ins().icmp(cc, a, b);
        }
        // Cranelift's optimiser turns `select(a < b, a, b)` on i128 into `smin.i128`, which the
        // x64 backend cannot lower; an ordering built from the halves avoids the pattern.
        match cc {
            IntCC::SignedLessThan => self.less_i128(a, b),
            IntCC::SignedGreaterThan => self.less_i128(b, a),
            IntCC::SignedLessThanOrEqual => {
                let gt = self.less_i128(b, a);
                self.builder.ins().bxor_imm_s(gt, 1)
            }
            _ => {
                let lt = self.less_i128(a, b);
                self.builder.ins().bxor_imm_s(lt, 1)
            }
        }
    }

    /// `a < b` (signed) for two i128 registers, from their 64-bit halves.
    fn less_i128(&mut self, a: Value, b: Value) -> Value {
        let (a_lo, a_hi) = self.builder.ins().isplit(a);
        let (b_lo, b_hi) = self.builder.ins().isplit(b);
        let hi_less = self.builder.ins().icmp(IntCC::SignedLessThan, a_hi, b_hi);
        let hi_equal = self.builder.ins().icmp(IntCC::Equal, a_hi, b_hi);
        let lo_less = self.builder.ins().icmp(IntCC::UnsignedLessThan, a_lo, b_lo);
        let tie_broken = self.builder.ins().band(hi_equal, lo_less);
        self.builder.ins().bor(hi_less, tie_broken)
    }

    /// A condition as the `I64` value 0 or 1.
    pub fn bool_int(&mut self, c: Value) -> Int {
        if self.dry {
            return self.dummy(Interval::BOOL);
        }
        let v = self.builder.ins().uextend(types::I64, c);
        Int { v, iv: Interval::BOOL }
    }

    /// An exact integer that must fit 64 bits, as `i64::try_from` in `Frac::round_to_int`.
    pub fn fit_i64_checked(&mut self, q: Int, site: SiteId) -> Int {
        if q.iv.fits_i64() {
            return q;
        }
        self.tick(3);
        let iv = q.iv.clamp_to(Interval::I64);
        if self.dry {
            self.fault_if(Value::reserved_value(), site, FaultKind::Overflow);
            return self.dummy(iv);
        }
        let lo = self.builder.ins().ireduce(types::I64, q.v);
        let back = self.builder.ins().sextend(types::I128, lo);
        let lost = self.builder.ins().icmp(IntCC::NotEqual, back, q.v);
        self.fault_if(lost, site, FaultKind::Overflow);
        Int { v: lo, iv }
    }

    /// Checked `I64` arithmetic with the interpreter's floor division and remainder.
    pub fn int_arith(&mut self, op: ArithOp, x: Int, y: Int, site: SiteId) -> Int {
        match op {
            ArithOp::Add | ArithOp::Sub | ArithOp::Mul => self.checked(op, x, y, Interval::I64, site),
            ArithOp::Div | ArithOp::Rem if y.iv.lo >= 1 => self.floor_div_rem_positive(op, x, y),
            ArithOp::Div | ArithOp::Rem => self.int_div_rem_helper(op, x, y, site),
        }
    }

    /// Floor division or remainder by a divisor known to be positive: never faults.
    fn floor_div_rem_positive(&mut self, op: ArithOp, x: Int, y: Int) -> Int {
        self.tick(6);
        let iv = if op == ArithOp::Div { x.iv.quotient(y.iv) } else { Interval::new(0, y.iv.hi - 1) };
        if self.dry {
            return self.dummy(iv);
        }
        let divisor = self.positive_divisor(y);
        let q = self.builder.ins().sdiv(x.v, divisor);
        let r = self.builder.ins().srem(x.v, divisor);
        let negative = self.builder.ins().icmp_imm_s(IntCC::SignedLessThan, r, 0);
        let v = if op == ArithOp::Div {
            let borrow = self.builder.ins().uextend(types::I64, negative);
            self.builder.ins().isub(q, borrow)
        } else {
            let zero = self.builder.ins().iconst(types::I64, 0);
            let fix = self.builder.ins().select(negative, y.v, zero);
            self.builder.ins().iadd(r, fix)
        };
        Int { v, iv }
    }

    /// A 64-bit divisor the ranges prove positive, as a register that is positive even when
    /// that proof rests on input domains a caller broke: a hardware division must never trap.
    pub fn positive_divisor(&mut self, y: Int) -> Value {
        if y.iv.as_point().is_some() {
            return y.v;
        }
        let one = self.builder.ins().iconst(types::I64, 1);
        self.builder.ins().smax(y.v, one)
    }

    /// Division or remainder by a divisor that may be zero or negative: the interpreter's own
    /// `int_arith`, out of line.
    fn int_div_rem_helper(&mut self, op: ArithOp, x: Int, y: Int, site: SiteId) -> Int {
        self.tick(HELPER_COST);
        let (status, out) = if self.dry {
            (Value::reserved_value(), Value::reserved_value())
        } else {
            let code = self.builder.ins().iconst(types::I64, i64::from(op == ArithOp::Rem));
            let out = self.builder.ins().stack_addr(self.ptr, self.scratch, 0);
            let call = self.builder.ins().call(self.imports.int_div_rem, &[x.v, y.v, code, out]);
            (self.builder.inst_results(call)[0], out)
        };
        let (by_zero, overflow) = if self.dry {
            (status, status)
        } else {
            let z = crate::helpers::HELPER_DIVISION_BY_ZERO;
            let o = crate::helpers::HELPER_OVERFLOW;
            (self.builder.ins().icmp_imm_s(IntCC::Equal, status, z), self.builder.ins().icmp_imm_s(IntCC::Equal, status, o))
        };
        self.fault_if(by_zero, site, FaultKind::DivisionByZero);
        self.fault_if(overflow, site, FaultKind::Overflow);
        let v = if self.dry { out } else { self.builder.ins().load(types::I64, MemFlagsData::trusted(), out, 0) };
        Int { v, iv: Interval::I64 }
    }
}
