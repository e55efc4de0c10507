//! Prints the one-line verdict summary the corpus test records, for each file given:
//! `cargo run --example summary -- FILE...`.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a developer tool: fail loudly

#[path = "../tests/common/mod.rs"]
mod common;

fn main() {
    for f in std::env::args().skip(1) {
        let bytes = std::fs::read(&f).expect("readable file");
        let r = hts_gateway::x12::validate(&bytes);
        println!("{f}\t{}\t{}", r.accepted(), common::summary(&r));
    }
}
