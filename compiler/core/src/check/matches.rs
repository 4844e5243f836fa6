//! Exhaustiveness and reachability of `match` arms, like a DMN decision table with the
//! first-hit policy: the values of the scrutinee's declared domain are split into intervals, each
//! arm takes away what it covers, an arm that finds nothing left is unreachable, and whatever
//! is left at the end is a missing case, shown with an example.

use super::Checker;
use super::consts::fold;
use super::module::*;
use super::types::Ty;
use crate::calendar;
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::exact::{Frac, RoundMode};
use crate::ir::Const;
use crate::syntax::ast::{BinOp, RangeKind};
use std::cmp::Ordering;

#[derive(Clone, Copy, Debug)]
enum Lo {
    NegInf,
    Incl(Frac),
    Excl(Frac),
}

#[derive(Clone, Copy, Debug)]
enum Hi {
    PosInf,
    Incl(Frac),
    Excl(Frac),
}

#[derive(Clone, Copy, Debug)]
struct Iv {
    lo: Lo,
    hi: Hi,
}

fn cmp(a: Frac, b: Frac) -> Ordering {
    a.cmp(b).unwrap_or(Ordering::Equal)
}

impl Iv {
    const ALL: Iv = Iv { lo: Lo::NegInf, hi: Hi::PosInf };

    fn is_empty(&self) -> bool {
        match (self.lo, self.hi) {
            (Lo::NegInf, _) | (_, Hi::PosInf) => false,
            (Lo::Incl(a), Hi::Incl(b)) => cmp(a, b) == Ordering::Greater,
            (Lo::Incl(a), Hi::Excl(b)) | (Lo::Excl(a), Hi::Incl(b)) | (Lo::Excl(a), Hi::Excl(b)) => cmp(a, b) != Ordering::Less,
        }
    }

    /// Integer intervals use inclusive whole bounds only.
    fn integral(self) -> Iv {
        let lo = match self.lo {
            Lo::Incl(x) => Lo::Incl(Frac::int(x.round_to_int(RoundMode::Up).unwrap_or(i64::MAX))),
            Lo::Excl(x) => Lo::Incl(Frac::int(x.round_to_int(RoundMode::Down).unwrap_or(i64::MAX).saturating_add(1))),
            l => l,
        };
        let hi = match self.hi {
            Hi::Incl(x) => Hi::Incl(Frac::int(x.round_to_int(RoundMode::Down).unwrap_or(i64::MIN))),
            Hi::Excl(x) => Hi::Incl(Frac::int(x.round_to_int(RoundMode::Up).unwrap_or(i64::MIN).saturating_sub(1))),
            h => h,
        };
        Iv { lo, hi }
    }
}

fn max_lo(a: Lo, b: Lo) -> Lo {
    match (a, b) {
        (Lo::NegInf, x) | (x, Lo::NegInf) => x,
        (x, y) => {
            let (fx, fy) = (lo_val(x), lo_val(y));
            match cmp(fx, fy) {
                Ordering::Greater => x,
                Ordering::Less => y,
                Ordering::Equal => {
                    if matches!(x, Lo::Excl(_)) {
                        x
                    } else {
                        y
                    }
                }
            }
        }
    }
}

fn min_hi(a: Hi, b: Hi) -> Hi {
    match (a, b) {
        (Hi::PosInf, x) | (x, Hi::PosInf) => x,
        (x, y) => {
            let (fx, fy) = (hi_val(x), hi_val(y));
            match cmp(fx, fy) {
                Ordering::Less => x,
                Ordering::Greater => y,
                Ordering::Equal => {
                    if matches!(x, Hi::Excl(_)) {
                        x
                    } else {
                        y
                    }
                }
            }
        }
    }
}

fn lo_val(l: Lo) -> Frac {
    match l {
        Lo::Incl(x) | Lo::Excl(x) => x,
        Lo::NegInf => Frac::ZERO,
    }
}

fn hi_val(h: Hi) -> Frac {
    match h {
        Hi::Incl(x) | Hi::Excl(x) => x,
        Hi::PosInf => Frac::ZERO,
    }
}

/// A finite union of disjoint intervals.
#[derive(Clone, Debug)]
struct Set {
    ivs: Vec<Iv>,
    integral: bool,
}

impl Set {
    fn norm(&self, iv: Iv) -> Iv {
        if self.integral { iv.integral() } else { iv }
    }

    fn is_empty(&self) -> bool {
        self.ivs.iter().all(Iv::is_empty)
    }

    fn intersects(&self, cut: Iv) -> bool {
        let cut = self.norm(cut);
        self.ivs.iter().any(|iv| !Iv { lo: max_lo(iv.lo, cut.lo), hi: min_hi(iv.hi, cut.hi) }.is_empty())
    }

