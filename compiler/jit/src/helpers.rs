//! Out-of-line helpers that JIT code calls on its slow paths: 128-bit checked multiplication
//! and division, whose inline sequences would be long, and table search.
//!
//! Each helper delegates to the function of `pol_core` that defines the semantics, so the slow
//! paths cannot drift from the interpreter. 128-bit values cross the boundary as two `i64`
//! halves (low, high) and come back through a pointer to two `i64` words, which keeps the
//! calling convention trivially the same on both sides.

use pol_core::exact::{RoundMode, round_quotient};
use pol_core::interp::int_arith;
use pol_core::ir::ArithOp;

/// Status codes the helpers return.
pub const HELPER_OK: i64 = 0;
pub const HELPER_OVERFLOW: i64 = 1;
pub const HELPER_DIVISION_BY_ZERO: i64 = 2;

fn join(lo: i64, hi: i64) -> i128 {
    ((hi as i128) << 64) | (lo as u64 as i128)
}

/// Writes an `i128` as two words (low, high).
///
/// # Safety
/// `out` must be valid for writing two `i64` words.
unsafe fn write_i128(out: *mut i64, value: i128) {
    // SAFETY: the caller guarantees two writable words; `write_unaligned` needs no alignment.
    unsafe {
        out.write_unaligned(value as i64);
        out.add(1).write_unaligned((value >> 64) as i64);
    }
}

/// `a × b` in 128 bits; returns [`HELPER_OVERFLOW`] when the product does not fit.
///
/// # Safety
/// `out` must be valid for writing two `i64` words (JIT code passes a 16-byte stack slot).
pub unsafe extern "C" fn pol_jit_mul_i128(a_lo: i64, a_hi: i64, b_lo: i64, b_hi: i64, out: *mut i64) -> i64 {
    match join(a_lo, a_hi).checked_mul(join(b_lo, b_hi)) {
        Some(p) => {
            // SAFETY: forwarded from this function's contract.
            unsafe { write_i128(out, p) };
            HELPER_OK
        }
        None => HELPER_OVERFLOW,
    }
}

/// The rounding modes in the order JIT code encodes them.
pub const ROUND_MODES: [RoundMode; 5] =
    [RoundMode::HalfAwayFromZero, RoundMode::HalfEven, RoundMode::Down, RoundMode::Up, RoundMode::TowardZero];

pub fn round_mode_code(mode: RoundMode) -> i64 {
    ROUND_MODES.iter().position(|m| *m == mode).unwrap_or(0) as i64
}

/// `round_quotient(num, den, mode)` for `den > 0`.
///
/// # Safety
/// `out` must be valid for writing two `i64` words. JIT code only calls it with `den > 0`.
pub unsafe extern "C" fn pol_jit_round_quotient(num_lo: i64, num_hi: i64, den_lo: i64, den_hi: i64, mode: i64, out: *mut i64) -> i64 {
    let den = join(den_lo, den_hi);
    let mode = ROUND_MODES.get(mode as usize).copied().unwrap_or(RoundMode::HalfAwayFromZero);
    // A non-positive denominator is a translator bug; never divide by zero in that case.
    let q = if den > 0 { round_quotient(join(num_lo, num_hi), den, mode) } else { 0 };
    // SAFETY: forwarded from this function's contract.
    unsafe { write_i128(out, q) };
    HELPER_OK
}

/// 64-bit floor division (`op == 0`) or remainder (`op == 1`) exactly as the interpreter.
///
/// # Safety
/// `out` must be valid for writing one `i64` word.
pub unsafe extern "C" fn pol_jit_int_div_rem(x: i64, y: i64, op: i64, out: *mut i64) -> i64 {
    let op = if op == 0 { ArithOp::Div } else { ArithOp::Rem };
    match int_arith(op, x, y) {
        Ok(v) => {
            // SAFETY: forwarded from this function's contract.
            unsafe { out.write_unaligned(v) };
            HELPER_OK
        }
        Err(pol_core::exact::ArithError::Overflow) => HELPER_OVERFLOW,
        Err(pol_core::exact::ArithError::DivisionByZero) => HELPER_DIVISION_BY_ZERO,
    }
}

/// The index of `key` in the strictly increasing `keys[..len]`, or -1.
///
/// # Safety
/// `keys` must point to `len` readable words (a table the kernel owns).
pub unsafe extern "C" fn pol_jit_table_find(keys: *const i64, len: i64, key: i64) -> i64 {
    // SAFETY: forwarded from this function's contract.
    let keys = unsafe { std::slice::from_raw_parts(keys, len.max(0) as usize) };
    keys.binary_search(&key).map_or(-1, |i| i as i64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_i128_reports_overflow_and_splits_halves() {
        let mut out = [0i64; 2];
        let big = i64::MAX as i128 * 3;
        // SAFETY: `out` has two words.
        let status = unsafe { pol_jit_mul_i128(big as i64, (big >> 64) as i64, -5, -1, out.as_mut_ptr()) };
        assert_eq!(status, HELPER_OK);
        assert_eq!(join(out[0], out[1]), big * -5);
        // SAFETY: `out` has two words.
        let status = unsafe { pol_jit_mul_i128(0, i64::MAX, 4, 0, out.as_mut_ptr()) };
        assert_eq!(status, HELPER_OVERFLOW);
    }

    #[test]
    fn table_find_uses_binary_search() {
        let keys = [1i64, 5, 9];
        // SAFETY: `keys` has three words.
        unsafe {
            assert_eq!(pol_jit_table_find(keys.as_ptr(), 3, 5), 1);
            assert_eq!(pol_jit_table_find(keys.as_ptr(), 3, 4), -1);
        }
    }
}
