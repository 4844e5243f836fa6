//! Why a program could not be compiled to native code.

use std::fmt;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JitError {
    /// The host machine or its flags are not supported by Cranelift.
    Host(String),
    /// Cranelift rejected the generated function (a bug in the translator).
    Codegen(String),
    /// The IR breaks an invariant the lowering guarantees (an index out of range, a
    /// denominator that is not positive), so no engine could evaluate it faithfully.
    InvalidProgram(String),
}

impl fmt::Display for JitError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JitError::Host(m) => write!(f, "cannot set up the JIT for this machine: {m}"),
            JitError::Codegen(m) => write!(f, "code generation failed: {m}"),
            JitError::InvalidProgram(m) => write!(f, "invalid IR program: {m}"),
        }
    }
}

impl std::error::Error for JitError {}
