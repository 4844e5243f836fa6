//! `pol run`, `pol gen` and `pol bench`: the batch side of the CLI.

use crate::load::{UsageError, load};
use pol_core::compliance::prove::Budget;
use pol_core::interp::InterpKernel;
use pol_core::lower::{input_cell, scalar_ty};
use pol_jit::JitKernel;
use pol_kernel::{ColumnSpec, Kernel};
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    Jit,
    Interp,
}

#[derive(clap::Args)]
pub struct RunArgs {
    /// The checked scheme (or rule file) to run.
    scheme: PathBuf,
    /// The population to read (.parquet, .csv, .xlsx/.xls), or a PostgreSQL database
    /// (`postgresql://user@host:5432/db`, the password from PGPASSWORD) with --input-table or
    /// --input-query (or the binding's `[source]` table or query).
    #[arg(long)]
    input: PathBuf,
    /// The file to write (.parquet, .csv or .xlsx; missing parent folders are created), or a PostgreSQL
    /// database with --output-table.
    #[arg(long)]
    output: PathBuf,
    /// The table of a PostgreSQL input (`retirees`, `pension.retirees`); overrides the binding's.
    #[arg(long, conflicts_with = "input_query")]
    input_table: Option<String>,
    /// The query of a PostgreSQL input (`SELECT … FROM …`); overrides the binding's.
    #[arg(long)]
    input_query: Option<String>,
    /// The table a PostgreSQL output replaces, in one transaction committed only when the run
    /// succeeds; the ledger, summary and manifest are then `<table>.errors.csv` etc. here.
    #[arg(long)]
    output_table: Option<String>,
    /// How the input's columns map to the record's fields (a TOML binding, docs/data.md).
    #[arg(long)]
    binding: Option<PathBuf>,
    /// A source column to copy to the output as text, after the results (repeatable; added to
    /// the binding's `keep`).
    #[arg(long)]
    keep: Vec<String>,
    /// The row error ledger (CSV); default `<output without extension>.errors.csv`.
    #[arg(long)]
    errors: Option<PathBuf>,
    /// The date whose parameter values apply (default: the scheme's effective date).
    #[arg(long)]
    as_of: Option<String>,
    /// Evaluation threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// The engine: the Cranelift JIT, or the reference interpreter (slower, same bytes).
    #[arg(long, value_enum, default_value = "jit")]
    engine: Engine,
    /// Where to write the run's summary as JSON; default `<output without extension>.summary.json`.
    #[arg(long)]
    summary_json: Option<PathBuf>,
    /// Report broken aggregate requirements without failing the run.
    #[arg(long)]
    warn_aggregates: bool,
    /// Rules to evaluate (default: a scheme's framework outputs, its locked rules and slots over one record).
    #[arg(long)]
    rule: Vec<String>,
    /// The framework a scheme implements (default: found next to it or under policies/).
    #[arg(long)]
    framework: Option<PathBuf>,
    /// Rows per batch read, evaluated and written at a time (1 ..= 1048576).
    #[arg(long, default_value_t = pol_runtime::DEFAULT_BATCH_ROWS)]
    batch_rows: usize,
    /// Ledger rows allowed before the run fails: a count (`100`) or a share of the input (`0.5%`).
    /// Default 0: any row in the ledger fails the run (the ledger and summary are still written).
    #[arg(long, default_value = "0", value_parser = pol_runtime::ErrorLimit::parse)]
    max_errors: pol_runtime::ErrorLimit,
}

#[derive(clap::Args)]
pub struct VerifyArgs {
    /// A run's manifest (`<output>.manifest.json`) or its output file.
    path: PathBuf,
}

/// Exit code of a run stopped by SIGINT or SIGTERM (128 + SIGINT, as shells report it).
pub(crate) const EXIT_INTERRUPTED: u8 = 130;

/// SIGINT and SIGTERM set the returned flag, which the run polls; it then removes its temporary
/// files and fails. A second signal ends the process at once.
pub(crate) fn cancel_on_signals() -> Result<std::sync::Arc<std::sync::atomic::AtomicBool>, UsageError> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, i32::from(EXIT_INTERRUPTED), flag.clone())
            .and_then(|_| signal_hook::flag::register(signal, flag.clone()))
            .map_err(|e| UsageError(format!("cannot install the signal handler: {e}")))?;
    }
    Ok(flag)
}

