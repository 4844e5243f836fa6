//! Compliance of a scheme with its national framework: the structural checks (no local small
//! policies, no redefinitions, every slot and local parameter present, parameters in range,
//! only allowed inputs, matching signatures, framework in force) and the per-record
//! requirement proofs of [`prove`].

mod inputs;
mod population;
pub mod prove;
mod smt;
mod smt_num;
pub mod validity;

pub(crate) use population::check_population;

use crate::check::{FileIdx, FileKind, Module, ParamKind, RuleId, TExpr, TKind};
use crate::codes;
use crate::diagnostic::Diagnostic;
use crate::ir::Const;
use crate::lower::{ClosedVal, Lowerer};
use crate::span::SourceFile;
use crate::syntax::ast::RangeKind;
use std::collections::{BTreeSet, HashMap};

/// Where a framework states a requirement, for notes: "file:line (module), citation".
pub fn framework_ref(m: &Module, sources: &[SourceFile], file: FileIdx, span: crate::span::Span, cite: Option<&String>) -> String {
    let src = sources.get(file.0 as usize);
    let line = src.map(|s| s.line_col(span.start).0).unwrap_or(0);
    let name = src.map(|s| s.name.clone()).unwrap_or_default();
    let module = m.files.get(file.0 as usize).map(|f| f.module_name.clone()).unwrap_or_default();
    let mut s = format!("required by {name}:{line} ({module})");
    if let Some(c) = cite {
        s.push_str(&format!(": {c}"));
    }
    s
}

