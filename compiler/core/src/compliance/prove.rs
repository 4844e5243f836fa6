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
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

/// How much work the proofs of one file may do, in deterministic units: boxes of the interval
/// fast path per query, and Z3 resource units (`rlimit`) per query and for the whole file. The
/// same files always get the same answers, whatever the machine's speed or load.
#[derive(Debug)]
pub struct Budget {
    pub max_boxes: usize,
    pub query_rlimit: u32,
    pub file_rlimit: u64,
    /// Units spent; atomic only so that a budget can be lent to the compiler's stack thread.
    spent: AtomicU64,
}

impl Clone for Budget {
    fn clone(&self) -> Self {
        Budget {
            max_boxes: self.max_boxes,
            query_rlimit: self.query_rlimit,
            file_rlimit: self.file_rlimit,
            spent: AtomicU64::new(self.spent()),
        }
    }
}

impl Default for Budget {
    fn default() -> Self {
        Budget::new(64, 20_000_000, 2_000_000_000)
    }
}

impl Budget {
    pub fn new(max_boxes: usize, query_rlimit: u32, file_rlimit: u64) -> Budget {
        Budget { max_boxes, query_rlimit, file_rlimit, spent: AtomicU64::new(0) }
    }

    /// Solver units spent so far.
    pub fn spent(&self) -> u64 {
        self.spent.load(AtomicOrdering::Relaxed)
    }

    /// The limit of the next query, or `None` when the file's budget is spent.
    pub(super) fn next_limit(&self) -> Option<u32> {
        let left = self.file_rlimit.saturating_sub(self.spent());
        (left > 0).then(|| left.min(u64::from(self.query_rlimit)) as u32)
    }