#[derive(clap::Args)]
pub struct GenArgs {
    /// The file (scheme or framework) that declares the record type.
    file: PathBuf,
    /// The record type to generate.
    #[arg(long)]
    record: String,
    /// How many records to write.
    #[arg(long)]
    rows: u64,
    /// The seed: the same seed, record and profile give the same file.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// The file to write (.parquet or .csv); missing parent folders are created.
    #[arg(long)]
    output: PathBuf,
    /// The framework a scheme implements (default: found next to it or under policies/).
    #[arg(long)]
    framework: Option<PathBuf>,
    /// A TOML profile giving each field a distribution (docs/profiles.md); default: uniform.
    #[arg(long)]
    profile: Option<PathBuf>,
}

#[derive(clap::Args)]
pub struct BenchArgs {
    /// The scheme to benchmark.
    #[arg(default_value = "policies/provinces/guangdong/pension_adjustment_2024.pol")]
    scheme: PathBuf,
    /// How many generated records to measure on.
    #[arg(long, default_value_t = 2_000_000)]
    rows: u64,
    /// Where to write the generated population and outputs.
    #[arg(long, default_value = "target/bench")]
    dir: PathBuf,
    /// Threads of the end-to-end runs (default: 1 and then 2).
    #[arg(long)]
    threads: Option<usize>,
    /// Measure reading through bindings instead: the canonical Parquet file against a Parquet
    /// export with its own names and types and a GBK CSV with Chinese headers, end to end.
    #[arg(long)]
    formats: bool,
    /// Measure `pol diff` of the scheme against this draft instead: the whole report, end to end.
    #[arg(long, conflicts_with = "formats")]
    diff: Option<PathBuf>,
    /// The profile the population for --diff is generated from (default: uniform over the domains).
    #[arg(long, requires = "diff")]
    profile: Option<PathBuf>,
    /// Measure the language server instead: a change of the scheme, grown to a few hundred lines
    /// of rules, checked with its framework and compliance, and answers after it.
    #[arg(long, conflicts_with_all = ["formats", "diff"])]
    lsp: bool,
}

pub(crate) fn kernel(engine: Engine, program: pol_core::ir::Program) -> Result<Box<dyn Kernel>, UsageError> {
    Ok(match engine {
        Engine::Interp => Box::new(InterpKernel::new(program)),
        Engine::Jit => Box::new(JitKernel::compile(&program).map_err(|e| UsageError(format!("JIT compilation failed: {e}")))?),
    })
}

fn compiled(
    scheme: &Path,
    framework: Option<&Path>,
    rules: &[String],
    as_of: Option<&str>,
) -> Result<Result<pol_core::ir::Program, ExitCode>, UsageError> {
    Ok(compiled_with_module(scheme, framework, rules, as_of)?.map(|(p, _)| p))
}

/// The program of a run, with the checked files it came from.
pub fn compiled_with_module(
    scheme: &Path,
    framework: Option<&Path>,
    rules: &[String],
    as_of: Option<&str>,
) -> Result<Result<(pol_core::ir::Program, crate::load::Loaded), ExitCode>, UsageError> {
    let loaded = load(scheme, framework, &Budget::default())?;
    if loaded.has_errors() {
        out!("{}", loaded.render());
        eprintln!("error: {} does not check; nothing was run", scheme.display());
        return Ok(Err(ExitCode::from(1)));
    }
    let as_of = crate::parse_date_arg(as_of)?;
    match run_program(&loaded, rules, as_of)? {
        Ok(p) => Ok(Ok((p, loaded))),
        Err(errs) => {
            out!("{}", crate::records::render_errors(&loaded, &errs));
            Ok(Err(ExitCode::from(1)))
        }
    }
}

