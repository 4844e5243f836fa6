//! `pol diff` and `pol report`: the impact of a draft against a base (or of one scheme) over a
//! population, evaluated in one pass and written as a report people read.
//!
//! Both sides are compiled and checked as `pol run` compiles them, then evaluated together as
//! one [`pol_runtime::Comparison`] kernel by [`pol_runtime::run`]: every record is read once,
//! validated once, and either evaluated by both sides or sent to the ledger, with the run's
//! integrity (manifest, rows in = rows out + ledger rows). The per-record results (the rows
//! file) are read back and [`pol_report`] computes every figure from them in integer fen.

use crate::load::{UsageError, content_hash, display_path};
use crate::run::{Engine, compiled_with_module, kernel};
use pol_kernel::{ColumnRef, ColumnSpec, ColumnType, Kernel};
use pol_report::{Data, Field, Period, Setup, Side, Title};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(clap::Args)]
pub struct DiffArgs {
    /// The base scheme: last year's, or the draft the new one is compared with.
    base: PathBuf,
    /// The draft scheme. Leave it out to compare the base scheme at two dates (--base-as-of,
    /// --draft-as-of) or against amounts the input holds (--base-column).
    draft: Option<PathBuf>,
    /// The date whose parameter values the base uses (default: its effective date).
    #[arg(long)]
    base_as_of: Option<String>,
    /// The date whose parameter values the draft uses (default: its effective date).
    #[arg(long)]
    draft_as_of: Option<String>,
    /// Compare the scheme against a Money column of the input (last year's amounts) instead of a
    /// second scheme.
    #[arg(long, conflicts_with_all = ["draft", "base_as_of"])]
    base_column: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(clap::Args)]
pub struct ReportArgs {
    /// The checked scheme to report on.
    scheme: PathBuf,
    /// The date whose parameter values apply (default: the scheme's effective date).
    #[arg(long)]
    as_of: Option<String>,
    #[command(flatten)]
    common: CommonArgs,
}

#[derive(clap::Args)]
pub struct CommonArgs {
    /// The population (.parquet, .csv, .xlsx/.xls), read through --binding when given.
    #[arg(long)]
    input: PathBuf,
    /// The report to write (.html); its tables go beside it as `<stem>.<table>.csv` and `<stem>.xlsx`,
    /// with the run's ledger `<stem>.errors.csv` and summary `<stem>.summary.json`.
    #[arg(long)]
    report: PathBuf,
    /// Also keep the per-record results (key, fields read, base, draft and change of every output)
    /// as this Parquet file, with its manifest.
    #[arg(long)]
    rows: Option<PathBuf>,
    /// How the input's columns map to the record's fields (a TOML binding, docs/data.md).
    #[arg(long)]
    binding: Option<PathBuf>,
    /// The output whose amounts are compared (default: the one the framework's aggregate
    /// requirement bounds, else the first Money output).
    #[arg(long)]
    amount: Option<String>,
    /// The Money field of the record the amounts are measured against and deciles are cut by
    /// (default: the field of the aggregate requirement's right side, else the first Money field).
    #[arg(long)]
    level: Option<String>,
    /// How many of the largest changes to list, each with its `pol trace` command.
    #[arg(long, default_value_t = 20)]
    largest: usize,
    /// The framework the schemes implement (default: found next to each or under policies/).
    #[arg(long)]
    framework: Option<PathBuf>,
    /// Evaluation threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// The engine: the Cranelift JIT, or the reference interpreter (slower, same figures).
    #[arg(long, value_enum, default_value = "jit")]
    engine: Engine,
    /// Rows per batch read and evaluated at a time (1 ..= 1048576).
    #[arg(long, default_value_t = pol_runtime::DEFAULT_BATCH_ROWS)]
    batch_rows: usize,
    /// Ledger rows allowed before the run fails and no report is written: a count or a share (`0.5%`).
    #[arg(long, default_value = "0", value_parser = pol_runtime::ErrorLimit::parse)]
    max_errors: pol_runtime::ErrorLimit,
}

/// One side of a comparison, compiled.
struct Compiled {
    kernel: Box<dyn Kernel>,
    side: Side,
    loaded: Option<crate::load::Loaded>,
    /// The day the parameters were resolved for (a scheme's; a column has none).
    as_of: Option<i64>,
}

