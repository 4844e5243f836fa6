//! Runs a module's `test` blocks with the reference interpreter: each assertion is evaluated at
//! the test's as-of date; `a == b` failures show the actual and the expected value.

use crate::calendar;
use crate::check::{FileIdx, Module, TExpr, TKind, TestStmtInfo, Ty};
use crate::exact::Frac;
use crate::interp;
use crate::ir::{Const, Fault};
use crate::lower::{ClosedVal, Lowerer};
use crate::span::{SourceFile, Span};
use crate::syntax::ast::BinOp;
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
pub struct Failure {
    pub span: Span,
    pub line: u32,
    /// `T0001` for a false assertion, `T0002` or a lowering code for an evaluation error.
    pub code: &'static str,
    pub message: String,
}

#[derive(Clone, Debug, PartialEq)]
pub struct TestOutcome {
    pub name: String,
    pub file: FileIdx,
    pub line: u32,
    pub assertions: usize,
    pub failures: Vec<Failure>,
}

impl TestOutcome {
    pub fn passed(&self) -> bool {
        self.failures.is_empty()
    }
}

/// Renders a value of a type the way a notice writes it (`2825.35 yuan`, `1.2%`, `2026-01-01`).
pub fn format_value(m: &Module, c: Const, ty: Ty) -> String {
    let frac = match c {
        Const::I(i) => Frac::int(i),
        Const::N(n) => n,
    };
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

/// Runs every test of the module's main file. `default_as_of` applies to tests without their
/// own `as of` (the scheme's effective date, or the command line's).
pub fn run_tests(m: &Module, sources: &[SourceFile], default_as_of: Option<i64>) -> Vec<TestOutcome> {
    let main = m.main_file();
    m.tests
        .iter()
        .filter(|t| t.loc.file == main)
        .map(|t| {
            let src = sources.get(main.0 as usize);
            let line_of = |s: Span| src.map(|f| f.line_col(s.start).0).unwrap_or(0);
            let mut outcome = TestOutcome { name: t.name.clone(), file: main, line: line_of(t.loc.span), assertions: 0, failures: vec![] };
            let as_of = t.as_of.or(default_as_of);
            let mut lw = Lowerer::new(m, sources, as_of);
            let mut env: HashMap<u32, ClosedVal> = HashMap::new();
            for stmt in &t.stmts {
                lw.set_context(main, &format!("test \"{}\"", t.name));
                let res = match stmt {
                    TestStmtInfo::Let(l) => {
                        let ty = t.locals[l.local as usize].ty;
                        eval_let(&mut lw, &l.value, ty, &env).map(|v| {
                            env.insert(l.local, v);
                        })
                    }
                    TestStmtInfo::Assert(e) => {
                        outcome.assertions += 1;
                        check_assertion(m, &mut lw, e, &env)
                    }
                    TestStmtInfo::Population { rows, span, .. } => {
                        outcome.assertions += 1;
                        crate::compliance::check_population(m, &mut lw, rows, &env, *span)
                    }
                };
                if let Err((code, message, span)) = res {
                    outcome.failures.push(Failure { span, line: line_of(span), code, message });
                }
            }
            outcome
        })
        .collect()
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

fn check_assertion(m: &Module, lw: &mut Lowerer, e: &TExpr, env: &HashMap<u32, ClosedVal>) -> Result<(), StepError> {
    if let TKind::Binary(BinOp::Eq, a, b) = &e.kind {
        let actual = eval_value(lw, a, env)?;
        let expected = eval_value(lw, b, env)?;
        let (x, y) = (to_frac(actual), to_frac(expected));
        let equal = x.cmp(y).map(|o| o == std::cmp::Ordering::Equal).unwrap_or(false);
        if !equal {
            let ty = if a.ty.is_error() { b.ty } else { a.ty };
            return Err(("T0001", format!("expected {}, found {}", format_value(m, expected, ty), format_value(m, actual, ty)), e.span));
        }
        return Ok(());
    }
    match eval_value(lw, e, env)? {
        Const::I(0) => Err(("T0001", "assertion is false".into(), e.span)),
        _ => Ok(()),
    }
}

fn to_frac(c: Const) -> Frac {
    match c {
        Const::I(i) => Frac::int(i),
        Const::N(n) => n,
    }
}
