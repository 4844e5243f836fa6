//! The reference interpreter of the IR: the definition of Pol's semantics that every other
//! engine must reproduce bit for bit.
//!
//! Evaluation is strict left to right, except that `and`, `or` and `if` evaluate only the
//! operands they need; the first fault stops the evaluation of a row.

use crate::calendar;
use crate::exact::{ArithError, Frac, RoundMode};
use crate::ir::{ArithOp, Block, Builtin, CmpOp, Const, Expr, Fault, FaultKind, Output, Program, Repr, SiteId, TraceInfo};
use pol_kernel::{ColumnSpec, Kernel, KernelSignature, RowErrorInfo, RowStatus};
use std::cmp::Ordering;

/// One traced binding: its source name, file, line, citation and value.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEntry {
    pub info: TraceInfo,
    pub value: Const,
    /// Where the binding rounds (a named Money value, an explicit rounding): the exact value
    /// before rounding, so that an auditor sees what was rounded away.
    pub rounded: Option<Rounded>,
}

/// The exact value a traced binding had before it was rounded, and how it was rounded.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Rounded {
    pub exact: Frac,
    pub mode: RoundMode,
    /// False when the exact value was already a whole multiple of the quantum.
    pub changed: bool,
}

impl Rounded {
    /// The rounding of `x` by `mode`, applied after `inner` (a rounding nested inside, as in
    /// `round(x, to: 1 yuan)` named as Money): the exact value is the innermost one, and the
    /// mode is that of the last rounding that changed the value.
    fn after(inner: Option<Rounded>, x: Frac, mode: RoundMode, changed: bool) -> Rounded {
        match inner {
            Some(r) if !changed => r,
            Some(r) => Rounded { exact: r.exact, mode, changed: true },
            None => Rounded { exact: x, mode, changed },
        }
    }
}

struct Frame<'a> {
    program: &'a Program,
    inputs: &'a [i64],
    locals: Vec<Const>,
    trace: Option<&'a mut Vec<TraceEntry>>,
}

fn fault(site: SiteId, kind: FaultKind) -> Fault {
    Fault { site, kind }
}

fn arith(site: SiteId) -> impl Fn(ArithError) -> Fault {
    move |e| match e {
        ArithError::Overflow => fault(site, FaultKind::Overflow),
        ArithError::DivisionByZero => fault(site, FaultKind::DivisionByZero),
    }
}

fn as_i(c: Const) -> i64 {
    match c {
        Const::I(i) => i,
        // The lowering guarantees representations match; a `Num` here is a lowering bug that
        // the type of every IR node rules out.
        Const::N(n) => n.num as i64,
    }
}

/// Evaluates one output for one row of inputs (in `Program::inputs` order).
pub fn eval_output(program: &Program, output: &Output, inputs: &[i64]) -> Result<Const, Fault> {
    let mut frame = Frame { program, inputs, locals: vec![Const::I(0); output.locals as usize], trace: None };
    frame.block(&output.body)
}

/// Evaluates a closed block (no inputs needed beyond `inputs`) with `locals` local slots.
pub fn eval_block(program: &Program, block: &Block, locals: u32, inputs: &[i64]) -> Result<Const, Fault> {
    let mut frame = Frame { program, inputs, locals: vec![Const::I(0); locals as usize], trace: None };
    frame.block(block)
}

/// Like [`eval_block`], recording every traced binding.
pub fn trace_block(program: &Program, block: &Block, locals: u32, inputs: &[i64], trace: &mut Vec<TraceEntry>) -> Result<Const, Fault> {
    let mut frame = Frame { program, inputs, locals: vec![Const::I(0); locals as usize], trace: Some(trace) };
    frame.block(block)
}

/// Like [`eval_output`], recording every traced binding in evaluation order.
pub fn trace_output(program: &Program, output: &Output, inputs: &[i64], trace: &mut Vec<TraceEntry>) -> Result<Const, Fault> {
    let mut frame = Frame { program, inputs, locals: vec![Const::I(0); output.locals as usize], trace: Some(trace) };
    frame.block(&output.body)
}

