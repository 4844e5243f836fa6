//! Exact arithmetic through source programs: random amounts and decimals are written as Pol
//! literals, combined in a rule whose Money result is named (so rounded to the fen half away
//! from zero), and the program's test compares it with the value computed independently with
//! big rationals. Parser, checker, lowering, interpreter and the test runner are all on the path.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{Signed, Zero};
use pol_core::span::SourceFile;
use pol_core::{check, syntax, testing};
use proptest::prelude::*;

/// `units / 10^places` written as a decimal literal (`-12.0345`), and its exact value.
fn literal(units: i64, places: u32) -> (String, BigRational) {
    let exact = BigRational::new(BigInt::from(units), BigInt::from(10i64.pow(places)));
    let digits = units.unsigned_abs().to_string();
    let text = if places == 0 {
        digits
    } else {
        let padded = format!("{digits:0>width$}", width = places as usize + 1);
        let (a, b) = padded.split_at(padded.len() - places as usize);
        format!("{a}.{b}")
    };
    (if units < 0 { format!("-{text}") } else { text }, exact)
}

/// Yuan rounded to the fen half away from zero, as a literal with two places.
fn fen_literal(yuan: &BigRational) -> String {
    let fen = yuan * BigRational::from_integer(BigInt::from(100));
    let half = BigRational::new(BigInt::from(1), BigInt::from(2));
    let rounded = if fen.is_negative() { -((-fen) + half).floor() } else { (fen + half).floor() };
    let n = rounded.to_integer();
    let neg = n.is_negative();
    let digits = format!("{:0>3}", n.abs());
    let (a, b) = digits.split_at(digits.len() - 2);
    format!("{}{a}.{b}", if neg { "-" } else { "" })
}

/// Runs a one-test program and returns the failures' messages (empty when it passes).
fn run(program: &str) -> Vec<String> {
    let ast = match syntax::parse_file(program) {
        Ok(a) => a,
        Err(d) => return d.into_iter().map(|d| format!("{}: {}", d.code, d.message)).collect(),
    };
    let checked = check::check_file("p.pol", &ast);
    if !checked.diagnostics.is_empty() {
        return checked.diagnostics.into_iter().map(|d| format!("{}: {}", d.code, d.message)).collect();
    }
    let src = SourceFile::new("p.pol", program);
    testing::run_tests(&checked.module, &[src], None)
        .into_iter()
        .flat_map(|t| t.failures.into_iter().map(|f| format!("{}: {}", f.code, f.message)))
        .collect()
}

fn amount() -> impl Strategy<Value = (i64, u32)> {
    (-10_000_000_000i64..10_000_000_000, 0u32..5)
}

fn factor() -> impl Strategy<Value = (i64, u32)> {
    (-100_000_000i64..100_000_000, 0u32..9)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1000, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn a_named_amount_is_the_exact_value_rounded_half_away_from_zero(
        a in amount(), b in amount(), k in factor(), op in 0usize..4,
    ) {
        let (a_text, a_val) = literal(a.0, a.1);
        let (b_text, b_val) = literal(b.0, b.1);
        let (k_text, k_val) = literal(k.0, k.1);
        // Negative literals are written as negations inside parentheses.
        let (a_src, b_src, k_src) = (format!("({a_text} yuan)"), format!("({b_text} yuan)"), format!("({k_text})"));
        let (expr, exact) = match op {
            0 => (format!("{a_src} + {b_src} * {k_src}"), &a_val + &b_val * &k_val),
            1 => (format!("{a_src} - {b_src}"), &a_val - &b_val),
            2 => (format!("{a_src} * {k_src} * 1.5%"), &a_val * &k_val * BigRational::new(BigInt::from(15), BigInt::from(1000))),
            _ => {
                if k_val.is_zero() {
                    return Ok(());
                }
                (format!("{a_src} / {k_src}"), &a_val / &k_val)
            }
        };
        let expected = fen_literal(&exact);
        let program = format!("rule r() -> Money = {expr}\ntest \"t\" {{\n  r() == ({expected} yuan)\n}}\n");
        let failures = run(&program);
        let fits = (&exact * BigRational::from_integer(BigInt::from(100))).abs() < BigRational::from_integer(BigInt::from(i64::MAX));
        if fits {
            prop_assert!(failures.is_empty(), "{program}\n{failures:?}");
        } else {
            // A named amount beyond 64 bits of fen is an overflow, never a wrap-around.
            prop_assert!(failures.len() == 1 && failures[0].starts_with("T0002") && failures[0].contains("R0001"), "{program}\n{failures:?}");
        }
    }

    #[test]
    fn a_decimal_keeps_every_place(a in factor(), b in factor()) {
        let (a_text, a_val) = literal(a.0, a.1);
        let (b_text, b_val) = literal(b.0, b.1);
        let sum = &a_val + &b_val;
        // The exact sum compared with itself written out: both sides are exact Decimals.
        let places = a.1.max(b.1);
        let scaled = (&sum * BigRational::from_integer(BigInt::from(10i64.pow(places)))).to_integer();
        let (sum_text, _) = literal(i64::try_from(scaled).unwrap_or(0), places);
        let program = format!("test \"t\" {{\n  ({a_text}) + ({b_text}) == ({sum_text})\n}}\n");
        let failures = run(&program);
        prop_assert!(failures.is_empty(), "{program}\n{failures:?}");
    }
}

#[test]
fn literal_and_fen_helpers() {
    assert_eq!(literal(-120345, 4).0, "-12.0345");
    assert_eq!(literal(5, 3).0, "0.005");
    assert_eq!(literal(7, 0).0, "7");
    assert_eq!(fen_literal(&BigRational::new(BigInt::from(5), BigInt::from(1000))), "0.01");
    assert_eq!(fen_literal(&BigRational::new(BigInt::from(-5), BigInt::from(1000))), "-0.01");
    assert_eq!(fen_literal(&BigRational::new(BigInt::from(-4), BigInt::from(1000))), "0.00");
    assert_eq!(fen_literal(&BigRational::new(BigInt::from(282535), BigInt::from(100))), "2825.35");
}

#[test]
fn the_2825_35_example_through_a_program() {
    let program = "param C: Money = 7346 yuan\nparam Z: Decimal = 0.8684\nparam N: Decimal = 41.17\n\
        rule basic() -> Money {\n  let indexed = C * Z;\n  (C + indexed) / 2 * N * 1%\n}\n\
        test \"t\" {\n  basic() == 2825.35 yuan\n}\n";
    assert_eq!(run(program), Vec::<String>::new());
}