/// The program a run of a checked file evaluates: `rules`, else the file's entry rules
/// ([`crate::records::entry_rules`]), and every slot with an aggregate requirement that they
/// depend on (choosing the outputs never bypasses a national aggregate). Diagnostics come with
/// the index of their source in `loaded.sources`.
#[allow(clippy::type_complexity)]
pub fn run_program(
    loaded: &crate::load::Loaded,
    rules: &[String],
    as_of: Option<i64>,
) -> Result<Result<pol_core::ir::Program, Vec<(usize, pol_core::diagnostic::Diagnostic)>>, UsageError> {
    let entries = crate::records::entry_rules(loaded, rules)?;
    let entries = pol_core::compliance::guarded_outputs(&loaded.module, &entries);
    Ok(crate::records::lower_rules(loaded, &entries, as_of))
}

/// Parses the arguments of `pol run` (`args` as after `pol run`), for front ends that run
/// a command line of their own.
pub fn parse_run_args<I, T>(args: I) -> Result<RunArgs, String>
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    #[derive(clap::Parser)]
    #[command(name = "pol run")]
    struct Line {
        #[command(flatten)]
        args: RunArgs,
    }
    use clap::Parser as _;
    let line = std::iter::once(std::ffi::OsString::from("pol run")).chain(args.into_iter().map(Into::into));
    Line::try_parse_from(line).map(|l| l.args).map_err(|e| e.render().to_string())
}

pub fn run(a: &RunArgs) -> Result<ExitCode, UsageError> {
    Ok(run_with(a, cancel_on_signals()?)?.0)
}

/// `pol run` stopped when `cancel` is set (the CLI sets it on SIGINT and SIGTERM): its exit
/// code, and the summary when the run got as far as writing one.
pub fn run_with(
    a: &RunArgs,
    cancel: std::sync::Arc<std::sync::atomic::AtomicBool>,
) -> Result<(ExitCode, Option<pol_runtime::RunSummary>), UsageError> {
    let (program, loaded) = match compiled_with_module(&a.scheme, a.framework.as_deref(), &a.rule, a.as_of.as_deref())? {
        Ok(p) => p,
        Err(code) => return Ok((code, None)),
    };
    let binding = match &a.binding {
        None => None,
        Some(path) => Some(crate::bind::binding_for(&loaded, crate::bind::load_binding(path, None)?, &path.display().to_string())?),
    };
    let binding = match (binding, a.keep.is_empty()) {
        (binding, true) => binding,
        (binding, false) => {
            let mut binding = binding.unwrap_or_default();
            binding.keep.extend(a.keep.iter().cloned());
            Some(binding)
        }
    };
    let binding = match (&a.input_table, &a.input_query) {
        (None, None) => binding,
        (table, query) => {
            let mut binding = binding.unwrap_or_default();
            binding.source.table = table.clone();
            binding.source.query = query.clone();
            Some(binding)
        }
    };
    let k = kernel(a.engine, program)?;
    let opts = pol_runtime::RunOptions {
        input: a.input.clone(),
        output: a.output.clone(),
        errors: a.errors.clone(),
        summary: a.summary_json.clone(),
        threads: a.threads,
        batch_rows: a.batch_rows,
        warn_aggregates: a.warn_aggregates,
        progress: true,
        max_errors: a.max_errors,
        cancel: Some(cancel),
        binding,
        output_table: a.output_table.clone(),
    };
    match pol_runtime::run(k.as_ref(), &opts) {
        Ok(s) => {
            print_summary(&s);
            Ok((ExitCode::SUCCESS, Some(s)))
        }
        Err(pol_runtime::RuntimeError::RunFailed { summary }) => {
            print_summary(&summary);
            eprintln!("error: {}", pol_runtime::RuntimeError::RunFailed { summary: summary.clone() });
            Ok((ExitCode::from(1), Some(*summary)))
        }
        Err(e) if e.is_rule_failure() => {
            eprintln!("error: {e}");
            Ok((ExitCode::from(1), None))
        }
        Err(e) if matches!(e.cause(), pol_runtime::RuntimeError::Interrupted) => {
            eprintln!("error: {e}");
            Ok((ExitCode::from(EXIT_INTERRUPTED), None))
        }
        Err(e) => Err(UsageError(e.to_string())),
    }
}

