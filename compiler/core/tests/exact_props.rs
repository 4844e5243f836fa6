//! `Frac`, the exact arithmetic of Pol, against a big-rational reference: whenever a `Frac`
//! operation succeeds its result is the exact rational result; division by zero is reported
//! exactly when the divisor is zero; rounding to an integer fails only when the exact rounded
//! value does not fit 64 bits. Plus direct tests of rounding and of values near the limits.

use num_bigint::BigInt;
use num_rational::BigRational;
use num_traits::{One, Signed, ToPrimitive, Zero};
use pol_core::exact::{ArithError, Frac, RoundMode};
use proptest::prelude::*;
use std::cmp::Ordering;

const MODES: [RoundMode; 5] = [RoundMode::HalfAwayFromZero, RoundMode::HalfEven, RoundMode::Down, RoundMode::Up, RoundMode::TowardZero];

fn big(f: Frac) -> BigRational {
    BigRational::new(BigInt::from(f.num), BigInt::from(f.den))
}

/// The reference rounding of an exact rational to an integer.
fn reference_round(q: &BigRational, mode: RoundMode) -> BigInt {
    let floor = q.floor().to_integer();
    let ceil = q.ceil().to_integer();
    if floor == ceil {
        return floor;
    }
    let half = BigRational::new(BigInt::one(), BigInt::from(2));
    let frac = q - BigRational::from_integer(floor.clone());
    match mode {
        RoundMode::Down => floor,
        RoundMode::Up => ceil,
        RoundMode::TowardZero => q.trunc().to_integer(),
        RoundMode::HalfAwayFromZero => match frac.cmp(&half) {
            Ordering::Less => floor,
            Ordering::Greater => ceil,
            Ordering::Equal => {
                if q.is_negative() {
                    floor
                } else {
                    ceil
                }
            }
        },
        RoundMode::HalfEven => match frac.cmp(&half) {
            Ordering::Less => floor,
            Ordering::Greater => ceil,
            Ordering::Equal => {
                if (&floor % BigInt::from(2)).is_zero() {
                    floor
                } else {
                    ceil
                }
            }
        },
    }
}

/// Numerators from every size class: small, money-sized, 64-bit edges and 128-bit edges.
fn numerator() -> impl Strategy<Value = i128> {
    prop_oneof![
        -1000i128..1000,
        -10_000_000_000_000i128..10_000_000_000_000,
        any::<i64>().prop_map(i128::from),
        Just(i64::MAX as i128),
        Just(i64::MIN as i128),
        Just(i64::MAX as i128 + 1),
        Just(i128::MAX),
        Just(i128::MIN),
        Just(i128::MAX - 1),
        Just(i128::MIN + 1),
        any::<i128>(),
    ]
}

/// Positive denominators: 1, powers of ten (literals), 2 (halves), small and large values.
fn denominator() -> impl Strategy<Value = i128> {
    prop_oneof![
        Just(1i128),
        Just(2i128),
        (0u32..19).prop_map(|e| 10i128.pow(e)),
        1i128..1000,
        1i128..=(i64::MAX as i128),
        Just(i128::MAX),
        1i128..=i128::MAX,
    ]
}

fn frac() -> impl Strategy<Value = Frac> {
    (numerator(), denominator()).prop_map(|(n, d)| Frac::new(n, d))
}

