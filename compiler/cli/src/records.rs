//! Compiling a checked file to a program, and `pol eval` / `pol trace` on one JSON record: the
//! result, or the audit sheet that explains it line by line.

use crate::load::{Loaded, UsageError, load};
use crate::{EvalArgs, Format};
use pol_core::audit;
use pol_core::check::{FileKind, RuleId, Ty};
use pol_core::compliance::prove::Budget;
use pol_core::diagnostic;
use pol_core::exact::{Frac, RoundMode, format_scaled};
use pol_core::interp;
use pol_core::ir::{Const, Program, ScalarTy};
use pol_core::lower;
use std::fmt::Write;
use std::process::ExitCode;

/// The rules a run evaluates: the named ones, else a scheme's framework outputs (locked rules,
/// then slots, over one record), else every rule of the main file that takes exactly one record.
pub fn entry_rules(loaded: &Loaded, names: &[String]) -> Result<Vec<RuleId>, UsageError> {
    let m = &loaded.module;
    if !names.is_empty() {
        return names.iter().map(|n| m.lookup_rule(n).ok_or_else(|| UsageError(format!("no rule named `{n}`")))).collect();
    }
    if loaded.is_scheme() {
        // The framework's outputs: its locked rules over one record (the national formula's
        // results), then the slots over that record (the province's parts of it). A slot
        // without a record (an amount the same for everyone) is not a column.
        let over_record = |r: RuleId| {
            let info = m.rule(r);
            info.locals.first().map(|l| l.ty).filter(|t| info.params == 1 && matches!(t, Ty::Record(_)))
        };
        let locked = (0..m.rules.len() as u32).map(RuleId).filter(|r| m.rule(*r).locked);
        let slots = m.slots.iter().filter_map(|s| m.lookup_rule(&s.name));
        let rules: Vec<RuleId> = locked.chain(slots).filter(|r| over_record(*r).is_some()).collect();
        let Some(ty) = rules.first().and_then(|r| over_record(*r)) else {
            return Ok(m.slots.iter().filter_map(|s| m.lookup_rule(&s.name)).collect());
        };
        return Ok(rules.into_iter().filter(|r| over_record(*r) == Some(ty)).collect());
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
    compile_rules(loaded, &rules, as_of)
}

/// Lowers `rules` as the outputs of one program, at the as-of date (default: the file's
/// effective date), refusing a date outside a scheme's validity. Errors are returned rendered.
pub fn compile_rules(loaded: &Loaded, rules: &[RuleId], as_of: Option<i64>) -> Result<Program, String> {
    lower_rules(loaded, rules, as_of).map_err(|errs| render_errors(loaded, &errs))
}

/// Diagnostics of [`lower_rules`], rendered.
pub fn render_errors(loaded: &Loaded, errs: &[(usize, diagnostic::Diagnostic)]) -> String {
    errs.iter().filter_map(|(file, d)| Some(diagnostic::render(loaded.sources.get(*file)?, std::slice::from_ref(d)))).collect()
}

/// [`compile_rules`] with its errors as diagnostics, each with the index of its source in
/// `loaded.sources`.
pub fn lower_rules(loaded: &Loaded, rules: &[RuleId], as_of: Option<i64>) -> Result<Program, Vec<(usize, diagnostic::Diagnostic)>> {
    let m = &loaded.module;
    let as_of = as_of.or_else(|| m.files.last().and_then(|f| f.effective));
    if let (Some(v), Some(d)) = (pol_core::compliance::validity::validity(m), as_of)
        && let Some(why) = v.refuses(d)
    {
        let main = m.main_file();
        let header = m.files[main.0 as usize].header;
        let d = diagnostic::Diagnostic::new(
            &pol_core::codes::OUTSIDE_VALIDITY,
            format!("cannot run on {}", pol_core::calendar::format_date(d)),
            header,
            why,
        )
        .with_help("choose an as-of date from the scheme's effective date up to the horizon of what it reads");
        return Err(vec![(main.0 as usize, d)]);
    }
    let name = m.files.last().map(|f| f.module_name.clone()).unwrap_or_default();
    lower::lower_program(m, &loaded.sources, &name, rules, as_of)
        .map_err(|errs| errs.into_iter().map(|e| (e.file.0 as usize, e.diagnostic)).collect())
}

/// Parses a JSON value into the `I64` cell of a column type, exactly (never through a float):
/// serde_json's `arbitrary_precision` keeps a number's text as written.
pub fn parse_cell(v: &serde_json::Value, ty: &ScalarTy) -> Result<i64, String> {
    let text = match v {
        serde_json::Value::String(s) => s.trim().to_string(),
        serde_json::Value::Number(n) => without_exponent(&n.to_string()),
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

/// A JSON number's text with its exponent applied by moving the decimal point (`1.5e3` →
/// `1500`, `25E-2` → `0.25`); text without an exponent, or with one too large to mean an
/// amount, is returned as it is and judged by the caller.
fn without_exponent(text: &str) -> String {
    let Some((mantissa, exp)) = text.split_once(['e', 'E']) else { return text.to_string() };
    let Some(exp) = exp.parse::<i64>().ok().filter(|e| e.abs() <= 40) else { return text.to_string() };
    let (sign, m) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let (int, frac) = m.split_once('.').unwrap_or((m, ""));
    let digits = format!("{int}{frac}");
    // Where the decimal point falls in `digits` once the exponent is applied.
    let point = int.len() as i64 + exp;
    let body = if point <= 0 {
        format!("0.{}{digits}", "0".repeat(point.unsigned_abs() as usize))
    } else if point as usize >= digits.len() {
        format!("{digits}{}", "0".repeat(point as usize - digits.len()))
    } else {
        let (a, b) = digits.split_at(point as usize);
        format!("{a}.{b}")
    };
    format!("{sign}{body}")
}

/// A decimal cell, exactly (the one decimal reader, [`pol_kernel::cell::parse_decimal`]).
pub fn decimal_cell(text: &str, scale: u32) -> Result<i64, String> {
    use pol_kernel::cell::{DecimalParseError, parse_decimal};
    parse_decimal(text, scale).map_err(|e| match e {
        DecimalParseError::Syntax => format!("`{text}` is not a decimal number"),
        DecimalParseError::TooPrecise => format!("`{text}` has more than {scale} decimal places"),
        DecimalParseError::TooLarge => format!("`{text}` is too large"),
    })
}

pub use pol_core::values::{format_cell, format_scalar as format_const};

pub fn eval(a: &EvalArgs, trace: bool) -> Result<ExitCode, UsageError> {
    let loaded = load(&a.file, a.framework.as_deref(), &Budget::default())?;
    if loaded.has_errors() {
        out!("{}", loaded.render());
        return Ok(ExitCode::from(1));
    }
    let m = &loaded.module;
    let as_of = crate::parse_date_arg(a.as_of.as_deref())?.or_else(|| m.files.last().and_then(|f| f.effective));
    let program = match compile(&loaded, std::slice::from_ref(&a.rule), as_of) {
        Ok(p) => p,
        Err(text) => {
            out!("{text}");
            return Ok(ExitCode::from(1));
        }
    };
    let record: serde_json::Value = serde_json::from_str(&a.record).map_err(|e| UsageError(format!("--record is not JSON: {e}")))?;
    let obj = record.as_object().ok_or_else(|| UsageError("--record must be a JSON object".into()))?;
    let cells = read_record(&program, obj)?;
    let out = &program.outputs[0];
    let mut entries = Vec::new();
    let result = if trace { interp::trace_output(&program, out, &cells, &mut entries) } else { interp::eval_output(&program, out, &cells) };
    let outcome = match result {
        Ok(Const::I(cell)) => Ok(format_cell(cell, &out.ty)),
        Ok(Const::N(n)) => Ok(Frac::to_decimal_string(n, 6)),
        Err(f) => Err((f.kind.code(), program.describe_fault(f))),
    };
    let sheet = trace.then(|| Sheet::new(&loaded, &a.rule, &program, &cells, &entries, as_of));
    match a.format {
        Format::Human => {
            if let Some(sheet) = &sheet {
                out!("{}", sheet.render());
            }
            match &outcome {
                Ok(value) => outln!("{} = {value}", out.name),
                Err((code, message)) => outln!("error {code}: {message}"),
            }
        }
        Format::Json => {
            let mut json = serde_json::json!({
                "rule": a.rule,
                "as_of": as_of.map(pol_core::calendar::format_date),
                "result": outcome.as_ref().ok().map(|v| serde_json::json!({ "name": out.name, "value": v })),
                "error": outcome.as_ref().err().map(|(code, message)| serde_json::json!({ "code": code, "message": message })),
            });
            if let (Some(sheet), Some(obj)) = (&sheet, json.as_object_mut()) {
                obj.extend(sheet.to_json());
            }
            outln!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
        }
    }
    Ok(if outcome.is_ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The record's cells in the program's input order, each checked against its domain; every
/// problem is reported at once.
fn read_record(program: &Program, obj: &serde_json::Map<String, serde_json::Value>) -> Result<Vec<i64>, UsageError> {
    let mut cells = Vec::new();
    let mut problems = Vec::new();
    let read = program.inputs_read();
    for (k, input) in program.inputs.iter().enumerate() {
        match obj.get(&input.name) {
            // A field the rule never reads may be left out, as a run's input may lack its
            // column; the cell is a placeholder no evaluation looks at.
            None if !read[k] && !input.is_id => cells.push(input.domain.map_or(0, |(lo, _)| lo)),
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
    if problems.is_empty() { Ok(cells) } else { Err(UsageError(problems.join("; "))) }
}

/// The audit sheet of one evaluation (`pol trace`): the sources, the inputs read, the
/// parameters in force with their dates and citations, the tables consulted, and every named
/// step with its file, line, citation and exact value before rounding. Every value is already
/// rendered, so the human and the JSON form show the same text.
struct Sheet {
    rule: String,
    as_of: Option<i64>,
    /// `(kind, file)`: the framework first for a scheme.
    sources: Vec<(&'static str, String)>,
    inputs: Vec<(String, String)>,
    params: Vec<ParamLine>,
    tables: Vec<TableLine>,
    steps: Vec<StepLine>,
}

struct ParamLine {
    name: String,
    /// The value in force, or why there is none.
    value: Result<String, String>,
    from: Option<i64>,
    file: String,
    line: u32,
    cite: Option<String>,
}

struct TableLine {
    name: String,
    file: String,
    line: u32,
    cite: Option<String>,
}

struct StepLine {
    file: String,
    line: u32,
    rule: String,
    name: String,
    value: String,
    /// The exact value before rounding (or of a fraction that does not terminate).
    exact: Option<String>,
    /// How the value was rounded, when rounding changed it.
    rounded: Option<&'static str>,
    cite: Option<String>,
}

impl Sheet {
    fn new(loaded: &Loaded, rule: &str, program: &Program, cells: &[i64], entries: &[interp::TraceEntry], as_of: Option<i64>) -> Sheet {
        let m = &loaded.module;
        let sources = loaded
            .sources
            .iter()
            .zip(&m.files)
            .map(|(s, f)| {
                let kind = match f.kind {
                    FileKind::Framework { .. } => "framework",
                    FileKind::Scheme { .. } => "scheme",
                    FileKind::Rules => "rules",
                };
                (kind, s.name.clone())
            })
            .collect();
        let inputs = program
            .outputs
            .first()
            .map(|o| audit::inputs_read(&o.body))
            .unwrap_or_default()
            .into_iter()
            .filter_map(|i| {
                let input = program.inputs.get(i.0 as usize)?;
                Some((input.name.clone(), format_cell(*cells.get(i.0 as usize)?, &input.ty)))
            })
            .collect();
        let deps = audit::dependencies(m, &m.lookup_rule(rule).into_iter().collect::<Vec<_>>(), as_of);
        let params = audit::parameters_in_force(m, &loaded.sources, &deps.params, as_of)
            .into_iter()
            .map(|p| ParamLine {
                value: p.value.map(|c| pol_core::testing::format_value(m, c, p.ty)),
                name: p.name,
                from: p.from,
                file: p.file,
                line: p.line,
                cite: p.cite,
            })
            .collect();
        let tables = deps
            .tables
            .iter()
            .map(|t| {
                let info = &m.tables[t.0 as usize];
                let src = loaded.sources.get(info.loc.file.0 as usize);
                TableLine {
                    name: info.name.clone(),
                    file: src.map(|s| s.name.clone()).unwrap_or_default(),
                    line: src.map(|s| s.line_col(info.loc.span.start).0).unwrap_or(0),
                    cite: info.cite.clone(),
                }
            })
            .collect();
        let steps = entries
            .iter()
            .map(|e| {
                let (exact, rounded) = match (e.rounded, e.value) {
                    (Some(r), _) => (Some(exact_text(r.exact, &e.info.ty)), r.changed.then(|| rounding_name(r.mode))),
                    // A Decimal that does not terminate is shown to a few places; say what it is.
                    (None, Const::N(n)) if !terminates(n) => (Some(exact_text(n, &e.info.ty)), None),
                    (None, _) => (None, None),
                };
                StepLine {
                    file: e.info.file.clone(),
                    line: e.info.line,
                    rule: e.info.rule.clone(),
                    name: e.info.name.clone(),
                    value: format_const(m, e.value, &e.info.ty),
                    exact,
                    rounded,
                    cite: e.info.cite.clone(),
                }
            })
            .collect();
        Sheet { rule: rule.to_string(), as_of, sources, inputs, params, tables, steps }
    }

    fn render(&self) -> String {
        let mut out = String::new();
        let date = self.as_of.map(pol_core::calendar::format_date);
        let when = date.as_ref().map(|d| format!("as of {d}")).unwrap_or_else(|| "with no as-of date".into());
        let _ = writeln!(out, "audit sheet of `{}` {when}", self.rule);
        for (kind, file) in &self.sources {
            let _ = writeln!(out, "  {kind:<9}  {file}");
        }
        out.push_str("\ninputs read\n");
        if self.inputs.is_empty() {
            out.push_str("  (none)\n");
        }
        let w = self.inputs.iter().map(|(n, _)| width(n)).max().unwrap_or(0);
        for (name, value) in &self.inputs {
            let _ = writeln!(out, "  {} = {value}", pad(name, w));
        }
        if !self.params.is_empty() {
            let _ =
                writeln!(out, "\nparameters {}", date.as_ref().map(|d| format!("in force on {d}")).unwrap_or_else(|| "(undated)".into()));
            let w = self.params.iter().map(|p| width(&p.name)).max().unwrap_or(0);
            let values: Vec<String> = self.params.iter().map(|p| p.value.clone().unwrap_or_else(|e| format!("no value: {e}"))).collect();
            let vw = values.iter().map(|v| width(v)).max().unwrap_or(0);
            for (p, value) in self.params.iter().zip(&values) {
                let from = p.from.map(|d| format!("from {}", pol_core::calendar::format_date(d))).unwrap_or_else(|| "undated".into());
                let _ =
                    writeln!(out, "  {} = {}  {from:<15}  {}:{}{}", pad(&p.name, w), pad(value, vw), p.file, p.line, cite_text(&p.cite));
            }
        }
        if !self.tables.is_empty() {
            out.push_str("\ntables consulted\n");
            let w = self.tables.iter().map(|t| width(&t.name)).max().unwrap_or(0);
            for t in &self.tables {
                let _ = writeln!(out, "  {}  {}:{}{}", pad(&t.name, w), t.file, t.line, cite_text(&t.cite));
            }
        }
        out.push_str("\nsteps\n");
        let locs: Vec<String> = self.steps.iter().map(|s| format!("{}:{}", s.file, s.line)).collect();
        let lw = locs.iter().map(|l| width(l)).max().unwrap_or(0);
        let nw = self.steps.iter().map(|s| width(&s.name)).max().unwrap_or(0);
        let vw = self.steps.iter().map(|s| width(&s.value)).max().unwrap_or(0);
        for (s, loc) in self.steps.iter().zip(&locs) {
            let note = match (&s.exact, s.rounded) {
                (Some(x), Some(how)) => format!("  (exact {x}, rounded {how})"),
                (Some(x), None) => format!("  (exact {x})"),
                (None, _) => String::new(),
            };
            let value = format!("{}{}", " ".repeat(vw.saturating_sub(width(&s.value))), s.value);
            let _ = writeln!(out, "  {}  {} = {value}{note}  ({}){}", pad(loc, lw), pad(&s.name, nw), s.rule, cite_text(&s.cite));
        }
        out.push('\n');
        out
    }

    /// The sheet's sections as JSON fields, added to the result of `pol eval --format json`.
    fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let date = |d: Option<i64>| d.map(pol_core::calendar::format_date);
        let mut obj = serde_json::Map::new();
        let sources = self.sources.iter().map(|(kind, file)| serde_json::json!({ "kind": kind, "file": file }));
        obj.insert("sources".into(), sources.collect());
        let inputs = self.inputs.iter().map(|(name, value)| serde_json::json!({ "name": name, "value": value }));
        obj.insert("inputs".into(), inputs.collect());
        let params = self.params.iter().map(|p| {
            serde_json::json!({
                "name": p.name,
                "value": p.value.as_ref().ok(),
                "error": p.value.as_ref().err(),
                "from": date(p.from),
                "file": p.file,
                "line": p.line,
                "cite": p.cite,
            })
        });
        obj.insert("parameters".into(), params.collect());
        let tables = self.tables.iter().map(|t| serde_json::json!({ "name": t.name, "file": t.file, "line": t.line, "cite": t.cite }));
        obj.insert("tables".into(), tables.collect());
        let steps = self.steps.iter().map(|s| {
            serde_json::json!({
                "file": s.file,
                "line": s.line,
                "rule": s.rule,
                "name": s.name,
                "value": s.value,
                "exact": s.exact,
                "rounded": s.rounded,
                "cite": s.cite,
            })
        });
        obj.insert("steps".into(), steps.collect());
        obj
    }
}

fn cite_text(cite: &Option<String>) -> String {
    cite.as_ref().map(|c| format!("  [{c}]")).unwrap_or_default()
}

fn rounding_name(mode: RoundMode) -> &'static str {
    match mode {
        RoundMode::HalfAwayFromZero => "half away from zero",
        RoundMode::HalfEven => "half to even",
        RoundMode::Down => "down",
        RoundMode::Up => "up",
        RoundMode::TowardZero => "toward zero",
    }
}

/// The columns a string takes in a terminal: CJK characters and full-width forms take two.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0x303E
            | 0x3041..=0x33FF
            | 0x3400..=0x4DBF
            | 0x4E00..=0x9FFF
            | 0xA000..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6
            | 0x20000..=0x3FFFD => 2,
            _ => 1,
        })
        .sum()
}

fn pad(s: &str, w: usize) -> String {
    format!("{s}{}", " ".repeat(w.saturating_sub(width(s))))
}

fn gcd(a: u128, b: u128) -> u128 {
    if b == 0 { a } else { gcd(b, a % b) }
}

/// `x` in lowest terms (the exact arithmetic never normalises); `None` only for a numerator
/// of −2¹²⁷ that cannot be reduced.
fn reduced(x: Frac) -> Option<(i128, i128)> {
    let g = gcd(x.num.unsigned_abs(), x.den.unsigned_abs()).max(1);
    let g = i128::try_from(g).ok()?;
    Some((x.num / g, x.den / g))
}

/// The power of ten that makes `den` divide it, when `den` has no prime factors but 2 and 5.
fn decimal_places(mut den: i128) -> Option<u32> {
    let (mut twos, mut fives) = (0u32, 0u32);
    while den % 2 == 0 {
        den /= 2;
        twos += 1;
    }
    while den % 5 == 0 {
        den /= 5;
        fives += 1;
    }
    (den == 1).then_some(twos.max(fives))
}

fn terminates(x: Frac) -> bool {
    reduced(x).is_some_and(|(_, den)| decimal_places(den).is_some())
}

/// An exact value in the unit its line shows (Money in yuan, though it is counted in fen):
/// a terminating decimal in full, otherwise the reduced fraction followed by its first ten
/// places. Computed with integers only.
fn exact_text(x: Frac, ty: &ScalarTy) -> String {
    let fallback = || format!("{}/{}", x.num, x.den);
    let x = match ty {
        ScalarTy::Money => match reduced(x).and_then(|(n, d)| d.checked_mul(100).map(|d| Frac::new(n, d))) {
            Some(y) => y,
            None => return format!("{} fen", fallback()),
        },
        _ => x,
    };
    let Some((num, den)) = reduced(x) else { return fallback() };
    if let Some(places) = decimal_places(den) {
        let scaled = 10i128.checked_pow(places).and_then(|p| num.checked_mul(p / den));
        return match scaled {
            Some(s) => format_scaled(s, places),
            None => format!("{num}/{den}"),
        };
    }
    // Ten places, cut toward zero, so the digits shown are the value's own digits.
    let places = 10;
    match num.checked_mul(10i128.pow(places)) {
        Some(n) => format!("{num}/{den} = {}…", format_scaled(n / den, places)),
        None => format!("{num}/{den}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_values_print_as_decimals_when_they_end_and_as_fractions_otherwise() {
        let money = ScalarTy::Money;
        // Money is counted in fen and shown in yuan.
        assert_eq!(exact_text(Frac::new(1372527, 2), &money), "6862.635");
        assert_eq!(exact_text(Frac::new(-1, 2), &money), "-0.005");
        assert_eq!(exact_text(Frac::new(300000, 3), &money), "1000");
        assert_eq!(exact_text(Frac::new(100000, 3), &money), "1000/3 = 333.3333333333…");
        let decimal = ScalarTy::Decimal { scale: 6 };
        assert_eq!(exact_text(Frac::new(-2, 7), &decimal), "-2/7 = -0.2857142857…");
        assert_eq!(exact_text(Frac::new(116, 10000), &decimal), "0.0116");
        assert!(terminates(Frac::new(3, 12)) && !terminates(Frac::new(1, 3)));
    }

    #[test]
    fn an_exponent_moves_the_decimal_point() {
        assert_eq!(without_exponent("1.2345e3"), "1234.5");
        assert_eq!(without_exponent("25E-5"), "0.00025");
        assert_eq!(without_exponent("-1.5e+1"), "-15");
        assert_eq!(without_exponent("7e2"), "700");
        assert_eq!(without_exponent("90071992547409.93"), "90071992547409.93");
        // An exponent too large to be an amount is left for the caller to refuse.
        assert_eq!(without_exponent("1e400"), "1e400");
    }
}
