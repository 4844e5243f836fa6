//! Checks the invariants of the IR that the translator relies on, so that a malformed program
//! is a compile error instead of native code that disagrees with the interpreter.

use crate::error::JitError;
use pol_core::ir::{Block, Const, Expr, LocalId, Output, Program};
use std::collections::HashSet;

pub(crate) fn validate(program: &Program) -> Result<(), JitError> {
    for table in &program.tables {
        if table.keys.len() != table.values.len() {
            return invalid(format!("table `{}` has {} keys but {} values", table.name, table.keys.len(), table.values.len()));
        }
        for v in &table.values {
            if let Const::N(f) = v
                && f.den <= 0
            {
                return invalid(format!("table `{}` holds a fraction with denominator {}", table.name, f.den));
            }
        }
    }
    for output in &program.outputs {
        let mut checker = Checker { program, output, bound: HashSet::new(), scope: Vec::new() };
        checker.block(&output.body)?;
    }
    Ok(())
}

fn invalid<T>(message: String) -> Result<T, JitError> {
    Err(JitError::InvalidProgram(message))
}

struct Checker<'a> {
    program: &'a Program,
    output: &'a Output,
    /// Every local bound so far in this output: each may be bound once.
    bound: HashSet<LocalId>,
    /// The locals readable here: those whose binding is evaluated on every path to this
    /// point (a binding stays readable after its block, until the lazy branch holding it ends).
    scope: Vec<LocalId>,
}

impl Checker<'_> {
    fn block(&mut self, b: &Block) -> Result<(), JitError> {
        for binding in &b.bindings {
            self.expr(&binding.value)?;
            let l = binding.local;
            if l.0 >= self.output.locals {
                return invalid(format!("output `{}` binds ${} but has {} locals", self.output.name, l.0, self.output.locals));
            }
            if !self.bound.insert(l) {
                return invalid(format!("output `{}` binds ${} twice", self.output.name, l.0));
            }
            self.scope.push(l);
        }
        self.expr(&b.result)
    }

    /// Checks an expression that is evaluated only on some paths: what it binds is not
    /// readable after it.
    fn branch(&mut self, e: &Expr) -> Result<(), JitError> {
        let depth = self.scope.len();
        self.expr(e)?;
        self.scope.truncate(depth);
        Ok(())
    }

    fn expr(&mut self, e: &Expr) -> Result<(), JitError> {
        match e {
            Expr::ConstI(_) => {}
            Expr::ConstN(n) => positive(n.den, "constant")?,
            Expr::Input(i) => {
                if i.0 as usize >= self.program.inputs.len() {
                    return invalid(format!("input %{} does not exist", i.0));
                }
            }
            Expr::Local(l) => {
                if !self.scope.contains(l) {
                    return invalid(format!("${} is read outside the scope of its binding", l.0));
                }
            }
            Expr::ToNum { arg, den } => {
                positive(*den, "conversion")?;
                self.expr(arg)?;
            }
            Expr::RoundTo { arg, quantum, .. } => {
                positive(quantum.den, "rounding quantum")?;
                self.expr(arg)?;
            }
            Expr::RoundInt { arg, .. } | Expr::Neg { arg, .. } | Expr::Not(arg) => self.expr(arg)?,
            Expr::TableGet { table, key, .. } => {
                if table.0 as usize >= self.program.tables.len() {
                    return invalid(format!("table #{} does not exist", table.0));
                }
                self.expr(key)?;
            }
            Expr::Arith { a, b, .. } | Expr::Cmp { a, b, .. } | Expr::MinMax { a, b, .. } => {
                self.expr(a)?;
                self.expr(b)?;
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                self.expr(a)?;
                self.branch(b)?;
            }
            Expr::If { cond, then, els, .. } => {
                self.expr(cond)?;
                self.branch(then)?;
                self.branch(els)?;
            }
            Expr::Call { args, .. } => {
                for a in args {
                    self.expr(a)?;
                }
            }
            Expr::Block(b) => self.block(b)?,
        }
        Ok(())
    }
}

fn positive(den: i128, what: &str) -> Result<(), JitError> {
    if den > 0 { Ok(()) } else { invalid(format!("a {what} has denominator {den}")) }
}
