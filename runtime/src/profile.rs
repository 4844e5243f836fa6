//! Profiles for `pol gen`: a TOML file that gives each field of a record a distribution, checked
//! against the record's declared domains, then sampled with integer arithmetic only.
//!
//! ```toml
//! record = "Retiree"
//!
//! [fields]
//! monthly_pension = { lognormal = { median = "3800.00", sigma = "0.45", min = "1000", max = "40000" } }
//! contribution = { normal = { mean = 360, sd = 84, min = 180, max = 540 } }
//! hardship_class = { shares = { "0" = "0.9", "1" = "0.06", "2" = "0.03", "3" = "0.01" } }
//! birth_date = { age = { at = "2024-01-01", mean = 70, sd = 8, min = 50, max = 100 } }
//! local_average_pension = { constant = "3800.00" }
//! sex = { uniform = {} }
//! ```
//!
//! Values (bounds, medians, constants, share keys) are written as the CSV reader reads a cell of
//! the field's type; a TOML number becomes its shortest round-trip decimal text first, so
//! `0.45` is exactly 0.45. Every non-key field must be listed, no key field may be, and every
//! value must lie inside the field's declared domain. The format is documented in
//! `docs/profiles.md`.
//!
//! Sampling is a pure function of the cell's random word (itself a function of seed, column and
//! row): normal variates are Irwin–Hall sums of twelve 32-bit uniforms in fixed point, the
//! exponential of the log-normal is an `i128` series with range reduction, and every result is
//! rounded to a whole cell (fen, month, day) with integer arithmetic, so files are the same on
//! every machine.

use std::collections::{BTreeMap, BTreeSet};

use pol_kernel::{ColumnSpec, ColumnType};

use crate::error::RuntimeError;
use crate::generate::{type_range, value_range};
use crate::value::{DecimalParseError, parse_date, parse_decimal, scale_of};
use crate::value::{civil_from_days, format_date, format_domain, format_value};

mod sample;

pub(crate) use sample::Sampler;
use sample::{MOMENT_ONE, ONE_Q60, SHARE_ONE, birth_dates, div_round};

/// The distribution names a field may take, as written in a profile.
const KINDS: [&str; 6] = ["uniform", "normal", "lognormal", "shares", "age", "constant"];

/// Means and standard deviations are read with this many decimal places beyond the field's own
/// (micro-cells), so `mean = 2.5` works for an Int field.
const MOMENT_EXTRA_DIGITS: u32 = 6;

/// Shares are exact decimals with up to 18 places; they must sum to exactly 1.
const SHARE_DIGITS: u32 = 18;

/// `sigma` of a log-normal is read with up to 9 decimal places and must lie in `(0, 5]`, which
/// keeps `sigma × z` (|z| ≤ 6) well inside the fixed-point exponential's range.
const SIGMA_DIGITS: u32 = 9;
const SIGMA_ONE: i64 = 1_000_000_000;
const SIGMA_MAX: i64 = 5 * SIGMA_ONE;

/// The default age bounds of an `age` distribution never go beyond this many years.
const MAX_DEFAULT_AGE: i64 = 150;

/// A profile as read from its file, not yet checked against a record.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Profile {
    record: Option<String>,
    fields: BTreeMap<String, Distribution>,
}

/// A distribution as written: its kind and its parameters as text, read in the field's type only
/// once the record is known.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Distribution {
    Uniform { min: Option<String>, max: Option<String> },
    Normal { mean: String, sd: String, min: Option<String>, max: Option<String> },
    LogNormal { median: String, sigma: String, min: Option<String>, max: Option<String> },
    Shares(Vec<(String, String)>),
    Age { at: String, mean: String, sd: String, min: Option<String>, max: Option<String> },
    Constant(String),
}

