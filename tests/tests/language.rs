//! Language fixtures (`tests/language/{good,bad}/*.pol`): each file is parsed, checked and, when
//! it checks clean, its `test` blocks are run with the reference interpreter.
//!
//! A good fixture must produce no diagnostic and no failing test. A bad fixture carries inline
//! annotations, one per expected diagnostic, on comment lines of the form
//!
//! ```text
//! // error E0201 at 3:15-3:27
//! ```
//!
//! (1-based line and character column of the primary span's first character, and line and
//! column just past its last character). The set of `(code, span)` pairs raised must equal the
//! set of annotations exactly. Every fixture has one insta snapshot holding its source and the
//! rendered diagnostics (and, for test runs, the outcome of each test). See `tests/README.md`.

use pol_core::codes;
use pol_core::diagnostic::{self, Diagnostic, Label};
use pol_core::span::{SourceFile, Span};
use pol_core::{driver, testing};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn fixture_dir(kind: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("language").join(kind)
}

fn fixtures(kind: &str) -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(fixture_dir(kind))
        .unwrap_or_else(|e| panic!("cannot read tests/language/{kind}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "pol"))
        .collect();
    files.sort();
    files
}

/// What running one source text through the pipeline produced.
pub struct Outcome {
    pub diagnostics: Vec<Diagnostic>,
    /// One line per test that ran (`PASS name` / `FAIL name`), empty when the file had errors.
    pub tests: Vec<String>,
}

/// Parses and checks `src`; when it checks clean, runs its tests at their own `as of` date or
/// the file's `effective` date, and turns failures (T0001, T0002, E0402, E0403, E0405) into
/// diagnostics located at the failing statement.
pub fn run_pipeline(src: &SourceFile) -> Outcome {
    let checked = driver::check_file(src.clone());
    if checked.has_errors() {
        return Outcome { diagnostics: checked.main_diagnostics().to_vec(), tests: vec![] };
    }
    let as_of = checked.module.files.last().and_then(|f| f.effective);
    let mut diagnostics = Vec::new();
    let mut tests = Vec::new();
    for t in testing::run_tests(&checked.module, std::slice::from_ref(src), as_of) {
        tests.push(format!("{} {} ({} assertions)", if t.passed() { "PASS" } else { "FAIL" }, t.name, t.assertions));
        for f in t.failures {
            let code = codes::lookup(f.code).unwrap_or_else(|| panic!("failure code {} is not in codes::ALL", f.code));
            diagnostics.push(Diagnostic {
                code: code.code,
                message: f.message,
                primary: Label { span: f.span, message: format!("in test \"{}\"", t.name) },
                secondary: vec![],
                help: None,
                notes: vec![],
            });
        }
    }
    diagnostic::sort(&mut diagnostics);
    Outcome { diagnostics, tests }
}

/// `(code, "L:C-L:C")` of a diagnostic's primary span.
fn located(src: &SourceFile, d: &Diagnostic) -> (String, String) {
    (d.code.to_string(), span_text(src, d.primary.span))
}

fn span_text(src: &SourceFile, span: Span) -> String {
    let (l1, c1) = src.line_col(span.start);
    let (l2, c2) = src.line_col(span.end);
    format!("{l1}:{c1}-{l2}:{c2}")
}

/// The annotations of a fixture: `// error CODE at L:C-L:C` (or `L:C-C` on one line).
pub fn annotations(text: &str) -> Result<BTreeSet<(String, String)>, String> {
    let mut out = BTreeSet::new();
    for (i, line) in text.lines().enumerate() {
        let Some(pos) = line.find("// error ") else { continue };
        let rest = line[pos + "// error ".len()..].trim();
        let (code, at) = rest.split_once(" at ").ok_or_else(|| format!("line {}: expected `// error CODE at L:C-L:C`", i + 1))?;
        let (start, end) = at.trim().split_once('-').ok_or_else(|| format!("line {}: span needs `-`", i + 1))?;
        let end = if end.contains(':') { end.to_string() } else { format!("{}:{end}", start.split(':').next().unwrap_or("")) };
        for part in [start, end.as_str()] {
            let ok = part.split_once(':').is_some_and(|(l, c)| l.parse::<u32>().is_ok() && c.parse::<u32>().is_ok());
            if !ok {
                return Err(format!("line {}: `{part}` is not LINE:COLUMN", i + 1));
            }
        }
        if codes::lookup(code.trim()).is_none() {
            return Err(format!("line {}: `{code}` is not a diagnostic code", i + 1));
        }
        out.insert((code.trim().to_string(), format!("{start}-{end}")));
    }
    Ok(out)
}

/// The snapshot text: the source, then the rendered diagnostics or the test outcomes.
fn snapshot_text(src: &SourceFile, outcome: &Outcome) -> String {
    let mut s = String::new();
    s.push_str("---- source ----\n");
    s.push_str(&src.text);
    if !src.text.ends_with('\n') {
        s.push('\n');
    }
    if !outcome.tests.is_empty() {
        s.push_str("---- tests ----\n");
        for t in &outcome.tests {
            s.push_str(t);
            s.push('\n');
        }
    }
    s.push_str("---- diagnostics ----\n");
    if outcome.diagnostics.is_empty() {
        s.push_str("(none)\n");
    } else {
        s.push_str(&diagnostic::render(src, &outcome.diagnostics));
    }
    s
}

fn snapshot(kind: &str, path: &Path, text: &str) {
    let stem = path.file_stem().and_then(|s| s.to_str()).unwrap_or("fixture").to_string();
    let mut settings = insta::Settings::clone_current();
    settings.set_snapshot_path("snapshots/language");
    settings.set_prepend_module_to_snapshot(false);
    settings.set_omit_expression(true);
    settings.set_input_file(path);
    settings.bind(|| insta::assert_snapshot!(format!("{kind}__{stem}"), text));
}

fn load(kind: &str, path: &Path) -> SourceFile {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let name = format!("tests/language/{kind}/{}", path.file_name().and_then(|s| s.to_str()).unwrap_or(""));
    SourceFile::new(name, text)
}

#[test]
fn good_fixtures_check_clean_and_their_tests_pass() {
    let files = fixtures("good");
    assert!(!files.is_empty());
    let mut problems = Vec::new();
    let mut texts = Vec::new();
    for path in &files {
        let src = load("good", path);
        let outcome = run_pipeline(&src);
        if !outcome.diagnostics.is_empty() {
            let got: Vec<_> = outcome.diagnostics.iter().map(|d| located(&src, d)).collect();
            problems.push(format!(
                "{}: expected no diagnostics, got {got:?}\n{}",
                src.name,
                diagnostic::render(&src, &outcome.diagnostics)
            ));
        }
        if annotations(&src.text).map(|a| !a.is_empty()).unwrap_or(true) {
            problems.push(format!("{}: a good fixture carries no `// error` annotation", src.name));
        }
        texts.push((path.clone(), snapshot_text(&src, &outcome)));
    }
    assert!(problems.is_empty(), "{}", problems.join("\n\n"));
    for (path, text) in texts {
        snapshot("good", &path, &text);
    }
}

#[test]
fn bad_fixtures_raise_exactly_their_annotated_diagnostics() {
    let files = fixtures("bad");
    assert!(files.len() >= 40, "only {} bad fixtures", files.len());
    let mut problems = Vec::new();
    let mut texts = Vec::new();
    for path in &files {
        let src = load("bad", path);
        let expected = match annotations(&src.text) {
            Ok(a) => a,
            Err(e) => {
                problems.push(format!("{}: {e}", src.name));
                continue;
            }
        };
        if expected.is_empty() {
            problems.push(format!("{}: a bad fixture needs at least one `// error CODE at L:C-L:C` annotation", src.name));
        }
        let outcome = run_pipeline(&src);
        let got: BTreeSet<(String, String)> = outcome.diagnostics.iter().map(|d| located(&src, d)).collect();
        if got != expected {
            let lines: Vec<String> = got.iter().map(|(c, s)| format!("// error {c} at {s}")).collect();
            problems.push(format!(
                "{}:\n  expected {expected:?}\n  got      {got:?}\n  as annotations:\n{}\n{}",
                src.name,
                lines.join("\n"),
                diagnostic::render(&src, &outcome.diagnostics)
            ));
        }
        texts.push((path.clone(), snapshot_text(&src, &outcome)));
    }
    assert!(problems.is_empty(), "{} fixture(s) disagree:\n\n{}", problems.len(), problems.join("\n\n"));
    for (path, text) in texts {
        snapshot("bad", &path, &text);
    }
}

/// Every E code and every T code of the registry is raised by at least one bad fixture.
#[test]
fn bad_fixtures_cover_every_language_and_test_code() {
    let mut seen = BTreeSet::new();
    for path in fixtures("bad") {
        let text = std::fs::read_to_string(&path).unwrap_or_default();
        for (code, _) in annotations(&text).unwrap_or_default() {
            seen.insert(code);
        }
    }
    let missing: Vec<&str> = codes::ALL
        .iter()
        .map(|c| c.code)
        // E9001 is raised only by a bug in pol; its unit tests in pol-core cover it.
        .filter(|c| (c.starts_with('E') || c.starts_with('T')) && *c != codes::INTERNAL.code && !seen.contains(*c))
        .collect();
    assert!(missing.is_empty(), "no bad fixture raises {missing:?}");
}

#[test]
fn annotation_parser_reads_both_span_forms() {
    let a = annotations("x\n  // error E0201 at 3:15-27\n// error E0001 at 1:1-2:4\n").unwrap();
    let want: BTreeSet<(String, String)> =
        [("E0201".to_string(), "3:15-3:27".to_string()), ("E0001".to_string(), "1:1-2:4".to_string())].into_iter().collect();
    assert_eq!(a, want);
    assert!(annotations("// error E9999 at 1:1-2").is_err());
    assert!(annotations("// error E0201 3:1-2").is_err());
}