/// Checks a scheme (the module's main file) against its framework (file 0). Returns the
/// diagnostics in the scheme file.
pub fn check_scheme_compliance(m: &Module, sources: &[SourceFile], budget: &prove::Budget) -> Vec<Diagnostic> {
    let scheme = m.main_file();
    let mut diags = Vec::new();
    let Some(sfile) = m.files.get(scheme.0 as usize) else { return diags };
    let header_span = sfile.header;
    let fw = &m.files[0];

    // The framework version must be in force on the scheme's effective date.
    if let (Some(se), Some(fe)) = (sfile.effective, fw.effective)
        && se < fe
    {
        diags.push(
            Diagnostic::new(
                &codes::FRAMEWORK_NOT_IN_FORCE,
                format!("framework `{}` is not in force on {}", fw.module_name, crate::calendar::format_date(se)),
                header_span,
                format!("the scheme takes effect on {}", crate::calendar::format_date(se)),
            )
            .with_note(format!("{} takes effect on {} ({})", fw.module_name, crate::calendar::format_date(fe), fw.name)),
        );
    }

    // Every slot defined, with the framework's signature.
    for slot in &m.slots {
        let fref = framework_ref(m, sources, slot.loc.file, slot.loc.span, slot.cite.as_ref());
        match m.lookup_rule(&slot.name) {
            // A provincial add-on the scheme does not file.
            None if slot.filed.is_some() => {}
            None => diags.push(
                Diagnostic::new(
                    &codes::MISSING_SLOT,
                    format!("the scheme does not define slot `{}`", slot.name),
                    header_span,
                    "required slot missing",
                )
                .with_note(fref)
                .with_help(format!("define `rule {}(…) -> {}`", slot.name, m.ty_name(slot.ret))),
            ),
            Some(r) => {
                let rule = m.rule(r);
                let want: Vec<_> = slot.params.iter().map(|p| p.ty).collect();
                if !has_slot_signature(m, slot, r) {
                    let show = |tys: &[crate::check::Ty], ret| {
                        format!("({}) -> {}", tys.iter().map(|t| m.ty_name(*t)).collect::<Vec<_>>().join(", "), m.ty_name(ret))
                    };
                    diags.push(
                        Diagnostic::new(
                            &codes::SIGNATURE_MISMATCH,
                            format!("`{}` must have the framework's signature {}", slot.name, show(&want, slot.ret)),
                            rule.head,
                            format!("this is {}", show(&rule.param_types(), rule.ret)),
                        )
                        .with_note(fref),
                    );
                }
            }
        }
    }

    diags.extend(check_filed(m, sources));

    // The dates the scheme can run at: proofs are made at each date a parameter changes.
    let valid = validity::validity(m);
    let dates: Vec<i64> = match &valid {
        Some(v) if v.is_empty() => {
            let (until, param) = v.until.clone().unwrap_or_default();
            diags.push(
                Diagnostic::new(
                    &codes::OUTSIDE_VALIDITY,
                    format!("the scheme takes effect on {}, past the horizon of `{param}`", crate::calendar::format_date(v.from)),
                    header_span,
                    "no date on which this scheme can run",
                )
                .with_note(format!("`{param}` has no value published after {}", crate::calendar::format_date(until)))
                .with_help("implement the framework version in force on the scheme's effective date"),
            );
            Vec::new()
        }
        // A framework not in force on the effective date (C0109 above) has nothing to prove.
        _ if diags.iter().any(|d| d.code == codes::FRAMEWORK_NOT_IN_FORCE.code) => Vec::new(),
        Some(v) => v.dates.clone(),
        None => sfile.effective.into_iter().collect(),
    };

    // Every local parameter set, and in range with its requirements met on every date.
    diags.extend(check_local_params(m, sources, &dates));

    // Rules of the scheme must be slots or helpers that feed them.
    let slot_rules: Vec<RuleId> = m.slots.iter().filter_map(|s| m.lookup_rule(&s.name)).collect();
    let reachable = reachable_rules(m, &slot_rules);
    for (i, r) in m.rules.iter().enumerate() {
        if r.loc.file == scheme && !reachable.contains(&(i as u32)) {
            diags.push(
                Diagnostic::new(
                    &codes::UNKNOWN_RULE,
                    format!("`{}` is not part of framework `{}`", r.name, fw.module_name),
                    r.head,
                    "a benefit item the framework does not define",
                )
                .with_note(format!(
                    "{} defines the slots {}",
                    fw.module_name,
                    m.slots.iter().map(|s| format!("`{}`", s.name)).collect::<Vec<_>>().join(", ")
                ))
                .with_note("不得违规出台地方\"小政策\": a scheme may only implement the framework's slots"),
            );
        }
    }

    // Slots read only the inputs the framework allows.
    diags.extend(inputs::check_inputs(m, sources));

    // Per-record requirements, proven over the declared domain.
    diags.extend(prove::check_requirements(m, sources, budget, &dates));
    diags.extend(prove::check_aggregates_statically(m, sources, budget, &dates));
    diags
}

