//! Literal values and compile-time constant folding of typed expressions (for domains,
//! patterns, bracket bounds and table keys).

use super::module::{Module, TExpr, TKind};
use super::types::Ty;
use crate::exact::Frac;
use crate::ir::Const;
use crate::syntax::ast::{BinOp, Unit};

pub fn pow10(scale: u32) -> i128 {
    10i128.pow(scale)
}

/// The value and type of a number literal, or a message when it is not representable
/// (fractional months, a bare number too large for an Int).
pub fn literal(digits: i128, scale: u32, unit: Unit, period: Option<crate::syntax::ast::Period>) -> Result<(Const, Ty), String> {
    let den = pow10(scale);
    match unit {
        Unit::Yuan => Ok((Const::N(Frac::new(digits * 100, den)), Ty::Money(period))),
        Unit::Fen => Ok((Const::N(Frac::new(digits, den)), Ty::Money(period))),
        Unit::Percent => Ok((Const::N(Frac::new(digits, den * 100)), Ty::Rate)),
        Unit::Years | Unit::Months => {
            let per = if unit == Unit::Years { 12 } else { 1 };
            let months = digits * per;
            if months % den != 0 {
                return Err("a duration must be a whole number of months".into());
            }
            i64::try_from(months / den).map(|m| (Const::I(m), Ty::Months)).map_err(|_| "the duration is too large".into())
        }
        Unit::None if scale == 0 => {
            i64::try_from(digits).map(|i| (Const::I(i), Ty::Int)).map_err(|_| "the number is too large for an Int".into())
        }
        Unit::None => Ok((Const::N(Frac::new(digits, den)), Ty::Decimal)),
    }
}

/// Folds an expression made of literals, enum variants, negation and arithmetic. Parameters
/// are folded only when they have a single undated value.
pub fn fold(module: &Module, e: &TExpr) -> Option<Const> {
    match &e.kind {
        TKind::Const(c) => Some(*c),
        TKind::Param(p) => {
            let info = module.params.get(p.0 as usize)?;
            match info.values.as_slice() {
                [only] if only.from.is_none() => fold(module, &only.value),
                _ => None,
            }
        }
        TKind::Neg(a) => match fold(module, a)? {
            Const::I(i) => i.checked_neg().map(Const::I),
            Const::N(n) => n.neg().ok().map(Const::N),
        },
        TKind::Binary(op, a, b) => {
            let (x, y) = (fold(module, a)?, fold(module, b)?);
            match (x, y) {
                (Const::I(x), Const::I(y)) if e.ty != Ty::Decimal => match op {
                    BinOp::Add => x.checked_add(y).map(Const::I),
                    BinOp::Sub => x.checked_sub(y).map(Const::I),
                    BinOp::Mul => x.checked_mul(y).map(Const::I),
                    _ => None,
                },
                _ => {
                    let (x, y) = (x.to_frac(), y.to_frac());
                    let r = match op {
                        BinOp::Add => x.add(y),
                        BinOp::Sub => x.sub(y),
                        BinOp::Mul => x.mul(y),
                        BinOp::Div => x.div(y),
                        _ => return None,
                    };
                    r.ok().map(Const::N)
                }
            }
        }
        _ => None,
    }
}
