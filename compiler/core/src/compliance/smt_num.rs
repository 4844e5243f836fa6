//! Exact rational terms for the solver. Almost every amount in a rule is an integer over a
//! constant denominator (fen, a rate in millionths, a decimal index): such a term is kept as
//! an integer numerator and a positive constant denominator, so that additions, comparisons and
//! roundings stay in integer linear arithmetic, which Z3 decides far faster than mixed
//! integer/real arithmetic. Only a division by an amount that depends on the record (or a
//! denominator beyond 128 bits) makes a term a real.

use crate::exact::{Frac, RoundMode};
use crate::ir::CmpOp;
use z3::ast::{Bool, Int, Real};

/// An exact rational term.
#[derive(Clone)]
pub(super) enum Q {
    /// `num / den` for a constant `den > 0`.
    Scaled(Int, i128),
    Real(Real),
}

fn int(i: i128) -> Int {
    Int::from_i128(i)
}

fn gcd(a: i128, b: i128) -> i128 {
    let (mut a, mut b) = (a.abs(), b.abs());
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}

/// `num × k` without building a product node for `k = 1`.
fn times(num: &Int, k: i128) -> Int {
    if k == 1 { num.clone() } else { Int::mul(&[num.clone(), int(k)]) }
}

impl Q {
    pub(super) fn integer(i: Int) -> Q {
        Q::Scaled(i, 1)
    }

    pub(super) fn constant(f: Frac) -> Q {
        Q::Scaled(int(f.num), f.den)
    }

    /// The exact value as a real.
    pub(super) fn real(&self) -> Real {
        match self {
            Q::Scaled(n, 1) => n.to_real(),
            Q::Scaled(n, d) => n.to_real().div(int(*d).to_real()),
            Q::Real(r) => r.clone(),
        }
    }

    /// Both terms over one denominator (their least common multiple), when it fits.
    fn align(a: &Q, b: &Q) -> Option<(Int, Int, i128)> {
        let (Q::Scaled(x, dx), Q::Scaled(y, dy)) = (a, b) else { return None };
        let l = (dx / gcd(*dx, *dy)).checked_mul(*dy)?;
        Some((times(x, l / dx), times(y, l / dy), l))
    }

    pub(super) fn add(a: &Q, b: &Q) -> Q {
        match Q::align(a, b) {
            Some((x, y, d)) => Q::Scaled(Int::add(&[x, y]), d),
            None => Q::Real(Real::add(&[a.real(), b.real()])),
        }
    }

    pub(super) fn sub(a: &Q, b: &Q) -> Q {
        match Q::align(a, b) {
            Some((x, y, d)) => Q::Scaled(Int::sub(&[x, y]), d),
            None => Q::Real(Real::sub(&[a.real(), b.real()])),
        }
    }

    /// `a × b`. A product of two terms that both depend on the record is non-linear: it is
    /// made over the reals, where Z3's non-linear procedure (nlsat) is complete, instead of
    /// the integers, where non-linear arithmetic is undecidable.
    pub(super) fn mul(a: &Q, b: &Q) -> Q {
        if let (Q::Scaled(x, dx), Q::Scaled(y, dy)) = (a, b)
            && (x.as_i128().is_some() || y.as_i128().is_some())
            && let Some(d) = dx.checked_mul(*dy)
        {
            return Q::Scaled(Int::mul(&[x.clone(), y.clone()]), d);
        }
        Q::Real(Real::mul(&[a.real(), b.real()]))
    }

    /// `a / b`; `divisor` is `b`'s value when it is a constant (nonzero: a zero divisor is a
    /// fault the caller records).
    pub(super) fn div(a: &Q, b: &Q, divisor: Option<Frac>) -> Q {
        if let (Q::Scaled(x, dx), Some(c)) = (a, divisor)
            && c.num != 0
        {
            // (x / dx) / (cn / cd) = (x × cd × sign) / (dx × |cn|)
            let sign = if c.num < 0 { -1 } else { 1 };
            if let (Some(k), Some(d)) = (c.den.checked_mul(sign), dx.checked_mul(c.num.abs())) {
                return Q::Scaled(times(x, k), d);
            }
        }
        Q::Real(a.real().div(b.real()))
    }

    pub(super) fn neg(&self) -> Q {
        match self {
            Q::Scaled(n, d) => Q::Scaled(n.unary_minus(), *d),
            Q::Real(r) => Q::Real(r.unary_minus()),
        }
    }