impl Frame<'_> {
    fn block(&mut self, b: &Block) -> Result<Const, Fault> {
        for bind in &b.bindings {
            if self.trace.is_some()
                && let Some(info) = &bind.trace
            {
                let (v, rounded) = self.traced_value(&bind.value)?;
                self.locals[bind.local.0 as usize] = v;
                if let Some(t) = self.trace.as_deref_mut() {
                    t.push(TraceEntry { info: info.clone(), value: v, rounded });
                }
                continue;
            }
            let v = self.expr(&bind.value)?;
            self.locals[bind.local.0 as usize] = v;
        }
        self.expr(&b.result)
    }

    /// A traced binding's value, evaluated like [`Frame::expr`] but keeping the exact value
    /// of the roundings at its top. Only the trace comes here, so evaluation without a trace
    /// pays nothing for it.
    fn traced_value(&mut self, e: &Expr) -> Result<(Const, Option<Rounded>), Fault> {
        match e {
            Expr::RoundInt { arg, mode, site } => {
                let (x, inner) = self.traced_num(arg)?;
                let v = round_int(x, *mode, *site)?;
                let changed = !(x.is_integral() && x.num / x.den == v as i128);
                Ok((Const::I(v), Some(Rounded::after(inner, x, *mode, changed))))
            }
            Expr::RoundTo { arg, quantum, mode, site } => {
                let (x, inner) = self.traced_num(arg)?;
                let v = round_to(x, *quantum, *mode, *site)?;
                // The division succeeded inside `round_to`, so it does not fail here.
                let changed = x.div(*quantum).map(|q| !q.is_integral()).unwrap_or(true);
                Ok((Const::N(v), Some(Rounded::after(inner, x, *mode, changed))))
            }
            _ => Ok((self.expr(e)?, None)),
        }
    }

    fn traced_num(&mut self, e: &Expr) -> Result<(Frac, Option<Rounded>), Fault> {
        self.traced_value(e).map(|(v, r)| (v.to_frac(), r))
    }

    fn int(&mut self, e: &Expr) -> Result<i64, Fault> {
        self.expr(e).map(as_i)
    }

    fn num(&mut self, e: &Expr) -> Result<Frac, Fault> {
        self.expr(e).map(Const::to_frac)
    }

    fn expr(&mut self, e: &Expr) -> Result<Const, Fault> {
        Ok(match e {
            Expr::ConstI(i) => Const::I(*i),
            Expr::ConstN(n) => Const::N(*n),
            Expr::Input(i) => Const::I(self.inputs[i.0 as usize]),
            Expr::Local(l) => self.locals[l.0 as usize],
            Expr::ToNum { arg, den } => Const::N(Frac::new(self.int(arg)? as i128, *den)),
            Expr::RoundInt { arg, mode, site } => Const::I(round_int(self.num(arg)?, *mode, *site)?),
            Expr::RoundTo { arg, quantum, mode, site } => Const::N(round_to(self.num(arg)?, *quantum, *mode, *site)?),
            Expr::Arith { op, repr: Repr::I64, a, b, site } => {
                let (x, y) = (self.int(a)?, self.int(b)?);
                Const::I(int_arith(*op, x, y).map_err(arith(*site))?)
            }
            Expr::Arith { op, repr: Repr::Num, a, b, site } => {
                let (x, y) = (self.num(a)?, self.num(b)?);
                let r = match op {
                    ArithOp::Add => x.add(y),
                    ArithOp::Sub => x.sub(y),
                    ArithOp::Mul => x.mul(y),
                    ArithOp::Div => x.div(y),
                    // The lowering never emits a remainder on fractions.
                    ArithOp::Rem => Err(ArithError::Overflow),
                };
                Const::N(r.map_err(arith(*site))?)
            }
            Expr::Neg { repr: Repr::I64, arg, site } => Const::I(self.int(arg)?.checked_neg().ok_or(fault(*site, FaultKind::Overflow))?),
            Expr::Neg { repr: Repr::Num, arg, site } => Const::N(self.num(arg)?.neg().map_err(arith(*site))?),
            Expr::Cmp { op, repr, a, b, site } => {
                let ord = match repr {
                    Repr::I64 => {
                        let (x, y) = (self.int(a)?, self.int(b)?);
                        x.cmp(&y)
                    }
                    Repr::Num => {
                        let (x, y) = (self.num(a)?, self.num(b)?);
                        x.cmp(y).map_err(arith(*site))?
                    }
                };
                Const::I(cmp_holds(*op, ord) as i64)
            }
            Expr::MinMax { max, repr, a, b, site } => match repr {
                Repr::I64 => {
                    let (x, y) = (self.int(a)?, self.int(b)?);
                    Const::I(if *max {
                        if y > x { y } else { x }
                    } else if y < x {
                        y
                    } else {
                        x
                    })
                }
                Repr::Num => {
                    let (x, y) = (self.num(a)?, self.num(b)?);
                    let r = if *max { x.max(y) } else { x.min(y) };
                    Const::N(r.map_err(arith(*site))?)
                }
            },
            Expr::Not(a) => Const::I((self.int(a)? == 0) as i64),
            Expr::And(a, b) => Const::I((self.int(a)? != 0 && self.int(b)? != 0) as i64),
            Expr::Or(a, b) => Const::I((self.int(a)? != 0 || self.int(b)? != 0) as i64),
            Expr::If { cond, then, els, .. } => {
                if self.int(cond)? != 0 {
                    self.expr(then)?
                } else {
                    self.expr(els)?
                }
            }
            Expr::Call { func, args, site } => {
                let mut v = [0i64; 3];
                for (slot, a) in v.iter_mut().zip(args) {
                    *slot = self.int(a)?;
                }
                let r = call_builtin(*func, &v);
                if r == calendar::INVALID {
                    return Err(fault(*site, FaultKind::InvalidDate));
                }
                Const::I(r)
            }
            Expr::TableGet { table, key, site } => {
                let k = self.int(key)?;
                let t = &self.program.tables[table.0 as usize];
                t.get(k).ok_or(fault(*site, FaultKind::TableMiss))?
            }
            Expr::Block(b) => self.block(b)?,
        })
    }
}

