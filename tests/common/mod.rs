//! Helpers shared by the integration tests.
#![allow(dead_code)]

pub mod db;
pub mod gateway;
pub mod queue;

use std::path::PathBuf;

use hts_gateway::x12::report::Report;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> String {
    let p = root().join("fixtures/x12").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// One line per verdict (see `Report::verdict_line`).
pub fn summary(r: &Report) -> String {
    r.verdict_line()
}

/// Replaces segment number `n` (0-based, in file order) of a `~`-terminated fixture.
pub fn replace_segment(text: &str, n: usize, with: &str) -> String {
    let mut segs: Vec<String> = text
        .split('~')
        .map(|s| s.trim_start_matches(['\r', '\n']).to_string())
        .collect();
    segs[n] = with.to_string();
    segs.join("~\n")
}

/// Index of the first segment starting with `prefix`.
pub fn find_segment(text: &str, prefix: &str) -> usize {
    text.split('~')
        .map(|s| s.trim_start_matches(['\r', '\n']))
        .position(|s| s.starts_with(prefix))
        .unwrap_or_else(|| panic!("no segment {prefix}"))
}

/// Applies `f` to the first segment starting with `prefix`.
pub fn edit(text: &str, prefix: &str, with: &str) -> String {
    replace_segment(text, find_segment(text, prefix), with)
}

/// Removes the first segment starting with `prefix`, fixing nothing else.
pub fn remove(text: &str, prefix: &str) -> String {
    let n = find_segment(text, prefix);
    let segs: Vec<&str> = text
        .split('~')
        .map(|s| s.trim_start_matches(['\r', '\n']))
        .enumerate()
        .filter(|(i, _)| *i != n)
        .map(|(_, s)| s)
        .collect();
    segs.join("~\n")
}
