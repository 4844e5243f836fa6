//! `pol bind init` and `pol bind check`: a binding file from a source's columns, with the
//! matches that are sure and the questions that are not; a dry run of a binding over every row.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use pol_kernel::{ColumnSpec, ColumnType};
use pol_runtime::{Binding, SourceOptions};

use crate::load::UsageError;

#[derive(clap::Subcommand)]
pub enum BindCommand {
    /// Write a starting binding for a source from its columns and values.
    Init(InitArgs),
    /// Read every row of a source through a binding, as a run would, without evaluating.
    Check(CheckArgs),
}

#[derive(clap::Args)]
pub struct InitArgs {
    /// The scheme whose run the binding is for.
    scheme: PathBuf,
    /// The source to look at.
    #[arg(long)]
    input: PathBuf,
    /// Where to write the binding (default: print it).
    #[arg(long)]
    output: Option<PathBuf>,
    /// The CSV file's encoding (utf-8, gbk, gb18030, auto).
    #[arg(long, default_value = "auto")]
    encoding: String,
    /// The CSV file's delimiter.
    #[arg(long, default_value = ",")]
    delimiter: String,
    /// A PostgreSQL source (`--input postgresql://…`): the table to read.
    #[arg(long)]
    input_table: Option<String>,
    /// A PostgreSQL source: the query to read.
    #[arg(long)]
    input_query: Option<String>,
    /// Rules the run evaluates (default: as `pol run`).
    #[arg(long)]
    rule: Vec<String>,
    /// The framework a scheme implements (default: found next to it or under policies/).
    #[arg(long)]
    framework: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct CheckArgs {
    /// The scheme whose run the binding is for.
    scheme: PathBuf,
    /// The source to read.
    #[arg(long)]
    input: PathBuf,
    /// The binding (default: columns named as the fields).
    #[arg(long)]
    binding: Option<PathBuf>,
    /// Rules the run evaluates (default: as `pol run`).
    #[arg(long)]
    rule: Vec<String>,
    /// The framework a scheme implements (default: found next to it or under policies/).
    #[arg(long)]
    framework: Option<PathBuf>,
}

pub fn bind(command: &BindCommand) -> Result<ExitCode, UsageError> {
    match command {
        BindCommand::Init(a) => init(a),
        BindCommand::Check(a) => check(a),
    }
}

/// A run's inputs, each field's title (what exports call the column), and the record's name.
struct RunInputs {
    inputs: Vec<ColumnSpec>,
    titles: Vec<Option<String>>,
    record: String,
}

/// The inputs of a scheme's run, with each field's title (what exports call the column).
fn run_inputs(scheme: &Path, framework: Option<&Path>, rules: &[String]) -> Result<Result<RunInputs, ExitCode>, UsageError> {
    let (program, loaded) = match crate::run::compiled_with_module(scheme, framework, rules, None)? {
        Ok(p) => p,
        Err(code) => return Ok(Err(code)),
    };
    let sig = pol_core::interp::signature(&program);
    let record = loaded
        .module
        .records
        .iter()
        .filter(|r| !r.fields.is_empty())
        .max_by_key(|r| sig.inputs.iter().filter(|i| r.fields.iter().any(|f| f.name == i.name)).count());
    let titles =
        sig.inputs.iter().map(|i| record.and_then(|r| r.fields.iter().find(|f| f.name == i.name)).and_then(|f| f.title.clone())).collect();
    Ok(Ok(RunInputs { inputs: sig.inputs, titles, record: record.map(|r| r.name.clone()).unwrap_or_default() }))
}

/// Lower case without `_`, `-`, spaces and anything in brackets: `Person ID`, `person-id` and
/// `PERSON_ID` all become `personid`; `缴费年限（含视同缴费年限）` becomes `缴费年限`.
fn normalized(name: &str) -> String {
    let mut out = String::new();
    let mut depth = 0usize;
    for c in name.chars() {
        match c {
            '(' | '（' | '[' | '【' => depth += 1,
            ')' | '）' | ']' | '】' => depth = depth.saturating_sub(1),
            '_' | '-' | ' ' | '\u{3000}' => {}
            _ if depth == 0 => out.extend(c.to_lowercase()),
            _ => {}
        }
    }
    out
}

/// Chinese words that exports use for common variant names.
fn variant_words(variant: &str) -> &'static [&'static str] {
    match variant {
        "Male" => &["男", "M", "1"],
        "Female" => &["女", "F", "2"],
        "Urban" => &["城镇", "非农业", "非农"],
        "Rural" => &["农村", "农业"],
        _ => &[],
    }
}