fn round_int(x: Frac, mode: RoundMode, site: SiteId) -> Result<i64, Fault> {
    x.round_to_int(mode).map_err(arith(site))
}

fn round_to(x: Frac, quantum: Frac, mode: RoundMode, site: SiteId) -> Result<Frac, Fault> {
    x.round_to(quantum, mode).map_err(arith(site))
}

/// Checked 64-bit arithmetic; division and remainder round toward negative infinity.
pub fn int_arith(op: ArithOp, x: i64, y: i64) -> Result<i64, ArithError> {
    let r = match op {
        ArithOp::Add => x.checked_add(y),
        ArithOp::Sub => x.checked_sub(y),
        ArithOp::Mul => x.checked_mul(y),
        ArithOp::Div | ArithOp::Rem => {
            if y == 0 {
                return Err(ArithError::DivisionByZero);
            }
            if op == ArithOp::Div {
                x.checked_div_euclid(y).map(|q| floor_fix(q, x, y))
            } else {
                x.checked_rem_euclid(y).map(|r| if y < 0 && r != 0 { r + y } else { r })
            }
        }
    };
    r.ok_or(ArithError::Overflow)
}

/// `div_euclid` rounds toward negative infinity only for positive divisors; adjust for negative.
fn floor_fix(q: i64, x: i64, y: i64) -> i64 {
    if y < 0 && x.rem_euclid(y) != 0 { q - 1 } else { q }
}

pub fn cmp_holds(op: CmpOp, ord: Ordering) -> bool {
    match op {
        CmpOp::Eq => ord == Ordering::Equal,
        CmpOp::Ne => ord != Ordering::Equal,
        CmpOp::Lt => ord == Ordering::Less,
        CmpOp::Le => ord != Ordering::Greater,
        CmpOp::Gt => ord == Ordering::Greater,
        CmpOp::Ge => ord != Ordering::Less,
    }
}

pub fn call_builtin(func: Builtin, v: &[i64; 3]) -> i64 {
    match func {
        Builtin::AgeYears => calendar::pol_age_years(v[0], v[1]),
        Builtin::MonthsBetween => calendar::pol_months_between(v[0], v[1]),
        Builtin::AddMonths => calendar::pol_add_months(v[0], v[1]),
        Builtin::Year => calendar::pol_year(v[0]),
        Builtin::Month => calendar::pol_month(v[0]),
        Builtin::Day => calendar::pol_day(v[0]),
        Builtin::MakeDate => calendar::pol_make_date(v[0], v[1], v[2]),
    }
}

/// The kernel signature of a program: its inputs and outputs as columns.
pub fn signature(program: &Program) -> KernelSignature {
    let read = program.inputs_read();
    KernelSignature {
        program: program.name.clone(),
        inputs: program
            .inputs
            .iter()
            .enumerate()
            .map(|(k, i)| ColumnSpec { name: i.name.clone(), ty: i.ty.clone(), domain: i.domain, is_id: i.is_id, read: i.is_id || read[k] })
            .collect(),
        outputs: program
            .outputs
            .iter()
            .map(|o| ColumnSpec { name: o.name.clone(), ty: o.ty.clone(), domain: None, is_id: false, read: true })
            .collect(),
        aggregates: program.aggregates.clone(),
    }
}

