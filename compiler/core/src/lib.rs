//! The Pol compiler core. Pure: it takes source text and returns values and diagnostics; it
//! never touches files, terminals or the clock.
//!
//! Pipeline: [`syntax`] (pest grammar → AST with spans) → [`check`] (names, types, units,
//! exhaustiveness → checked program) → [`compliance`] (scheme against framework) → [`lower`]
//! (checked program at an as-of date → [`ir`]) → [`interp`] (the reference semantics).

pub mod calendar;
pub mod check;
pub mod codes;
pub mod compliance;
pub mod diagnostic;
pub mod exact;
pub mod interp;
pub mod ir;
pub mod lower;
pub mod span;
pub mod syntax;
pub mod testing;
