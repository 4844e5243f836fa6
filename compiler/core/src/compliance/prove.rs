//! Proving per-record requirements over the declared input domain: interval abstract
//! interpretation of the IR with branch-and-bound splitting of the input box.
//!
//! Soundness: every abstract operation over-approximates the values the interpreter can
//! produce without a fault (faulting evaluations produce no result, so they cannot break a
//! requirement). A box whose requirement interval is exactly `{true}` is proven; a box where
//! it may be false is split, and concrete points are tried with the interpreter. A
//! counter-example is reported only after the interpreter confirms it; when the box budget
//! runs out the requirement is reported as unproven. Nothing is ever accepted on a sample.

use super::framework_ref;
use crate::calendar;
use crate::check::{Module, Ty};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::exact::{Frac, RoundMode};
use crate::interp;
use crate::ir::{ArithOp, Builtin, CmpOp, Const, Expr, Program, Repr, ScalarTy};
use crate::lower::{self, lower_requirement};
use crate::span::SourceFile;
use std::cmp::Ordering;

/// How much work a proof may do (boxes examined per requirement and date); deterministic.
#[derive(Clone, Debug)]
pub struct Budget {
    pub max_boxes: usize,
}

impl Default for Budget {
    fn default() -> Self {
        Budget { max_boxes: 20_000 }
    }
}

/// An abstract value: a range of `I64` values or a range of exact fractions (`None` bounds
/// are unbounded).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum AV {
    I(i128, i128),
    N(Option<Frac>, Option<Frac>),
}

const I64_LO: i128 = i64::MIN as i128;
const I64_HI: i128 = i64::MAX as i128;

fn int(lo: i128, hi: i128) -> Option<AV> {
    let (lo, hi) = (lo.max(I64_LO), hi.min(I64_HI));
    (lo <= hi).then_some(AV::I(lo, hi))
}

fn as_num(v: AV) -> (Option<Frac>, Option<Frac>) {
    match v {
        AV::N(a, b) => (a, b),
        AV::I(a, b) => (Some(Frac::new(a, 1)), Some(Frac::new(b, 1))),
    }
}

fn as_int(v: AV) -> (i128, i128) {
    match v {
        AV::I(a, b) => (a, b),
        AV::N(..) => (I64_LO, I64_HI),
    }
}

fn fmin(a: Frac, b: Frac) -> Frac {
    if a.cmp(b).map(|o| o == Ordering::Greater).unwrap_or(false) { b } else { a }
}

fn fmax(a: Frac, b: Frac) -> Frac {
    if a.cmp(b).map(|o| o == Ordering::Less).unwrap_or(false) { b } else { a }
}

fn lt(a: Frac, b: Frac) -> Option<bool> {
    a.cmp(b).ok().map(|o| o == Ordering::Less)
}

fn hull(a: Option<AV>, b: Option<AV>) -> Option<AV> {
    match (a, b) {
        (None, x) | (x, None) => x,
        (Some(AV::I(a0, a1)), Some(AV::I(b0, b1))) => Some(AV::I(a0.min(b0), a1.max(b1))),
        (Some(x), Some(y)) => {
            let ((a0, a1), (b0, b1)) = (as_num(x), as_num(y));
            let lo = match (a0, b0) {
                (Some(p), Some(q)) => Some(fmin(p, q)),
                _ => None,
            };
            let hi = match (a1, b1) {
                (Some(p), Some(q)) => Some(fmax(p, q)),
                _ => None,
            };
            Some(AV::N(lo, hi))
        }
    }
}

