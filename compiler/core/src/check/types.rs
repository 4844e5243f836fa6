//! Types, units and the arithmetic table that says which combinations make sense.

use crate::syntax::ast::{BinOp, Period};
use std::fmt;

/// Index into `Module::enums`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EnumId(pub u32);
/// Index into `Module::records`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordId(pub u32);

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Ty {
    /// Yuan, exact to the fen; `None` period is a plain amount that combines with any period.
    Money(Option<Period>),
    Rate,
    Decimal,
    Int,
    Bool,
    Date,
    Months,
    Enum(EnumId),
    Record(RecordId),
    /// The type of an expression that already has an error; it combines with anything so one
    /// mistake is reported once.
    Error,
}

impl Ty {
    pub fn is_error(self) -> bool {
        self == Ty::Error
    }

    /// Dimensionless numbers: Int, Decimal, Rate.
    pub fn is_scalar_number(self) -> bool {
        matches!(self, Ty::Int | Ty::Decimal | Ty::Rate)
    }

    pub fn is_numeric(self) -> bool {
        matches!(self, Ty::Money(_) | Ty::Int | Ty::Decimal | Ty::Rate | Ty::Months)
    }

    /// True for types compared by order (`<`, `>=`, ranges, brackets).
    pub fn is_ordered(self) -> bool {
        self.is_numeric() || self == Ty::Date
    }

    /// Whether a value of type `self` may be given where `want` is expected.
    pub fn fits(self, want: Ty) -> bool {
        match (self, want) {
            (Ty::Error, _) | (_, Ty::Error) => true,
            (Ty::Money(a), Ty::Money(b)) => a.is_none() || b.is_none() || a == b,
            (Ty::Int, Ty::Decimal | Ty::Rate) => true,
            (Ty::Decimal, Ty::Rate) | (Ty::Rate, Ty::Decimal) => true,
            (a, b) => a == b,
        }
    }
}

pub fn period_name(p: Option<Period>) -> &'static str {
    match p {
        None => "",
        Some(Period::Month) => "/month",
        Some(Period::Year) => "/year",
    }
}

/// Renders a type for messages; enum and record names come from the caller.
pub struct TyDisplay<'a> {
    pub ty: Ty,
    pub names: &'a dyn Fn(Ty) -> String,
}

impl fmt::Display for TyDisplay<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.ty {
            Ty::Money(p) => write!(f, "Money{}", period_name(p)),
            Ty::Rate => f.write_str("Rate"),
            Ty::Decimal => f.write_str("Decimal"),
            Ty::Int => f.write_str("Int"),
            Ty::Bool => f.write_str("Bool"),
            Ty::Date => f.write_str("Date"),
            Ty::Months => f.write_str("Months"),
            Ty::Error => f.write_str("<error>"),
            t => f.write_str(&(self.names)(t)),
        }
    }
}

/// Why two operand types do not combine.
pub enum OpError {
    /// The units make no sense together (`Money * Money`, `Money + Int`).
    Operands,
    /// Monthly and yearly amounts mixed.
    Period(Period, Period),
}

fn join_period(a: Option<Period>, b: Option<Period>) -> Result<Option<Period>, OpError> {
    match (a, b) {
        (Some(x), Some(y)) if x != y => Err(OpError::Period(x, y)),
        (Some(x), _) | (_, Some(x)) => Ok(Some(x)),
        (None, None) => Ok(None),
    }
}

/// The result type of an arithmetic or comparison operator, per the unit rules of the
/// language reference (`docs/language.md`, "Types and units").
pub fn binary_result(op: BinOp, a: Ty, b: Ty) -> Result<Ty, OpError> {
    use Ty::*;
    if a.is_error() || b.is_error() {
        return Ok(if op.is_comparison() || matches!(op, BinOp::And | BinOp::Or) { Bool } else { Error });
    }
    match op {
        BinOp::And | BinOp::Or => match (a, b) {
            (Bool, Bool) => Ok(Bool),
            _ => Err(OpError::Operands),
        },
        BinOp::Eq | BinOp::Ne => match (a, b) {
            (Money(p), Money(q)) => join_period(p, q).map(|_| Bool),
            (x, y) if x.is_scalar_number() && y.is_scalar_number() => Ok(Bool),
            (x, y) if x == y && !matches!(x, Record(_)) => Ok(Bool),
            _ => Err(OpError::Operands),
        },
        BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge => match (a, b) {
            (Money(p), Money(q)) => join_period(p, q).map(|_| Bool),
            (x, y) if x.is_scalar_number() && y.is_scalar_number() => Ok(Bool),
            (Months, Months) | (Date, Date) => Ok(Bool),
            _ => Err(OpError::Operands),
        },
        BinOp::Add | BinOp::Sub => match (a, b) {
            (Money(p), Money(q)) => join_period(p, q).map(Money),
            (Int, Int) => Ok(Int),
            (Rate, Rate) => Ok(Rate),
            (x, y) if x.is_scalar_number() && y.is_scalar_number() => Ok(Decimal),
            (Months, Months) => Ok(Months),
            (Date, Months) => Ok(Date),
            (Months, Date) if op == BinOp::Add => Ok(Date),
            _ => Err(OpError::Operands),
        },
        BinOp::Mul => match (a, b) {
            (Money(p), x) | (x, Money(p)) if x.is_scalar_number() => Ok(Money(p)),
            (Int, Int) => Ok(Int),
            (Rate, Int) | (Int, Rate) => Ok(Rate),
            (x, y) if x.is_scalar_number() && y.is_scalar_number() => Ok(Decimal),
            (Months, Int) | (Int, Months) => Ok(Months),
            _ => Err(OpError::Operands),
        },
        BinOp::Div => match (a, b) {
            (Money(p), Money(q)) => join_period(p, q).map(|_| Decimal),
            (Money(p), x) if x.is_scalar_number() => Ok(Money(p)),
            (x, y) if x.is_scalar_number() && y.is_scalar_number() => Ok(Decimal),
            (Months, Months) => Ok(Decimal),
            _ => Err(OpError::Operands),
        },
    }
}

/// The common type of two branches (`if`, `match` arms, `min`/`max` arguments).
pub fn join(a: Ty, b: Ty) -> Option<Ty> {
    use Ty::*;
    match (a, b) {
        (Error, x) | (x, Error) => Some(x),
        (Money(p), Money(q)) => join_period(p, q).ok().map(Money),
        (Int, Int) => Some(Int),
        (Rate, Rate) => Some(Rate),
        (x, y) if x.is_scalar_number() && y.is_scalar_number() => Some(Decimal),
        (x, y) if x == y => Some(x),
        _ => None,
    }
}
