//! The Pol compiler core. Pure: it takes source text and returns values and diagnostics; it
//! never touches files, terminals or the clock.
//!
//! Pipeline: [`syntax`] (pest grammar → AST with spans) → [`check`] (names, types, units,
//! exhaustiveness → checked program) → [`compliance`] (scheme against framework) → [`lower`]
//! (checked program at an as-of date → [`ir`]) → [`interp`] (the reference semantics).

pub mod audit;
pub mod calendar;
pub mod check;
pub mod codes;
pub mod compliance;
pub mod diagnostic;
pub mod driver;
pub mod exact;
pub mod interp;
pub mod ir;
pub mod lower;
pub mod span;
pub mod syntax;
pub mod testing;
pub mod values;

/// The stack the compiler's passes run on. They recurse over expressions, whose nesting the
/// parser bounds (`syntax::MAX_NESTING` levels, `syntax::MAX_CHAIN` operands in one chain), so
/// this much stack is enough for any file the parser accepts, in debug builds too.
pub const STACK_BYTES: usize = 512 << 20;

/// Runs `f` on a thread with [`STACK_BYTES`] of stack (reserved address space: only the pages
/// used are touched). Callers that check or compile arbitrary files use it so that no input
/// can overflow the stack. Falls back to the current thread if no thread can be started.
pub fn on_compiler_stack<T: Send>(f: impl FnOnce() -> T + Send) -> T {
    let mut f = Some(f);
    let outcome = std::thread::scope(|s| {
        let spawned =
            std::thread::Builder::new().name("pol-compiler".into()).stack_size(STACK_BYTES).spawn_scoped(s, || f.take().map(|f| f()));
        spawned.ok().map(|h| h.join())
    });
    match outcome {
        Some(Ok(Some(v))) => v,
        Some(Err(panic)) => std::panic::resume_unwind(panic),
        _ => match f.take() {
            Some(f) => f(),
            None => unreachable!("the closure ran on the compiler thread"),
        },
    }
}
