//! A pension-adjustment-like rule (after Beijing 2024: a fixed amount, a part linked to the
//! contribution years, a level band with a floor top-up, an age tilt and 1.16 % of the pension)
//! as hand-lowered IR, and the same rule written by hand in branch-free Rust.

use super::*;
use pol_core::exact::RoundMode;
use pol_core::ir::{ArithOp, CmpOp, Program, Repr};

/// Inputs: monthly pension in fen, contribution months, age in years. Output: the adjusted
/// pension in fen.
pub fn pension_program() -> Program {
    use ArithOp::*;
    let pension = || inp(0);
    let months = || inp(1);
    let age = || inp(2);
    let linked = if_(
        Repr::I64,
        cmp(CmpOp::Ge, Repr::I64, months(), ci(120), 0),
        ai(Add, ai(Mul, ci(240), ai(Div, months(), ci(12), 1), 2), ai(Mul, ci(20), ai(Rem, months(), ci(12), 3), 4), 5),
        ci(2400),
    );
    let level = if_(Repr::I64, cmp(CmpOp::Le, Repr::I64, pension(), ci(681_300), 6), ci(3000), ci(1500));
    let top_up = if_(
        Repr::I64,
        cmp(CmpOp::Lt, Repr::I64, ai(Add, pension(), ci(1500), 7), ci(684_300), 8),
        ai(Sub, ai(Sub, ci(684_300), pension(), 9), ci(1500), 10),
        ci(0),
    );
    let tilt = if_(
        Repr::I64,
        cmp(CmpOp::Ge, Repr::I64, age(), ci(80), 11),
        ci(5000),
        if_(Repr::I64, cmp(CmpOp::Ge, Repr::I64, age(), ci(70), 12), ci(2000), ci(0)),
    );
    let whole = ai(
        Add,
        ai(Add, ai(Add, ai(Add, pension(), ci(3000), 13), local(1), 14), minmax(true, Repr::I64, local(2), local(3), 15), 16),
        local(4),
        17,
    );
    let body = block(
        vec![
            bind(0, Repr::Num, an(Mul, num(pension(), 1), cn(116, 10_000), 18)),
            bind(1, Repr::I64, linked),
            bind(2, Repr::I64, level),
            bind(3, Repr::I64, top_up),
            bind(4, Repr::I64, tilt),
        ],
        round_int(an(Add, num(whole, 1), local(0), 19), RoundMode::HalfAwayFromZero, 20),
    );
    let inputs =
        vec![input("monthly_pension", Some((0, 100_000_000))), input("contribution_months", Some((0, 720))), input("age", Some((40, 120)))];
    program(inputs, vec![], vec![body])
}

/// The same rule by hand, as a Rust programmer would write it for speed.
#[inline(always)]
pub fn pension_by_hand(p: i64, m: i64, age: i64) -> i64 {
    let linked = if m >= 120 { 240 * (m / 12) + 20 * (m % 12) } else { 2400 };
    let level = if p <= 681_300 { 3000 } else { 1500 };
    let top_up = if p + 1500 < 684_300 { 684_300 - p - 1500 } else { 0 };
    let tilt = if age >= 80 {
        5000
    } else if age >= 70 {
        2000
    } else {
        0
    };
    let whole = p + 3000 + linked + level.max(top_up) + tilt;
    // whole + p × 116/10000, rounded half away from zero; everything is non-negative.
    (whole * 10_000 + p * 116 + 5000) / 10_000
}

/// Deterministic pseudo-random records inside the declared domains.
pub fn pension_rows(n: usize) -> Vec<Vec<i64>> {
    let mut state = 0x9e37_79b9_7f4a_7c15_u64;
    let mut next = move |bound: u64| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % bound) as i64
    };
    (0..n).map(|_| vec![next(2_000_000), next(481), 50 + next(51)]).collect()
}
