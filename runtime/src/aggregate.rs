//! Aggregate requirements over a run (`sum(result) <= 2.5% * sum(r.monthly_pension)`): exact
//! 128-bit sums over the rows that evaluated, compared by cross-multiplication.

use std::cmp::Ordering;

use pol_kernel::{AggregateCmp, AggregateSpec, AggregateTerm, ColumnRef, KernelSignature};
use serde::Serialize;

use crate::error::RuntimeError;
use crate::value::{format_decimal, scale_of};

/// The sums of one aggregate requirement's two sides over some rows, exact, in the columns'
/// cell representation (fen for money).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct SideSums {
    pub lhs: i128,
    pub rhs: i128,
}

impl SideSums {
    /// The sums of two sets of rows together; `None` beyond 128 bits.
    pub fn checked_add(self, other: SideSums) -> Option<SideSums> {
        Some(SideSums { lhs: self.lhs.checked_add(other.lhs)?, rhs: self.rhs.checked_add(other.rhs)? })
    }
}

/// Adds the kept rows of a batch to `sums` (one entry per aggregate); `kept` is `None` when
/// every row is kept.
pub(crate) fn add_batch(sig: &KernelSignature, inputs: &[Vec<i64>], outputs: &[Vec<i64>], kept: Option<&[bool]>, sums: &mut [SideSums]) {
    let column = |r: ColumnRef| -> &[i64] {
        match r {
            ColumnRef::Input(i) => inputs.get(i).map_or(&[], Vec::as_slice),
            ColumnRef::Output(j) => outputs.get(j).map_or(&[], Vec::as_slice),
        }
    };
    // A batch has far fewer than 2^64 rows, so an i128 batch sum of i64 cells cannot overflow.
    let sum = |col: &[i64]| -> i128 {
        match kept {
            None => col.iter().map(|v| i128::from(*v)).sum(),
            Some(kept) => col.iter().zip(kept).filter(|(_, k)| **k).map(|(v, _)| i128::from(*v)).sum(),
        }
    };
    for (agg, s) in sig.aggregates.iter().zip(sums.iter_mut()) {
        s.lhs += sum(column(agg.lhs.column));
        s.rhs += sum(column(agg.rhs.column));
    }
}

/// One aggregate requirement's result, as reported in the summary.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AggregateResult {
    pub slot: String,
    /// The requirement as written in the framework.
    pub text: String,
    pub origin: String,
    pub cite: Option<String>,
    /// `<`, `<=`, `>` or `>=`.
    pub cmp: String,
    /// `factor × Σ` of the left side, as a decimal in the column's unit (yuan for money),
    /// exact when it terminates within the column's scale + 6 places, else rounded half away
    /// from zero to that many places.
    pub lhs: String,
    pub rhs: String,
    /// The plain sums, exact, in the column's unit.
    pub lhs_sum: String,
    pub rhs_sum: String,
    /// The factors as fractions `num/den`.
    pub lhs_factor: String,
    pub rhs_factor: String,
    pub holds: bool,
    /// The same figures as integers, for tools that compute with them (a report's margin).
    #[serde(skip)]
    pub exact: ExactSides,
}

/// An aggregate requirement's sums and factors, exact: `lhs_num/lhs_den × lhs_sum / 10^lhs_scale`
/// against the same of the right side.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExactSides {
    pub lhs_sum: i128,
    pub rhs_sum: i128,
    pub lhs_scale: u32,
    pub rhs_scale: u32,
    pub lhs_factor: (i128, i128),
    pub rhs_factor: (i128, i128),
}

fn column_scale(sig: &KernelSignature, r: ColumnRef) -> u32 {
    let spec = match r {
        ColumnRef::Input(i) => sig.inputs.get(i),
        ColumnRef::Output(j) => sig.outputs.get(j),
    };
    spec.map_or(0, |s| scale_of(&s.ty))
}

fn pow10(k: u32) -> Option<i128> {
    10i128.checked_pow(k)
}

