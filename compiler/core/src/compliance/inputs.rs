//! Which inputs a slot reads, directly or through the helper rules it calls, against the
//! framework's `may use` list (e.g. an adjustment may not be tilted by sex or hukou).

use super::framework_ref;
use crate::check::{Module, RuleId, TExpr, TKind, Ty};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::span::{SourceFile, Span};
use std::collections::{BTreeMap, BTreeSet};

/// A read of a rule parameter: `(parameter index, field index or None for a scalar)`.
type Read = (usize, Option<usize>);

/// The reads of each parameter of a rule, with the first span (in the rule's file) of each.
fn rule_reads(m: &Module, r: RuleId, memo: &mut BTreeMap<u32, BTreeMap<Read, Span>>) -> BTreeMap<Read, Span> {
    if let Some(x) = memo.get(&r.0) {
        return x.clone();
    }
    // Rules are not recursive (the checker rejects cycles), so this terminates.
    memo.insert(r.0, BTreeMap::new());
    let info = m.rule(r);
    // Per local (params first, then lets): the reads of its value, expressed over the
    // parameters, and the record parameters its value may be (a `let s = r`, a branch between
    // records, a record built from one): a field read of the local is a read of that field of
    // each of them.
    let mut scope = Locals { reads: vec![BTreeMap::new(); info.locals.len()], records: vec![BTreeSet::new(); info.locals.len()] };
    for (p, local) in info.locals.iter().take(info.params).enumerate() {
        if matches!(local.ty, Ty::Record(_)) {
            scope.records[p].insert(p);
        } else {
            scope.reads[p].insert((p, None), local.span);
        }
    }
    for l in &info.lets {
        let reads = expr_reads(m, &l.value, &scope, memo);
        let records = scope.records_of(&l.value);
        scope.reads[l.local as usize] = reads;
        scope.records[l.local as usize] = records;
    }
    let mut all = expr_reads(m, &info.result, &scope, memo);
    for l in &info.lets {
        for (k, s) in &scope.reads[l.local as usize] {
            all.entry(*k).or_insert(*s);
        }
    }
    memo.insert(r.0, all.clone());
    all
}

/// What is known of each local of a rule while its reads are collected.
struct Locals {
    reads: Vec<BTreeMap<Read, Span>>,
    records: Vec<BTreeSet<usize>>,
}

impl Locals {
    /// The record parameters an expression's value may be or be built from: every record a
    /// local it mentions may be (an over-approximation, so no read is missed).
    fn records_of(&self, e: &TExpr) -> BTreeSet<usize> {
        let mut out = BTreeSet::new();
        e.walk(&mut |x: &TExpr| {
            if let TKind::Local(l) = x.kind {
                out.extend(self.records.get(l as usize).into_iter().flatten().copied());
            }
        });
        out
    }
}

fn expr_reads(m: &Module, e: &TExpr, scope: &Locals, memo: &mut BTreeMap<u32, BTreeMap<Read, Span>>) -> BTreeMap<Read, Span> {
    let mut out: BTreeMap<Read, Span> = BTreeMap::new();
    let mut calls: Vec<(RuleId, Vec<TExpr>, Span)> = Vec::new();
    e.walk(&mut |x: &TExpr| match &x.kind {
        // A field of a record value: that field of every record parameter the value may be.
        TKind::Field(base, f) => {
            for p in scope.records_of(base) {
                out.entry((p, Some(*f))).or_insert(x.span);
            }
        }
        TKind::Local(l) => {
            for (k, s) in scope.reads.get(*l as usize).into_iter().flatten() {
                out.entry(*k).or_insert(*s);
            }
        }
        TKind::Call(r, args) => calls.push((*r, args.clone(), x.span)),
        _ => {}
    });
    // The walk has collected the reads inside the arguments; a record argument adds the
    // callee's field reads, as reads of every record parameter the argument may be.
    for (r, args, span) in calls {
        let callee = rule_reads(m, r, memo);
        for ((cp, cf), _) in callee {
            let (Some(arg), Some(f)) = (args.get(cp), cf) else { continue };
            if matches!(arg.ty, Ty::Record(_)) {
                for p in scope.records_of(arg) {
                    out.entry((p, Some(f))).or_insert(span);
                }
            }
        }
    }
    out
}

pub fn check_inputs(m: &Module, sources: &[SourceFile]) -> Vec<Diagnostic> {
    let mut diags = Vec::new();
    let mut memo = BTreeMap::new();
    for (slot, r) in super::implemented_slots(m) {
        let reads = rule_reads(m, r, &mut memo);
        for ((p, f), span) in reads {
            // A field the scheme added: only the slots the framework names may read it.
            if let (Some(f), Ty::Record(rec)) = (f, slot.params[p].ty)
                && m.records[rec.0 as usize].fields[f].local
            {
                let rec = &m.records[rec.0 as usize];
                if !rec.local_for.as_ref().is_some_and(|l| l.contains(&slot.name)) {
                    diags.push(local_field_read(m, sources, slot, &slot.params[p].name, rec, f, span));
                }
                continue;
            }
            let Some(allowed) = &slot.may_use else { continue };
            let ok = allowed.iter().any(|(ap, af)| *ap == p && (af.is_none() || *af == f));
            if ok {
                continue;
            }
            let pname = &slot.params[p].name;
            let what = match (f, slot.params[p].ty) {
                (Some(f), Ty::Record(rec)) => format!("{pname}.{}", m.records[rec.0 as usize].fields[f].name),
                _ => pname.clone(),
            };
            let allowed_list = allowed
                .iter()
                .map(|(ap, af)| match (af, slot.params[*ap].ty) {
                    (Some(f), Ty::Record(rec)) => format!("{}.{}", slot.params[*ap].name, m.records[rec.0 as usize].fields[*f].name),
                    _ => slot.params[*ap].name.clone(),
                })
                .collect::<Vec<_>>()
                .join(", ");
            diags.push(
                Diagnostic::new(
                    &codes::FORBIDDEN_INPUT,
                    format!("slot `{}` may not depend on `{what}`", slot.name),
                    span,
                    format!("`{what}` is read here"),
                )
                .with_note(framework_ref(m, sources, slot.loc.file, slot.loc.span, slot.cite.as_ref()))
                .with_note(format!("the framework allows: {allowed_list}")),
            );
        }
    }
    diags
}

/// A slot reading a field the scheme added, where the framework does not let that slot read
/// provinces' fields.
fn local_field_read(
    m: &Module,
    sources: &[SourceFile],
    slot: &crate::check::SlotInfo,
    param: &str,
    rec: &crate::check::RecordInfo,
    field: usize,
    span: Span,
) -> Diagnostic {
    let field = &rec.fields[field].name;
    let readers = rec.local_for.iter().flatten().map(|s| format!("`{s}`")).collect::<Vec<_>>().join(", ");
    Diagnostic::new(
        &codes::FORBIDDEN_INPUT,
        format!("slot `{}` may not depend on the province's field `{param}.{field}`", slot.name),
        span,
        format!("`{param}.{field}` is read here"),
    )
    .with_note(framework_ref(m, sources, slot.loc.file, slot.loc.span, slot.cite.as_ref()))
    .with_note(format!("the framework lets provinces' fields of `{}` be read by {readers}", rec.name))
}