/// The bounds of all products of two ranges; unbounded when a bound is infinite or a product
/// overflows (sound: an unbounded side over-approximates).
fn mul_bounds(a: (Option<Frac>, Option<Frac>), b: (Option<Frac>, Option<Frac>)) -> (Option<Frac>, Option<Frac>) {
    let nonneg = |x: (Option<Frac>, Option<Frac>)| x.0.is_some_and(|l| l.num >= 0);
    if let (Some(a0), Some(a1), Some(b0), Some(b1)) = (a.0, a.1, b.0, b.1) {
        let ps = [a0.mul(b0), a0.mul(b1), a1.mul(b0), a1.mul(b1)];
        if ps.iter().all(|p| p.is_ok()) {
            let ps: Vec<Frac> = ps.into_iter().flatten().collect();
            let lo = ps.iter().copied().reduce(fmin);
            let hi = ps.iter().copied().reduce(fmax);
            return (lo, hi);
        }
        return (None, None);
    }
    if nonneg(a) && nonneg(b) {
        let lo = a.0.zip(b.0).and_then(|(x, y)| x.mul(y).ok());
        let hi = a.1.zip(b.1).and_then(|(x, y)| x.mul(y).ok());
        return (lo, hi);
    }
    (None, None)
}

fn round_frac(x: Option<Frac>, quantum: Option<Frac>, mode: RoundMode) -> Option<Frac> {
    let x = x?;
    match quantum {
        Some(q) => x.round_to(q, mode).ok(),
        None => x.round_to_int(mode).ok().map(Frac::int),
    }
}

struct Abs<'a> {
    program: &'a Program,
    inputs: &'a [(i128, i128)],
    locals: Vec<Option<AV>>,
}