/// `num × sum / (den × 10^scale)` as a decimal string (see [`AggregateResult::lhs`]).
fn side_text(term: &AggregateTerm, sum: i128, scale: u32) -> Option<String> {
    let places = scale + 6;
    let n = term.factor_num.checked_mul(sum)?.checked_mul(pow10(6)?)?;
    let d = term.factor_den;
    if d <= 0 {
        return None;
    }
    let (q, r) = (n / d, n % d);
    // Half away from zero: compare 2|r| with d.
    let q = if r.unsigned_abs() * 2 >= d.unsigned_abs() { q + n.signum() } else { q };
    let mut text = format_decimal(q, places);
    while text.contains('.') && text.ends_with('0') && text.len() - text.find('.')? - 1 > scale as usize {
        text.pop();
    }
    if text.ends_with('.') {
        text.pop();
    }
    Some(text)
}

/// Decides every aggregate requirement from the run's sums.
pub(crate) fn evaluate(sig: &KernelSignature, sums: &[SideSums]) -> Result<Vec<AggregateResult>, RuntimeError> {
    sig.aggregates.iter().zip(sums).map(|(agg, s)| evaluate_one(sig, agg, *s)).collect()
}

fn evaluate_one(sig: &KernelSignature, agg: &AggregateSpec, s: SideSums) -> Result<AggregateResult, RuntimeError> {
    let overflow = || RuntimeError::AggregateOverflow { slot: agg.slot.clone() };
    let (ls, rs) = (column_scale(sig, agg.lhs.column), column_scale(sig, agg.rhs.column));
    if agg.lhs.factor_den <= 0 || agg.rhs.factor_den <= 0 {
        return Err(RuntimeError::invalid(format!("aggregate of `{}`: a factor has a non-positive denominator", agg.slot)));
    }
    // lnum·Σl / (lden·10^ls)  cmp  rnum·Σr / (rden·10^rs), both denominators positive.
    let left = agg
        .lhs
        .factor_num
        .checked_mul(s.lhs)
        .and_then(|v| v.checked_mul(agg.rhs.factor_den))
        .and_then(|v| v.checked_mul(pow10(rs)?))
        .ok_or_else(overflow)?;
    let right = agg
        .rhs
        .factor_num
        .checked_mul(s.rhs)
        .and_then(|v| v.checked_mul(agg.lhs.factor_den))
        .and_then(|v| v.checked_mul(pow10(ls)?))
        .ok_or_else(overflow)?;
    let ord = left.cmp(&right);
    let (holds, cmp) = match agg.cmp {
        AggregateCmp::Lt => (ord == Ordering::Less, "<"),
        AggregateCmp::Le => (ord != Ordering::Greater, "<="),
        AggregateCmp::Gt => (ord == Ordering::Greater, ">"),
        AggregateCmp::Ge => (ord != Ordering::Less, ">="),
    };
    Ok(AggregateResult {
        slot: agg.slot.clone(),
        text: agg.text.clone(),
        origin: agg.origin.clone(),
        cite: agg.cite.clone(),
        cmp: cmp.into(),
        lhs: side_text(&agg.lhs, s.lhs, ls).ok_or_else(overflow)?,
        rhs: side_text(&agg.rhs, s.rhs, rs).ok_or_else(overflow)?,
        lhs_sum: format_decimal(s.lhs, ls),
        rhs_sum: format_decimal(s.rhs, rs),
        lhs_factor: format!("{}/{}", agg.lhs.factor_num, agg.lhs.factor_den),
        rhs_factor: format!("{}/{}", agg.rhs.factor_num, agg.rhs.factor_den),
        holds,
        exact: ExactSides {
            lhs_sum: s.lhs,
            rhs_sum: s.rhs,
            lhs_scale: ls,
            rhs_scale: rs,
            lhs_factor: (agg.lhs.factor_num, agg.lhs.factor_den),
            rhs_factor: (agg.rhs.factor_num, agg.rhs.factor_den),
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(num: i128, den: i128) -> AggregateTerm {
        AggregateTerm { column: ColumnRef::Output(0), factor_num: num, factor_den: den }
    }

    #[test]
    fn side_text_is_exact_when_the_fraction_terminates() {
        // 2.5% of 1234.56 yuan = 30.864 yuan.
        assert_eq!(side_text(&term(1, 40), 123_456, 2).as_deref(), Some("30.864"));
        assert_eq!(side_text(&term(1, 1), 7, 2).as_deref(), Some("0.07"));
        // 1/3 of 1.00 yuan, rounded to 8 places.
        assert_eq!(side_text(&term(1, 3), 100, 2).as_deref(), Some("0.33333333"));
        assert_eq!(side_text(&term(-2, 3), 100, 2).as_deref(), Some("-0.66666667"));
    }
}
