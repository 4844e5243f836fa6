//! `pol`: check, test, evaluate, trace, compile and run Pol rule files. The command line is
//! this library's [`main_with`] (the `pol` binary is a call of it), so that other front ends
//! (the Python package) load, check, compile and run files exactly as the CLI does: [`load`]
//! finds a scheme's framework, [`run`] is `pol run`.
//!
//! Exit codes: 0 success, 1 the files have errors (or tests fail, or a run breaks an
//! aggregate requirement), 2 usage or IO errors.

/// `println!` that does not panic when stdout is closed (`pol run … | head`): output that no one
/// reads is dropped, and the command still ends with its own exit code.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stdout(), $($arg)*);
    }};
}

/// `print!` likewise.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = write!(std::io::stdout(), $($arg)*);
    }};
}

pub mod bind;
pub mod diff;
pub mod load;
pub mod lsp;
pub mod records;
pub mod run;

use clap::{Parser, Subcommand};
use load::{Loaded, UsageError, load};
use pol_core::compliance::prove::Budget;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Parser)]
#[command(name = "pol", version, about = "The Pol compiler for regional benefit schemes")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Format {
    Human,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Type-check files; a scheme is also checked for compliance with its framework.
    Check {
        /// The `.pol` files to check (plain rule files, frameworks or schemes).
        files: Vec<PathBuf>,
        /// The framework a scheme implements (default: found next to it or under policies/).
        #[arg(long)]
        framework: Option<PathBuf>,
        /// How to print the diagnostics: rendered for a person, or JSON for tools.
        #[arg(long, value_enum, default_value = "human")]
        format: Format,
    },
    /// Run the `test` blocks of files.
    Test {
        /// The `.pol` files whose `test` blocks run.
        files: Vec<PathBuf>,
        /// The framework a scheme implements (default: found next to it or under policies/).
        #[arg(long)]
        framework: Option<PathBuf>,
        /// As-of date for tests without `as of` (default: the scheme's effective date).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Evaluate one rule for one record given as JSON.
    Eval(EvalArgs),
    /// Like eval, as an audit sheet: inputs read, parameters in force, every step with its file, line, exact value and citation.
    Trace(EvalArgs),
    /// Explain a diagnostic code.
    Explain {
        /// The code, as a diagnostic or a ledger row shows it (`E0201`, `C0107`, `V0002`).
        code: String,
    },
    /// Print the AST of a file as JSON.
    Parse {
        /// The `.pol` file to parse.
        file: PathBuf,
    },
    /// Print the IR of a file's rules (a scheme's framework outputs by default) at an as-of date.
    Ir {
        /// The `.pol` file to lower.
        file: PathBuf,
        /// Print the optimised Cranelift IR of the JIT kernel instead.
        #[arg(long)]
        clif: bool,
        /// Rules to lower (repeatable; default: a scheme's framework outputs, its locked rules and slots over one record).
        #[arg(long)]
        rule: Vec<String>,
        /// The date whose parameter values are folded in (default: the file's effective date).
        #[arg(long)]
        as_of: Option<String>,
        /// The framework a scheme implements (default: found next to it or under policies/).
        #[arg(long)]
        framework: Option<PathBuf>,
    },
    /// Recalculate a population: evaluate a scheme's framework outputs (its locked rules and slots over one record; or --rule) over a Parquet/CSV file.
    Run(run::RunArgs),
    /// Write a deterministic synthetic population of a record type.
    Gen(run::GenArgs),
    /// Measure records/s of the JIT, the interpreter and the IO floor.
    Bench(run::BenchArgs),
    /// Check a run's files against its manifest (sizes, SHA-256, row counts).
    Verify(run::VerifyArgs),
    /// The impact of a draft against a base (another scheme, another date, or a column of last
    /// year's amounts) over a population, in one pass: an HTML report with its tables as CSV and xlsx.
    Diff(diff::DiffArgs),
    /// One scheme over a population: the same report as `pol diff` without the comparison.
    Report(diff::ReportArgs),
    /// A language server over stdio for editors: diagnostics as you type, hover, go to
    /// definition, references, completion and the outline.
    Lsp,
    /// Bindings of a province's own export to a record: `pol bind init`, `pol bind check`.
    Bind {
        #[command(subcommand)]
        command: bind::BindCommand,
    },
}

