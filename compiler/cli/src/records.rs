//! Compiling a checked file to a program, and `pol eval` / `pol trace` on one JSON record.

use crate::EvalArgs;
use crate::load::{Loaded, UsageError, load};
use pol_core::check::{Module, RuleId, Ty};
use pol_core::compliance::prove::Budget;
use pol_core::diagnostic;
use pol_core::exact::{Frac, format_fen, format_scaled};
use pol_core::interp;
use pol_core::ir::{Const, Program, ScalarTy};
use pol_core::lower;
use std::process::ExitCode;

/// The rules a run evaluates: the named ones, else a scheme's slots, else every rule of the
/// main file that takes exactly one record.
pub fn entry_rules(loaded: &Loaded, names: &[String]) -> Result<Vec<RuleId>, UsageError> {
    let m = &loaded.module;
    if !names.is_empty() {
        return names.iter().map(|n| m.lookup_rule(n).ok_or_else(|| UsageError(format!("no rule named `{n}`")))).collect();
    }
    if loaded.is_scheme() {
        return Ok(m.slots.iter().filter_map(|s| m.lookup_rule(&s.name)).collect());
    }
    let main = m.main_file();
    let rules: Vec<RuleId> = m
        .rules
        .iter()
        .enumerate()
        .filter(|(_, r)| r.loc.file == main && r.params == 1 && matches!(r.locals[0].ty, Ty::Record(_)))
        .map(|(i, _)| RuleId(i as u32))
        .collect();
    let Some(first) = rules.first() else {
        return Err(UsageError("the file has no rule over a record; name one with --rule".into()));
    };
    let ty = m.rule(*first).locals[0].ty;
    Ok(rules.into_iter().filter(|r| m.rule(*r).locals[0].ty == ty).collect())
}

/// Lowers the entry rules at the as-of date (default: the file's effective date). Errors are
/// returned rendered.
pub fn compile(loaded: &Loaded, names: &[String], as_of: Option<i64>) -> Result<Program, String> {
    let rules = entry_rules(loaded, names).map_err(|e| format!("error: {}\n", e.0))?;
    let m = &loaded.module;
    let as_of = as_of.or_else(|| m.files.last().and_then(|f| f.effective));
    let name = m.files.last().map(|f| f.module_name.clone()).unwrap_or_default();
    lower::lower_program(m, &loaded.sources, &name, &rules, as_of).map_err(|errs| {
        let mut out = String::new();
        for e in errs {
            if let Some(src) = loaded.sources.get(e.file.0 as usize) {
                out.push_str(&diagnostic::render(src, &[e.diagnostic]));
            }
        }
        out
    })
}

/// Parses a JSON value into the `I64` cell of a column type, exactly (never through a float).
pub fn parse_cell(v: &serde_json::Value, ty: &ScalarTy) -> Result<i64, String> {
    let text = match v {
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => b.to_string(),
        other => return Err(format!("unsupported value {other}")),
    };
    match ty {
        ScalarTy::Bool => match text.as_str() {
            "true" => Ok(1),
            "false" => Ok(0),
            _ => Err(format!("`{text}` is not true or false")),
        },
        ScalarTy::Date => pol_core::calendar::parse_date(&text).ok_or_else(|| format!("`{text}` is not a date (YYYY-MM-DD)")),
        ScalarTy::Int | ScalarTy::Months => {
            let t = text.trim_end_matches("months").trim();
            t.parse().map_err(|_| format!("`{text}` is not a whole number"))
        }
        ScalarTy::Money => decimal_cell(text.trim_end_matches("yuan").trim_end_matches('元').trim(), 2),
        ScalarTy::Decimal { scale } => decimal_cell(&text, *scale),
        ScalarTy::Enum { name, variants } => variants
            .iter()
            .position(|v| *v == text)
            .map(|i| i as i64)
            .ok_or_else(|| format!("`{text}` is not a variant of {name} ({})", variants.join(", "))),
    }
}

/// `"3265.4"` at scale 2 → 326540; more places than the scale is an error.
pub fn decimal_cell(text: &str, scale: u32) -> Result<i64, String> {
    let (neg, body) = match text.strip_prefix('-') {
        Some(b) => (true, b),
        None => (false, text),
    };
    let (int_part, frac_part) = body.split_once('.').unwrap_or((body, ""));
    if int_part.is_empty() || !int_part.chars().all(|c| c.is_ascii_digit()) || !frac_part.chars().all(|c| c.is_ascii_digit()) {
        return Err(format!("`{text}` is not a decimal number"));
    }
    if frac_part.len() > scale as usize {
        return Err(format!("`{text}` has more than {scale} decimal places"));
    }
    let digits = format!("{int_part}{frac_part:0<width$}", width = scale as usize);
    let v: i64 = digits.parse().map_err(|_| format!("`{text}` is too large"))?;
    Ok(if neg { -v } else { v })
}