impl Abs<'_> {
    fn eval(&mut self, e: &Expr) -> Option<AV> {
        match e {
            Expr::ConstI(i) => Some(AV::I(*i as i128, *i as i128)),
            Expr::ConstN(n) => Some(AV::N(Some(*n), Some(*n))),
            Expr::Input(i) => {
                let (a, b) = self.inputs[i.0 as usize];
                Some(AV::I(a, b))
            }
            Expr::Local(l) => self.locals.get(l.0 as usize).copied().flatten(),
            Expr::ToNum { arg, den } => {
                let (a, b) = as_int(self.eval(arg)?);
                Some(AV::N(Some(Frac::new(a, *den)), Some(Frac::new(b, *den))))
            }
            Expr::RoundInt { arg, mode, .. } => {
                let (a, b) = as_num(self.eval(arg)?);
                let lo = round_frac(a, None, *mode).and_then(|f| f.to_i64_exact().ok()).map(|i| i as i128).unwrap_or(I64_LO);
                let hi = round_frac(b, None, *mode).and_then(|f| f.to_i64_exact().ok()).map(|i| i as i128).unwrap_or(I64_HI);
                int(lo, hi)
            }
            Expr::RoundTo { arg, quantum, mode, .. } => {
                let (a, b) = as_num(self.eval(arg)?);
                Some(AV::N(round_frac(a, Some(*quantum), *mode), round_frac(b, Some(*quantum), *mode)))
            }
            Expr::Arith { op, repr: Repr::I64, a, b, .. } => {
                let (a0, a1) = as_int(self.eval(a)?);
                let (b0, b1) = as_int(self.eval(b)?);
                match op {
                    ArithOp::Add => int(a0 + b0, a1 + b1),
                    ArithOp::Sub => int(a0 - b1, a1 - b0),
                    ArithOp::Mul => {
                        let ps = [a0.saturating_mul(b0), a0.saturating_mul(b1), a1.saturating_mul(b0), a1.saturating_mul(b1)];
                        int(*ps.iter().min()?, *ps.iter().max()?)
                    }
                    ArithOp::Div if b0 == b1 && b0 != 0 => {
                        // Floor division by a constant is monotone: the interpreter's own
                        // division at both ends (bounds are within 64 bits).
                        let fl = |v: i128| crate::interp::int_arith(ArithOp::Div, v as i64, b0 as i64).ok().map(i128::from);
                        match (fl(a0), fl(a1)) {
                            (Some(p), Some(q)) => int(p.min(q), p.max(q)),
                            _ => int(I64_LO, I64_HI),
                        }
                    }
                    ArithOp::Rem if b0 == b1 && b0 > 0 => {
                        if a0 >= 0 && a1 < b0 {
                            int(a0, a1)
                        } else {
                            int(0, b0 - 1)
                        }
                    }
                    ArithOp::Div | ArithOp::Rem => {
                        if b0 == 0 && b1 == 0 {
                            return None;
                        }
                        let m = a0.abs().max(a1.abs()).max(b0.abs()).max(b1.abs());
                        int(-m, m)
                    }
                }
            }
            Expr::Arith { op, repr: Repr::Num, a, b, .. } => {
                let x = as_num(self.eval(a)?);
                let y = as_num(self.eval(b)?);
                let add = |p: Option<Frac>, q: Option<Frac>| p.zip(q).and_then(|(p, q)| p.add(q).ok());
                let sub = |p: Option<Frac>, q: Option<Frac>| p.zip(q).and_then(|(p, q)| p.sub(q).ok());
                let (lo, hi) = match op {
                    ArithOp::Add => (add(x.0, y.0), add(x.1, y.1)),
                    ArithOp::Sub => (sub(x.0, y.1), sub(x.1, y.0)),
                    ArithOp::Mul => mul_bounds(x, y),
                    ArithOp::Div => match (y.0, y.1) {
                        (Some(b0), Some(b1)) if b0.num == 0 && b1.num == 0 => return None,
                        (Some(b0), Some(b1)) if b0.num > 0 || b1.num < 0 => {
                            let inv = (Frac::ONE.div(b1).ok(), Frac::ONE.div(b0).ok());
                            mul_bounds(x, inv)
                        }
                        _ => (None, None),
                    },
                    ArithOp::Rem => (None, None),
                };
                Some(AV::N(lo, hi))
            }
            Expr::Neg { repr, arg, .. } => match (repr, self.eval(arg)?) {
                (Repr::I64, v) => {
                    let (a, b) = as_int(v);
                    int(-b, -a)
                }
                (_, v) => {
                    let (a, b) = as_num(v);
                    Some(AV::N(b.and_then(|x| x.neg().ok()), a.and_then(|x| x.neg().ok())))
                }
            },
            Expr::Cmp { op, a, b, .. } => {
                let (x, y) = (self.eval(a)?, self.eval(b)?);
                let ((a0, a1), (b0, b1)) = (as_num(x), as_num(y));
                // Can a < b, a == b, a > b happen?
                let can_lt = match (a0, b1) {
                    (Some(p), Some(q)) => lt(p, q).unwrap_or(true),
                    _ => true,
                };
                let can_gt = match (b0, a1) {
                    (Some(p), Some(q)) => lt(p, q).unwrap_or(true),
                    _ => true,
                };
                let can_eq = !(matches!((a1, b0), (Some(p), Some(q)) if lt(p, q) == Some(true))
                    || matches!((b1, a0), (Some(p), Some(q)) if lt(p, q) == Some(true)));
                let (t, f) = match op {
                    CmpOp::Lt => (can_lt, can_eq || can_gt),
                    CmpOp::Le => (can_lt || can_eq, can_gt),
                    CmpOp::Gt => (can_gt, can_eq || can_lt),
                    CmpOp::Ge => (can_gt || can_eq, can_lt),
                    CmpOp::Eq => (can_eq, can_lt || can_gt),
                    CmpOp::Ne => (can_lt || can_gt, can_eq),
                };
                bool_av(t, f)
            }
            Expr::MinMax { max, a, b, .. } => {
                let (x, y) = (self.eval(a)?, self.eval(b)?);
                if let (AV::I(a0, a1), AV::I(b0, b1)) = (x, y) {
                    return Some(if *max { AV::I(a0.max(b0), a1.max(b1)) } else { AV::I(a0.min(b0), a1.min(b1)) });
                }
                let ((a0, a1), (b0, b1)) = (as_num(x), as_num(y));
                let both = |p: Option<Frac>, q: Option<Frac>, f: fn(Frac, Frac) -> Frac| p.zip(q).map(|(p, q)| f(p, q));
                let either = |p: Option<Frac>, q: Option<Frac>, f: fn(Frac, Frac) -> Frac| match (p, q) {
                    (Some(p), Some(q)) => Some(f(p, q)),
                    (Some(p), None) | (None, Some(p)) => Some(p),
                    _ => None,
                };
                Some(if *max { AV::N(either(a0, b0, fmax), both(a1, b1, fmax)) } else { AV::N(both(a0, b0, fmin), either(a1, b1, fmin)) })
            }
            Expr::Not(a) => {
                let (x, y) = as_int(self.eval(a)?);
                bool_av(x == 0, y != 0)
            }
            Expr::And(a, b) => {
                let (x0, x1) = as_int(self.eval(a)?);
                if x1 == 0 {
                    return Some(AV::I(0, 0));
                }
                let rhs = self.eval(b);
                if x0 != 0 { rhs } else { hull(Some(AV::I(0, 0)), rhs) }
            }
            Expr::Or(a, b) => {
                let (x0, x1) = as_int(self.eval(a)?);
                if x0 != 0 {
                    return Some(AV::I(1, 1));
                }
                let rhs = self.eval(b);
                if x1 == 0 { rhs } else { hull(Some(AV::I(1, 1)), rhs) }
            }
            Expr::If { cond, then, els, .. } => {
                let (c0, c1) = as_int(self.eval(cond)?);
                let t = if c1 != 0 { self.eval(then) } else { None };
                let f = if c0 == 0 { self.eval(els) } else { None };
                hull(t, f)
            }
            Expr::Call { func, args, .. } => {
                let vs: Vec<(i128, i128)> = args.iter().map(|a| self.eval(a).map(as_int)).collect::<Option<_>>()?;
                let clampd = |v: i128| v.clamp(calendar::MIN_DAY as i128, calendar::MAX_DAY as i128) as i64;
                let ok = |v: i64| v != calendar::INVALID;
                match func {
                    Builtin::AgeYears | Builtin::MonthsBetween => {
                        let f = if *func == Builtin::AgeYears { calendar::pol_age_years } else { calendar::pol_months_between };
                        let lo = f(clampd(vs[0].1), clampd(vs[1].0));
                        let hi = f(clampd(vs[0].0), clampd(vs[1].1));
                        if ok(lo) && ok(hi) { int(lo as i128, hi as i128) } else { int(-120_000, 120_000) }
                    }
                    Builtin::AddMonths => {
                        let m = |v: i128| v.clamp(-120_000, 120_000) as i64;
                        let lo = calendar::pol_add_months(clampd(vs[0].0), m(vs[1].0));
                        let hi = calendar::pol_add_months(clampd(vs[0].1), m(vs[1].1));
                        if ok(lo) && ok(hi) {
                            int(lo as i128, hi as i128)
                        } else {
                            int(calendar::MIN_DAY as i128, calendar::MAX_DAY as i128)
                        }
                    }
                    Builtin::Year => int(calendar::pol_year(clampd(vs[0].0)) as i128, calendar::pol_year(clampd(vs[0].1)) as i128),
                    Builtin::Month => int(1, 12),
                    Builtin::Day => int(1, 31),
                    Builtin::MakeDate => int(calendar::MIN_DAY as i128, calendar::MAX_DAY as i128),
                }
            }
            Expr::TableGet { table, key, .. } => {
                let (k0, k1) = as_int(self.eval(key)?);
                let t = &self.program.tables[table.0 as usize];
                let mut acc = None;
                for (k, v) in t.keys.iter().zip(&t.values) {
                    if (*k as i128) >= k0 && (*k as i128) <= k1 {
                        let av = match v {
                            Const::I(i) => AV::I(*i as i128, *i as i128),
                            Const::N(n) => AV::N(Some(*n), Some(*n)),
                        };
                        acc = hull(acc, Some(av));
                    }
                }
                acc
            }
            Expr::Block(b) => {
                for bind in &b.bindings {
                    let v = self.eval(&bind.value);
                    v?;
                    let i = bind.local.0 as usize;
                    if self.locals.len() <= i {
                        self.locals.resize(i + 1, None);
                    }
                    self.locals[i] = v;
                }
                self.eval(&b.result)
            }
        }
    }
}

