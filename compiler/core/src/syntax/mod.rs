//! Source text to AST: the pest grammar stays behind [`parser`]; everything else sees [`ast`].

pub mod ast;
mod parser;

pub use parser::{MAX_CHAIN, MAX_NESTING, parse_file};