fn check_binary(name: &str, a: Frac, b: Frac, got: Result<Frac, ArithError>, exact: Option<BigRational>) -> Result<(), TestCaseError> {
    match (got, exact) {
        (Ok(r), Some(e)) => {
            prop_assert!(r.den > 0, "{name}({a:?}, {b:?}) gave a non-positive denominator {r:?}");
            prop_assert_eq!(big(r), e, "{}({:?}, {:?})", name, a, b);
        }
        (Err(ArithError::Overflow), Some(_)) => {}
        (Err(ArithError::DivisionByZero), None) => {}
        (got, exact) => prop_assert!(false, "{name}({a:?}, {b:?}): got {got:?}, exact {exact:?}"),
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn add_sub_mul_div_are_exact_when_they_succeed(a in frac(), b in frac()) {
        let (x, y) = (big(a), big(b));
        check_binary("add", a, b, a.add(b), Some(&x + &y))?;
        check_binary("sub", a, b, a.sub(b), Some(&x - &y))?;
        check_binary("mul", a, b, a.mul(b), Some(&x * &y))?;
        let quotient = if y.is_zero() { None } else { Some(&x / &y) };
        check_binary("div", a, b, a.div(b), quotient)?;
    }

    #[test]
    fn cmp_min_max_neg_agree_with_the_reference(a in frac(), b in frac()) {
        let (x, y) = (big(a), big(b));
        if let Ok(o) = a.cmp(b) {
            prop_assert_eq!(o, x.cmp(&y));
        }
        if let Ok(m) = a.min(b) {
            prop_assert_eq!(big(m), (&x).min(&y).clone());
        }
        if let Ok(m) = a.max(b) {
            prop_assert_eq!(big(m), (&x).max(&y).clone());
        }
        match a.neg() {
            Ok(n) => prop_assert_eq!(big(n), -x),
            Err(e) => {
                prop_assert_eq!(e, ArithError::Overflow);
                prop_assert_eq!(a.num, i128::MIN);
            }
        }
    }

    #[test]
    fn round_to_int_is_exact_in_every_mode(a in frac()) {
        let q = big(a);
        for mode in MODES {
            let want = reference_round(&q, mode);
            match a.round_to_int(mode) {
                Ok(i) => prop_assert_eq!(BigInt::from(i), want, "{:?} {:?}", a, mode),
                Err(e) => {
                    prop_assert_eq!(e, ArithError::Overflow);
                    prop_assert!(want.to_i64().is_none(), "{a:?} {mode:?}: overflow reported but {want} fits");
                }
            }
        }
    }

    #[test]
    fn round_to_a_quantum_is_exact_when_it_succeeds(a in frac(), q in (1i128..10_000, prop_oneof![Just(1i128), Just(100i128), Just(10_000i128)])) {
        let quantum = Frac::new(q.0, q.1);
        let x = big(a);
        let qq = big(quantum);
        for mode in MODES {
            if let Ok(r) = a.round_to(quantum, mode) {
                let k = reference_round(&(&x / &qq), mode);
                prop_assert_eq!(big(r), BigRational::from_integer(k) * &qq, "{:?} to {:?} {:?}", a, quantum, mode);
            }
        }
    }

    #[test]
    fn money_amounts_never_overflow_in_a_sum_or_a_rate_product(a in any::<i64>(), b in any::<i64>(), rate in 0i128..1_000_000) {
        // Two named amounts (fen) added, and an amount times a rate with six decimal places,
        // stay far inside 128 bits.
        let (x, y) = (Frac::int(a), Frac::int(b));
        prop_assert!(x.add(y).is_ok());
        prop_assert!(x.sub(y).is_ok());
        prop_assert!(x.mul(Frac::new(rate, 100_000_000)).is_ok());
        prop_assert!(x.mul(y).is_ok());
    }
}

fn round(n: i128, d: i128, mode: RoundMode) -> i64 {
    Frac::new(n, d).round_to_int(mode).unwrap()
}

#[test]
fn half_away_from_zero_on_positive_and_negative_halves() {
    use RoundMode::HalfAwayFromZero as H;
    for (n, want) in [(1, 1), (3, 2), (5, 3), (-1, -1), (-3, -2), (-5, -3), (0, 0)] {
        assert_eq!(round(n, 2, H), want, "{n}/2");
    }
    // Just below and just above the half.
    assert_eq!(round(4999, 10_000, H), 0);
    assert_eq!(round(5001, 10_000, H), 1);
    assert_eq!(round(-4999, 10_000, H), 0);
    assert_eq!(round(-5001, 10_000, H), -1);
    // 6862.635 yuan (686 263.5 fen) rounds to 6862.64 yuan, -6862.635 to -6862.64.
    assert_eq!(round(6_862_635, 10, H), 686_264);
    assert_eq!(round(-6_862_635, 10, H), -686_264);
}

#[test]
fn every_mode_on_an_exact_half_and_a_third() {
    let table = [
        (RoundMode::HalfAwayFromZero, [3, -3, 0, 0]),
        (RoundMode::HalfEven, [2, -2, 0, 0]),
        (RoundMode::Down, [2, -3, 0, -1]),
        (RoundMode::Up, [3, -2, 1, 0]),
        (RoundMode::TowardZero, [2, -2, 0, 0]),
    ];
    for (mode, [pos_half, neg_half, pos_third, neg_third]) in table {
        assert_eq!(round(5, 2, mode), pos_half, "{mode:?} 5/2");
        assert_eq!(round(-5, 2, mode), neg_half, "{mode:?} -5/2");
        assert_eq!(round(1, 3, mode), pos_third, "{mode:?} 1/3");
        assert_eq!(round(-1, 3, mode), neg_third, "{mode:?} -1/3");
    }
}

#[test]
fn decimals_with_many_places_are_exact() {
    // 0.8734 + 0.1266 = 1 exactly; 7346 yuan × 0.8684 = 637 926.64 fen.
    let a = Frac::new(8734, 10_000);
    let b = Frac::new(1266, 10_000);
    assert_eq!(a.add(b).unwrap().cmp(Frac::ONE), Ok(Ordering::Equal));
    let indexed = Frac::int(734_600).mul(Frac::new(8684, 10_000)).unwrap();
    assert_eq!(big(indexed), BigRational::new(BigInt::from(63_792_664), BigInt::from(100)));
    assert_eq!(indexed.round_to_int(RoundMode::HalfAwayFromZero), Ok(637_927));
    // Eighteen decimal places survive a round trip.
    let tiny = Frac::new(1, 10i128.pow(18));
    let back = tiny.mul(Frac::int(1_000_000_000_000_000_000)).unwrap();
    assert_eq!(back.cmp(Frac::ONE), Ok(Ordering::Equal));
    assert_eq!(Frac::new(123_456_789, 100_000_000).to_decimal_string(8), "1.23456789");
}

#[test]
fn values_near_the_limits() {
    let max = Frac::int(i64::MAX);
    let min = Frac::int(i64::MIN);
    assert_eq!(max.round_to_int(RoundMode::Up), Ok(i64::MAX));
    assert_eq!(min.round_to_int(RoundMode::Down), Ok(i64::MIN));
    // Half a fen above the largest amount rounds out of range (away from zero), in range toward zero.
    let over = Frac::new(2 * i64::MAX as i128 + 1, 2);
    assert_eq!(over.round_to_int(RoundMode::HalfAwayFromZero), Err(ArithError::Overflow));
    assert_eq!(over.round_to_int(RoundMode::TowardZero), Ok(i64::MAX));
    assert_eq!(over.round_to_int(RoundMode::HalfEven), Err(ArithError::Overflow));
    // The square of the largest amount still fits 128 bits; four times it does not.
    let sq = max.mul(max).unwrap();
    assert_eq!(sq.mul(Frac::int(4)), Err(ArithError::Overflow));
    assert_eq!(sq.div(max).unwrap().round_to_int(RoundMode::HalfAwayFromZero), Ok(i64::MAX));
    // i128::MIN cannot be negated, and dividing it by -1 overflows instead of wrapping.
    let most_negative = Frac::new(i128::MIN, 1);
    assert_eq!(most_negative.neg(), Err(ArithError::Overflow));
    assert_eq!(most_negative.div(Frac::int(-1)), Err(ArithError::Overflow));
    assert_eq!(Frac::new(i128::MAX, 1).add(Frac::ONE), Err(ArithError::Overflow));
    assert_eq!(Frac::new(i128::MIN, 1).sub(Frac::ONE), Err(ArithError::Overflow));
    // Rounding the extreme fractions never panics.
    for mode in MODES {
        let _ = Frac::new(i128::MIN, 1).round_to_int(mode);
        let _ = Frac::new(i128::MIN, i128::MAX).round_to_int(mode);
        let _ = Frac::new(i128::MAX, 2).round_to_int(mode);
        let _ = Frac::new(-1, i128::MAX).round_to_int(mode);
    }
    assert_eq!(Frac::new(i128::MIN, i128::MAX).round_to_int(RoundMode::Down), Ok(-2));
    assert_eq!(Frac::new(-1, i128::MAX).round_to_int(RoundMode::Down), Ok(-1));
}

#[test]
fn reference_rounding_sanity() {
    let q = BigRational::new(BigInt::from(-5), BigInt::from(2));
    assert_eq!(reference_round(&q, RoundMode::HalfAwayFromZero), BigInt::from(-3));
    assert_eq!(reference_round(&q, RoundMode::HalfEven), BigInt::from(-2));
    assert!(reference_round(&BigRational::from_integer(BigInt::from(7)), RoundMode::Up) == BigInt::from(7));
    assert!(BigRational::one().is_positive());
}
