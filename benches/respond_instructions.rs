//! `payer::respond` alone, for callgrind: the 270 the load harness sends
//! (fixtures/x12/270_jane_doe.x12) answered `N` times from the eligibility cache after a
//! warm-up, plus the audit log's `control_numbers` on request and answer. No server, TLS or
//! HTTP, so a profile shows the X12 and payer work only.
//!
//! Run: `valgrind --tool=callgrind target/release/deps/respond_instructions-* N` (built with
//! `cargo bench --bench respond_instructions --no-run`); `cargo bench` runs it once as a check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/realtime.rs"]
mod realtime;

use std::time::Duration;

use hts_gateway::payer::cache::CachedPlan;
use hts_gateway::payer::{AnswerKind, PlanIdentity, ResponseContext, parse_date, respond};
use hts_gateway::x12::tree::control_numbers;

fn main() {
    // `cargo test --all-targets` runs this as a smoke test (no `--bench`): a few calls do.
    let benching = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(if benching { 1_000 } else { 10 });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let store = rt.block_on(realtime::demo_plan_store(&url));
    let request = std::fs::read(root.join("fixtures/x12/270_jane_doe.x12")).unwrap();
    // Never stale within a run: every call after the first is served from the cache.
    let plan = CachedPlan::with_limits(store, Duration::from_secs(86_400), 100_000);
    let mut ctx = ResponseContext::now(PlanIdentity::default());
    ctx.today = parse_date("2026-06-15").unwrap();
    let mut checksum = 0usize;
    let mut once = || {
        let a = rt.block_on(respond(&request, &plan, &ctx)).unwrap();
        assert_eq!(a.kind, AnswerKind::Eligibility);
        checksum += control_numbers(&request).isa13.map_or(0, |s| s.len());
        checksum += control_numbers(&a.bytes).isa13.map_or(0, |s| s.len());
        checksum += a.bytes.len();
    };
    for _ in 0..n.min(50) {
        once();
    }
    for _ in 0..n {
        once();
    }
    println!("{n} requests answered ({checksum})");
}