fn bool_av(can_true: bool, can_false: bool) -> Option<AV> {
    match (can_true, can_false) {
        (true, true) => Some(AV::I(0, 1)),
        (true, false) => Some(AV::I(1, 1)),
        (false, true) => Some(AV::I(0, 0)),
        (false, false) => None,
    }
}

/// The outcome of a proof.
#[derive(Clone, Debug, PartialEq)]
pub enum Verdict {
    Proven {
        boxes: usize,
    },
    /// Input cells (in `Program::inputs` order) for which the interpreter evaluates the
    /// requirement to false.
    Refuted {
        inputs: Vec<i64>,
    },
    Unproven {
        boxes: usize,
    },
}

fn inputs_used(e: &Expr, used: &mut Vec<bool>) {
    match e {
        Expr::Input(i) => used[i.0 as usize] = true,
        Expr::ConstI(_) | Expr::ConstN(_) | Expr::Local(_) => {}
        Expr::ToNum { arg, .. } | Expr::RoundInt { arg, .. } | Expr::RoundTo { arg, .. } | Expr::Neg { arg, .. } | Expr::Not(arg) => {
            inputs_used(arg, used)
        }
        Expr::Arith { a, b, .. } | Expr::Cmp { a, b, .. } | Expr::MinMax { a, b, .. } | Expr::And(a, b) | Expr::Or(a, b) => {
            inputs_used(a, used);
            inputs_used(b, used);
        }
        Expr::If { cond, then, els, .. } => {
            inputs_used(cond, used);
            inputs_used(then, used);
            inputs_used(els, used);
        }
        Expr::Call { args, .. } => args.iter().for_each(|a| inputs_used(a, used)),
        Expr::TableGet { key, .. } => inputs_used(key, used),
        Expr::Block(b) => {
            b.bindings.iter().for_each(|x| inputs_used(&x.value, used));
            inputs_used(&b.result, used);
        }
    }
}