/// Every local parameter is set by the scheme, and on every date of `dates` the value in force
/// lies in the framework's range and meets its requirements (a value defined through another
/// dated parameter changes when that one does; so do the range and the requirements).
fn check_local_params(m: &Module, sources: &[SourceFile], dates: &[i64]) -> Vec<Diagnostic> {
    let scheme = m.main_file();
    let header_span = m.files[scheme.0 as usize].header;
    let mut diags = Vec::new();
    for p in &m.params {
        if p.kind != ParamKind::Local {
            continue;
        }
        let fref = framework_ref(m, sources, p.loc.file, p.loc.span, p.cite.as_ref());
        if p.values.is_empty() || p.values_file != scheme {
            diags.push(
                Diagnostic::new(
                    &codes::MISSING_SLOT,
                    format!("the scheme does not set local parameter `{}`", p.name),
                    header_span,
                    "required parameter missing",
                )
                .with_note(fref)
                .with_help(format!("add `param {} = …`", p.name)),
            );
            continue;
        }
        let env = HashMap::new();
        for &date in dates {
            let Some(v) = crate::audit::value_in_force(p, Some(date)) else {
                let first = p.values.first().and_then(|v| v.from).map(crate::calendar::format_date).unwrap_or_default();
                diags.push(
                    Diagnostic::new(
                        &codes::BEFORE_FIRST_DATE,
                        format!("`{}` has no value on {}, a date the scheme can run at", p.name, crate::calendar::format_date(date)),
                        p.values[0].value.span,
                        format!("its first value applies from {first}"),
                    )
                    .with_note(fref.clone()),
                );
                break;
            };
            let mut lw = Lowerer::new(m, sources, Some(date));
            lw.set_context(scheme, &p.name);
            let val = match crate::values::eval_let(&mut lw, &v.value, p.ty, &env) {
                Ok(ClosedVal::Scalar(val)) => val,
                Ok(ClosedVal::Record(_)) => break,
                Err((code, message, span)) => {
                    let code = codes::ALL.iter().find(|c| c.code == code).copied().unwrap_or(&codes::INTERNAL);
                    diags.push(
                        Diagnostic::new(code, message, span, format!("evaluating `{}` on {}", p.name, crate::calendar::format_date(date)))
                            .with_note(fref.clone()),
                    );
                    break;
                }
            };
            lw.set_context(p.loc.file, &p.name);
            let mut broken = Vec::new();
            if let Some((lo, kind, hi)) = &p.range {
                let lo_v = crate::values::eval_let(&mut lw, lo, p.ty, &env);
                let hi_v = crate::values::eval_let(&mut lw, hi, p.ty, &env);
                match (lo_v, hi_v) {
                    (Ok(ClosedVal::Scalar(l)), Ok(ClosedVal::Scalar(h))) => {
                        let x = val.to_frac();
                        let below = x.cmp(l.to_frac()).map(|o| o.is_lt()).unwrap_or(true);
                        let above =
                            x.cmp(h.to_frac()).map(|o| if *kind == RangeKind::Inclusive { o.is_gt() } else { o.is_ge() }).unwrap_or(true);
                        if below || above {
                            let op = if *kind == RangeKind::Inclusive { "..=" } else { "..<" };
                            broken.push(format!(
                                "allowed range is {} {op} {}",
                                crate::values::format_value(m, l, p.ty),
                                crate::values::format_value(m, h, p.ty)
                            ));
                        }
                    }
                    _ => broken.push("the framework's range cannot be evaluated on this date".to_string()),
                }
            }
            for req in &p.requires {
                let mut lw2 = Lowerer::new(m, sources, Some(date));
                lw2.set_context(p.loc.file, &p.name);
                let text = sources.get(p.loc.file.0 as usize).map(|s| s.slice(req.span)).unwrap_or("");
                match crate::values::eval_value(&mut lw2, req, &env) {
                    Ok(Const::I(0)) => broken.push(format!("requirement `{text}` is false")),
                    Ok(_) => {}
                    Err((_, why, _)) => broken.push(format!("requirement `{text}` cannot be evaluated: {why}")),
                }
            }
            if !broken.is_empty() {
                let when = crate::calendar::format_date(date);
                diags.push(
                    Diagnostic::new(
                        &codes::PARAM_OUT_OF_RANGE,
                        format!(
                            "`{}` = {} is outside what the framework allows on {when}",
                            p.name,
                            crate::values::format_value(m, val, p.ty)
                        ),
                        v.value.span,
                        broken.join("; "),
                    )
                    .with_note(fref.clone()),
                );
                break;
            }
        }
    }
    diags
}

/// The text of a framework clause (`require …`, `aggregate …`) without its citation, on one line.
pub fn clause_text(sources: &[SourceFile], file: FileIdx, span: crate::span::Span) -> String {
    let full = sources.get(file.0 as usize).map(|s| s.slice(span)).unwrap_or_default();
    full.split_whitespace().take_while(|w| *w != "cite").collect::<Vec<_>>().join(" ")
}

/// The framework's slots with the scheme rule implementing each, for slots whose rule has the
/// framework's signature (a mismatch is reported once, as C0106, and nothing else is checked).
pub fn implemented_slots(m: &Module) -> impl Iterator<Item = (&crate::check::SlotInfo, RuleId)> {
    m.slots.iter().filter_map(|s| m.lookup_rule(&s.name).filter(|r| has_slot_signature(m, s, *r)).map(|r| (s, r)))
}