impl Profile {
    /// Reads a profile from its TOML text. Checks the file's shape (each field names one known
    /// distribution with known parameters); [`Profile::check`] checks the values against a
    /// record.
    pub fn parse(text: &str) -> Result<Profile, RuntimeError> {
        let table: toml::Table = toml::from_str(text).map_err(|e| RuntimeError::invalid(format!("not a valid profile: {e}")))?;
        let mut problems = Vec::new();
        let mut record = None;
        let mut fields = BTreeMap::new();
        let mut saw_fields = false;
        for (key, value) in &table {
            match (key.as_str(), value) {
                ("record", toml::Value::String(name)) => record = Some(name.clone()),
                ("record", _) => problems.push("`record` must be a string naming the record type".into()),
                ("fields", toml::Value::Table(entries)) => {
                    saw_fields = true;
                    for (name, value) in entries {
                        match parse_distribution(value) {
                            Ok(d) => {
                                fields.insert(name.clone(), d);
                            }
                            Err(why) => problems.push(format!("field `{name}`: {why}")),
                        }
                    }
                }
                ("fields", _) => problems.push("`fields` must be a table of fields".into()),
                (other, _) => problems.push(format!("unknown key `{other}` (a profile has `record` and a `[fields]` table)")),
            }
        }
        if !saw_fields && problems.is_empty() {
            problems.push("no `[fields]` table".into());
        }
        if !problems.is_empty() {
            return Err(problems_error("malformed profile", problems));
        }
        Ok(Profile { record, fields })
    }

    /// The record type the profile says it is for, if it says.
    pub fn record(&self) -> Option<&str> {
        self.record.as_deref()
    }

    /// Checks the profile against the columns of a record, as [`crate::generate_with_profile`]
    /// does before it creates its output: `Ok` when every value fits, else one error listing
    /// every problem.
    pub fn check(&self, inputs: &[ColumnSpec]) -> Result<(), RuntimeError> {
        self.samplers(inputs).map(|_| ())
    }

    /// One sampler per column of `inputs` (`None` for id columns), or one error listing every
    /// problem: unknown fields, key fields given a distribution, non-key fields left out, and
    /// values that cannot be read in the field's type or lie outside its declared domain.
    pub(crate) fn samplers(&self, inputs: &[ColumnSpec]) -> Result<Vec<Option<Sampler>>, RuntimeError> {
        let mut problems = Vec::new();
        let known: BTreeSet<&str> = inputs.iter().map(|s| s.name.as_str()).collect();
        for name in self.fields.keys().filter(|n| !known.contains(n.as_str())) {
            problems.push(format!("unknown field `{name}`"));
        }
        let missing: Vec<String> =
            inputs.iter().filter(|s| !s.is_id && !self.fields.contains_key(&s.name)).map(|s| format!("`{}`", s.name)).collect();
        if !missing.is_empty() {
            problems.push(format!("no distribution for {} (write `uniform = {{}}` for a uniform field)", missing.join(", ")));
        }
        let mut samplers = Vec::with_capacity(inputs.len());
        for spec in inputs {
            match (spec.is_id, self.fields.get(&spec.name)) {
                (true, Some(_)) => problems.push(format!("field `{}`: a key takes consecutive ids and no distribution", spec.name)),
                (_, None) => {}
                (false, Some(dist)) => match resolve(spec, dist) {
                    Ok(sampler) => {
                        samplers.push(Some(sampler));
                        continue;
                    }
                    Err(why) => problems.push(format!("field `{}`: {why}", spec.name)),
                },
            }
            samplers.push(None);
        }
        if !problems.is_empty() {
            return Err(problems_error("profile does not fit the record", problems));
        }
        Ok(samplers)
    }
}

fn problems_error(what: &str, problems: Vec<String>) -> RuntimeError {
    let mut message = format!("{what}:");
    for p in problems {
        message.push_str("\n  - ");
        message.push_str(&p);
    }
    RuntimeError::invalid(message)
}