/// The initial box: each input's declared domain (or its type's full range).
pub fn initial_box(program: &Program) -> Vec<(i128, i128)> {
    program
        .inputs
        .iter()
        .map(|i| match (&i.domain, &i.ty) {
            (Some((a, b)), _) => (*a as i128, *b as i128),
            (None, ScalarTy::Bool) => (0, 1),
            (None, ScalarTy::Enum { variants, .. }) => (0, variants.len() as i128 - 1),
            (None, ScalarTy::Date) => (calendar::MIN_DAY as i128, calendar::MAX_DAY as i128),
            (None, _) => (I64_LO, I64_HI),
        })
        .collect()
}

/// Proves that output 0 of `program` (a Bool) is true for every input in the box, or finds a
/// counter-example the interpreter confirms.
pub fn prove(program: &Program, budget: &Budget) -> Verdict {
    let Some(out) = program.outputs.first() else { return Verdict::Proven { boxes: 0 } };
    let root = initial_box(program);
    // The requirement as one expression, built once for every box.
    let body = Expr::Block(Box::new(out.body.clone()));
    let mut used = vec![false; program.inputs.len()];
    inputs_used(&body, &mut used);
    let violates = |point: &[i64]| matches!(interp::eval_output(program, out, point), Ok(Const::I(0)));
    let mut stack = vec![root.clone()];
    let mut boxes = 0;
    while let Some(bx) = stack.pop() {
        boxes += 1;
        if boxes > budget.max_boxes {
            return Verdict::Unproven { boxes: boxes - 1 };
        }
        let mut abs = Abs { program, inputs: &bx, locals: vec![None; out.locals as usize] };
        let lo = match abs.eval(&body) {
            None => continue,
            Some(v) => as_int(v).0,
        };
        if lo >= 1 {
            continue;
        }
        // Try concrete points: the low corner, the high corner, the middle.
        let corner = |pick: &dyn Fn((i128, i128)) -> i128| bx.iter().map(|r| pick(*r) as i64).collect::<Vec<i64>>();
        for point in [corner(&|r| r.0), corner(&|r| r.1), corner(&|r| r.0 + (r.1 - r.0) / 2)] {
            if violates(&point) {
                return Verdict::Refuted { inputs: point };
            }
        }
        // Split the used input whose range is widest relative to its domain.
        let mut best: Option<usize> = None;
        for i in 0..bx.len() {
            if !used[i] || bx[i].0 == bx[i].1 {
                continue;
            }
            let w = (bx[i].1 - bx[i].0) as u128;
            let wr = (root[i].1 - root[i].0).max(1) as u128;
            best = match best {
                None => Some(i),
                Some(j) => {
                    let wj = (bx[j].1 - bx[j].0) as u128;
                    let wrj = (root[j].1 - root[j].0).max(1) as u128;
                    // w / wr > wj / wrj, compared without division (saturating: heuristic only).
                    if w.saturating_mul(wrj) > wj.saturating_mul(wr) { Some(i) } else { Some(j) }
                }
            };
        }
        let Some(i) = best else { continue };
        let mid = bx[i].0 + (bx[i].1 - bx[i].0) / 2;
        let mut left = bx.clone();
        left[i].1 = mid;
        let mut right = bx;
        right[i].0 = mid + 1;
        stack.push(right);
        stack.push(left);
    }
    Verdict::Proven { boxes }
}