/// Renders an output cell of a column type.
pub fn format_cell(cell: i64, ty: &ScalarTy) -> String {
    match ty {
        ScalarTy::Money => format!("{} yuan", format_fen(cell)),
        ScalarTy::Decimal { scale } => format_scaled(cell as i128, *scale),
        ScalarTy::Date => pol_core::calendar::format_date(cell),
        ScalarTy::Bool => (if cell != 0 { "true" } else { "false" }).into(),
        ScalarTy::Months => format!("{cell} months"),
        ScalarTy::Enum { variants, .. } => variants.get(cell as usize).cloned().unwrap_or_default(),
        ScalarTy::Int => cell.to_string(),
    }
}

fn format_const(m: &Module, c: Const, ty: &ScalarTy) -> String {
    let t = match ty {
        ScalarTy::Money => Ty::Money(None),
        ScalarTy::Decimal { .. } => Ty::Decimal,
        ScalarTy::Date => Ty::Date,
        ScalarTy::Bool => Ty::Bool,
        ScalarTy::Months => Ty::Months,
        ScalarTy::Int | ScalarTy::Enum { .. } => Ty::Int,
    };
    if let (ScalarTy::Enum { variants, .. }, Const::I(i)) = (ty, c) {
        return variants.get(i as usize).cloned().unwrap_or_default();
    }
    pol_core::testing::format_value(m, c, t)
}

pub fn eval(a: &EvalArgs, trace: bool) -> Result<ExitCode, UsageError> {
    let loaded = load(&a.file, a.framework.as_deref(), &Budget::default())?;
    if loaded.has_errors() {
        print!("{}", loaded.render());
        return Ok(ExitCode::from(1));
    }
    let as_of = crate::parse_date_arg(a.as_of.as_deref())?;
    let program = match compile(&loaded, std::slice::from_ref(&a.rule), as_of) {
        Ok(p) => p,
        Err(text) => {
            print!("{text}");
            return Ok(ExitCode::from(1));
        }
    };
    let record: serde_json::Value = serde_json::from_str(&a.record).map_err(|e| UsageError(format!("--record is not JSON: {e}")))?;
    let obj = record.as_object().ok_or_else(|| UsageError("--record must be a JSON object".into()))?;
    let mut cells = Vec::new();
    let mut problems = Vec::new();
    for input in &program.inputs {
        match obj.get(&input.name) {
            None => problems.push(format!("missing field `{}`", input.name)),
            Some(v) => match parse_cell(v, &input.ty) {
                Ok(c) => {
                    if let Some((lo, hi)) = input.domain
                        && (c < lo || c > hi)
                    {
                        problems.push(format!(
                            "`{}` = {} is outside its domain {} ..= {}",
                            input.name,
                            format_cell(c, &input.ty),
                            format_cell(lo, &input.ty),
                            format_cell(hi, &input.ty)
                        ));
                    }
                    cells.push(c);
                }
                Err(e) => problems.push(format!("field `{}`: {e}", input.name)),
            },
        }
    }
    for k in obj.keys() {
        if !program.inputs.iter().any(|i| i.name == *k) {
            problems.push(format!("unknown field `{k}`"));
        }
    }
    if !problems.is_empty() {
        return Err(UsageError(problems.join("; ")));
    }
    let out = &program.outputs[0];
    let mut entries = Vec::new();
    let result = if trace { interp::trace_output(&program, out, &cells, &mut entries) } else { interp::eval_output(&program, out, &cells) };
    let m = &loaded.module;
    for e in &entries {
        let cite = e.info.cite.as_ref().map(|c| format!("  [{c}]")).unwrap_or_default();
        println!("line {:>4}  {:<28} = {:>16}  ({}){cite}", e.info.line, e.info.name, format_const(m, e.value, &e.info.ty), e.info.rule);
    }
    match result {
        Ok(Const::I(cell)) => {
            println!("{} = {}", out.name, format_cell(cell, &out.ty));
            Ok(ExitCode::SUCCESS)
        }
        Ok(Const::N(n)) => {
            println!("{} = {}", out.name, Frac::to_decimal_string(n, 6));
            Ok(ExitCode::SUCCESS)
        }
        Err(f) => {
            println!("error {}: {}", f.kind.code(), program.describe_fault(f));
            Ok(ExitCode::from(1))
        }
    }
}
