//! The gateway's envelope work alone, for callgrind: the load harness's SOAP request
//! (benches/common/realtime.rs) decoded and checked, and a real-time response carrying the
//! demo 271 encoded, `N` times each after a warm-up. No server, TLS, HTTP or X12, so a profile
//! shows the SOAP decode, the CORE checks and the response encode only.
//!
//! Run: `valgrind --tool=callgrind target/release/deps/envelope_instructions-* N` (built with
//! `cargo bench --bench envelope_instructions --no-run`); run twice with two counts and divide
//! the difference by the difference of the counts, so start-up cancels out. `cargo bench` runs
//! it once as a check.
#![allow(clippy::unwrap_used, clippy::expect_used)]

#[path = "common/realtime.rs"]
mod realtime;

use hts_gateway::core::envelope::Wire;
use hts_gateway::core::soap::{self, PayloadStyle};
use hts_gateway::core::validate::{self, Rules};
use hts_gateway::core::{ResponseEnvelope, envelope::Operation};

fn main() {
    let benching = std::env::args().any(|a| a == "--bench");
    let n: usize = std::env::args()
        .skip(1)
        .find_map(|a| a.parse().ok())
        .unwrap_or(if benching { 1_000 } else { 10 });
    let request = realtime::envelope();
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let x12_271 = std::fs::read(root.join("fixtures/x12/271_active_with_pcp.x12")).unwrap();
    let rules = Rules {
        receiver_ids: vec!["DEMOPLAN".into()],
    };
    let mut checksum = 0usize;
    let mut once = || {
        let env = soap::decode_soap(request.as_bytes(), Wire::Soap, None, |_| None).unwrap();
        validate::check(&env, &rules).unwrap();
        let response = ResponseEnvelope::reply(
            Operation::RealTime,
            &env.metadata,
            "X12_271_Response_005010X279A1",
            x12_271.clone(),
        );
        checksum += soap::encode_response(&response, PayloadStyle::Text).len();
        checksum += env.payload.map_or(0, |p| p.len() as usize);
    };
    for _ in 0..n.min(50) {
        once();
    }
    for _ in 0..n {
        once();
    }
    println!("{n} envelopes decoded and answered ({checksum})");
}