/// Provincial add-ons: a scheme's rule for a filed slot names the approval document it was
/// filed under (`filed "某人社函〔2024〕12号"`), and only such a rule carries `filed` (C0115).
fn check_filed(m: &Module, sources: &[SourceFile]) -> Vec<Diagnostic> {
    let scheme = m.main_file();
    let mut diags = Vec::new();
    // The documents the framework cites: national, so no province's approval.
    let cites = m.rules.iter().filter(|r| r.loc.file != scheme).filter_map(|r| r.cite.as_ref());
    let cites = cites.chain(m.params.iter().filter(|p| p.loc.file != scheme).filter_map(|p| p.cite.as_ref()));
    let cites = cites.chain(m.slots.iter().filter_map(|s| s.cite.as_ref()));
    let national: BTreeSet<String> = cites.flat_map(|c| document_numbers(c)).collect();
    for r in m.rules.iter().filter(|r| r.loc.file == scheme) {
        let slot = m.slots.iter().find(|s| s.name == r.name);
        let numbers = r.filed.as_deref().map(document_numbers).unwrap_or_default();
        match (slot.filter(|s| s.filed.is_some()), &r.filed) {
            (Some(slot), None) => diags.push(
                Diagnostic::new(
                    &codes::FILED_ADDON,
                    format!("`{}` is a provincial add-on and needs the document it was filed under", r.name),
                    r.head,
                    "add-on without its approval",
                )
                .with_note(framework_ref(m, sources, slot.loc.file, slot.loc.span, slot.cite.as_ref()))
                .with_help(format!("write `rule {}(…) -> … filed \"…〔YEAR〕N号\" = …` with the approval document", r.name)),
            ),
            (Some(_), Some(doc)) if numbers.is_empty() => diags.push(
                Diagnostic::new(
                    &codes::FILED_ADDON,
                    format!("`{doc}` does not name a document"),
                    r.head,
                    "expected a document number such as 人社部函〔2024〕12号",
                )
                .with_help("name the approval document by its number: issuer, 〔year〕, number, 号"),
            ),
            (Some(_), Some(doc)) if numbers.iter().any(|n| national.contains(n)) => diags.push(
                Diagnostic::new(
                    &codes::FILED_ADDON,
                    format!("`{doc}` is a document the framework itself cites, not a province's approval"),
                    r.head,
                    "a national document",
                )
                .with_help("name the approval the province's add-on was filed under"),
            ),
            (None, Some(_)) => diags.push(Diagnostic::new(
                &codes::FILED_ADDON,
                format!("`{}` is not a filed add-on of framework `{}`", r.name, m.files[0].module_name),
                r.head,
                "`filed` marks a rule for a framework's filed slot",
            )),
            _ => {}
        }
    }
    diags
}

/// The document numbers a text names: `issuer〔YYYY〕N号` (or `[YYYY]`), with an issuer of at
/// least two letters right before the bracket and a year from 1949 to 2100.
fn document_numbers(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    for (i, c) in chars.iter().enumerate() {
        let close = match c {
            '〔' => '〕',
            '[' => ']',
            _ => continue,
        };
        let issuer: String = {
            let mut j = i;
            while j > 0 && chars[j - 1].is_alphabetic() {
                j -= 1;
            }
            chars[j..i].iter().collect()
        };
        let year: String = chars[i + 1..].iter().take_while(|d| d.is_ascii_digit()).collect();
        let after_year = i + 1 + year.len();
        if chars.get(after_year) != Some(&close) {
            continue;
        }
        let number: String = chars[after_year + 1..].iter().take_while(|d| d.is_ascii_digit()).collect();
        let end = after_year + 1 + number.len();
        let plausible = year.len() == 4 && year.parse::<u32>().is_ok_and(|y| (1949..=2100).contains(&y));
        if issuer.chars().count() >= 2 && plausible && !number.is_empty() && chars.get(end) == Some(&'号') {
            out.push(chars[i - issuer.chars().count()..=end].iter().collect());
        }
    }
    out
}