/// The text of a TOML scalar: strings as written, numbers through their shortest round-trip
/// decimal text (never through float arithmetic), booleans and dates as TOML writes them.
fn scalar_text(value: &toml::Value) -> Result<String, String> {
    match value {
        toml::Value::String(s) => Ok(s.clone()),
        toml::Value::Integer(i) => Ok(i.to_string()),
        // `Display` of an `f64` is the shortest text that reads back as the same float, without
        // an exponent: 0.45 is "0.45", 1e21 is "1000000000000000000000".
        toml::Value::Float(f) if f.is_finite() => Ok(format!("{f}")),
        toml::Value::Float(f) => Err(format!("`{f}` is not a number")),
        toml::Value::Boolean(b) => Ok(b.to_string()),
        toml::Value::Datetime(d) => Ok(d.to_string()),
        toml::Value::Array(_) => Err("expected a value, found an array".into()),
        toml::Value::Table(_) => Err("expected a value, found a table".into()),
    }
}

/// The parameters of a distribution, checked against the ones it takes.
fn parameters(kind: &str, value: &toml::Value, required: &[&str], optional: &[&str]) -> Result<BTreeMap<String, String>, String> {
    let toml::Value::Table(table) = value else {
        return Err(format!("`{kind}` takes a table of parameters ({})", required.join(", ")));
    };
    let mut out = BTreeMap::new();
    for (key, v) in table {
        if !required.contains(&key.as_str()) && !optional.contains(&key.as_str()) {
            let all: Vec<&str> = required.iter().chain(optional).copied().collect();
            return Err(format!("`{kind}` has no parameter `{key}` (it takes {})", all.join(", ")));
        }
        out.insert(key.clone(), scalar_text(v).map_err(|why| format!("`{kind}.{key}`: {why}"))?);
    }
    let absent: Vec<&str> = required.iter().copied().filter(|k| !out.contains_key(*k)).collect();
    if !absent.is_empty() {
        return Err(format!("`{kind}` needs {}", absent.join(", ")));
    }
    Ok(out)
}

fn parse_distribution(value: &toml::Value) -> Result<Distribution, String> {
    let expected = || format!("expected a table with one of {}", KINDS.join(", "));
    let toml::Value::Table(table) = value else { return Err(expected()) };
    let mut entries = table.iter();
    let (Some((kind, body)), None) = (entries.next(), entries.next()) else {
        return Err(format!("{}; found {} keys", expected(), table.len()));
    };
    let take = |p: &mut BTreeMap<String, String>, k: &str| p.remove(k).unwrap_or_default();
    Ok(match kind.as_str() {
        "uniform" => {
            let mut p = parameters(kind, body, &[], &["min", "max"])?;
            Distribution::Uniform { min: p.remove("min"), max: p.remove("max") }
        }
        "normal" => {
            let mut p = parameters(kind, body, &["mean", "sd"], &["min", "max"])?;
            Distribution::Normal { mean: take(&mut p, "mean"), sd: take(&mut p, "sd"), min: p.remove("min"), max: p.remove("max") }
        }
        "lognormal" => {
            let mut p = parameters(kind, body, &["median", "sigma"], &["min", "max"])?;
            Distribution::LogNormal {
                median: take(&mut p, "median"),
                sigma: take(&mut p, "sigma"),
                min: p.remove("min"),
                max: p.remove("max"),
            }
        }
        "age" => {
            let mut p = parameters(kind, body, &["at", "mean", "sd"], &["min", "max"])?;
            Distribution::Age {
                at: take(&mut p, "at"),
                mean: take(&mut p, "mean"),
                sd: take(&mut p, "sd"),
                min: p.remove("min"),
                max: p.remove("max"),
            }
        }
        "shares" => {
            let toml::Value::Table(shares) = body else {
                return Err("`shares` takes a table of value = share".into());
            };
            if shares.is_empty() {
                return Err("`shares` lists no value".into());
            }
            let mut out = Vec::with_capacity(shares.len());
            for (key, share) in shares {
                let share = scalar_text(share).map_err(|why| format!("share of `{key}`: {why}"))?;
                out.push((key.clone(), share));
            }
            Distribution::Shares(out)
        }
        "constant" => Distribution::Constant(scalar_text(body).map_err(|why| format!("`constant`: {why}"))?),
        other => return Err(format!("unknown distribution `{other}` ({})", expected())),
    })
}