fn compile_side(path: &Path, as_of: Option<&str>, common: &CommonArgs, role: Title) -> Result<Result<Compiled, ExitCode>, UsageError> {
    let (program, loaded) = match compiled_with_module(path, common.framework.as_deref(), &[], as_of)? {
        Ok(p) => p,
        Err(code) => return Ok(Err(code)),
    };
    let info = loaded.module.files.last();
    let day = pol_kernel::cell::format_date(program.as_of);
    let file = display_path(path);
    let mut trace = format!("{} trace {} --rule RULE --as-of {day}", program_name(), pol_report::shell_quote(&file));
    if let Some(fw) = &common.framework {
        trace.push_str(&format!(" --framework {}", pol_report::shell_quote(&display_path(fw))));
    }
    let side = Side {
        role,
        name: program.name.clone(),
        title: info.and_then(|f| f.title.clone()),
        file: Some(file),
        sha256: loaded.sources.last().map(|s| content_hash(&s.text)),
        as_of: Some(day),
        trace: Some(trace),
        fields: program.inputs.iter().map(|i| i.name.clone()).collect(),
    };
    let as_of = Some(program.as_of);
    Ok(Ok(Compiled { kernel: kernel(common.engine, program)?, side, loaded: Some(loaded), as_of }))
}

/// How this program was started (`pol`, `./target/release/pol`), for commands the report prints.
fn program_name() -> String {
    std::env::args_os().next().map(|a| pol_report::shell_quote(&a.to_string_lossy())).unwrap_or_else(|| "pol".into())
}

/// The output the framework's first aggregate requirement bounds, and the input field of its
/// right side: what a report compares and measures against when not told.
fn defaults(kernel: &dyn Kernel) -> (Option<String>, Option<String>) {
    let sig = kernel.signature();
    let money = |s: &&ColumnSpec| s.ty == ColumnType::Money;
    let agg = sig.aggregates.first();
    let amount = agg
        .and_then(|a| match a.lhs.column {
            ColumnRef::Output(j) => sig.outputs.get(j).filter(money),
            ColumnRef::Input(_) => None,
        })
        .or_else(|| sig.outputs.iter().find(money))
        .map(|s| s.name.clone());
    let level = agg
        .and_then(|a| match a.rhs.column {
            ColumnRef::Input(i) => sig.inputs.get(i).filter(money),
            ColumnRef::Output(_) => None,
        })
        .or_else(|| sig.inputs.iter().filter(|s| s.read && !s.is_id).find(money))
        .map(|s| s.name.clone());
    (amount, level)
}

/// Parses the arguments of `pol diff` (as after `pol diff`), for `pol bench --diff`.
pub fn parse_diff_args(args: &[String]) -> Result<DiffArgs, String> {
    #[derive(clap::Parser)]
    #[command(name = "pol diff")]
    struct Line {
        #[command(flatten)]
        args: DiffArgs,
    }
    use clap::Parser as _;
    Line::try_parse_from(std::iter::once("pol diff".to_string()).chain(args.iter().cloned()))
        .map(|l| l.args)
        .map_err(|e| e.render().to_string())
}