fn print_summary(s: &pol_runtime::RunSummary) {
    outln!(
        "{}: {} rows in, {} rows {}, {} rows in the error ledger ({}), engine {}, {} threads, {} ms",
        s.program,
        s.rows_in,
        s.rows_out,
        if s.output_written { "out" } else { "evaluated (the output was not written)" },
        s.rows_in_ledger,
        s.errors,
        s.engine,
        s.threads,
        s.elapsed.as_millis()
    );
    for agg in &s.aggregates {
        outln!(
            "aggregate {} `{}`: {} {} {} — {}",
            agg.slot,
            agg.text,
            agg.lhs,
            agg.cmp,
            agg.rhs,
            if agg.holds { "holds" } else { "BROKEN" }
        );
    }
    if s.output_written {
        outln!("committed: {} (pol verify {})", s.output, s.manifest);
    }
}

/// `pol verify`: every file of a run's manifest is there with its recorded size, hash and rows.
pub fn verify(a: &VerifyArgs) -> Result<ExitCode, UsageError> {
    let v = match pol_runtime::verify(&a.path) {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return Ok(ExitCode::from(1));
        }
    };
    for problem in &v.problems {
        outln!("MISMATCH {problem}");
    }
    if v.problems.is_empty() {
        for f in &v.manifest.files {
            let rows = f.rows.map_or_else(String::new, |r| format!(", {r} rows"));
            let table = f.table.as_ref().map_or_else(String::new, |t| format!(" table {t}"));
            outln!("ok {} {}{table} ({} bytes{rows}, sha256 {})", f.role, f.path, f.bytes, f.sha256);
        }
    }
    if v.manifest.outcome != "ok" {
        outln!("the run of {} failed: its output was not written (the summary says why)", v.manifest.program);
    }
    Ok(if v.ok() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}

/// The columns of a record type, as `pol gen` writes them.
fn record_columns(m: &pol_core::check::Module, name: &str) -> Result<Vec<ColumnSpec>, UsageError> {
    let rec = m.records.iter().find(|r| r.name == name).ok_or_else(|| {
        UsageError(format!("no record `{name}`; records are {}", m.records.iter().map(|r| r.name.as_str()).collect::<Vec<_>>().join(", ")))
    })?;
    Ok(rec
        .fields
        .iter()
        .map(|f| {
            let sty = scalar_ty(m, f.ty);
            let domain = f.domain.and_then(|(lo, hi)| Some((input_cell(lo, &sty)?, input_cell(hi, &sty)?)));
            ColumnSpec { name: f.name.clone(), ty: sty, domain, is_id: f.is_key, read: true }
        })
        .collect())
}

