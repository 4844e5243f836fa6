//! The diagnostic code registry: every code has a name, an explanation with an example, and
//! `codes::lookup` (what `pol explain CODE` uses) finds it in any letter case.

use pol_core::codes;
use std::collections::BTreeSet;

#[test]
fn every_code_has_an_explanation_with_an_example() {
    let mut missing = Vec::new();
    for c in codes::ALL {
        let e = c.explanation;
        if e.trim().is_empty() || !e.contains("What it checks") {
            missing.push(format!("{}: no \"What it checks\" line", c.code));
        }
        // Every code shows an example of what it rejects, on a line of its own.
        let has_example = e.contains("\nExample");
        if !has_example {
            missing.push(format!("{}: no example", c.code));
        }
        if c.name.is_empty() || c.name.contains(' ') || c.name != c.name.to_lowercase() {
            missing.push(format!("{}: name `{}` is not a lowercase-kebab name", c.code, c.name));
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
}

#[test]
fn every_e_and_c_code_shows_an_example() {
    let without: Vec<&str> = codes::ALL
        .iter()
        .filter(|c| c.code.starts_with('E') || c.code.starts_with('C'))
        .filter(|c| !c.explanation.contains("Example") && !c.explanation.contains("Use instead"))
        .map(|c| c.code)
        .collect();
    assert!(without.is_empty(), "codes without an example: {without:?}");
}

#[test]
fn codes_are_unique_well_formed_and_in_order() {
    let mut seen = BTreeSet::new();
    let mut prev = "";
    for c in codes::ALL {
        assert!(seen.insert(c.code), "{} appears twice", c.code);
        let (family, digits) = c.code.split_at(1);
        assert!(matches!(family, "E" | "C" | "R" | "T" | "V"), "{}: unknown family", c.code);
        assert!(digits.len() == 4 && digits.chars().all(|d| d.is_ascii_digit()), "{}: not a letter and four digits", c.code);
        if prev.starts_with(family) {
            assert!(prev < c.code, "{} comes after {prev}", c.code);
        }
        prev = c.code;
    }
    let names: BTreeSet<&str> = codes::ALL.iter().map(|c| c.name).collect();
    assert_eq!(names.len(), codes::ALL.len(), "two codes share a name");
}

#[test]
fn lookup_finds_every_code_in_any_case() {
    for c in codes::ALL {
        let found = codes::lookup(c.code).unwrap_or_else(|| panic!("{} not found", c.code));
        assert_eq!(found.code, c.code);
        assert_eq!(codes::lookup(&c.code.to_lowercase()).map(|f| f.code), Some(c.code));
        assert_eq!(found.explanation, c.explanation);
    }
    assert_eq!(codes::lookup("E0201").map(|c| c.name), Some("type-mismatch"));
    assert_eq!(codes::lookup("t0001").map(|c| c.name), Some("test-failed"));
}

#[test]
fn lookup_rejects_what_is_not_a_code() {
    for bad in ["", "E", "E02", "E9999", "X0001", "E0201 ", "type-mismatch", "E02010"] {
        assert!(codes::lookup(bad).is_none(), "`{bad}` should not be found");
    }
}

/// The ledger codes the runtime writes are the registry's, so `pol explain` explains every code a
/// user can see in a ledger.
#[test]
fn the_runtime_ledger_codes_are_registered() {
    let runtime = [
        (pol_runtime::CODE_MISSING, &codes::MISSING_VALUE),
        (pol_runtime::CODE_OUT_OF_DOMAIN, &codes::OUT_OF_DOMAIN),
        (pol_runtime::CODE_BAD_VALUE, &codes::BAD_VALUE),
        (pol_runtime::CODE_UNWRITABLE, &codes::UNWRITABLE),
        (pol_runtime::CODE_DUPLICATE_KEY, &codes::DUPLICATE_KEY),
    ];
    for (code, registered) in runtime {
        assert_eq!(code, registered.code);
        assert!(codes::lookup(code).is_some(), "{code} is not explained");
    }
    let v_codes = codes::ALL.iter().filter(|c| c.code.starts_with('V')).count();
    assert_eq!(v_codes, runtime.len(), "a V code is registered that the runtime does not write");
}

/// Every code of the registry appears in the table of codes in the docs.
#[test]
fn every_code_is_in_the_docs_table() {
    let docs = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/language.md")).expect("docs");
    let compliance = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/compliance.md")).expect("docs");
    let missing: Vec<&str> = codes::ALL
        .iter()
        .filter(|c| !docs.contains(&format!("{} {}", c.code, c.name)) && !compliance.contains(c.code))
        .map(|c| c.code)
        .collect();
    assert!(missing.is_empty(), "not in the docs' table of codes: {missing:?}");
}