pub fn diff(a: &DiffArgs) -> Result<ExitCode, UsageError> {
    let start = Instant::now();
    let c = &a.common;
    let draft_path = a.draft.as_ref().unwrap_or(&a.base);
    if a.draft.is_none() && a.base_column.is_none() && a.base_as_of == a.draft_as_of {
        return Err(UsageError(
            "nothing to compare: give a draft scheme, two different dates (--base-as-of, --draft-as-of) or --base-column".into(),
        ));
    }
    let draft_role = Title::new("草案", "draft");
    let draft = match compile_side(draft_path, a.draft_as_of.as_deref(), c, draft_role)? {
        Ok(d) => d,
        Err(code) => return Ok(code),
    };
    let (amount, level) = choose(c, draft.kernel.as_ref())?;
    let base = match &a.base_column {
        Some(column) => {
            if let Some(field) = draft.kernel.signature().inputs.iter().find(|i| i.name == *column && i.ty != ColumnType::Money) {
                return Err(UsageError(format!(
                    "--base-column `{column}` is a field the scheme reads as {}; name a column of last year's amounts (money)",
                    field.ty.describe()
                )));
            }
            let side = Side {
                role: Title::new("上年金额", "last year's amounts"),
                name: format!("column `{column}`"),
                title: None,
                file: None,
                sha256: None,
                as_of: None,
                trace: None,
                fields: Vec::new(),
            };
            let kernel: Box<dyn Kernel> = Box::new(pol_runtime::ColumnKernel::new(column, column, ColumnType::Money, &amount));
            Compiled { kernel, side, loaded: None, as_of: None }
        }
        None => match compile_side(&a.base, a.base_as_of.as_deref(), c, Title::new("基准", "base"))? {
            Ok(b) => b,
            Err(code) => return Ok(code),
        },
    };
    if !base.kernel.signature().outputs.iter().any(|o| o.name == amount && o.ty == ColumnType::Money) {
        return Err(UsageError(format!("the base `{}` has no Money output `{amount}` to compare with", base.side.name)));
    }
    make(c, Some(base), draft, amount, level, start, "diff")
}

pub fn report(a: &ReportArgs) -> Result<ExitCode, UsageError> {
    let start = Instant::now();
    let scheme = match compile_side(&a.scheme, a.as_of.as_deref(), &a.common, Title::new("方案", "scheme"))? {
        Ok(s) => s,
        Err(code) => return Ok(code),
    };
    let (amount, level) = choose(&a.common, scheme.kernel.as_ref())?;
    make(&a.common, None, scheme, amount, level, start, "report")
}

/// The amount and level of a report: as given, else the defaults, each checked.
fn choose(c: &CommonArgs, draft: &dyn Kernel) -> Result<(String, String), UsageError> {
    let (amount, level) = defaults(draft);
    let sig = draft.signature();
    let amount = c.amount.clone().or(amount).ok_or_else(|| UsageError(format!("`{}` has no Money output to report on", sig.program)))?;
    if !sig.outputs.iter().any(|o| o.name == amount && o.ty == ColumnType::Money) {
        let outputs: Vec<&str> = sig.outputs.iter().filter(|o| o.ty == ColumnType::Money).map(|o| o.name.as_str()).collect();
        return Err(UsageError(format!(
            "`{amount}` is not a Money output of `{}`; its Money outputs are {}",
            sig.program,
            outputs.join(", ")
        )));
    }
    let level = c
        .level
        .clone()
        .or(level)
        .ok_or_else(|| UsageError(format!("the record of `{}` has no Money field to measure against (--level)", sig.program)))?;
    if !sig.inputs.iter().any(|i| i.name == level && i.ty == ColumnType::Money && i.read) {
        let fields: Vec<&str> =
            sig.inputs.iter().filter(|i| i.ty == ColumnType::Money && i.read && !i.is_id).map(|i| i.name.as_str()).collect();
        return Err(UsageError(format!(
            "`{level}` is not a Money field that `{}` reads (--level); those are {}",
            sig.program,
            fields.join(", ")
        )));
    }
    Ok((amount, level))
}