/// The interpreter as a batch kernel: slow, simple, and the oracle for the JIT.
pub struct InterpKernel {
    program: Program,
    signature: KernelSignature,
}

impl InterpKernel {
    pub fn new(program: Program) -> InterpKernel {
        let signature = signature(&program);
        InterpKernel { program, signature }
    }

    pub fn program(&self) -> &Program {
        &self.program
    }
}

/// Describes a row status of any kernel compiled from `program`.
pub fn describe_status(program: &Program, status: RowStatus) -> RowErrorInfo {
    match Fault::from_status(status) {
        Some(f) => RowErrorInfo {
            code: f.kind.code(),
            rule: program.sites.get(f.site.0 as usize).map(|s| s.rule.clone()).unwrap_or_default(),
            message: program.describe_fault(f),
        },
        None => RowErrorInfo { code: "R0000", rule: String::new(), message: "no error".into() },
    }
}

impl Kernel for InterpKernel {
    fn signature(&self) -> &KernelSignature {
        &self.signature
    }

    fn eval_batch(&self, inputs: &[&[i64]], outputs: &mut [&mut [i64]], status: &mut [RowStatus]) {
        let mut row = vec![0i64; inputs.len()];
        for (r, st) in status.iter_mut().enumerate() {
            for (cell, col) in row.iter_mut().zip(inputs) {
                *cell = col[r];
            }
            *st = 0;
            for (o, out) in self.program.outputs.iter().enumerate() {
                match eval_output(&self.program, out, &row) {
                    Ok(v) => outputs[o][r] = as_i(v),
                    Err(f) => {
                        *st = f.status();
                        break;
                    }
                }
            }
        }
    }

    fn describe_error(&self, status: RowStatus) -> RowErrorInfo {
        describe_status(&self.program, status)
    }

    fn engine(&self) -> &'static str {
        "interp"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The half-sum of the 2825.35 example is a half-fen tie: the trace keeps it exact.
    #[test]
    fn a_trace_keeps_the_exact_value_before_rounding() {
        let src = "param C: Money = 7346 yuan\nparam Z: Decimal = 0.8684\nrule half() -> Money {\n  let idx = C * Z\n  (C + idx) / 2\n}\n";
        let f = crate::driver::check_file(crate::span::SourceFile::new("t.pol", src));
        let r = f.module.lookup_rule("half").expect("rule");
        let program = crate::lower::lower_program(&f.module, &f.sources, "t", &[r], None).expect("lowers");
        let out = &program.outputs[0];
        let mut trace = Vec::new();
        let v = trace_output(&program, out, &[], &mut trace);
        assert_eq!(v, eval_output(&program, out, &[]));
        let names: Vec<&str> = trace.iter().map(|e| e.info.name.as_str()).collect();
        assert_eq!(names, ["idx", "half"]);
        let half = &trace[1];
        assert_eq!((half.value, half.info.file.as_str(), half.info.line), (Const::I(686264), "t.pol", 3));
        let rounded = half.rounded.expect("a named Money value is rounded");
        // 6862.635 yuan is 1372527/2 fen.
        assert_eq!(rounded.exact.cmp(Frac::new(1372527, 2)), Ok(Ordering::Equal));
        assert!(rounded.changed && rounded.mode == RoundMode::HalfAwayFromZero);
    }

    #[test]
    fn integer_division_and_remainder_floor() {
        for x in -9i64..=9 {
            for y in [-4i64, -3, -2, -1, 1, 2, 3, 4] {
                let q = int_arith(ArithOp::Div, x, y).unwrap();
                let r = int_arith(ArithOp::Rem, x, y).unwrap();
                assert_eq!(q, (x as f64 / y as f64).floor() as i64, "{x} div {y}");
                assert_eq!(x, q * y + r, "{x} = {q}*{y} + {r}");
            }
        }
        assert_eq!(int_arith(ArithOp::Div, 1, 0), Err(ArithError::DivisionByZero));
        assert_eq!(int_arith(ArithOp::Div, i64::MIN, -1), Err(ArithError::Overflow));
    }
}