/// The declared domain of a column narrowed to what its type holds; the whole type when it
/// declares none. Every value in a profile must lie inside it.
fn declared_range(spec: &ColumnSpec) -> (i64, i64) {
    let (lo, hi) = type_range(&spec.ty);
    match spec.domain {
        Some((dlo, dhi)) => (dlo.max(lo), dhi.min(hi)),
        None => (lo, hi),
    }
}

/// Reads a value of the field's type, as the CSV reader reads a cell.
fn read_cell(ty: &ColumnType, text: &str) -> Result<i64, String> {
    let text = text.trim_ascii();
    let bad = |what: &str| format!("`{text}` is not {what}");
    match ty {
        ColumnType::Int | ColumnType::Months => text.parse::<i64>().map_err(|_| bad("a whole number")),
        ColumnType::Bool if text.eq_ignore_ascii_case("true") => Ok(1),
        ColumnType::Bool if text.eq_ignore_ascii_case("false") => Ok(0),
        ColumnType::Bool => Err(bad("true or false")),
        ColumnType::Date => parse_date(text).ok_or_else(|| bad("a date (YYYY-MM-DD)")),
        ColumnType::Money | ColumnType::Decimal { .. } => read_decimal(text, scale_of(ty)),
        ColumnType::Enum { name, variants } => match variants.iter().position(|v| v == text) {
            Some(i) => Ok(i as i64),
            None => Err(format!("`{text}` is not a variant of enum {name} ({})", variants.join(", "))),
        },
    }
}

fn read_decimal(text: &str, scale: u32) -> Result<i64, String> {
    parse_decimal(text.trim_ascii(), scale).map_err(|e| match e {
        DecimalParseError::Syntax => format!("`{text}` is not a decimal number"),
        DecimalParseError::TooPrecise => format!("`{text}` has more than {scale} decimal places"),
        DecimalParseError::TooLarge => format!("`{text}` is too large"),
    })
}

/// The values of one field's parameters, read against its column.
struct FieldReader<'a> {
    spec: &'a ColumnSpec,
    declared: (i64, i64),
}

impl FieldReader<'_> {
    /// A value of the field: in its type, inside its declared domain.
    fn value(&self, what: &str, text: &str) -> Result<i64, String> {
        let v = read_cell(&self.spec.ty, text).map_err(|why| format!("{what}: {why}"))?;
        if v < self.declared.0 || v > self.declared.1 {
            return Err(format!(
                "{what} {} is outside the declared domain {}",
                format_value(&self.spec.ty, v),
                format_domain(&self.spec.ty, self.declared)
            ));
        }
        Ok(v)
    }

    /// `min` and `max`, each defaulting to `default`, with `min <= max`.
    fn bounds(&self, min: &Option<String>, max: &Option<String>, default: (i64, i64)) -> Result<(i64, i64), String> {
        let lo = min.as_deref().map(|t| self.value("min", t)).transpose()?.unwrap_or(default.0);
        let hi = max.as_deref().map(|t| self.value("max", t)).transpose()?.unwrap_or(default.1);
        if lo > hi {
            return Err(format!("min {} is above max {}", format_value(&self.spec.ty, lo), format_value(&self.spec.ty, hi)));
        }
        Ok((lo, hi))
    }

    /// A mean or a standard deviation in the field's unit, in micro-cells.
    fn moment(&self, what: &str, text: &str) -> Result<i64, String> {
        read_decimal(text, scale_of(&self.spec.ty) + MOMENT_EXTRA_DIGITS).map_err(|why| format!("{what}: {why}"))
    }

    fn require_numeric(&self, kind: &str) -> Result<(), String> {
        match self.spec.ty {
            ColumnType::Int | ColumnType::Months | ColumnType::Money | ColumnType::Decimal { .. } => Ok(()),
            ColumnType::Date => Err(format!("`{kind}` is for numbers; a date takes `age` or `uniform`")),
            _ => Err(format!("`{kind}` is for numbers; a field of type {} takes `shares`", self.spec.ty.describe())),
        }
    }
}