/// The dates at which a scheme's parameters can change: its effective date and every later
/// `from` date.
fn check_dates(m: &Module) -> Vec<i64> {
    let eff = m.files.last().and_then(|f| f.effective);
    let mut dates: Vec<i64> = eff.into_iter().collect();
    for p in &m.params {
        for v in &p.values {
            if let Some(d) = v.from
                && eff.is_none_or(|e| d > e)
            {
                dates.push(d);
            }
        }
    }
    dates.sort_unstable();
    dates.dedup();
    dates
}

/// Renders input cells as a Pol record literal (`Retiree { birth_date: 1950-01-01, … }`).
pub fn render_record(program: &Program, cells: &[i64]) -> String {
    let mut parts = Vec::new();
    for (input, cell) in program.inputs.iter().zip(cells) {
        let v = match &input.ty {
            ScalarTy::Money => format!("{} yuan", crate::exact::format_fen(*cell)),
            ScalarTy::Date => calendar::format_date(*cell),
            ScalarTy::Months => format!("{cell} months"),
            ScalarTy::Bool => (if *cell != 0 { "true" } else { "false" }).to_string(),
            ScalarTy::Decimal { scale } => crate::exact::format_scaled(*cell as i128, *scale),
            ScalarTy::Enum { name, variants } => format!("{name}.{}", variants.get(*cell as usize).cloned().unwrap_or_default()),
            ScalarTy::Int => cell.to_string(),
        };
        parts.push(format!("{}: {v}", input.name));
    }
    parts.join(", ")
}

pub fn check_requirements(m: &Module, sources: &[SourceFile], budget: &Budget) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (slot, rule) in super::implemented_slots(m) {
        let info = m.rule(rule);
        let record_name = slot.params.iter().find_map(|p| match p.ty {
            Ty::Record(r) => Some(m.records[r.0 as usize].name.clone()),
            _ => None,
        });
        for req in &slot.requires {
            let text = super::clause_text(sources, slot.loc.file, req.span);
            let fref = framework_ref(m, sources, slot.loc.file, req.span, req.cite.as_ref().or(slot.cite.as_ref()));
            for date in check_dates(m) {
                let program = match lower_requirement(m, sources, rule, &req.cond, slot.loc.file, Some(date)) {
                    Ok(p) => p,
                    // Before a parameter's first value or past its horizon nothing can run (runs
                    // fail with E0402/E0403 too), so no record can break the requirement then.
                    Err(errors)
                        if errors
                            .iter()
                            .all(|e| [codes::PAST_HORIZON.code, codes::BEFORE_FIRST_DATE.code].contains(&e.diagnostic.code)) =>
                    {
                        continue;
                    }
                    Err(errors) => {
                        // The slot cannot be evaluated on this date (e.g. a parameter has no
                        // value yet): nothing can be proven, so nothing is accepted.
                        let why = errors.first().map(|e| e.diagnostic.message.clone()).unwrap_or_default();
                        diags.push(
                            Diagnostic::new(
                                &codes::REQUIREMENT_UNPROVEN,
                                format!("cannot evaluate `{}` for `{}` on {}", slot.name, text.trim(), calendar::format_date(date)),
                                info.head,
                                why,
                            )
                            .with_note(fref.clone()),
                        );
                        break;
                    }
                };
                let on = calendar::format_date(date);
                match prove(&program, budget) {
                    Verdict::Proven { .. } => {}
                    Verdict::Refuted { inputs } => {
                        let rec = render_record(&program, &inputs);
                        let rec = match &record_name {
                            Some(n) => format!("{n} {{ {rec} }}"),
                            None => rec,
                        };
                        let value = lower::lower_program(m, sources, &slot.name, &[rule], Some(date))
                            .ok()
                            .and_then(|p| {
                                let v = interp::eval_output(&p, &p.outputs[0], &inputs).ok()?;
                                Some(crate::values::format_value(m, v, info.ret).to_string())
                            })
                            .unwrap_or_default();
                        diags.push(
                            Diagnostic::new(
                                &codes::REQUIREMENT_REFUTED,
                                format!("`{}` breaks `{}` on {on}", slot.name, text.trim()),
                                info.head,
                                format!("gives {value} for the record below"),
                            )
                            .with_note(fref.clone())
                            .with_note(format!("counter-example: {rec}")),
                        );
                        break;
                    }
                    Verdict::Unproven { boxes } => {
                        diags.push(
                            Diagnostic::new(
                                &codes::REQUIREMENT_UNPROVEN,
                                format!("cannot prove that `{}` meets `{}` on {on}", slot.name, text.trim()),
                                info.head,
                                format!("the proof gave up after {boxes} boxes without a counter-example"),
                            )
                            .with_note(fref.clone())
                            .with_help("add an explicit floor or cap (`max(…, floor)`, `min(…, cap)`, `clamp`) so the requirement is evident, or declare narrower input domains"),
                        );
                        break;
                    }
                }
            }
        }
    }
    diags
}