    /// `a op b`: on integers over one denominator when both are scaled, on reals otherwise.
    pub(super) fn compare(op: CmpOp, a: &Q, b: &Q) -> Bool {
        match Q::align(a, b) {
            Some((x, y, _)) => compare_ints(op, &x, &y),
            None => {
                let (x, y) = (a.real(), b.real());
                match op {
                    CmpOp::Eq => x.eq(&y),
                    CmpOp::Ne => x.ne(&y),
                    CmpOp::Lt => x.lt(&y),
                    CmpOp::Le => x.le(&y),
                    CmpOp::Gt => x.gt(&y),
                    CmpOp::Ge => x.ge(&y),
                }
            }
        }
    }

    pub(super) fn ite(c: &Bool, a: &Q, b: &Q) -> Q {
        match Q::align(a, b) {
            Some((x, y, d)) => Q::Scaled(c.ite(&x, &y), d),
            None => Q::Real(c.ite(&a.real(), &b.real())),
        }
    }

    /// The integer `mode` rounds the value to, as [`crate::exact::round_quotient`] rounds.
    pub(super) fn round(&self, mode: RoundMode) -> Int {
        match self {
            Q::Scaled(n, 1) => n.clone(),
            Q::Scaled(n, d) => round_scaled(n, *d, mode),
            Q::Real(x) => round_real(x, mode),
        }
    }
}

/// `x op y` on integers.
pub(super) fn compare_ints(op: CmpOp, x: &Int, y: &Int) -> Bool {
    match op {
        CmpOp::Eq => x.eq(y),
        CmpOp::Ne => x.ne(y),
        CmpOp::Lt => x.lt(y),
        CmpOp::Le => x.le(y),
        CmpOp::Gt => x.gt(y),
        CmpOp::Ge => x.ge(y),
    }
}

/// `n / d` rounded, for a constant `d > 1`, in integer arithmetic (`div` is floor for `d > 0`).
fn round_scaled(n: &Int, d: i128, mode: RoundMode) -> Int {
    let floor = |x: &Int| x.div(int(d));
    let ceil = |x: &Int| floor(&x.unary_minus()).unary_minus();
    let nonneg = n.ge(int(0));
    match mode {
        RoundMode::Down => floor(n),
        RoundMode::Up => ceil(n),
        RoundMode::TowardZero => nonneg.ite(&floor(n), &ceil(n)),
        RoundMode::HalfAwayFromZero => {
            // x ≥ 0: ⌊(2n + d) / 2d⌋; x < 0: −⌊(−2n + d) / 2d⌋.
            let up = Int::add(&[times(n, 2), int(d)]).div(int(2 * d));
            let down = Int::add(&[times(n, -2), int(d)]).div(int(2 * d)).unary_minus();
            nonneg.ite(&up, &down)
        }
        RoundMode::HalfEven => {
            let f = floor(n);
            let rest = Int::sub(&[n.clone(), times(&f, d)]);
            let twice = times(&rest, 2);
            let f1 = Int::add(&[f.clone(), int(1)]);
            let even = f.modulo(int(2)).eq(int(0));
            twice.gt(int(d)).ite(&f1, &twice.lt(int(d)).ite(&f, &even.ite(&f, &f1)))
        }
    }
}

/// A real rounded to an integer by `mode` (`to_int` is floor).
fn round_real(x: &Real, mode: RoundMode) -> Int {
    let zero = Real::from_int(&int(0));
    let half = int(1).to_real().div(int(2).to_real());
    let floor = |r: &Real| r.to_int();
    let ceil = |r: &Real| r.unary_minus().to_int().unary_minus();
    match mode {
        RoundMode::Down => floor(x),
        RoundMode::Up => ceil(x),
        RoundMode::TowardZero => x.ge(&zero).ite(&floor(x), &ceil(x)),
        RoundMode::HalfAwayFromZero => {
            let up = Real::add(&[x.clone(), half.clone()]).to_int();
            let down = Real::sub(&[x.clone(), half]).unary_minus().to_int().unary_minus();
            x.ge(&zero).ite(&up, &down)
        }
        RoundMode::HalfEven => {
            let f = floor(x);
            let rest = Real::sub(&[x.clone(), f.to_real()]);
            let f1 = Int::add(&[f.clone(), int(1)]);
            let even = f.modulo(int(2)).eq(int(0));
            rest.gt(&half).ite(&f1, &rest.lt(&half).ite(&f, &even.ite(&f, &f1)))
        }
    }
}
