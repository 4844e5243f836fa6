//! Runs a module's `test` blocks with the reference interpreter: each assertion is evaluated at
//! the test's as-of date; `a == b` failures show the actual and the expected value.

use crate::check::{FileIdx, Module, TExpr, TKind, TestStmtInfo};
use crate::ir::Const;
use crate::lower::{ClosedVal, Lowerer};
use crate::span::{SourceFile, Span};
use crate::syntax::ast::BinOp;
pub use crate::values::format_value;
use crate::values::{StepError, eval_let, eval_value};
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

/// Runs every test of the module's main file. `default_as_of` applies to tests without their
/// own `as of` (the scheme's effective date, or the command line's).
pub fn run_tests(m: &Module, sources: &[SourceFile], default_as_of: Option<i64>) -> Vec<TestOutcome> {
    let main = m.main_file();
    let validity = crate::compliance::validity::validity(m);
    m.tests
        .iter()
        .filter(|t| t.loc.file == main)
        .map(|t| {
            let src = sources.get(main.0 as usize);
            let line_of = |s: Span| src.map(|f| f.line_col(s.start).0).unwrap_or(0);
            let mut outcome = TestOutcome { name: t.name.clone(), file: main, line: line_of(t.loc.span), assertions: 0, failures: vec![] };
            let as_of = t.as_of.or(default_as_of);
            // A scheme's test runs only on a date the scheme can run at (its validity).
            if let (Some(v), Some(d)) = (&validity, as_of)
                && let Some(why) = v.refuses(d)
            {
                let span = t.loc.span;
                outcome.failures.push(Failure { span, line: line_of(span), code: crate::codes::OUTSIDE_VALIDITY.code, message: why });
                return outcome;
            }
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

fn check_assertion(m: &Module, lw: &mut Lowerer, e: &TExpr, env: &HashMap<u32, ClosedVal>) -> Result<(), StepError> {
    if let TKind::Binary(BinOp::Eq, a, b) = &e.kind {
        let actual = eval_value(lw, a, env)?;
        let expected = eval_value(lw, b, env)?;
        let (x, y) = (actual.to_frac(), expected.to_frac());
        let Ok(order) = x.cmp(y) else {
            return Err(("T0002", "the two sides cannot be compared exactly: the comparison overflows 128 bits".into(), e.span));
        };
        if order != std::cmp::Ordering::Equal {
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
