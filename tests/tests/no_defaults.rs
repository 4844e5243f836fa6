//! The compiler never stands a made-up value in for a case it believes impossible: the lowering
//! and the parser report an internal error (E9001) instead. This test fails if one of the old
//! defaults (a zero or a `false` in place of a missing expression, an empty name) comes back.

use std::path::Path;

const FORBIDDEN: &[(&str, &str)] = &[
    ("unwrap_or(Expr::ConstI(0))", "a missing lowered expression defaulted to 0"),
    ("_ => Expr::ConstI(0)", "an unexpected expression lowered to 0"),
    ("TKind::Error => Expr::ConstI(0)", "an unchecked expression lowered to 0"),
    ("ExprKind::Bool(false)", "a missing parsed expression defaulted to `false`"),
    ("unwrap_or(Ident {", "a missing parsed name defaulted to an empty one"),
    ("placeholder(", "a placeholder expression"),
];

fn sources(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).expect("source folder").flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn lowering_and_parsing_have_no_silent_defaults() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../compiler/core/src");
    let mut files = Vec::new();
    sources(&root.join("lower"), &mut files);
    sources(&root.join("syntax"), &mut files);
    assert!(files.len() >= 4, "found the lowering and parser sources");
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).expect("readable");
        for (n, line) in text.lines().enumerate() {
            for (pattern, why) in FORBIDDEN {
                if line.contains(pattern) {
                    found.push(format!("{}:{}: {why}: {}", f.display(), n + 1, line.trim()));
                }
            }
        }
    }
    assert!(found.is_empty(), "silent defaults are back:\n{}", found.join("\n"));
}