    pub(super) fn spend(&self, units: u64) {
        let _ = self.spent.fetch_update(AtomicOrdering::Relaxed, AtomicOrdering::Relaxed, |s| Some(s.saturating_add(units)));
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

/// The smaller of two bounds; `None` when they cannot be compared in 128 bits (the caller
/// widens: a transfer function that cannot decide never picks a side).
fn fmin(a: Frac, b: Frac) -> Option<Frac> {
    a.cmp(b).ok().map(|o| if o == Ordering::Greater { b } else { a })
}

/// The larger of two bounds; `None` when they cannot be compared.
fn fmax(a: Frac, b: Frac) -> Option<Frac> {
    a.cmp(b).ok().map(|o| if o == Ordering::Less { b } else { a })
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
            let lo = a0.zip(b0).and_then(|(p, q)| fmin(p, q));
            let hi = a1.zip(b1).and_then(|(p, q)| fmax(p, q));
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
            let fold = |f: fn(Frac, Frac) -> Option<Frac>| ps.iter().skip(1).try_fold(ps[0], |acc, p| f(acc, *p));
            return (fold(fmin), fold(fmax));
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
                // `max(a, b)` is below the larger upper bound (unbounded when the two cannot be
                // compared) and above either lower bound (so any one is sound); `min` mirrors it.
                let both = |p: Option<Frac>, q: Option<Frac>, f: fn(Frac, Frac) -> Option<Frac>| p.zip(q).and_then(|(p, q)| f(p, q));
                let either = |p: Option<Frac>, q: Option<Frac>, f: fn(Frac, Frac) -> Option<Frac>| match (p, q) {
                    (Some(p), Some(q)) => f(p, q).or(Some(p)),
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
    Proven,
    /// Records (input cells in `Program::inputs` order) on which the interpreter confirms the
    /// break: one for a per-record requirement, a pair for a two-record one.
    Refuted {
        records: Vec<Vec<i64>>,
    },
    /// Neither proven nor refuted within the budget, or beyond what the solver decides.
    Unknown {
        why: String,
    },
    /// The solver's counter-example is not one for the interpreter: a bug in the encoding,
    /// reported as an internal error and never accepted.
    Internal {
        why: String,
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

/// The initial box: each input's admitted values ([`ScalarTy::admitted`]: its declared domain,
/// or its type's whole range), the same the runtime enforces on every row.
pub fn initial_box(program: &Program) -> Vec<(i128, i128)> {
    program
        .inputs
        .iter()
        .map(|i| {
            let (lo, hi) = i.ty.admitted(i.domain);
            (lo as i128, hi as i128)
        })
        .collect()
}

/// Decides a per-record requirement: output 0 of `program` (a Bool) is true for every input of
/// the declared domain that does not fault. The interval proof runs first (fast, and it finds
/// the obvious counter-examples at the corners); what it leaves open goes to the solver.
pub fn prove(program: &Program, budget: &Budget) -> Verdict {
    match interval_proof(program, budget.max_boxes) {
        Some(v) => v,
        None => super::smt::decide_one(program, budget),
    }
}

/// Decides a two-record requirement: output 0 of `program` (a number) is monotone in input
/// `input` for every two records of the domain equal in every other input.
pub fn prove_monotone(program: &Program, input: usize, nondecreasing: bool, budget: &Budget) -> Verdict {
    let Some(out) = program.outputs.first() else { return Verdict::Proven };
    let mut used = vec![false; program.inputs.len()];
    inputs_used(&Expr::Block(Box::new(out.body.clone())), &mut used);
    if !used.get(input).copied().unwrap_or(false) {
        // The value does not read the input at all: equal for any two such records.
        return Verdict::Proven;
    }
    super::smt::decide_monotone(program, input, nondecreasing, budget)
}

/// Interval abstract interpretation with branch-and-bound over at most `max_boxes` boxes:
/// `Some(Proven)`, `Some(Refuted)` with a corner the interpreter confirms, or `None`.
fn interval_proof(program: &Program, max_boxes: usize) -> Option<Verdict> {
    let Some(out) = program.outputs.first() else { return Some(Verdict::Proven) };
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
        if boxes > max_boxes {
            return None;
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
                return Some(Verdict::Refuted { records: vec![point] });
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
    Some(Verdict::Proven)
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

/// The input column (in `Program::inputs` order) of parameter `param` (a field `field` of it,
/// for a record) of `rule`: record parameters contribute one input per field, in order.
pub fn input_index(m: &Module, rule: crate::check::RuleId, param: usize, field: Option<usize>) -> usize {
    let info = m.rule(rule);
    let width = |ty: Ty| match ty {
        Ty::Record(r) => m.records[r.0 as usize].fields.len(),
        _ => 1,
    };
    let before: usize = info.locals[..param].iter().map(|l| width(l.ty)).sum();
    before + field.unwrap_or(0)
}

/// Verdicts of one requirement, shared between dates whose lowered programs are equal (the
/// program does not depend on the date beyond the parameter values folded into it).
#[derive(Default)]
struct Shared {
    done: Vec<(Program, Verdict)>,
}

impl Shared {
    fn verdict(&mut self, mut program: Program, decide: impl FnOnce(&Program) -> Verdict) -> Verdict {
        program.as_of = 0;
        if let Some((_, v)) = self.done.iter().find(|(p, _)| *p == program) {
            return v.clone();
        }
        let v = decide(&program);
        self.done.push((program, v.clone()));
        v
    }
}

/// The value of `rule` and of every named line of it for each record of `records`, as `pol
/// trace` computes them: `(result, [(line, value)])` per record (the rule lowered once).
fn explain(
    m: &Module,
    sources: &[SourceFile],
    rule: crate::check::RuleId,
    date: i64,
    records: &[Vec<i64>],
) -> Vec<(String, Vec<(String, String)>)> {
    let name = &m.rule(rule).name;
    let lowered = lower::lower_program(m, sources, name, &[rule], Some(date)).ok();
    let Some((p, out)) = lowered.as_ref().and_then(|p| Some((p, p.outputs.first()?))) else {
        return records.iter().map(|_| (String::new(), Vec::new())).collect();
    };
    records
        .iter()
        .map(|cells| {
            let mut trace = Vec::new();
            let value = match interp::trace_output(p, out, cells, &mut trace) {
                // The output cell: Decimal results are scaled to their column's places.
                Ok(Const::I(cell)) => {
                    let exact = match out.ty {
                        ScalarTy::Decimal { scale } => Const::N(Frac::new(cell as i128, 10i128.pow(scale))),
                        _ => Const::I(cell),
                    };
                    crate::values::format_value(m, exact, m.rule(rule).ret)
                }
                Ok(c) => crate::values::format_value(m, c, m.rule(rule).ret),
                Err(f) => format!("no result ({})", f.kind.describe()),
            };
            let lines = trace
                .iter()
                .map(|e| (format!("{} (line {})", e.info.name, e.info.line), crate::values::format_scalar(m, e.value, &e.info.ty)))
                .collect();
            (value, lines)
        })
        .collect()
}

/// At most this many named lines are listed in a counter-example.
const MAX_LINES: usize = 40;

/// The diagnostic of a verdict that rejects the scheme; `None` for a proof.
#[allow(clippy::too_many_arguments)]
fn verdict_diagnostic(
    m: &Module,
    sources: &[SourceFile],
    slot: &crate::check::SlotInfo,
    req: &crate::check::RequirementInfo,
    rule: crate::check::RuleId,
    program: &Program,
    date: i64,
    verdict: Verdict,
) -> Option<Diagnostic> {
    let head = super::scheme_anchor(m, rule);
    let text = super::clause_text(sources, slot.loc.file, req.span);
    let text = text.trim();
    let mut fref = framework_ref(m, sources, slot.loc.file, req.span, req.cite.as_ref().or(slot.cite.as_ref()));
    if m.rule(rule).locked {
        fref.push_str(&format!("; `{}` is the framework's locked rule, computed from this scheme's slots", slot.name));
    }
    let on = calendar::format_date(date);
    let record_name = slot.params.iter().find_map(|p| match p.ty {
        Ty::Record(r) => Some(m.records[r.0 as usize].name.clone()),
        _ => None,
    });
    let literal = |cells: &[i64]| {
        let rec = render_record(program, cells);
        match &record_name {
            Some(n) => format!("{n} {{ {rec} }}"),
            None => rec,
        }
    };
    match verdict {
        Verdict::Proven => None,
        Verdict::Refuted { records } if records.len() == 1 => {
            let (value, lines) = explain(m, sources, rule, date, &records).into_iter().next().unwrap_or_default();
            let mut d = Diagnostic::new(
                &codes::REQUIREMENT_REFUTED,
                format!("`{}` breaks `{text}` on {on}", slot.name),
                head,
                format!("gives {value} for the record below"),
            )
            .with_note(fref)
            .with_note(if program.inputs.is_empty() {
                "the value reads no record: it is the same for every record".to_string()
            } else {
                format!("counter-example: {}", literal(&records[0]))
            });
            if !lines.is_empty() {
                let shown: Vec<String> = lines.iter().take(MAX_LINES).map(|(l, v)| format!("  {l} = {v}")).collect();
                d = d.with_note(format!("how `{}` computes it:\n{}", slot.name, shown.join("\n")));
            }
            Some(d)
        }
        Verdict::Refuted { records } => {
            let mut explained = explain(m, sources, rule, date, &records).into_iter();
            let (va, la) = explained.next().unwrap_or_default();
            let (vb, lb) = explained.next().unwrap_or_default();
            let moved = req.monotone.as_ref().map(|mono| {
                let i = input_index(m, rule, mono.param, mono.field);
                program.inputs.get(i).map(|x| x.name.clone()).unwrap_or_default()
            });
            let moved = moved.unwrap_or_default();
            let mut d = Diagnostic::new(
                &codes::REQUIREMENT_REFUTED,
                format!("`{}` breaks `{text}` on {on}", slot.name),
                head,
                format!("gives {va} for the first record and {vb} for the second, which differ only in `{moved}`"),
            )
            .with_note(fref)
            .with_note(format!("first record:  {}", literal(&records[0])))
            .with_note(format!("second record: {}", literal(&records[1])));
            let rows: Vec<String> = la
                .iter()
                .zip(&lb)
                .take(MAX_LINES)
                .filter(|(a, b)| a.0 == b.0)
                .map(|(a, b)| format!("  {} = {} | {}", a.0, a.1, b.1))
                .collect();
            if !rows.is_empty() {
                d = d.with_note(format!("how `{}` computes them (first | second):\n{}", slot.name, rows.join("\n")));
            }
            Some(d)
        }
        Verdict::Unknown { why } => {
            let help = if why.contains("budget") || why.contains("resource limit") {
                "the proofs need more solver work than a check may spend (counted in deterministic units): split the scheme, or simplify the rule"
            } else {
                "simplify the rule where it multiplies or divides amounts that both depend on the record, or declare narrower input domains"
            };
            Some(
                Diagnostic::new(
                    &codes::REQUIREMENT_UNPROVEN,
                    format!("cannot decide whether `{}` meets `{text}` on {on}", slot.name),
                    head,
                    why,
                )
                .with_note(fref)
                .with_help(help),
            )
        }
        Verdict::Internal { why } => Some(
            Diagnostic::new(&codes::INTERNAL, format!("internal error deciding whether `{}` meets `{text}` on {on}", slot.name), head, why)
                .with_note(fref)
                .with_help("the scheme is not accepted; please report this with the scheme and its framework"),
        ),
    }
}

/// Proves every per-record and two-record requirement of every implemented slot at every date
/// in `dates` (the scheme's proof dates).
pub fn check_requirements(m: &Module, sources: &[SourceFile], budget: &Budget, dates: &[i64]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    for (slot, rule) in super::bounded_rules(m) {
        let head = super::scheme_anchor(m, rule);
        for req in &slot.requires {
            let mut shared = Shared::default();
            for &date in dates {
                let program = match lower_requirement(m, sources, rule, &req.cond, slot.loc.file, Some(date)) {
                    Ok(p) => p,
                    Err(errors) => {
                        // A date the scheme can run at where the slot cannot be evaluated: nothing
                        // can be proven, so nothing is accepted.
                        let text = super::clause_text(sources, slot.loc.file, req.span);
                        let why = errors.first().map(|e| e.diagnostic.message.clone()).unwrap_or_default();
                        diags.push(
                            Diagnostic::new(
                                &codes::REQUIREMENT_UNPROVEN,
                                format!("cannot evaluate `{}` for `{}` on {}", slot.name, text.trim(), calendar::format_date(date)),
                                head,
                                why,
                            )
                            .with_note(framework_ref(m, sources, slot.loc.file, req.span, req.cite.as_ref().or(slot.cite.as_ref())))
                            .with_note("the scheme can run on this date (it is inside its validity), so the requirement must hold then"),
                        );
                        break;
                    }
                };
                let verdict = shared.verdict(program.clone(), |p| match &req.monotone {
                    None => prove(p, budget),
                    Some(mono) => prove_monotone(p, input_index(m, rule, mono.param, mono.field), mono.nondecreasing, budget),
                });
                if let Some(d) = verdict_diagnostic(m, sources, slot, req, rule, &program, date, verdict) {
                    diags.push(d);
                    break;
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
pub fn check_aggregates_statically(m: &Module, sources: &[SourceFile], budget: &Budget, dates: &[i64]) -> Vec<Diagnostic> {
    use crate::check::{TExpr, TKind};
    use crate::syntax::ast::{AggOp, BinOp};
    let mut diags = Vec::new();
    for (slot, rule) in super::bounded_rules(m) {
        let head = super::scheme_anchor(m, rule);
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
            let mut shared = Shared::default();
            for &date in dates {
                // A slot that cannot be lowered on a date is reported by its per-record proofs.
                let Ok(program) = lower_requirement(m, sources, rule, &cond, slot.loc.file, Some(date)) else { continue };
                if let Verdict::Proven = shared.verdict(program, |p| prove(p, budget)) {
                    let text = super::clause_text(sources, slot.loc.file, agg.span);
                    diags.push(
                        Diagnostic::new(
                            &codes::AGGREGATE_BROKEN,
                            format!("`{}` breaks `{text}` for every population on {}", slot.name, calendar::format_date(date)),
                            head,
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