#[derive(clap::Args)]
pub struct EvalArgs {
    /// The `.pol` file holding the rule.
    file: PathBuf,
    /// The rule to evaluate.
    #[arg(long)]
    rule: String,
    /// The record as a JSON object (`{"birth_date": "1950-06-01", "monthly_pension": "3000"}`).
    #[arg(long)]
    record: String,
    /// The date whose parameter values apply (default: the file's effective date).
    #[arg(long)]
    as_of: Option<String>,
    /// The framework a scheme implements (default: found next to it or under policies/).
    #[arg(long)]
    framework: Option<PathBuf>,
    /// How to print the result (and trace's audit sheet): for a person, or JSON for tools.
    #[arg(long, value_enum, default_value = "human")]
    format: Format,
}

/// Runs the command line `args` (the program's name first), as the `pol` binary does.
pub fn main_with<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<std::ffi::OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version go to stdout with 0, mistakes to stderr with 2, as clap exits.
            let _ = e.print();
            return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
        }
    };
    let result = pol_core::on_compiler_stack(move || match cli.command {
        Command::Check { files, framework, format } => check(&files, framework.as_deref(), format),
        Command::Test { files, framework, as_of } => test(&files, framework.as_deref(), as_of.as_deref()),
        Command::Eval(a) => records::eval(&a, false),
        Command::Trace(a) => records::eval(&a, true),
        Command::Explain { code } => explain(&code),
        Command::Parse { file } => parse(&file),
        Command::Ir { file, clif, rule, as_of, framework } => ir(&file, clif, &rule, as_of.as_deref(), framework.as_deref()),
        Command::Run(a) => run::run(&a),
        Command::Gen(a) => run::generate(&a),
        Command::Bench(a) => run::bench(&a),
        Command::Verify(a) => run::verify(&a),
        Command::Diff(a) => diff::diff(&a),
        Command::Report(a) => diff::report(&a),
        Command::Lsp => lsp::serve(),
        Command::Bind { command } => bind::bind(&command),
    });
    match result {
        Ok(code) => code,
        Err(UsageError(msg)) => {
            eprintln!("error: {msg}");
            ExitCode::from(2)
        }
    }
}

pub fn parse_date_arg(s: Option<&str>) -> Result<Option<i64>, UsageError> {
    s.map(|d| pol_core::calendar::parse_date(d).ok_or_else(|| UsageError(format!("`{d}` is not a date (YYYY-MM-DD)")))).transpose()
}

