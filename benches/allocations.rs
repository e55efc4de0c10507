//! Heap allocations per real-time request: the gateway's whole path (TLS, HTTP, envelope,
//! sign-in, validation, lookup, 271, response, audit record) next to the baseline server's in
//! the same run, and the main steps on their own. Counts do not depend on the machine's load,
//! so they show what a change did where requests per second cannot.
//!
//! Run: `cargo bench --bench allocations` (optionally `-- REQUESTS`, default 2,000).
//!
//! Everything runs on one current-thread runtime, so the count covers the load client and both
//! servers; the client's share is the same for both, and the difference between the two is
//! the gateway's own work. SQLite's allocations (C code, its own thread) are not counted.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use hts_gateway::core::Wire;
use hts_gateway::payer::cache::CachedPlan;
use hts_gateway::payer::{AnswerKind, PlanIdentity, ResponseContext, respond};
use hts_gateway::store::Store;

#[path = "common/realtime.rs"]
mod realtime;

/// Allocations and bytes per call of `f`, over `n` calls.
fn per_call(n: usize, mut f: impl FnMut()) -> (f64, f64) {
    let info = allocation_counter::measure(|| {
        for _ in 0..n {
            f();
        }
    });
    (
        info.count_total as f64 / n as f64,
        info.bytes_total as f64 / n as f64,
    )
}

fn print(name: &str, (count, bytes): (f64, f64)) {
    println!("{name:<44} {count:>8.1} allocations   {bytes:>9.0} bytes");
}

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let benching = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(if benching { 2_000 } else { 50 });
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let servers = rt.block_on(realtime::start());
    let client = realtime::client(&servers.ca_path);
    let send = |url: &str| rt.block_on(realtime::post(&client, url, &servers.body));
    // Warm up both (connection, TLS session, caches), then count.
    for _ in 0..100 {
        send(&servers.base_url);
        send(&servers.gateway_url);
    }
    println!("per request, {n} requests over one keep-alive TLS connection, HTTP/1.1");
    let base = per_call(n, || send(&servers.base_url));
    let gateway = per_call(n, || send(&servers.gateway_url));
    print("baseline: hyper+rustls, fixed 271 (+ client)", base);
    print("hts-gateway: 270 → 271 (+ client)", gateway);
    print(
        "hts-gateway's own (difference)",
        (gateway.0 - base.0, gateway.1 - base.1),
    );

    // The steps on their own.
    let body = servers.body.as_bytes();
    let envelope = hts_gateway::core::soap::decode_soap(body, Wire::Soap, None, |_| None).unwrap();
    let x12 = envelope.payload_bytes().unwrap().to_vec();
    print(
        "  SOAP envelope decode",
        per_call(n, || {
            hts_gateway::core::soap::decode_soap(body, Wire::Soap, None, |_| None).unwrap();
        }),
    );
    print(
        "  X12 validation of the 270",
        per_call(n, || {
            assert!(hts_gateway::x12::validate(&x12).accepted());
        }),
    );
    let database = format!("sqlite:{}", servers.dir.path().join("load.db").display());
    let store = rt.block_on(Store::open(&database)).unwrap();
    let plan = CachedPlan::new(store.clone());
    let ctx = ResponseContext::now(PlanIdentity::default());
    print(
        "  respond (validation, lookup, 271), cached",
        per_call(n, || {
            let a = rt.block_on(respond(&x12, &plan, &ctx)).unwrap();
            assert_eq!(a.kind, AnswerKind::Eligibility);
        }),
    );
    rt.block_on(async {
        store.close().await;
        servers.gateway.shutdown().await;
    });
}