fn resolve(spec: &ColumnSpec, dist: &Distribution) -> Result<Sampler, String> {
    let field = FieldReader { spec, declared: declared_range(spec) };
    match dist {
        Distribution::Uniform { min, max } => {
            let default = value_range(spec).map_err(|e| e.to_string())?;
            let (lo, hi) = field.bounds(min, max, default)?;
            Ok(Sampler::Uniform { lo, hi })
        }
        Distribution::Constant(text) => Ok(Sampler::Constant(field.value("constant", text)?)),
        Distribution::Normal { mean, sd, min, max } => {
            field.require_numeric("normal")?;
            let (lo, hi) = field.bounds(min, max, field.declared)?;
            let mean = field.moment("mean", mean)?;
            let sd = field.moment("sd", sd)?;
            if sd <= 0 {
                return Err("sd must be positive (use `constant` for a single value)".into());
            }
            let in_bounds =
                i128::from(lo) * i128::from(MOMENT_ONE) <= i128::from(mean) && i128::from(mean) <= i128::from(hi) * i128::from(MOMENT_ONE);
            if !in_bounds {
                return Err(format!("mean must lie within min ..= max ({})", format_domain(&spec.ty, (lo, hi))));
            }
            Ok(Sampler::Normal { mean, sd, lo, hi })
        }
        Distribution::LogNormal { median, sigma, min, max } => {
            field.require_numeric("lognormal")?;
            let (lo, hi) = field.bounds(min, max, field.declared)?;
            let median = field.value("median", median)?;
            if median <= 0 {
                return Err("median must be positive".into());
            }
            if median < lo || median > hi {
                return Err(format!("median must lie within min ..= max ({})", format_domain(&spec.ty, (lo, hi))));
            }
            let sigma = read_decimal(sigma, SIGMA_DIGITS).map_err(|why| format!("sigma: {why}"))?;
            if sigma <= 0 || sigma > SIGMA_MAX {
                return Err("sigma must be above 0 and at most 5".into());
            }
            let sigma = div_round(i128::from(sigma) * ONE_Q60, i128::from(SIGMA_ONE));
            Ok(Sampler::LogNormal { median, sigma, lo, hi })
        }
        Distribution::Shares(entries) => {
            let mut cells = BTreeMap::new();
            let mut total: i128 = 0;
            for (key, share) in entries {
                let cell = field.value("value", key)?;
                let share = read_decimal(share, SHARE_DIGITS).map_err(|why| format!("share of `{key}`: {why}"))?;
                if share < 0 {
                    return Err(format!("share of `{key}` is negative"));
                }
                if cells.insert(cell, share).is_some() {
                    return Err(format!("value {} is listed twice", format_value(&spec.ty, cell)));
                }
                total += i128::from(share);
            }
            if total != i128::from(SHARE_ONE) {
                return Err(format!(
                    "shares sum to {}, not exactly 1",
                    crate::value::format_decimal(total, SHARE_DIGITS).trim_end_matches('0').trim_end_matches('.')
                ));
            }
            let mut cumulative = Vec::with_capacity(cells.len());
            let mut running = 0i64;
            for share in cells.values() {
                running += share;
                cumulative.push(running);
            }
            Ok(Sampler::Shares { values: cells.into_keys().collect(), cumulative })
        }
        Distribution::Age { at, mean, sd, min, max } => resolve_age(&field, at, mean, sd, min, max),
    }
}

