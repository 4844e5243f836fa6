//! Aggregate requirements over a test population (`population p = [records…]` in a test).

use crate::check::{Module, TExpr, TKind, Ty};
use crate::exact::Frac;
use crate::ir::Const;
use crate::lower::{ClosedVal, Lowerer};
use crate::span::Span;
use crate::syntax::ast::AggOp;
use crate::values::{StepError, eval_let, eval_value, format_value};
use std::collections::HashMap;

/// Evaluates every aggregate requirement of every slot whose record type the population has.
pub(crate) fn check_population(
    m: &Module,
    lw: &mut Lowerer,
    rows: &[TExpr],
    env: &HashMap<u32, ClosedVal>,
    span: Span,
) -> Result<(), StepError> {
    let Some(first) = rows.first() else { return Ok(()) };
    let rec_ty = first.ty;
    let mut checked = 0;
    for slot in m.bounds() {
        if slot.aggregates.is_empty() || slot.params.len() != 1 || slot.params[0].ty != rec_ty {
            continue;
        }
        let Some(rule) = m.lookup_rule(&slot.name) else { continue };
        // Per row: the slot's value and the record's field values.
        let mut results = Vec::new();
        let mut records = Vec::new();
        for row in rows {
            let call = TExpr { kind: TKind::Call(rule, vec![row.clone()]), ty: m.rule(rule).ret, span: row.span };
            results.push(eval_value(lw, &call, env)?.to_frac());
            match eval_let(lw, row, rec_ty, env)? {
                ClosedVal::Record(fs) => records.push(fs),
                ClosedVal::Scalar(_) => return Err(("E0201", "a population lists records".into(), row.span)),
            }
        }
        for agg in &slot.aggregates {
            let mut side = |t: &crate::check::AggTermInfo| -> Result<Frac, StepError> {
                let mut sum = Frac::ZERO;
                for (i, rec) in records.iter().enumerate() {
                    let v = match &t.sum_of.kind {
                        TKind::Field(_, f) => rec[*f].to_frac(),
                        _ => results[i],
                    };
                    sum = sum.add(v).map_err(|_| ("R0001", "the population's sum overflows".to_string(), span))?;
                }
                let factor = match &t.factor {
                    Some(f) => eval_value(lw, f, &HashMap::new())?.to_frac(),
                    None => Frac::ONE,
                };
                factor.mul(sum).map_err(|_| ("R0001", "the population's sum overflows".to_string(), span))
            };
            let (l, r) = (side(&agg.lhs)?, side(&agg.rhs)?);
            let ord = l.cmp(r).map_err(|_| ("R0001", "overflow comparing sums".to_string(), span))?;
            use std::cmp::Ordering::*;
            let holds = match agg.op {
                AggOp::Lt => ord == Less,
                AggOp::Le => ord != Greater,
                AggOp::Gt => ord == Greater,
                AggOp::Ge => ord != Less,
            };
            checked += 1;
            if !holds {
                let show = |f: Frac| format_value(m, Const::N(f), Ty::Money(None));
                let cite = agg.cite.as_ref().or(slot.cite.as_ref()).map(|c| format!(" ({c})")).unwrap_or_default();
                return Err((
                    "C0111",
                    format!(
                        "aggregate requirement of `{}` broken over {} records: left side {} is not {} right side {}{cite}",
                        slot.name,
                        rows.len(),
                        show(l),
                        match agg.op {
                            AggOp::Lt => "<",
                            AggOp::Le => "<=",
                            AggOp::Gt => ">",
                            AggOp::Ge => ">=",
                        },
                        show(r)
                    ),
                    span,
                ));
            }
        }
    }
    if checked == 0 {
        return Err(("C0111", "no aggregate requirement applies to this population".into(), span));
    }
    Ok(())
}
