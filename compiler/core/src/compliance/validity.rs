//! The dates a scheme can run at — its validity — and the dates its proofs are made at.
//!
//! A scheme runs from its effective date up to the first horizon (`until`) of the parameters
//! it reads: through its slots and every rule they call, the framework's requirements and
//! aggregates, and its local parameters' values, ranges and requirements, following every
//! dated value of every parameter named (a parameter defined through another reads it too).
//! Inside the validity, a lowered program can change only where one of those parameters takes
//! a new value, so proving at the effective date and at each such date proves every date.
//! `pol check` proves at those dates; `pol run`, `pol test` and `pol eval` refuse an as-of date
//! outside the validity.

use crate::audit;
use crate::calendar::format_date;
use crate::check::{Module, ParamKind, RuleId, TExpr};

/// The validity of a scheme.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Validity {
    /// The scheme's effective date.
    pub from: i64,
    /// The last day a scheme can run at, with the parameter whose horizon it is.
    pub until: Option<(i64, String)>,
    /// The dates proofs are made at: `from`, then every later date inside the validity at
    /// which a parameter the scheme reads takes a new value.
    pub dates: Vec<i64>,
}

impl Validity {
    /// Why `as_of` is outside the validity, or `None` when a run may use it.
    pub fn refuses(&self, as_of: i64) -> Option<String> {
        if as_of < self.from {
            return Some(format!(
                "{} is before the scheme takes effect ({}); its requirements are proven only from then on",
                format_date(as_of),
                format_date(self.from)
            ));
        }
        match &self.until {
            Some((until, param)) if as_of > *until => Some(format!(
                "{} is past {}, the horizon of `{param}`, which the scheme reads; no value is published after it",
                format_date(as_of),
                format_date(*until)
            )),
            _ => None,
        }
    }

    /// Whether the scheme can run on any date at all.
    pub fn is_empty(&self) -> bool {
        self.until.as_ref().is_some_and(|(u, _)| *u < self.from)
    }
}

/// The validity of the module's scheme; `None` when the main file is not a scheme with an
/// effective date.
pub fn validity(m: &Module) -> Option<Validity> {
    if !super::is_scheme(m) {
        return None;
    }
    let from = m.files.last()?.effective?;
    let slot_rules: Vec<RuleId> = super::bounded_rules(m).map(|(_, r)| r).collect();
    let mut exprs: Vec<&TExpr> = Vec::new();
    for slot in m.bounds() {
        exprs.extend(slot.requires.iter().map(|r| &r.cond));
        for a in &slot.aggregates {
            exprs.extend([&a.lhs, &a.rhs].into_iter().filter_map(|t| t.factor.as_ref()));
        }
    }
    for p in m.params.iter().filter(|p| p.kind == ParamKind::Local) {
        exprs.extend(p.values.iter().map(|v| &v.value));
        if let Some((lo, _, hi)) = &p.range {
            exprs.extend([lo, hi]);
        }
        exprs.extend(&p.requires);
    }
    let deps = audit::dependencies_on_any_date(m, &slot_rules, &exprs);
    let mut until: Option<(i64, String)> = None;
    for id in &deps.params {
        let p = &m.params[id.0 as usize];
        if let Some(u) = p.until
            && until.as_ref().is_none_or(|(v, _)| u < *v)
        {
            until = Some((u, p.name.clone()));
        }
    }
    // Local parameters are part of what a scheme must get right even when no rule reads them.
    let local = m.params.iter().enumerate().filter(|(_, p)| p.kind == ParamKind::Local).map(|(i, _)| i as u32);
    let read: std::collections::BTreeSet<u32> = deps.params.iter().map(|p| p.0).chain(local).collect();
    let last = until.as_ref().map(|(u, _)| *u);
    let mut dates = vec![from];
    for id in read {
        for v in &m.params[id as usize].values {
            if let Some(d) = v.from
                && d > from
                && last.is_none_or(|u| d <= u)
            {
                dates.push(d);
            }
        }
    }
    dates.sort_unstable();
    dates.dedup();
    Some(Validity { from, until, dates })
}