    fn remove(&mut self, cut: Iv) {
        let cut = self.norm(cut);
        let mut out = Vec::new();
        for iv in &self.ivs {
            let left_hi = match cut.lo {
                Lo::NegInf => None,
                Lo::Incl(x) => Some(Hi::Excl(x)),
                Lo::Excl(x) => Some(Hi::Incl(x)),
            };
            if let Some(h) = left_hi {
                let l = self.norm(Iv { lo: iv.lo, hi: min_hi(iv.hi, h) });
                if !l.is_empty() {
                    out.push(l);
                }
            }
            let right_lo = match cut.hi {
                Hi::PosInf => None,
                Hi::Incl(x) => Some(Lo::Excl(x)),
                Hi::Excl(x) => Some(Lo::Incl(x)),
            };
            if let Some(l) = right_lo {
                let r = self.norm(Iv { lo: max_lo(iv.lo, l), hi: iv.hi });
                if !r.is_empty() {
                    out.push(r);
                }
            }
        }
        self.ivs = out;
    }
}

impl Checker<'_> {
    pub(crate) fn check_match_coverage(&mut self, m: &TExpr) {
        let TKind::Match { scrutinee, arms } = &m.kind else { return };
        let Some(s) = scrutinee else {
            let has_else = arms.iter().any(|a| matches!(a.pattern, TPattern::Else) && a.guard.is_none());
            if !has_else {
                self.error(
                    Diagnostic::new(
                        &codes::NON_EXHAUSTIVE,
                        "a match on conditions needs an `else` arm",
                        m.span,
                        "no arm when every condition is false",
                    )
                    .with_help("add `else => …` as the last arm"),
                );
            }
            return;
        };
        if s.ty.is_error() || arms.iter().any(|a| a.body.ty.is_error() && matches!(a.body.kind, TKind::Error)) {
            return;
        }
        let Some(mut remaining) = self.domain_set(s) else { return };
        for arm in arms {
            let cover: Option<Vec<Iv>> = match &arm.pattern {
                TPattern::Else => Some(vec![Iv::ALL]),
                TPattern::Range(lo, kind, hi) => match (fold(&self.m, lo), fold(&self.m, hi)) {
                    (Some(a), Some(b)) => Some(vec![Iv {
                        lo: Lo::Incl(a.to_frac()),
                        hi: if *kind == RangeKind::Inclusive { Hi::Incl(b.to_frac()) } else { Hi::Excl(b.to_frac()) },
                    }]),
                    _ => None,
                },
                TPattern::Compare(op, v) => fold(&self.m, v).map(|c| {
                    let x = c.to_frac();
                    match op {
                        BinOp::Ge => vec![Iv { lo: Lo::Incl(x), hi: Hi::PosInf }],
                        BinOp::Gt => vec![Iv { lo: Lo::Excl(x), hi: Hi::PosInf }],
                        BinOp::Le => vec![Iv { lo: Lo::NegInf, hi: Hi::Incl(x) }],
                        BinOp::Lt => vec![Iv { lo: Lo::NegInf, hi: Hi::Excl(x) }],
                        BinOp::Ne => vec![Iv { lo: Lo::NegInf, hi: Hi::Excl(x) }, Iv { lo: Lo::Excl(x), hi: Hi::PosInf }],
                        _ => vec![Iv { lo: Lo::Incl(x), hi: Hi::Incl(x) }],
                    }
                }),
                TPattern::Value(v) => fold(&self.m, v).map(|c| {
                    let x = c.to_frac();
                    vec![Iv { lo: Lo::Incl(x), hi: Hi::Incl(x) }]
                }),
            };
            let Some(cover) = cover else { continue };
            let reachable = cover.iter().any(|iv| remaining.intersects(*iv));
            if !reachable {
                let what = if matches!(arm.pattern, TPattern::Else) {
                    "`else` is never chosen: the arms before it cover every value"
                } else {
                    "this arm is never chosen: the arms before it cover all its values"
                };
                self.error(
                    Diagnostic::new(&codes::UNREACHABLE_ARM, "unreachable match arm", arm.span, what)
                        .with_help("arms are tried in order; put narrower cases (e.g. higher thresholds) first, or remove the arm"),
                );
            }
            if arm.guard.is_none() {
                for iv in cover {
                    remaining.remove(iv);
                }
            }
        }
        if !remaining.is_empty() {
            let missing = remaining.ivs.iter().take(3).map(|iv| self.describe_iv(*iv, s.ty)).collect::<Vec<_>>().join(", ");
            self.error(
                Diagnostic::new(&codes::NON_EXHAUSTIVE, format!("match does not cover {missing}"), m.span, "some values choose no arm")
                    .with_label(s.span, format!("values of this are not all covered: {missing}"))
                    .with_help("add arms for the missing values, or an `else` arm"),
            );
        }
    }

    /// The declared domain of a scrutinee as an interval set, when it can be known.
    fn domain_set(&self, s: &TExpr) -> Option<Set> {
        let integral = match s.ty {
            Ty::Int | Ty::Months | Ty::Date | Ty::Bool | Ty::Enum(_) => true,
            Ty::Money(_) => matches!(s.kind, TKind::Local(_) | TKind::Field(..) | TKind::Param(_) | TKind::Call(..) | TKind::SlotCall(..)),
            Ty::Decimal | Ty::Rate => false,
            _ => return None,
        };
        let iv = match s.ty {
            Ty::Bool => Iv { lo: Lo::Incl(Frac::ZERO), hi: Hi::Incl(Frac::ONE) },
            Ty::Enum(e) => Iv { lo: Lo::Incl(Frac::ZERO), hi: Hi::Incl(Frac::int(self.m.enums[e.0 as usize].variants.len() as i64 - 1)) },
            _ => self.expr_range(s).unwrap_or(Iv::ALL),
        };
        let set = Set { ivs: vec![], integral };
        let iv = set.norm(iv);
        Some(Set { ivs: vec![iv], integral })
    }

    /// A few shapes whose range follows from declared field domains.
    fn expr_range(&self, e: &TExpr) -> Option<Iv> {
        let closed = |a: i64, b: i64| Iv { lo: Lo::Incl(Frac::int(a)), hi: Hi::Incl(Frac::int(b)) };
        match &e.kind {
            TKind::Field(base, i) => {
                let Ty::Record(r) = base.ty else { return None };
                let (lo, hi) = self.m.records[r.0 as usize].fields[*i].domain?;
                Some(Iv { lo: Lo::Incl(lo.to_frac()), hi: Hi::Incl(hi.to_frac()) })
            }
            TKind::Builtin(BuiltinFn::Age, args) => {
                let birth = self.expr_range(&args[0])?;
                let at = fold(&self.m, &args[1])?;
                let (Lo::Incl(b0), Hi::Incl(b1), Const::I(at)) = (birth.lo, birth.hi, at) else { return None };
                let (b0, b1) = (b0.to_i64_exact().ok()?, b1.to_i64_exact().ok()?);
                Some(closed(calendar::pol_age_years(b1, at), calendar::pol_age_years(b0, at)))
            }
            TKind::Builtin(BuiltinFn::WholeYears, args) => {
                let m = self.expr_range(&args[0])?;
                let (Lo::Incl(a), Hi::Incl(b)) = (m.lo, m.hi) else { return None };
                Some(closed(a.to_i64_exact().ok()?.div_euclid(12), b.to_i64_exact().ok()?.div_euclid(12)))
            }
            _ => None,
        }
    }

    fn describe_iv(&self, iv: Iv, ty: Ty) -> String {
        let show = |f: Frac| self.show_value(f, ty);
        match (iv.lo, iv.hi) {
            (Lo::Incl(a), Hi::Incl(b)) if cmp(a, b) == Ordering::Equal => show(a),
            (Lo::NegInf, Hi::PosInf) => "any value".into(),
            (Lo::NegInf, Hi::Incl(b)) => format!("values <= {}", show(b)),
            (Lo::NegInf, Hi::Excl(b)) => format!("values < {}", show(b)),
            (Lo::Incl(a), Hi::PosInf) => format!("values >= {}", show(a)),
            (Lo::Excl(a), Hi::PosInf) => format!("values > {}", show(a)),
            (lo, hi) => {
                let l = match lo {
                    Lo::Excl(a) => format!("> {}", show(a)),
                    _ => show(lo_val(lo)),
                };
                let h = match hi {
                    Hi::Excl(b) => format!("..< {}", show(b)),
                    _ => format!("..= {}", show(hi_val(hi))),
                };
                format!("{l} {h}")
            }
        }
    }

    fn show_value(&self, f: Frac, ty: Ty) -> String {
        match ty {
            Ty::Money(_) => format!("{} yuan", f.div(Frac::int(100)).map(|y| y.to_decimal_string(4)).unwrap_or_default()),
            Ty::Date => calendar::format_date(f.to_i64_exact().unwrap_or(0)),
            Ty::Bool => (if f.num == 0 { "false" } else { "true" }).into(),
            Ty::Months => format!("{} months", f.to_decimal_string(2)),
            Ty::Enum(e) => {
                let info = &self.m.enums[e.0 as usize];
                let i = f.to_i64_exact().unwrap_or(0) as usize;
                format!("{}.{}", info.name, info.variants.get(i).cloned().unwrap_or_default())
            }
            Ty::Rate => format!("{}%", f.mul(Frac::int(100)).map(|p| p.to_decimal_string(6)).unwrap_or_default()),
            _ => f.to_decimal_string(6),
        }
    }
}
