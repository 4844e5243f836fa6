//! Helpers shared by the CLI's integration tests: the `pol` binary run from the repository root.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const GUANGDONG: &str = "policies/provinces/guangdong/pension_adjustment_2024.pol";
pub const PROFILE: &str = "policies/national/profiles/retiree.toml";

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `pol ARGS` in the repository root, waited for.
pub fn pol(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pol")).args(args).current_dir(repo()).output().expect("pol runs")
}

/// Everything a command printed, stdout then stderr.
pub fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}
