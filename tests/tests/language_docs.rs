//! Every example of the language reference (`docs/language.md`) is checked.
//!
//! - ```` ```pol ```` blocks are whole files: they must parse and check clean, and their tests
//!   must pass.
//! - ```` ```pol,framework ```` blocks are frameworks; they must check clean, and the
//!   ```` ```pol,scheme ```` blocks after them are checked against the latest one, compliance
//!   included, and their tests must pass.
//! - ```` ```pol,bad ```` blocks carry `// error CODE` annotations (optionally `at L:C-L:C`,
//!   as in the fixtures) and must raise exactly those codes (at those spans).

use pol_core::check;
use pol_core::compliance::prove;
use pol_core::diagnostic::{self, Diagnostic, Label};
use pol_core::span::SourceFile;
use pol_core::{codes, driver, testing};
use std::collections::BTreeSet;
use std::path::Path;

struct Block {
    kind: String,
    line: usize,
    text: String,
}

fn blocks(md: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut current: Option<Block> = None;
    for (i, line) in md.lines().enumerate() {
        let trimmed = line.trim_start();
        match current.as_mut() {
            None => {
                if let Some(info) = trimmed.strip_prefix("```pol") {
                    let kind = info.trim().trim_start_matches(',').to_string();
                    current = Some(Block { kind, line: i + 1, text: String::new() });
                }
            }
            Some(b) => {
                if trimmed.starts_with("```") {
                    out.extend(current.take());
                } else {
                    b.text.push_str(line);
                    b.text.push('\n');
                }
            }
        }
    }
    assert!(current.is_none(), "an unclosed ```pol block");
    out
}

fn test_failures(module: &check::Module, sources: &[SourceFile], out: &mut Vec<Diagnostic>) {
    let as_of = module.files.last().and_then(|f| f.effective);
    for t in testing::run_tests(module, sources, as_of) {
        for f in t.failures {
            let code = codes::lookup(f.code).map(|c| c.code).unwrap_or("T0001");
            out.push(Diagnostic {
                code,
                message: f.message,
                primary: Label { span: f.span, message: format!("in test \"{}\"", t.name) },
                secondary: vec![],
                help: None,
                notes: vec![],
            });
        }
    }
}

/// Diagnostics of a stand-alone file (a plain rule file or a framework), test failures included.
fn run_file(src: &SourceFile) -> (Vec<Diagnostic>, Option<check::Module>) {
    let checked = driver::check_file(src.clone());
    let mut diags = checked.main_diagnostics().to_vec();
    if diags.is_empty() {
        test_failures(&checked.module, std::slice::from_ref(src), &mut diags);
    }
    (diags, Some(checked.module))
}

/// Diagnostics of a scheme checked against its framework, as `pol check` and `pol test` do.
fn run_scheme(framework: &(SourceFile, check::Module), src: &SourceFile) -> Vec<Diagnostic> {
    let checked = driver::check_scheme(framework.0.clone(), src.clone(), &prove::Budget::default());
    let mut diags = checked.main_diagnostics().to_vec();
    if diags.is_empty() {
        test_failures(&checked.module, &checked.sources, &mut diags);
    }
    diags
}

/// `(code, Some(span))` per `// error CODE [at L:C-L:C]` line.
fn expected(text: &str) -> Vec<(String, Option<String>)> {
    text.lines()
        .filter_map(|l| l.split_once("// error ").map(|(_, rest)| rest.trim()))
        .map(|rest| match rest.split_once(" at ") {
            Some((code, at)) => (code.trim().to_string(), Some(at.trim().to_string())),
            None => (rest.split_whitespace().next().unwrap_or("").to_string(), None),
        })
        .collect()
}

#[test]
fn every_example_of_the_language_reference_checks() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/language.md");
    let md = std::fs::read_to_string(&path).expect("docs/language.md exists");
    let all = blocks(&md);
    assert!(all.len() >= 20, "docs/language.md has only {} pol examples", all.len());
    let mut framework: Option<(SourceFile, check::Module)> = None;
    let mut problems = Vec::new();
    let mut bad_codes = BTreeSet::new();
    for b in &all {
        let name = format!("docs/language.md:{}", b.line);
        let src = SourceFile::new(name.clone(), b.text.clone());
        let diags = match b.kind.as_str() {
            "" | "bad" => run_file(&src).0,
            "framework" => {
                let (d, m) = run_file(&src);
                if d.is_empty() {
                    framework = m.map(|m| (src.clone(), m));
                }
                d
            }
            "scheme" => match &framework {
                Some(fw) => run_scheme(fw, &src),
                None => {
                    problems.push(format!("{name}: a scheme example needs a framework example before it"));
                    continue;
                }
            },
            other => {
                problems.push(format!("{name}: unknown block kind `pol,{other}`"));
                continue;
            }
        };
        let render = || diagnostic::render(&src, &diags);
        if b.kind == "bad" {
            let want = expected(&b.text);
            if want.is_empty() {
                problems.push(format!("{name}: a `pol,bad` example needs a `// error CODE` annotation"));
                continue;
            }
            let want_codes: BTreeSet<&str> = want.iter().map(|(c, _)| c.as_str()).collect();
            let got_codes: BTreeSet<&str> = diags.iter().map(|d| d.code).collect();
            if want_codes != got_codes {
                problems.push(format!("{name}: expected {want_codes:?}, got {got_codes:?}\n{}", render()));
            }
            for (code, at) in &want {
                bad_codes.insert(code.clone());
                if let Some(at) = at {
                    let found = diags.iter().any(|d| {
                        let (l1, c1) = src.line_col(d.primary.span.start);
                        let (l2, c2) = src.line_col(d.primary.span.end);
                        d.code == code && (*at == format!("{l1}:{c1}-{l2}:{c2}") || (l1 == l2 && *at == format!("{l1}:{c1}-{c2}")))
                    });
                    if !found {
                        problems.push(format!("{name}: no {code} at {at}\n{}", render()));
                    }
                }
            }
        } else if !diags.is_empty() {
            problems.push(format!("{name}: the example should check clean and pass its tests\n{}", render()));
        } else if b.text.contains("// error ") {
            problems.push(format!("{name}: only `pol,bad` examples carry `// error` annotations"));
        }
    }
    assert!(problems.is_empty(), "{} example(s) of docs/language.md disagree:\n\n{}", problems.len(), problems.join("\n\n"));
    assert!(bad_codes.len() >= 10, "docs/language.md shows only {} diagnostic codes in bad examples", bad_codes.len());
}

#[test]
fn the_block_reader_finds_kinds_and_lines() {
    let md = "text\n```pol\nrule a() -> Int = 1\n```\n\n```pol,bad\n// error E0101\n```\n```text\nx\n```\n";
    let b = blocks(md);
    assert_eq!(b.len(), 2);
    assert_eq!((b[0].kind.as_str(), b[0].line), ("", 2));
    assert_eq!((b[1].kind.as_str(), b[1].line), ("bad", 6));
    assert_eq!(expected(&b[1].text), vec![("E0101".to_string(), None)]);
}