/// Aggregate requirements decided for every population at once. For `Σ result op k × Σ field`
/// (or with the sides swapped), if the per-record comparison `result op k × field` is false for
/// every record of the declared domain, then every non-empty population breaks the requirement
/// (a sum of strictly failing terms fails), and the scheme is rejected now with C0111. When the
/// per-record comparison is proven, every population meets the requirement; otherwise the
/// runtime checks it over each run.
pub fn check_aggregates_statically(m: &Module, sources: &[SourceFile], budget: &Budget) -> Vec<Diagnostic> {
    use crate::check::{TExpr, TKind};
    use crate::syntax::ast::{AggOp, BinOp};
    let mut diags = Vec::new();
    for (slot, rule) in super::implemented_slots(m) {
        let info = m.rule(rule);
        for agg in &slot.aggregates {
            let side = |t: &crate::check::AggTermInfo| -> TExpr {
                match &t.factor {
                    Some(f) => TExpr {
                        kind: TKind::Binary(BinOp::Mul, Box::new(f.clone()), Box::new(t.sum_of.clone())),
                        ty: t.sum_of.ty,
                        span: t.sum_of.span,
                    },
                    None => t.sum_of.clone(),
                }
            };
            // The negation of the per-record comparison: it holding everywhere means the
            // aggregate fails for every population.
            let negated = match agg.op {
                AggOp::Le => BinOp::Gt,
                AggOp::Lt => BinOp::Ge,
                AggOp::Ge => BinOp::Lt,
                AggOp::Gt => BinOp::Le,
            };
            let cond =
                TExpr { kind: TKind::Binary(negated, Box::new(side(&agg.lhs)), Box::new(side(&agg.rhs))), ty: Ty::Bool, span: agg.span };
            for date in check_dates(m) {
                let Ok(program) = lower_requirement(m, sources, rule, &cond, slot.loc.file, Some(date)) else { continue };
                if let Verdict::Proven { .. } = prove(&program, budget) {
                    let text = super::clause_text(sources, slot.loc.file, agg.span);
                    diags.push(
                        Diagnostic::new(
                            &codes::AGGREGATE_BROKEN,
                            format!("`{}` breaks `{text}` for every population on {}", slot.name, calendar::format_date(date)),
                            info.head,
                            "every record's value alone exceeds its share of the aggregate limit",
                        )
                        .with_note(framework_ref(m, sources, slot.loc.file, agg.span, agg.cite.as_ref().or(slot.cite.as_ref())))
                        .with_help("lower the amounts so that, at least for some records, the item stays within the national ratio"),
                    );
                    break;
                }
            }
        }
    }
    diags
}