fn resolve_age(
    field: &FieldReader<'_>,
    at: &str,
    mean: &str,
    sd: &str,
    min: &Option<String>,
    max: &Option<String>,
) -> Result<Sampler, String> {
    if field.spec.ty != ColumnType::Date {
        return Err("`age` is for dates (birth dates)".into());
    }
    let at_days = parse_date(at.trim_ascii()).ok_or_else(|| format!("at: `{at}` is not a date (YYYY-MM-DD)"))?;
    let at = civil_from_days(at_days);
    let mean = read_decimal(mean, MOMENT_EXTRA_DIGITS).map_err(|why| format!("mean: {why}"))?;
    let sd = read_decimal(sd, MOMENT_EXTRA_DIGITS).map_err(|why| format!("sd: {why}"))?;
    if sd <= 0 {
        return Err("sd must be positive".into());
    }
    let whole_years = |what: &str, text: &str| -> Result<i64, String> {
        match text.trim_ascii().parse::<i64>() {
            Ok(v) if (0..=i64::from(i16::MAX)).contains(&v) => Ok(v),
            _ => Err(format!("{what}: `{text}` is not a whole number of years")),
        }
    };
    let (dlo, dhi) = field.declared;
    let inside = |age: i64| {
        let (first, last) = birth_dates(at, age);
        dlo <= first && last <= dhi
    };
    let (min, max) = match (min, max) {
        (Some(lo), Some(hi)) => (whole_years("min", lo)?, whole_years("max", hi)?),
        _ => {
            // Default bounds: the whole ages all of whose birth dates lie inside the domain.
            let fit: Vec<i64> = (0..=MAX_DEFAULT_AGE).filter(|&a| inside(a)).collect();
            let (Some(&first), Some(&last)) = (fit.first(), fit.last()) else {
                return Err(format!(
                    "no whole age at {} has all its birth dates inside the declared domain {}",
                    format_date(at_days),
                    format_domain(&field.spec.ty, field.declared)
                ));
            };
            let lo = min.as_deref().map(|t| whole_years("min", t)).transpose()?.unwrap_or(first);
            let hi = max.as_deref().map(|t| whole_years("max", t)).transpose()?.unwrap_or(last);
            (lo, hi)
        }
    };
    if min > max {
        return Err(format!("min age {min} is above max age {max}"));
    }
    let (first, last) = (birth_dates(at, max).0, birth_dates(at, min).1);
    if first < dlo || last > dhi {
        return Err(format!(
            "ages {min} ..= {max} at {} mean birth dates {} ..= {}, outside the declared domain {}",
            format_date(at_days),
            format_date(first),
            format_date(last),
            format_domain(&field.spec.ty, field.declared)
        ));
    }
    if mean < min * MOMENT_ONE || mean > max * MOMENT_ONE {
        return Err(format!("mean must lie within min ..= max ({min} ..= {max} years)"));
    }
    Ok(Sampler::Age { at, mean, sd, min, max })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::generate::cell_word;

    /// A non-key column (shared with the sampler's tests).
    pub(super) fn spec(name: &str, ty: ColumnType, domain: Option<(i64, i64)>) -> ColumnSpec {
        ColumnSpec { name: name.into(), ty, domain, is_id: false, read: true }
    }

    pub(super) fn sex() -> ColumnType {
        ColumnType::Enum { name: "Sex".into(), variants: vec!["Male".into(), "Female".into()] }
    }

    /// person_id (key), birth_date, contribution, monthly_pension, hardship_class,
    /// military_cadre, sex: the shape of the national Retiree record.
    fn retiree() -> Vec<ColumnSpec> {
        let date = |t: &str| parse_date(t).expect("date");
        vec![
            ColumnSpec { name: "person_id".into(), ty: ColumnType::Int, domain: Some((1, 999_999)), is_id: true, read: true },
            spec("birth_date", ColumnType::Date, Some((date("1900-01-01"), date("1975-12-31")))),
            spec("contribution", ColumnType::Months, Some((0, 720))),
            spec("monthly_pension", ColumnType::Money, Some((0, 10_000_000))),
            spec("hardship_class", ColumnType::Int, Some((0, 3))),
            spec("military_cadre", ColumnType::Bool, None),
            spec("sex", sex(), None),
        ]
    }

    const RETIREE: &str = r#"
        record = "Retiree"
        [fields]
        birth_date = { age = { at = "2024-01-01", mean = 70, sd = 8, min = 50, max = 100 } }
        contribution = { normal = { mean = 360, sd = 84, min = 180, max = 540 } }
        monthly_pension = { lognormal = { median = "3800.00", sigma = 0.45, min = 1000, max = "40000" } }
        hardship_class = { shares = { "0" = "0.85", "1" = 0.1, "2" = "0.04", "3" = "0.01" } }
        military_cadre = { shares = { "false" = "0.995", "true" = "0.005" } }
        sex = { uniform = {} }
    "#;

    fn samplers(text: &str, specs: &[ColumnSpec]) -> Result<Vec<Option<Sampler>>, String> {
        Profile::parse(text).and_then(|p| p.samplers(specs)).map_err(|e| e.to_string())
    }

    fn one(text: &str, spec: ColumnSpec) -> Result<Sampler, String> {
        let name = spec.name.clone();
        let profile = format!("[fields]\n{name} = {text}\n");
        Ok(samplers(&profile, &[spec])?.remove(0).expect("a sampler"))
    }

    /// `n` draws of a sampler over the words of column 3, rows `0..n`, seed 1.
    fn draws(sampler: &Sampler, n: u64) -> Vec<i64> {
        (0..n).map(|r| sampler.sample(cell_word(1, 3, r))).collect()
    }

    #[test]
    fn sampling_is_a_pure_function_of_seed_column_and_row() {
        let specs = retiree();
        let a = samplers(RETIREE, &specs).expect("fits");
        let b = samplers(RETIREE, &specs).expect("fits");
        assert_eq!(a, b);
        let cells = |seed: u64| -> Vec<Vec<i64>> {
            a.iter()
                .enumerate()
                .filter_map(|(c, s)| s.as_ref().map(|s| (0..500).map(|r| s.sample(cell_word(seed, c, r))).collect()))
                .collect()
        };
        assert_eq!(cells(1), cells(1));
        assert_ne!(cells(1), cells(2));
        let uniform = one("{ uniform = {} }", specs[2].clone()).expect("resolves");
        assert_eq!(uniform, Sampler::Uniform { lo: 0, hi: 720 });
        let constant = one(r#"{ constant = "3800.5" }"#, specs[3].clone()).expect("resolves");
        assert!(draws(&constant, 100).iter().all(|&v| v == 380_050));
    }

    #[test]
    fn toml_numbers_are_read_through_their_decimal_text() {
        let s = one("{ constant = 0.1 }", spec("r", ColumnType::Decimal { scale: 2 }, None)).expect("0.1");
        assert_eq!(s, Sampler::Constant(10));
        let s = one("{ uniform = { min = 1000.1, max = 2e3 } }", spec("m", ColumnType::Money, None)).expect("floats");
        assert_eq!(s, Sampler::Uniform { lo: 100_010, hi: 200_000 });
        let err = one("{ constant = 0.001 }", spec("m", ColumnType::Money, None)).expect_err("3 places");
        assert!(err.contains("more than 2 decimal places"), "{err}");
        let s = one("{ uniform = { min = 1950-01-01 } }", retiree()[1].clone()).expect("a TOML date");
        assert_eq!(s, Sampler::Uniform { lo: parse_date("1950-01-01").expect("d"), hi: parse_date("1975-12-31").expect("d") });
    }

    #[test]
    fn a_profile_must_cover_every_non_key_field_and_only_them() {
        let specs = retiree();
        let err = samplers("[fields]\ncontribution = { uniform = {} }\nbogus = { uniform = {} }\n", &specs).expect_err("incomplete");
        assert!(err.contains("unknown field `bogus`"), "{err}");
        assert!(err.contains("no distribution for `birth_date`, `monthly_pension`, `hardship_class`, `military_cadre`, `sex`"), "{err}");
        let with_key = format!("{RETIREE}\nperson_id = {{ uniform = {{}} }}\n");
        let err = samplers(&with_key, &specs).expect_err("key");
        assert!(err.contains("field `person_id`: a key takes consecutive ids"), "{err}");
    }

    #[test]
    fn values_outside_the_domain_and_bad_shares_are_errors_naming_the_field() {
        let specs = retiree();
        let cases = [
            (
                r#"{ lognormal = { median = "3800", sigma = 0.45, max = "200000" } }"#,
                3,
                "field `monthly_pension`: max 200000.00 is outside the declared domain 0.00 ..= 100000.00",
            ),
            (r#"{ shares = { "0" = "0.6", "1" = "0.3" } }"#, 4, "field `hardship_class`: shares sum to 0.9, not exactly 1"),
            (r#"{ shares = { "0" = "0.5", "4" = "0.5" } }"#, 4, "field `hardship_class`: value 4 is outside the declared domain 0 ..= 3"),
            (r#"{ shares = { "0" = 0.5, "00" = 0.5 } }"#, 4, "value 0 is listed twice"),
            ("{ normal = { mean = 800, sd = 84 } }", 2, "mean must lie within min ..= max (0 ..= 720)"),
            ("{ normal = { mean = 300, sd = 0 } }", 2, "sd must be positive"),
            (
                r#"{ age = { at = "2024-01-01", mean = 40, sd = 8, min = 20, max = 60 } }"#,
                1,
                "ages 20 ..= 60 at 2024-01-01 mean birth dates 1963-01-02 ..= 2004-01-01, outside the declared domain",
            ),
            (r#"{ normal = { mean = 1, sd = 1 } }"#, 6, "`normal` is for numbers; a field of type enum Sex takes `shares`"),
            (r#"{ lognormal = { median = "3800", sigma = 6 } }"#, 3, "sigma must be above 0 and at most 5"),
            (r#"{ constant = "Other" }"#, 6, "`Other` is not a variant of enum Sex (Male, Female)"),
            (r#"{ poisson = { mean = 3 } }"#, 4, "unknown distribution `poisson`"),
            (r#"{ normal = { mean = 3 } }"#, 4, "`normal` needs sd"),
            (r#"{ normal = { mean = 3, sd = 1, median = 2 } }"#, 4, "`normal` has no parameter `median`"),
        ];
        for (text, column, expected) in cases {
            let mut fields: BTreeMap<&str, String> =
                specs.iter().skip(1).map(|s| (s.name.as_str(), "{ uniform = {} }".to_string())).collect();
            fields.insert(&specs[column].name, text.to_string());
            let profile: String =
                std::iter::once("[fields]\n".to_string()).chain(fields.iter().map(|(k, v)| format!("{k} = {v}\n"))).collect();
            let err = samplers(&profile, &specs).expect_err(text);
            assert!(err.contains(expected), "{text}: expected `{expected}` in\n{err}");
        }
    }

    #[test]
    fn a_malformed_profile_says_what_is_wrong() {
        let err = Profile::parse("record = 3\nextra = 1\n[fields]\nx = 5\n").expect_err("malformed").to_string();
        assert!(err.contains("`record` must be a string"), "{err}");
        assert!(err.contains("unknown key `extra`"), "{err}");
        assert!(err.contains("field `x`: expected a table with one of uniform"), "{err}");
        let err = Profile::parse("record = \"Retiree\"\n").expect_err("no fields").to_string();
        assert!(err.contains("no `[fields]` table"), "{err}");
        assert!(Profile::parse("[fields\n").is_err());
        assert_eq!(Profile::parse(RETIREE).expect("parses").record(), Some("Retiree"));
    }
}