fn check(files: &[PathBuf], framework: Option<&std::path::Path>, format: Format) -> Result<ExitCode, UsageError> {
    if files.is_empty() {
        return Err(UsageError("no files given".into()));
    }
    let mut failed = false;
    let mut json = Vec::new();
    for f in files {
        let loaded = load(f, framework, &Budget::default())?;
        failed |= loaded.has_errors();
        let verdict = verdict(&loaded);
        match format {
            Format::Human => {
                out!("{}", loaded.render());
                outln!("{}: {verdict}", load::display_path(f));
            }
            Format::Json => {
                let diags = loaded.json_diagnostics();
                let framework = loaded.sources.first().filter(|_| loaded.is_scheme() && loaded.sources.len() > 1);
                json.push(serde_json::json!({
                    "file": load::display_path(f),
                    "verdict": verdict,
                    "framework": framework.map(|fw| fw.name.clone()),
                    "framework_sha256": framework.map(|fw| load::content_hash(&fw.text)),
                    "diagnostics": diags,
                }));
            }
        }
    }
    if format == Format::Json {
        outln!("{}", serde_json::to_string_pretty(&json).unwrap_or_default());
    }
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// The verdict on a file; a scheme's names the framework file it was checked against and the
/// SHA-256 of its text, so an auditor can tell which national text it was measured against.
pub fn verdict(l: &Loaded) -> String {
    let n: usize = l.diagnostics.iter().map(Vec::len).sum();
    let against = match (l.is_scheme(), l.sources.first()) {
        (true, Some(fw)) if l.sources.len() > 1 => format!(" against {} (sha256 {})", fw.name, load::content_hash(&fw.text)),
        _ => String::new(),
    };
    match (n, l.is_scheme()) {
        (0, true) => format!("compliant{against}"),
        (0, false) => "ok".into(),
        (n, true) => format!("not compliant ({n} error{}){against}", if n == 1 { "" } else { "s" }),
        (n, false) => format!("{n} error{}", if n == 1 { "" } else { "s" }),
    }
}

fn test(files: &[PathBuf], framework: Option<&std::path::Path>, as_of: Option<&str>) -> Result<ExitCode, UsageError> {
    if files.is_empty() {
        return Err(UsageError("no files given".into()));
    }
    let as_of = parse_date_arg(as_of)?;
    let (mut total, mut failed_tests, mut broken_files) = (0, 0, 0);
    for f in files {
        let loaded = load(f, framework, &Budget::default())?;
        let name = load::display_path(f);
        if loaded.has_errors() {
            out!("{}", loaded.render());
            outln!("{name}: not run ({})", verdict(&loaded));
            broken_files += 1;
            continue;
        }
        let default = as_of.or_else(|| loaded.module.files.last().and_then(|fi| fi.effective));
        let outcomes = pol_core::testing::run_tests(&loaded.module, &loaded.sources, default);
        for o in &outcomes {
            total += 1;
            if o.passed() {
                outln!("PASS {name}:{} {}", o.line, o.name);
            } else {
                failed_tests += 1;
                outln!("FAIL {name}:{} {}", o.line, o.name);
                let src = loaded.sources.last();
                for fl in &o.failures {
                    let text = src.map(|s| s.slice(fl.span).split_whitespace().collect::<Vec<_>>().join(" ")).unwrap_or_default();
                    outln!("  {name}:{}: {} {}", fl.line, fl.code, fl.message);
                    outln!("      | {text}");
                }
            }
        }
    }
    outln!(
        "{total} tests, {} passed, {failed_tests} failed{}",
        total - failed_tests,
        if broken_files > 0 { format!(", {broken_files} files with errors") } else { String::new() }
    );
    Ok(if failed_tests + broken_files > 0 { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

fn explain(code: &str) -> Result<ExitCode, UsageError> {
    match pol_core::codes::lookup(code) {
        Some(c) => {
            outln!("{} ({})\n\n{}", c.code, c.name, c.explanation);
            Ok(ExitCode::SUCCESS)
        }
        None => Err(UsageError(format!("unknown code `{code}`; codes look like E0201, C0104, R0001"))),
    }
}

fn parse(file: &std::path::Path) -> Result<ExitCode, UsageError> {
    let src = load::read_source(file)?;
    match pol_core::syntax::parse_file(&src.text) {
        Ok(ast) => {
            outln!("{}", serde_json::to_string_pretty(&ast).unwrap_or_default());
            Ok(ExitCode::SUCCESS)
        }
        Err(d) => {
            out!("{}", pol_core::diagnostic::render(&src, &d));
            Ok(ExitCode::from(1))
        }
    }
}

fn ir(
    file: &std::path::Path,
    clif: bool,
    rules: &[String],
    as_of: Option<&str>,
    framework: Option<&std::path::Path>,
) -> Result<ExitCode, UsageError> {
    let loaded = load(file, framework, &Budget::default())?;
    if loaded.has_errors() {
        out!("{}", loaded.render());
        return Ok(ExitCode::from(1));
    }
    let as_of = parse_date_arg(as_of)?;
    match records::compile(&loaded, rules, as_of) {
        Ok(program) if clif => match pol_jit::JitKernel::clif(&program) {
            Ok(text) => {
                out!("{text}");
                Ok(ExitCode::SUCCESS)
            }
            Err(e) => Err(UsageError(format!("JIT compilation failed: {e}"))),
        },
        Ok(program) => {
            out!("{program}");
            Ok(ExitCode::SUCCESS)
        }
        Err(text) => {
            out!("{text}");
            Ok(ExitCode::from(1))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Cli;
    use clap::CommandFactory;

    /// Every subcommand and every one of its arguments says what it is for in `--help`.
    #[test]
    fn every_subcommand_and_option_has_a_description() {
        let cli = Cli::command();
        let mut missing = Vec::new();
        for sub in cli.get_subcommands() {
            if sub.get_about().is_none() {
                missing.push(sub.get_name().to_string());
            }
            for arg in sub.get_arguments() {
                let builtin = matches!(arg.get_id().as_str(), "help" | "version");
                if !builtin && arg.get_help().is_none() {
                    missing.push(format!("{} {}", sub.get_name(), arg.get_id()));
                }
            }
        }
        assert!(missing.is_empty(), "no help text: {missing:?}");
    }
}
