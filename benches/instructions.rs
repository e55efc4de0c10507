//! The workload `scripts/instructions` counts under callgrind: both servers started as for the
//! load harness (benches/common/realtime.rs), a warm-up, then `N` real-time 270 → 271 requests
//! over one keep-alive TLS connection to one of them, then the gateway's shutdown (which writes
//! every queued audit row). Run twice with different `N`, the difference of the two totals is
//! the cost of the extra requests alone, start-up and warm-up cancelling out; instruction counts
//! do not depend on the machine's load, so they show what a change did where requests per
//! second on a shared 2-core VM cannot.
//!
//! Usage (through the script): `instructions gateway|baseline N`. Under `cargo test` it sends a
//! few requests to each as a smoke test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/realtime.rs"]
mod realtime;

const WARM_UP: usize = 50;

fn main() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench")
        .collect();
    let (targets, n): (&[&str], usize) = match args.as_slice() {
        [t, n] if t == "gateway" => (&["gateway"], n.parse().unwrap()),
        [t, n] if t == "baseline" => (&["baseline"], n.parse().unwrap()),
        _ => (&["gateway", "baseline"], 5),
    };
    // One thread for the servers and the client, as in benches/allocations.rs: what is counted
    // is the work, not how it was scheduled. SQLite runs on sqlx's own thread.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let servers = rt.block_on(realtime::start());
    let client = realtime::client(&servers.ca_path);
    for target in targets {
        let url = if *target == "gateway" {
            &servers.gateway_url
        } else {
            &servers.base_url
        };
        for _ in 0..WARM_UP + n {
            rt.block_on(realtime::post(&client, url, &servers.body));
        }
    }
    rt.block_on(servers.gateway.shutdown());
    println!("sent {n} requests (after {WARM_UP} to warm up) to {targets:?}");
}