pub fn generate(a: &GenArgs) -> Result<ExitCode, UsageError> {
    let loaded = load(&a.file, a.framework.as_deref(), &Budget::default())?;
    if loaded.has_errors() {
        out!("{}", loaded.render());
        return Ok(ExitCode::from(1));
    }
    let cols = record_columns(&loaded.module, &a.record)?;
    let profile = match &a.profile {
        None => None,
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| UsageError(format!("cannot read profile `{}`: {e}", path.display())))?;
            let profile = pol_runtime::Profile::parse(&text).map_err(|e| UsageError(format!("`{}`: {e}", path.display())))?;
            if let Some(name) = profile.record().filter(|name| *name != a.record) {
                return Err(UsageError(format!("profile `{}` is for record `{name}`, not `{}`", path.display(), a.record)));
            }
            profile.check(&cols).map_err(|e| UsageError(format!("`{}`: {e}", path.display())))?;
            Some(profile)
        }
    };
    let report =
        pol_runtime::generate_with_profile(&cols, a.rows, a.seed, profile.as_ref(), &a.output).map_err(|e| UsageError(e.to_string()))?;
    let how = a.profile.as_ref().map_or_else(|| "uniform over the declared domains".to_string(), |p| format!("profile {}", p.display()));
    outln!("wrote {} rows of {} to {} in {} ms ({how})", report.rows, a.record, a.output.display(), report.elapsed.as_millis());
    if report.rows > 0 {
        // Money totals in exact fen (i128), shown in yuan; the mean is rounded half away from zero.
        let yuan = |fen: i128| format!("{}{}.{:02}", if fen < 0 { "-" } else { "" }, fen.unsigned_abs() / 100, fen.unsigned_abs() % 100);
        for t in report.totals.iter().filter(|t| t.ty == pol_runtime::ColumnType::Money) {
            outln!(
                "  {}: sum {} yuan, mean {} yuan, min {}, max {}",
                t.name,
                yuan(t.sum),
                yuan(t.mean(report.rows)),
                yuan(i128::from(t.min)),
                yuan(i128::from(t.max))
            );
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// `pol bench --formats`: end-to-end runs over the same records in three layouts.
fn bench_formats(a: &BenchArgs, program: pol_core::ir::Program) -> Result<ExitCode, UsageError> {
    let err = |e: pol_runtime::RuntimeError| UsageError(e.to_string());
    std::fs::create_dir_all(&a.dir).map_err(|e| UsageError(format!("cannot create {}: {e}", a.dir.display())))?;
    let sig = pol_core::interp::signature(&program);
    let canonical = a.dir.join("population.parquet");
    pol_runtime::generate(&sig.inputs, a.rows, 7, &canonical).map_err(err)?;
    let exports = pol_runtime::write_exports(&sig.inputs, &canonical, &a.dir).map_err(err)?;
    let jit = JitKernel::compile(&program).map_err(|e| UsageError(e.to_string()))?;
    outln!("benchmark: {} over {} generated rows, end to end into Parquet, jit", program.name, a.rows);
    let mut best = Vec::new();
    for (name, input, binding) in [
        ("canonical Parquet, no binding", &canonical, None),
        ("Parquet export + binding", &exports.parquet, Some(&exports.parquet_binding)),
        ("GBK CSV + binding", &exports.gbk_csv, Some(&exports.csv_binding)),
    ] {
        let binding = binding.map(|b| pol_runtime::Binding::load(b)).transpose().map_err(err)?;
        let mut secs = f64::MAX;
        for _ in 0..3 {
            let mut opts = pol_runtime::RunOptions::new(input, a.dir.join("formats-out.parquet"));
            opts.threads = a.threads;
            opts.warn_aggregates = true;
            opts.max_errors = pol_runtime::ErrorLimit::Rows(u64::MAX);
            opts.binding = binding.clone();
            let t = Instant::now();
            let s = pol_runtime::run(&jit, &opts).map_err(err)?;
            secs = secs.min(t.elapsed().as_secs_f64());
            if s.rows_in != a.rows {
                return Err(UsageError(format!("{name}: {} rows read of {}", s.rows_in, a.rows)));
            }
        }
        outln!("{name:<32} {}  (best of 3)", rate(a.rows, secs));
        best.push(secs);
    }
    outln!("binding cost on Parquet: {:+.1}% of the canonical run's time", 100.0 * (best[1] - best[0]) / best[0]);
    Ok(ExitCode::SUCCESS)
}

fn rate(rows: u64, secs: f64) -> String {
    // Throughput figures for a human; no money is computed here.
    format!("{:>8.2} M records/s", rows as f64 / secs.max(1e-9) / 1e6)
}

/// `pol bench --diff DRAFT`: `pol diff` end to end over a generated population, best of 3.
fn bench_diff(a: &BenchArgs, draft: &Path) -> Result<ExitCode, UsageError> {
    std::fs::create_dir_all(&a.dir).map_err(|e| UsageError(format!("cannot create {}: {e}", a.dir.display())))?;
    let input = a.dir.join("diff-population.parquet");
    let record = {
        let loaded = load(&a.scheme, None, &Budget::default())?;
        let record = loaded.module.records.iter().find(|r| r.fields.iter().any(|f| f.is_key)).map(|r| r.name.clone());
        record.ok_or_else(|| UsageError(format!("{} declares no record with a key", a.scheme.display())))?
    };
    let population = GenArgs {
        file: a.scheme.clone(),
        record,
        rows: a.rows,
        seed: 7,
        output: input.clone(),
        framework: None,
        profile: a.profile.clone(),
    };
    let code = generate(&population)?;
    if code != ExitCode::SUCCESS {
        return Ok(code);
    }
    let report = a.dir.join("diff-report.html");
    let mut line = vec![
        a.scheme.display().to_string(),
        draft.display().to_string(),
        "--input".into(),
        input.display().to_string(),
        "--report".into(),
        report.display().to_string(),
    ];
    if let Some(t) = a.threads {
        line.extend(["--threads".into(), t.to_string()]);
    }
    let args = crate::diff::parse_diff_args(&line).map_err(UsageError)?;
    let mut best = f64::MAX;
    for _ in 0..3 {
        let t = Instant::now();
        let code = crate::diff::diff(&args)?;
        // A draft that breaks a requirement still writes its report (exit 1).
        if code != ExitCode::SUCCESS && code != ExitCode::from(1) {
            return Ok(code);
        }
        best = best.min(t.elapsed().as_secs_f64());
    }
    outln!(
        "pol diff {} vs {} over {} rows, report and tables written: {best:.2} s (best of 3), {}",
        a.scheme.display(),
        draft.display(),
        a.rows,
        rate(a.rows, best)
    );
    Ok(ExitCode::SUCCESS)
}

/// `pol bench --lsp`: the scheme with 50 rules more (a few hundred lines), changed and checked
/// 20 times, with a hover, a definition and a completion after each change.
fn bench_lsp(a: &BenchArgs) -> Result<ExitCode, UsageError> {
    let text = std::fs::read_to_string(&a.scheme).map_err(|e| UsageError(format!("cannot read {}: {e}", a.scheme.display())))?;
    let loaded = load(&a.scheme, None, &Budget::default())?;
    let record = loaded.module.records.iter().find(|r| r.fields.iter().any(|f| f.is_key)).map(|r| r.name.clone());
    let money = loaded
        .module
        .records
        .iter()
        .flat_map(|r| r.fields.iter())
        .find(|f| matches!(f.ty, pol_core::check::Ty::Money(_)))
        .map(|f| f.name.clone());
    let mut grown = text.clone();
    if let (Some(record), Some(field)) = (record, money) {
        for k in 0..50 {
            grown.push_str(&format!(
                "\n// 测算用辅助规则 {k}\nrule 辅助规则{k}(r: {record}) -> Money/month\n  cite \"bench\"\n{{\n  let 基数 = r.{field}\n  max(基数 - {k} yuan, 0 yuan)\n}}\n"
            ));
        }
    }
    let probe = grown.rfind("r.").map_or(0, |i| i + 2);
    let l = crate::lsp::measure(&a.scheme, &grown, probe, 20);
    let stats = |v: &[f64]| {
        let mut v = v.to_vec();
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() - 1])
    };
    let (change_median, change_max) = stats(&l.change_ms);
    let (answer_median, answer_max) = stats(&l.answer_ms);
    let (proof_median, proof_max) = stats(&l.proof_ms);
    outln!("pol lsp on {} grown to {} lines:", a.scheme.display(), l.lines);
    outln!(
        "  change → diagnostics (parse, check with the framework): median {change_median:.1} ms, max {change_max:.1} ms over {} changes",
        l.change_ms.len()
    );
    outln!("  then the compliance proofs → full diagnostics: median {proof_median:.1} ms, max {proof_max:.1} ms");
    outln!("  hover / definition / completion: median {answer_median:.2} ms, max {answer_max:.2} ms over {} requests", l.answer_ms.len());
    Ok(ExitCode::SUCCESS)
}