const DATE_LAYOUTS: [&str; 6] = ["%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%Y-%m-%d 00:00:00"];

fn quote(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

fn init(a: &InitArgs) -> Result<ExitCode, UsageError> {
    let RunInputs { inputs, titles, record } = match run_inputs(&a.scheme, a.framework.as_deref(), &a.rule)? {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    let options = SourceOptions {
        encoding: a.encoding.clone(),
        delimiter: a.delimiter.clone(),
        table: a.input_table.clone(),
        query: a.input_query.clone(),
        ..SourceOptions::default()
    };
    options.encoding().map_err(UsageError)?;
    options.delimiter_byte().map_err(UsageError)?;
    let columns = pol_runtime::columns(&a.input, &options).map_err(|e| UsageError(e.to_string()))?;
    let mut used: Vec<bool> = vec![false; columns.len()];
    let mut out = String::new();
    let mut questions = 0usize;
    let _ = writeln!(out, "# Binding of `{}` to the record `{record}` of {}.", a.input.display(), a.scheme.display());
    let _ = writeln!(out, "# Written by `pol bind init`; lines marked `# ?` are questions to answer before a run.");
    let _ = writeln!(out, "# Check it with: pol bind check {} --input {} --binding THIS_FILE\n", a.scheme.display(), a.input.display());
    let _ = writeln!(out, "record = {}\n", quote(&record));
    let csv = a.input.extension().is_some_and(|e| e.eq_ignore_ascii_case("csv"));
    if csv {
        // The same detection a run makes, on the file's first megabyte only.
        let detected = match options.encoding().map_err(UsageError)? {
            pol_runtime::Encoding::Auto => match pol_runtime::detect_encoding(&a.input) {
                Ok(pol_runtime::Encoding::Gb18030) => "gbk",
                Ok(_) => "utf-8",
                Err(e) => return Err(UsageError(format!("cannot read `{}`: {e}", a.input.display()))),
            },
            _ => options.encoding.as_str(),
        };
        let _ = writeln!(out, "[source]\nencoding = {}\ndelimiter = {}\n", quote(detected), quote(&options.delimiter));
    }
    if let Some(table) = &options.table {
        let _ = writeln!(out, "[source]\ntable = {}\n", quote(table));
    } else if let Some(query) = &options.query {
        let _ = writeln!(out, "[source]\nquery = {}\n", quote(query));
    }
    let _ = writeln!(out, "[fields]");
    for (spec, title) in inputs.iter().zip(&titles) {
        let title_key = title.as_deref().map(normalized);
        let found = columns
            .iter()
            .position(|c| c.name == spec.name)
            .or_else(|| columns.iter().position(|c| normalized(&c.name) == normalized(&spec.name)))
            .or_else(|| title_key.as_ref().and_then(|t| columns.iter().position(|c| normalized(&c.name) == *t)))
            .filter(|i| !used[*i]);
        // Less sure: a column whose every character is in the field's title (`月养老金` for
        // `上年12月基本养老金`), the longest such column.
        let by_characters = || {
            let title = title_key.as_ref()?;
            (0..columns.len())
                .filter(|i| !used[*i])
                .filter(|i| {
                    let c = normalized(&columns[*i].name);
                    c.chars().count() >= 2 && c.chars().all(|ch| title.contains(ch))
                })
                .max_by_key(|i| normalized(&columns[*i].name).chars().count())
        };
        let (found, guessed) = match found {
            Some(i) => (Some(i), false),
            None => match by_characters() {
                Some(i) => (Some(i), true),
                None => (None, false),
            },
        };
        let about = format!("{}{}", spec.ty.describe(), title.as_deref().map(|t| format!(", {t}")).unwrap_or_default());
        let Some(index) = found else {
            if spec.read {
                questions += 1;
                let _ = writeln!(out, "# ? {} ({about}): no column matched; name one:\n# {} = \"COLUMN\"", spec.name, spec.name);
            } else {
                let _ = writeln!(out, "# {} ({about}) is not read by these rules: it may stay unbound", spec.name);
            }
            continue;
        };
        used[index] = true;
        let column = &columns[index];
        let mut rules: Vec<String> = vec![format!("column = {}", quote(&column.name))];
        let mut notes: Vec<String> = Vec::new();
        if guessed {
            questions += 1;
            notes.push(format!("? matched by the characters of its title only: is `{}` the column?", column.name));
        }
        let values = || pol_runtime::distinct_values(&a.input, &column.name, &options, 100_000, 40).map_err(|e| UsageError(e.to_string()));
        let integer = column.ty.starts_with("Int") || column.ty.starts_with("UInt");
        match &spec.ty {
            ColumnType::Enum { variants, .. } => {
                let seen = values()?;
                let mut codes: Vec<(String, Vec<String>)> = variants.iter().map(|v| (v.clone(), Vec::new())).collect();
                let mut unknown = Vec::new();
                for (value, count) in seen.iter().filter(|(v, _)| !v.trim().is_empty()) {
                    let value = value.trim();
                    if variants.iter().any(|v| v == value) {
                        continue;
                    }
                    match variants.iter().position(|v| variant_words(v).contains(&value)) {
                        Some(i) => codes[i].1.push(value.to_string()),
                        None => unknown.push(format!("`{value}` ({count} rows)")),
                    }
                }
                if codes.iter().any(|(_, c)| !c.is_empty()) {
                    let list: Vec<String> = codes
                        .iter()
                        .filter(|(_, c)| !c.is_empty())
                        .map(|(v, c)| format!("{v} = [{}]", c.iter().map(|s| quote(s)).collect::<Vec<_>>().join(", ")))
                        .collect();
                    rules.push(format!("codes = {{ {} }}", list.join(", ")));
                    notes.push("codes guessed from common words: check them".into());
                }
                if !unknown.is_empty() {
                    questions += 1;
                    notes.push(format!("? values that name no variant of {}: {}", variants.join("/"), unknown.join(", ")));
                }
            }
            ColumnType::Date if column.ty == "Date32" || column.ty.starts_with("Timestamp") || column.ty == "Date64" => {}
            ColumnType::Date => {
                let seen = values()?;
                let cells: Vec<&str> = seen.iter().map(|(v, _)| v.trim()).filter(|v| !v.is_empty()).collect();
                let layout = DATE_LAYOUTS.iter().find(|l| {
                    pol_runtime::DateFormat::parse(l).is_ok_and(|f| !cells.is_empty() && cells.iter().all(|c| f.read(c).is_some()))
                });
                match layout {
                    Some(&"%Y-%m-%d") => {}
                    Some(l) => rules.push(format!("date = [{}]", quote(l))),
                    None => {
                        questions += 1;
                        let shown: Vec<&str> = cells.iter().take(3).copied().collect();
                        notes
                            .push(format!("? no known date layout reads every value (e.g. {}): give `date = [\"%Y…\"]`", shown.join(", ")));
                    }
                }
            }
            ColumnType::Money if integer => {
                questions += 1;
                notes.push("? an integer column: say whether it holds yuan or fen".into());
                rules.push("# unit = \"fen\"".into());
            }
            ColumnType::Months => {
                let seen = values()?;
                let whole = |v: &str| v.trim().split('.').next().and_then(|w| w.parse::<i64>().ok());
                let max = seen.iter().filter_map(|(v, _)| whole(v)).max().unwrap_or(0);
                if normalized(&column.name).contains('年') || (1..=60).contains(&max) {
                    questions += 1;
                    notes.push(format!("? values up to {max}: months, or years (`unit = \"years\"`)?"));
                }
            }
            ColumnType::Bool => {
                let seen = values()?;
                let words = ["true", "1", "是", "y", "yes", "t", "false", "0", "否", "n", "no", "f"];
                let odd: Vec<String> = seen
                    .iter()
                    .map(|(v, _)| v.trim().to_string())
                    .filter(|v| !v.is_empty() && !words.iter().any(|w| w.eq_ignore_ascii_case(v)))
                    .collect();
                if !odd.is_empty() {
                    questions += 1;
                    notes.push(format!("? values {} are not true/false words: give `true = [..]` and `false = [..]`", odd.join(", ")));
                }
            }
            _ => {}
        }
        let body: Vec<&String> = rules.iter().filter(|r| !r.starts_with('#')).collect();
        let field = if body.len() == 1 {
            format!("{} = {}", spec.name, quote(&column.name))
        } else {
            format!("{} = {{ {} }}", spec.name, body.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", "))
        };
        let _ = writeln!(out, "{field}   # {about}; column {} ({})", column.name, column.ty);
        for r in rules.iter().filter(|r| r.starts_with('#')) {
            let _ = writeln!(out, "{r}");
        }
        for n in notes {
            let _ = writeln!(out, "#{}{n}", if n.starts_with('?') { " " } else { "   " });
        }
    }
    let unused: Vec<&str> = columns.iter().zip(&used).filter(|(_, u)| !**u).map(|(c, _)| c.name.as_str()).collect();
    if !unused.is_empty() {
        let _ = writeln!(out, "\n# Columns no field reads (ignored by a run): {}", unused.join(", "));
    }
    match &a.output {
        Some(path) => {
            std::fs::write(path, &out).map_err(|e| UsageError(format!("cannot write `{}`: {e}", path.display())))?;
            outln!("wrote {} ({questions} questions to answer, marked `# ?`)", path.display());
        }
        None => out!("{out}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Loads a binding and checks that it is for the run's record.
/// `binding` for a run of `loaded`: the record it names, if any, must be one of the file's
/// (`shown` names the binding in the message).
pub fn binding_for(loaded: &crate::load::Loaded, binding: Binding, shown: &str) -> Result<Binding, UsageError> {
    if let Some(want) = &binding.record
        && !loaded.module.records.iter().any(|r| r.name == *want)
    {
        return Err(UsageError(format!("binding `{shown}` is for record `{want}`, which this scheme does not have")));
    }
    Ok(binding)
}

pub fn load_binding(path: &Path, record: Option<&str>) -> Result<Binding, UsageError> {
    let binding = Binding::load(path).map_err(|e| UsageError(e.to_string()))?;
    if let (Some(want), Some(rec)) = (&binding.record, record)
        && want != rec
    {
        return Err(UsageError(format!("binding `{}` is for record `{want}`; this run reads `{rec}`", path.display())));
    }
    Ok(binding)
}

fn check(a: &CheckArgs) -> Result<ExitCode, UsageError> {
    let RunInputs { inputs, record, .. } = match run_inputs(&a.scheme, a.framework.as_deref(), &a.rule)? {
        Ok(x) => x,
        Err(code) => return Ok(code),
    };
    let binding = a.binding.as_deref().map(|p| load_binding(p, Some(&record))).transpose()?;
    let report = match pol_runtime::check_binding(&inputs, &a.input, binding.as_ref(), pol_runtime::DEFAULT_BATCH_ROWS) {
        Ok(r) => r,
        Err(e @ pol_runtime::RuntimeError::Schema { .. }) => {
            outln!("{e}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(UsageError(e.to_string())),
    };
    outln!("{} rows read; {} would go to the error ledger before any rule runs", report.rows, report.rows_with_problems);
    for (column, problems) in &report.columns {
        outln!("  {column}: {} cells", problems.cells);
        for (row, code, message) in &problems.examples {
            outln!("    row {row} {code}: {message}");
        }
    }
    Ok(if report.rows_with_problems == 0 { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