fn file_sha256(path: &Path) -> Result<String, UsageError> {
    use sha2::{Digest, Sha256};
    let mut file = std::fs::File::open(path).map_err(|e| UsageError(format!("cannot open {}: {e}", path.display())))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut file, &mut hasher).map_err(|e| UsageError(format!("cannot read {}: {e}", path.display())))?;
    Ok(hasher.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// The record fields no side reads that the input holds anyway (by the binding, or a column of
/// the field's name in any case): a report groups records by them too (hardship class, sex).
fn present_fields(
    input: &Path,
    binding: Option<&pol_runtime::Binding>,
    kernels: &[Option<&dyn Kernel>],
) -> Result<Vec<String>, UsageError> {
    let options = binding.map(|b| b.source.clone()).unwrap_or_default();
    let columns = pol_runtime::columns(input, &options).map_err(|e| UsageError(e.to_string()))?;
    let mut also = Vec::new();
    for spec in kernels.iter().flatten().flat_map(|k| k.signature().inputs.iter()).filter(|s| !s.read) {
        let bound = binding.is_some_and(|b| b.fields.contains_key(&spec.name));
        if (bound || columns.iter().any(|c| c.name.eq_ignore_ascii_case(&spec.name))) && !also.contains(&spec.name) {
            also.push(spec.name.clone());
        }
    }
    Ok(also)
}

/// Refuses a report whose files would overwrite the input, the rows file or the binding.
fn refuse_clashes(c: &CommonArgs) -> Result<(), UsageError> {
    let run_files = [sibling(&c.report, ".errors.csv"), sibling(&c.report, ".summary.json")];
    let same = |a: &Path, b: &Path| a == b || std::fs::canonicalize(a).ok().is_some_and(|x| std::fs::canonicalize(b).ok() == Some(x));
    for (what, path) in [("input", Some(&c.input)), ("rows file", c.rows.as_ref()), ("binding", c.binding.as_ref())] {
        let Some(path) = path else { continue };
        if pol_report::owns(&c.report, path) || run_files.iter().any(|f| same(f, path)) {
            return Err(UsageError(format!(
                "the {what} `{}` is one of the files the report `{}` writes; name the report otherwise",
                path.display(),
                c.report.display()
            )));
        }
    }
    Ok(())
}

fn sibling(report: &Path, suffix: &str) -> PathBuf {
    let stem = report.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_else(|| "report".into());
    report.with_file_name(format!("{stem}{suffix}"))
}

fn make(
    c: &CommonArgs,
    base: Option<Compiled>,
    draft: Compiled,
    amount: String,
    level: String,
    start: Instant,
    command: &str,
) -> Result<ExitCode, UsageError> {
    if c.report.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() != Some("html") {
        return Err(UsageError(format!("the report `{}` must be an .html file", c.report.display())));
    }
    if let Some(rows) = &c.rows
        && rows.extension().and_then(|e| e.to_str()).map(str::to_ascii_lowercase).as_deref() != Some("parquet")
    {
        return Err(UsageError(format!("the rows file `{}` must be a .parquet file", rows.display())));
    }
    refuse_clashes(c)?;
    let name = match &base {
        Some(b) => format!("{} vs {}", draft.side.name, b.side.name),
        None => draft.side.name.clone(),
    };
    let binding = match &c.binding {
        None => None,
        Some(path) => {
            let loaded = draft.loaded.as_ref().ok_or_else(|| UsageError("a binding needs a scheme".into()))?;
            Some(crate::bind::binding_for(loaded, crate::bind::load_binding(path, None)?, &path.display().to_string())?)
        }
    };
    let also = present_fields(&c.input, binding.as_ref(), &[base.as_ref().map(|b| b.kernel.as_ref()), Some(draft.kernel.as_ref())])?;
    let comparison = pol_runtime::Comparison::new(&name, base.as_ref().map(|b| b.kernel.as_ref()), draft.kernel.as_ref(), &also)
        .map_err(|e| UsageError(e.to_string()))?;
    if let Some(parent) = c.report.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(|e| UsageError(format!("cannot create {}: {e}", parent.display())))?;
    }
    pol_report::remove_previous(&c.report).map_err(UsageError)?;
    let scratch = tempfile::Builder::new()
        .prefix(".pol-report-")
        .tempdir_in(c.report.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new(".")))
        .or_else(|_| tempfile::tempdir())
        .map_err(|e| UsageError(format!("cannot make a scratch folder: {e}")))?;
    let rows_path = c.rows.clone().unwrap_or_else(|| scratch.path().join("rows.parquet"));
    let opts = pol_runtime::RunOptions {
        input: c.input.clone(),
        output: rows_path.clone(),
        errors: Some(sibling(&c.report, ".errors.csv")),
        summary: Some(sibling(&c.report, ".summary.json")),
        threads: c.threads,
        batch_rows: c.batch_rows,
        // A broken requirement is what the report is there to show.
        warn_aggregates: true,
        progress: true,
        max_errors: c.max_errors,
        cancel: Some(crate::run::cancel_on_signals()?),
        binding,
        output_table: None,
    };
    let run_start = Instant::now();
    let summary = match pol_runtime::run(&comparison, &opts) {
        Ok(s) => s,
        Err(pol_runtime::RuntimeError::RunFailed { summary }) => {
            eprintln!("error: {}", pol_runtime::RuntimeError::RunFailed { summary: summary.clone() });
            eprintln!("no report was written; the ledger is {}", summary.errors);
            return Ok(ExitCode::from(1));
        }
        Err(e) if matches!(e.cause(), pol_runtime::RuntimeError::Interrupted) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(crate::run::EXIT_INTERRUPTED));
        }
        Err(e) if e.is_rule_failure() => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
        Err(e) => return Err(UsageError(e.to_string())),
    };
    let run_ms = run_start.elapsed().as_millis();

    // The rows file, read back as the report's records.
    let report_start = Instant::now();
    let sig = comparison.signature();
    let keys: Vec<&ColumnSpec> = sig.inputs.iter().filter(|s| s.is_id).collect();
    let fields: Vec<&ColumnSpec> = sig.inputs.iter().filter(|s| s.read && !s.is_id).collect();
    let (base_col, draft_col) = match &base {
        Some(_) => (Some(format!("{}{amount}", pol_runtime::BASE_PREFIX)), format!("{}{amount}", pol_runtime::DRAFT_PREFIX)),
        None => (None, amount.clone()),
    };
    let wanted =
        |name: &str, ty: &ColumnType| ColumnSpec { name: name.to_string(), ty: ty.clone(), domain: None, is_id: false, read: true };
    let mut specs: Vec<ColumnSpec> = keys.iter().chain(&fields).map(|s| wanted(&s.name, &s.ty)).collect();
    specs.extend(base_col.iter().map(|n| wanted(n, &ColumnType::Money)));
    specs.push(wanted(&draft_col, &ColumnType::Money));
    let read = pol_runtime::read_columns(&specs, &rows_path, pol_runtime::DEFAULT_BATCH_ROWS).map_err(|e| UsageError(e.to_string()))?;
    if read.invalid_rows > 0 || read.rows != summary.rows_out {
        return Err(UsageError(format!(
            "internal error: the rows file {} read back {} rows ({} invalid) of the {} written",
            rows_path.display(),
            read.rows,
            read.invalid_rows,
            summary.rows_out
        )));
    }
    if read.columns.len() != specs.len() || read.columns.iter().any(|col| col.len() as u64 != read.rows) {
        return Err(UsageError(format!(
            "internal error: the rows file {} did not read back as {} columns",
            rows_path.display(),
            specs.len()
        )));
    }
    let mut columns = read.columns.into_iter();
    let module = draft.loaded.as_ref().map(|l| &l.module);
    let title_of = |name: &str| {
        module.and_then(|m| m.records.iter().find_map(|r| r.fields.iter().find(|f| f.name == name)).and_then(|f| f.title.clone()))
    };
    let mut field = |s: &ColumnSpec| Field {
        name: s.name.clone(),
        title: title_of(&s.name),
        ty: s.ty.clone(),
        domain: s.domain,
        cells: columns.next().unwrap_or_else(|| unreachable!("the columns were counted")),
    };
    let data_keys: Vec<Field> = keys.iter().map(|s| field(s)).collect();
    let data_fields: Vec<Field> = fields.iter().map(|s| field(s)).collect();
    let base_cells = base_col.as_ref().and_then(|_| columns.next());
    let Some(draft_cells) = columns.next() else { unreachable!("the columns were counted") };
    let data = Data { keys: data_keys, fields: data_fields, base: base_cells, draft: draft_cells };

    let rule = module.and_then(|m| m.rules.iter().find(|r| r.name == amount));
    let period = match rule.map(|r| &r.ret) {
        Some(pol_core::check::Ty::Money(Some(pol_core::syntax::ast::Period::Month))) => Period::Month,
        Some(pol_core::check::Ty::Money(Some(pol_core::syntax::ast::Period::Year))) => Period::Year,
        _ => Period::None,
    };
    let framework = draft
        .loaded
        .as_ref()
        .filter(|l| l.is_scheme() && l.sources.len() > 1)
        .and_then(|l| l.sources.first())
        .map(|fw| (fw.name.clone(), content_hash(&fw.text)));
    let trace_rule = |side: &mut Side| {
        if let Some(t) = &mut side.trace {
            *t = t.replace("--rule RULE", &format!("--rule {}", pol_report::shell_quote(&amount)));
        }
    };
    let mut draft_side = draft.side.clone();
    trace_rule(&mut draft_side);
    let base_side = base.as_ref().map(|b| {
        let mut s = b.side.clone();
        trace_rule(&mut s);
        s
    });
    let base_aggs = comparison.base_aggregates();
    let aggregates = summary
        .aggregates
        .iter()
        .enumerate()
        .map(|(i, agg)| {
            let role = if i < base_aggs {
                base_side.as_ref().map_or_else(|| draft_side.role.clone(), |b| b.role.clone())
            } else {
                draft_side.role.clone()
            };
            let mut agg = agg.clone();
            agg.slot = agg.slot.split_once(" · ").map_or(agg.slot.clone(), |(_, s)| s.to_string());
            (role, agg)
        })
        .collect();
    let input_text = display_path(&c.input);
    let input_hash = if std::fs::metadata(&c.input).is_ok_and(|m| m.is_file()) { file_sha256(&c.input)? } else { "—".into() };
    let command_line: Vec<String> = std::env::args_os().map(|a| pol_report::shell_quote(&a.to_string_lossy())).collect();
    let mut provenance = vec![(Title::new("输入数据", "input"), format!("{input_text} (sha256 {input_hash})"))];
    if let Some(b) = &c.binding {
        provenance.push((Title::new("字段映射", "binding"), format!("{} (sha256 {})", display_path(b), file_sha256(b)?)));
    }
    provenance.extend([
        (Title::new("引擎", "engine"), format!("{} ({} threads, batches of {} rows)", summary.engine, summary.threads, summary.batch_rows)),
        (Title::new("重现命令", "command to reproduce"), command_line.join(" ")),
    ]);
    if let Some(rows) = &c.rows {
        provenance.push((
            Title::new("逐条结果", "per-record results"),
            format!("{} (pol verify {})", display_path(rows), display_path(&pol_runtime::manifest_path_for(rows))),
        ));
    }
    let setup = Setup {
        amount: amount.clone(),
        amount_title: None,
        period,
        level: level.clone(),
        age_at: draft.as_of.ok_or_else(|| UsageError("internal error: the draft has no as-of date".into()))?,
        base: base_side,
        draft: draft_side,
        aggregates,
        framework,
        provenance,
        rows_in: summary.rows_in,
        ledger_rows: summary.rows_in_ledger,
        ledger_by_code: summary.ledger_by_code.iter().map(|(k, v)| (k.clone(), *v)).collect(),
        ledger_file: summary.errors.clone(),
        largest: c.largest,
    };
    let mut report = pol_report::build(&data, setup).map_err(UsageError)?;
    let build_ms = report_start.elapsed().as_millis();
    // The timings, measured up to the page itself.
    report.setup.provenance.push((
        Title::new("用时", "time taken"),
        format!("{} ms in all: evaluation {run_ms} ms, figures {build_ms} ms", start.elapsed().as_millis()),
    ));
    if let Some(t) = report.tables.iter_mut().find(|t| t.id == "provenance")
        && let Some((label, value)) = report.setup.provenance.last()
    {
        t.push(vec![label.both(), value.clone()]);
    }
    let written = report.write(&c.report).map_err(UsageError)?;
    drop(scratch);

    outln!(
        "pol {command}: {} records {}, {} in the ledger ({}), {} ms",
        summary.rows_out,
        if base.is_some() { "compared" } else { "evaluated" },
        summary.rows_in_ledger,
        summary.errors,
        start.elapsed().as_millis()
    );
    for h in &report.headline {
        outln!("{} {}", if h.ok { "holds:" } else { "BROKEN:" }, h.text.en);
    }
    outln!("report: {} ({} tables beside it as CSV and xlsx)", display_path(&c.report), written.len().saturating_sub(2));
    let broken = report.headline.iter().any(|h| !h.ok);
    Ok(if broken { ExitCode::from(1) } else { ExitCode::SUCCESS })
}