/// Every bounded rule with its bounds: each implemented slot with the scheme's rule, then, in a
/// scheme, each locked rule with requirements whose slots are all implemented (a composition
/// with a missing slot cannot be evaluated; the missing slot is reported on its own).
pub fn bounded_rules(m: &Module) -> impl Iterator<Item = (&crate::check::SlotInfo, RuleId)> {
    let scheme = is_scheme(m);
    let locked = m.locked_bounds.iter().filter_map(move |b| {
        let r = m.lookup_rule(&b.name)?;
        (scheme && m.rule(r).locked && fully_linked(m, r)).then_some((b, r))
    });
    implemented_slots(m).chain(locked)
}

/// Whether every slot a rule reaches is linked to a scheme's rule.
fn fully_linked(m: &Module, rule: RuleId) -> bool {
    reachable_rules(m, &[rule]).iter().all(|r| {
        let mut linked = true;
        m.rule(RuleId(*r)).walk_body(&mut |e: &TExpr| linked &= !matches!(e.kind, TKind::SlotCall(..)));
        linked
    })
}

/// Where a bounded rule's diagnostic points in the scheme: the rule itself when the scheme
/// wrote it, else (a framework's locked rule) the first of the scheme's rules it calls, in the
/// order its body calls them, else the scheme's header.
pub fn scheme_anchor(m: &Module, rule: RuleId) -> crate::span::Span {
    let main = m.main_file();
    let mut seen = BTreeSet::new();
    let mut stack = vec![rule];
    while let Some(r) = stack.pop() {
        if !seen.insert(r.0) {
            continue;
        }
        let info = m.rule(r);
        if info.loc.file == main {
            return info.head;
        }
        let mut calls = Vec::new();
        info.walk_body(&mut |e: &TExpr| {
            if let TKind::Call(c, _) = &e.kind {
                calls.push(*c);
            }
        });
        stack.extend(calls.into_iter().rev());
    }
    m.files.get(main.0 as usize).map(|f| f.header).unwrap_or(m.rule(rule).head)
}

/// Whether a rule has a slot's signature: the same parameter types and the same result type
/// (an amount without a period takes the slot's period).
pub fn has_slot_signature(m: &Module, slot: &crate::check::SlotInfo, rule: RuleId) -> bool {
    use crate::check::Ty;
    let info = m.rule(rule);
    let params_ok = info.param_types() == slot.params.iter().map(|p| p.ty).collect::<Vec<_>>();
    let ret_ok = info.ret == slot.ret || (matches!(info.ret, Ty::Money(None)) && matches!(slot.ret, Ty::Money(_)));
    params_ok && ret_ok
}

/// The outputs a run of `entries` must compute: `entries`, then every slot with an aggregate
/// requirement that one of them depends on (directly or through the rules it calls) and that
/// is not among them. Choosing which rules to output never skips a national aggregate: the
/// slot's column is computed, written and its aggregate checked over the run.
pub fn guarded_outputs(m: &Module, entries: &[RuleId]) -> Vec<RuleId> {
    let reachable = reachable_rules(m, entries);
    let mut out = entries.to_vec();
    for (slot, rule) in bounded_rules(m) {
        if !slot.aggregates.is_empty() && reachable.contains(&rule.0) && !out.contains(&rule) {
            out.push(rule);
        }
    }
    out
}

/// Rules reachable by calls from `roots` (roots included).
pub fn reachable_rules(m: &Module, roots: &[RuleId]) -> BTreeSet<u32> {
    let mut seen = BTreeSet::new();
    let mut stack: Vec<RuleId> = roots.to_vec();
    while let Some(r) = stack.pop() {
        if !seen.insert(r.0) {
            continue;
        }
        m.rule(r).walk_body(&mut |e: &TExpr| {
            if let TKind::Call(c, _) = &e.kind {
                stack.push(*c);
            }
        });
    }
    seen
}

/// True when the module's main file is a scheme.
pub fn is_scheme(m: &Module) -> bool {
    matches!(m.files.last().map(|f| &f.kind), Some(FileKind::Scheme { .. }))
}
