//! Latency of a real-time eligibility answer: one 270 in, one 271 out, from the demo data set
//! on SQLite (validation, provider and member lookup, spans, 271 build), as p50/p90/p99 per
//! call, straight from the store and through the eligibility cache the gateway uses, next to
//! baselines measured in the same run:
//! - `sqlx SELECT 1`: one round trip through the same SQLite pool (the floor any lookup pays);
//! - `validate 270`: the X12 engine alone on the same request.
//!
//! Run: `cargo bench --bench plan_respond` (optionally `-- ITERATIONS`).
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/realtime.rs"]
mod realtime;

use std::time::{Duration, Instant};

use hts_gateway::payer::cache::CachedPlan;
use hts_gateway::payer::{AnswerKind, PlanIdentity, ResponseContext, parse_date, respond};

const REQUEST: &str = "ISA*00*          *00*          *ZZ*110048577A     *ZZ*DEMOPLAN       *260615*1200*^*00501*000000101*0*P*:~\
GS*HS*110048577A*DEMOPLAN*20260615*1200*101*X*005010X279A1~\
ST*270*0001*005010X279A1~\
BHT*0022*13*REQ0001*20260615*1200~\
HL*1**20*1~NM1*PR*2*DEMO HEALTH PLAN*****PI*DEMOPLAN~\
HL*2*1*21*1~NM1*1P*2*DEMO COMMUNITY HOSPITAL*****XX*1234567893~\
HL*3*2*22*0~TRN*1*TRACE0001*9876543210~\
NM1*IL*1*MCO*MARIA****MI*100000000004~DMG*D8*19880808*F~DTP*291*D8*20260610~EQ*30~\
SE*13*0001~GE*1*101~IEA*1*000000101~";

fn percentiles(mut samples: Vec<Duration>) -> [Duration; 3] {
    samples.sort_unstable();
    let at = |q: f64| samples[((samples.len() as f64 * q) as usize).min(samples.len() - 1)];
    [at(0.50), at(0.90), at(0.99)]
}

fn micros(d: Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

fn main() {
    // `cargo bench` passes --bench; `cargo test --all-targets` runs this as a smoke test, so a
    // few calls are enough there.
    let benching = std::env::args().any(|a| a == "--bench");
    let iterations: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(if benching { 20_000 } else { 100 });
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("bench.db").display());
    let store = rt.block_on(realtime::demo_plan_store(&url));
    let mut ctx = ResponseContext::now(PlanIdentity::default());
    ctx.today = parse_date("2026-06-15").unwrap();
    let request = REQUEST.as_bytes();

    // Sanity: the benchmark measures a real, complete answer.
    let answer = rt.block_on(respond(request, &store, &ctx)).unwrap();
    assert_eq!(answer.kind, AnswerKind::Eligibility);
    let text = String::from_utf8_lossy(&answer.bytes);
    assert!(
        text.contains("EB*MC*") && text.contains("NM1*P3*"),
        "{text}"
    );

    let measure = |name: &str, f: &mut dyn FnMut()| -> [Duration; 3] {
        for _ in 0..iterations / 10 {
            f();
        }
        let mut samples = Vec::with_capacity(iterations);
        for _ in 0..iterations {
            let t = Instant::now();
            f();
            samples.push(t.elapsed());
        }
        let p = percentiles(samples);
        println!(
            "{name:<28} p50 {:>8.1} µs   p90 {:>8.1} µs   p99 {:>8.1} µs",
            micros(p[0]),
            micros(p[1]),
            micros(p[2])
        );
        p
    };
    println!("{iterations} calls each, SQLite, demo data (fixtures/plan)");
    if std::env::var("PLAN_BENCH_ONLY").as_deref() == Ok("cached") {
        // For profilers: the cached path alone.
        let cached_plan = CachedPlan::new(store.clone());
        measure("270 → 271, cached (gateway)", &mut || {
            rt.block_on(respond(request, &cached_plan, &ctx)).unwrap();
        });
        return;
    }
    let select1 = measure("baseline: sqlx SELECT 1", &mut || {
        rt.block_on(store.ping()).unwrap();
    });
    let validate = measure("baseline: validate 270", &mut || {
        assert!(hts_gateway::x12::validate(request).accepted());
    });
    let uncached = measure("270 → 271, store only", &mut || {
        let a = rt.block_on(respond(request, &store, &ctx)).unwrap();
        assert_eq!(a.kind, AnswerKind::Eligibility);
    });
    // As the gateway runs it: the eligibility cache in front of the store (generation checked
    // at most once a second, so about one call in 10,000 here pays a round trip).
    let cached_plan = CachedPlan::new(store.clone());
    let cached = measure("270 → 271, cached (gateway)", &mut || {
        let a = rt.block_on(respond(request, &cached_plan, &ctx)).unwrap();
        assert_eq!(a.kind, AnswerKind::Eligibility);
    });
    println!(
        "ratios at p50: store-only / SELECT 1 = {:.1}; cached / SELECT 1 = {:.2}; \
         cached / validate = {:.1}",
        micros(uncached[0]) / micros(select1[0]),
        micros(cached[0]) / micros(select1[0]),
        micros(cached[0]) / micros(validate[0])
    );
    rt.block_on(store.close());
}