pub fn bench(a: &BenchArgs) -> Result<ExitCode, UsageError> {
    if a.lsp {
        return bench_lsp(a);
    }
    if let Some(draft) = &a.diff {
        return bench_diff(a, draft);
    }
    let program = match compiled(&a.scheme, None, &[], None)? {
        Ok(p) => p,
        Err(code) => return Ok(code),
    };
    if a.formats {
        return bench_formats(a, program);
    }
    std::fs::create_dir_all(&a.dir).map_err(|e| UsageError(format!("cannot create {}: {e}", a.dir.display())))?;
    let input = a.dir.join("population.parquet");
    let sig = pol_core::interp::signature(&program);
    pol_runtime::generate(&sig.inputs, a.rows, 7, &input).map_err(|e| UsageError(e.to_string()))?;
    let cols = pol_runtime::read_columns(&sig.inputs, &input, pol_runtime::DEFAULT_BATCH_ROWS).map_err(|e| UsageError(e.to_string()))?;
    let n = cols.rows as usize;
    let inputs: Vec<&[i64]> = cols.columns.iter().map(|c| c.as_slice()).collect();
    let jit = JitKernel::compile(&program).map_err(|e| UsageError(e.to_string()))?;
    let interp = InterpKernel::new(program.clone());
    outln!("benchmark: {} over {} generated rows ({})", program.name, n, input.display());

    let time_kernel = |k: &dyn Kernel, rows: usize| {
        // Written before the clock starts (not `vec![0; n]`, whose pages would be faulted in
        // inside the timed loop), as a run reuses its buffers.
        let mut outs: Vec<Vec<i64>> = program.outputs.iter().map(|_| vec![-1; rows]).collect();
        let mut status = vec![0u32; rows];
        std::hint::black_box(&mut status).fill(0);
        let cut: Vec<&[i64]> = inputs.iter().map(|c| &c[..rows]).collect();
        let t = Instant::now();
        let mut views: Vec<&mut [i64]> = outs.iter_mut().map(|o| o.as_mut_slice()).collect();
        k.eval_batch(&cut, &mut views, &mut status);
        (t.elapsed().as_secs_f64(), outs, status)
    };
    let (t_jit, jit_out, jit_status) = time_kernel(&jit, n);
    outln!("jit, compute only, 1 thread:        {}", rate(n as u64, t_jit));
    let interp_rows = n.min(200_000);
    let (t_int, int_out, int_status) = time_kernel(&interp, interp_rows);
    outln!("interpreter, compute only, 1 thread: {}  ({} rows)", rate(interp_rows as u64, t_int), interp_rows);
    let agree = (0..interp_rows)
        .all(|r| int_status[r] == jit_status[r] && (int_status[r] != 0 || int_out.iter().zip(&jit_out).all(|(a, b)| a[r] == b[r])));
    outln!("jit agrees with the interpreter on those rows: {agree}");
    outln!("hand-written Rust: cargo bench -p pol-cli --bench guangdong");
    outln!("jit speed-up over the interpreter:   {:.1}x", (n as f64 / t_jit) / (interp_rows as f64 / t_int));

    let floor = pol_runtime::measure_io_floor(&sig, &input, &a.dir.join("floor.parquet"), pol_runtime::DEFAULT_BATCH_ROWS)
        .map_err(|e| UsageError(e.to_string()))?;
    outln!("IO floor (read + write, no compute): {}", rate(floor.rows, floor.elapsed.as_secs_f64()));
    for threads in [1usize, 2] {
        let opts = pol_runtime::RunOptions {
            input: input.clone(),
            output: a.dir.join(format!("out-{threads}.parquet")),
            errors: None,
            summary: None,
            threads: Some(a.threads.unwrap_or(threads)),
            batch_rows: pol_runtime::DEFAULT_BATCH_ROWS,
            warn_aggregates: true,
            progress: false,
            max_errors: pol_runtime::ErrorLimit::Rows(u64::MAX),
            cancel: None,
            binding: None,
            output_table: None,
        };
        let t = Instant::now();
        let s = pol_runtime::run(&jit, &opts).map_err(|e| UsageError(e.to_string()))?;
        let secs = t.elapsed().as_secs_f64();
        outln!(
            "end to end Parquet -> Parquet, jit, {} threads: {}  ({:.0}% of the IO floor)",
            s.threads,
            rate(s.rows_in, secs),
            100.0 * (s.rows_in as f64 / secs) / (floor.rows as f64 / floor.elapsed.as_secs_f64())
        );
    }
    Ok(ExitCode::SUCCESS)
}
