//! The real rules under `policies/`, loaded the way `pol check` / `pol test` load them
//! (compiler/cli/src/load.rs): a scheme is checked on top of the framework it names
//! (`implements NAME version V`) and for compliance; then its `test` blocks run.
//!
//! - every file outside `policies/rejected/` checks with no diagnostics and all its tests pass;
//! - every file in `policies/rejected/` starts with `// expect: CODE` and raises that code and
//!   no other (compliance diagnostics first; when there are none, the codes of failing tests,
//!   e.g. C0111 for a population that breaks an aggregate requirement).

use pol_core::check::Module;
use pol_core::compliance::prove;
use pol_core::span::SourceFile;
use pol_core::syntax::{self, ast};
use pol_core::{driver, testing};
use std::path::{Path, PathBuf};

fn policies_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join("policies")
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir).expect("readable directory").flatten().map(|e| e.path()).collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            collect(&p, out);
        } else if p.extension().is_some_and(|e| e == "pol") {
            out.push(p);
        }
    }
}

struct PolFile {
    path: PathBuf,
    source: SourceFile,
    ast: Result<ast::File, Vec<pol_core::diagnostic::Diagnostic>>,
}

fn load_all() -> Vec<PolFile> {
    let root = policies_root();
    let mut paths = Vec::new();
    collect(&root, &mut paths);
    paths
        .into_iter()
        .map(|path| {
            let rel = path.strip_prefix(&root).unwrap_or(&path).display().to_string();
            let text = std::fs::read_to_string(&path).expect("readable file");
            let source = SourceFile::new(format!("policies/{rel}"), text);
            let ast = syntax::parse_file(&source.text);
            PolFile { path, source, ast }
        })
        .collect()
}

/// What loading one file gave: the diagnostic codes (framework's and file's), and, when there
/// are none, the outcome of its tests.
struct Outcome {
    codes: Vec<&'static str>,
    messages: Vec<String>,
    tests: usize,
    test_failures: Vec<(String, &'static str, String)>,
}

fn framework_for<'a>(all: &'a [PolFile], name: &str, version: Option<&String>) -> Option<&'a PolFile> {
    all.iter().find(|f| match &f.ast {
        Ok(ast::File { header: Some(ast::Header { kind: ast::HeaderKind::Framework { version: v }, name: n, .. }), .. }) => {
            n.name == name && version.is_none_or(|want| want == v)
        }
        _ => false,
    })
}

fn run(all: &[PolFile], file: &PolFile) -> Outcome {
    let mut out = Outcome { codes: vec![], messages: vec![], tests: 0, test_failures: vec![] };
    let ast = match &file.ast {
        Ok(a) => a,
        Err(d) => {
            out.codes.extend(d.iter().map(|d| d.code));
            out.messages.extend(d.iter().map(|d| d.message.clone()));
            return out;
        }
    };
    let (module, sources): (Module, Vec<SourceFile>) = match &ast.header {
        Some(ast::Header { kind: ast::HeaderKind::Scheme { implements, version }, .. }) => {
            let Some(fw) = framework_for(all, &implements.name, version.as_ref()) else {
                out.codes.push(pol_core::codes::FRAMEWORK_NOT_FOUND.code);
                out.messages.push(format!("framework `{}` not found", implements.name));
                return out;
            };
            let checked = driver::check_scheme(fw.source.clone(), file.source.clone(), &prove::Budget::default());
            let diags: Vec<_> = checked.diagnostics.concat();
            if !diags.is_empty() {
                out.codes.extend(diags.iter().map(|d| d.code));
                out.messages.extend(diags.iter().map(|d| d.message.clone()));
                return out;
            }
            (checked.module, checked.sources)
        }
        _ => {
            let checked = driver::check_file(file.source.clone());
            let diags = checked.main_diagnostics();
            if !diags.is_empty() {
                out.codes.extend(diags.iter().map(|d| d.code));
                out.messages.extend(diags.iter().map(|d| d.message.clone()));
                return out;
            }
            (checked.module, checked.sources)
        }
    };
    let default_as_of = module.files.last().and_then(|f| f.effective);
    for t in testing::run_tests(&module, &sources, default_as_of) {
        out.tests += 1;
        for f in t.failures {
            out.test_failures.push((t.name.clone(), f.code, f.message));
        }
    }
    out
}

fn is_rejected(f: &PolFile) -> bool {
    f.path.strip_prefix(policies_root()).map(|p| p.starts_with("rejected")).unwrap_or(false)
}

#[test]
fn accepted_policies_check_and_pass_their_tests() {
    let all = load_all();
    let mut problems = Vec::new();
    let mut tests = 0;
    let mut files = 0;
    for f in all.iter().filter(|f| !is_rejected(f)) {
        files += 1;
        let o = run(&all, f);
        if !o.codes.is_empty() {
            problems.push(format!("{}: diagnostics {:?}: {:?}", f.source.name, o.codes, o.messages));
        }
        for (name, code, msg) in &o.test_failures {
            problems.push(format!("{}: test \"{name}\" failed: {code} {msg}", f.source.name));
        }
        tests += o.tests;
    }
    assert!(problems.is_empty(), "problems under policies/:\n{}", problems.join("\n"));
    assert!(files >= 20, "expected the policy files, found {files}");
    assert!(tests >= 40, "expected at least 40 test blocks under policies/, found {tests}");
}

#[test]
fn rejected_policies_raise_exactly_their_expected_code() {
    let all = load_all();
    let rejected: Vec<&PolFile> = all.iter().filter(|f| is_rejected(f)).collect();
    assert!(rejected.len() >= 8, "expected at least 8 rejected examples, found {}", rejected.len());
    let mut problems = Vec::new();
    for f in rejected {
        let expected = f
            .source
            .text
            .lines()
            .next()
            .and_then(|l| l.trim().strip_prefix("// expect:"))
            .and_then(|rest| rest.split_whitespace().next())
            .map(str::to_string);
        let Some(expected) = expected else {
            problems.push(format!("{}: first line must be `// expect: CODE`", f.source.name));
            continue;
        };
        let o = run(&all, f);
        let mut codes: Vec<&str> = o.codes.clone();
        if codes.is_empty() {
            codes.extend(o.test_failures.iter().map(|(_, c, _)| *c));
        }
        if codes.is_empty() {
            problems.push(format!("{}: expected {expected}, but the file is accepted", f.source.name));
        } else if codes.iter().any(|c| *c != expected) {
            problems.push(format!("{}: expected only {expected}, got {codes:?}: {:?}", f.source.name, o.messages));
        }
    }
    assert!(problems.is_empty(), "rejected examples:\n{}", problems.join("\n"));
}
