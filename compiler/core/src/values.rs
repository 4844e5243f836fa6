//! Closed expressions (a test's statements, a parameter's value, a range's bounds, an aggregate's
//! factor): lowered and evaluated now with the reference interpreter, and shown the way a notice
//! writes them. The test runner, the compliance checks and the audit use these.

use crate::calendar;
use crate::check::{Module, TExpr, Ty};
use crate::exact::Frac;
use crate::interp;
use crate::ir::{Const, Fault};
use crate::lower::{ClosedVal, Lowerer};
use crate::span::Span;
use pol_kernel::ColumnType;
use std::collections::HashMap;

/// Renders a value of a type the way a notice writes it (`2825.35 yuan`, `1.2%`, `2026-01-01`).
pub fn format_value(m: &Module, c: Const, ty: Ty) -> String {
    let frac = c.to_frac();
    // A whole value may come with a denominator other than 1 (`2825.34 yuan` is 28253400/100
    // fen); the branches below read `num` as the whole value, so normalise it first.
    let frac = if frac.den != 1 && frac.is_integral() { Frac::new(frac.num / frac.den, 1) } else { frac };
    match ty {
        Ty::Money(p) => {
            let yuan = if frac.is_integral() {
                crate::exact::format_fen(frac.num as i64)
            } else {
                frac.div(Frac::int(100)).map(|y| y.to_decimal_string(8)).unwrap_or_default()
            };
            format!("{yuan} yuan{}", crate::check::types::period_name(p))
        }
        Ty::Rate => frac.mul(Frac::int(100)).map(|p| format!("{}%", p.to_decimal_string(8))).unwrap_or_default(),
        Ty::Date => calendar::format_date(frac.num as i64),
        Ty::Bool => (if frac.num != 0 { "true" } else { "false" }).into(),
        Ty::Months => format!("{} months", frac.num),
        Ty::Enum(e) => {
            let info = &m.enums[e.0 as usize];
            format!("{}.{}", info.name, info.variants.get(frac.num as usize).cloned().unwrap_or_default())
        }
        _ => frac.to_decimal_string(10),
    }
}

pub(crate) type StepError = (&'static str, String, Span);

fn lowering_errors(lw: &mut Lowerer, span: Span) -> Result<(), StepError> {
    match lw.take_errors().into_iter().next() {
        Some(e) => Err((e.diagnostic.code, e.diagnostic.message, span)),
        None => Ok(()),
    }
}

fn fault_error(lw: &Lowerer, f: Fault, span: Span) -> StepError {
    let program = lw.snapshot();
    ("T0002", format!("evaluation failed: {} ({})", program.describe_fault(f), f.kind.code()), span)
}

pub(crate) fn eval_let(lw: &mut Lowerer, e: &TExpr, ty: Ty, env: &HashMap<u32, ClosedVal>) -> Result<ClosedVal, StepError> {
    if let Ty::Record(_) = ty {
        let fields = lw.lower_record(e, env);
        lowering_errors(lw, e.span)?;
        let program = lw.snapshot();
        let mut values = Vec::new();
        for f in fields {
            let block = crate::ir::Block { bindings: vec![], result: f };
            values.push(interp::eval_block(&program, &block, lw.locals_used(), &[]).map_err(|f| fault_error(lw, f, e.span))?);
        }
        return Ok(ClosedVal::Record(values));
    }
    let block = lw.lower_closed_named(e, ty, env);
    lowering_errors(lw, e.span)?;
    let program = lw.snapshot();
    interp::eval_block(&program, &block, lw.locals_used(), &[]).map(ClosedVal::Scalar).map_err(|f| fault_error(lw, f, e.span))
}

pub(crate) fn eval_value(lw: &mut Lowerer, e: &TExpr, env: &HashMap<u32, ClosedVal>) -> Result<Const, StepError> {
    let block = lw.lower_closed(e, env);
    lowering_errors(lw, e.span)?;
    let program = lw.snapshot();
    interp::eval_block(&program, &block, lw.locals_used(), &[]).map_err(|f| fault_error(lw, f, e.span))
}

/// Renders a cell of a column type with its unit (`104.80 yuan`, `360 months`); the value itself
/// is printed by [`pol_kernel::cell::format_cell`], as in data files.
pub fn format_cell(cell: i64, ty: &ColumnType) -> String {
    let text = pol_kernel::cell::format_cell(ty, cell);
    match ty {
        ColumnType::Money => format!("{text} yuan"),
        ColumnType::Months => format!("{text} months"),
        _ => text,
    }
}

/// Renders a value of a column type (a traced binding's exact value) the way a notice writes it.
pub fn format_scalar(m: &Module, c: Const, ty: &ColumnType) -> String {
    let t = match ty {
        ColumnType::Money => Ty::Money(None),
        ColumnType::Decimal { .. } => Ty::Decimal,
        ColumnType::Date => Ty::Date,
        ColumnType::Bool => Ty::Bool,
        ColumnType::Months => Ty::Months,
        ColumnType::Int | ColumnType::Enum { .. } => Ty::Int,
    };
    if let (ColumnType::Enum { variants, .. }, Const::I(i)) = (ty, c) {
        return variants.get(i as usize).cloned().unwrap_or_default();
    }
    format_value(m, c, t)
}
