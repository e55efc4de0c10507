//! The audit log's write path on SQLite alone: `BATCHES` batches of `SIZE` realistic records
//! (as the handler builds them: UUIDv7 correlation ID, random PayloadID, SHA-1s) written with
//! `Store::record_messages` into a fresh database, as the server's audit writer does.
//!
//! Run: `cargo bench --bench audit_write -- [BATCHES [SIZE]] [--fixed-payload-id]` (default 200
//! batches of 256); prints wall time and CPU time per record. `--fixed-payload-id` gives every
//! record the same PayloadID, which shows what random ones cost the PayloadID index (a lot
//! before migration 0010, nothing since). For a count that does not depend on the machine's
//! load, run the executable under callgrind twice with different `BATCHES` (e.g. 20 and 60)
//! and divide the difference of the totals by the difference of the record counts: start-up,
//! migrations and statement preparation cancel out.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Instant;

#[path = "common/cpu.rs"]
mod cpu;

use cpu::process_cpu;

use hts_gateway::core::Wire;
use hts_gateway::store::Store;
use hts_gateway::store::audit::AuditRecord;

/// Batches written before timing starts (statements prepared, pages cached).
const WARM_UP: usize = 4;

fn record(i: usize, fixed_payload_id: bool) -> AuditRecord {
    let now = time::OffsetDateTime::now_utc();
    AuditRecord {
        correlation_id: uuid::Uuid::now_v7().to_string(),
        received_at: now,
        answered_at: Some(now),
        operation: Some("RealTimeTransaction".into()),
        wire: Some(Wire::Soap),
        organization: Some("Load Test Hospital".into()),
        user_name: Some("loaduser".into()),
        sender_id: Some("110048577A".into()),
        receiver_id: Some("DEMOPLAN".into()),
        payload_id: Some(if fixed_payload_id {
            "f81d4fae-7dec-11d0-a765-00a0c91e6bf6".to_string()
        } else {
            uuid::Uuid::new_v4().to_string()
        }),
        payload_type: Some("X12_270_Request_005010X279A1".into()),
        response_payload_type: Some("X12_271_Response_005010X279A1".into()),
        request_bytes: 312,
        response_bytes: Some(873),
        http_status: Some(200),
        error_code: Some("Success".into()),
        isa13: Some(format!("{:09}", i % 1_000_000_000)),
        gs06: Some((i % 100_000).to_string()),
        st02: Some("0001".into()),
        response_isa13: Some(format!("{:09}", (i + 7) % 1_000_000_000)),
        test_mode: false,
        request_sha1: Some(format!("{:040x}", i as u128 * 0x9e37_79b9_7f4a_7c15)),
        response_sha1: Some(format!("{:040x}", i as u128 * 0x517c_c1b7_2722_0a95)),
    }
}

fn main() {
    let fixed_payload_id = std::env::args().any(|a| a == "--fixed-payload-id");
    let args: Vec<usize> = std::env::args()
        .skip(1)
        .filter(|a| a != "--bench" && a != "--fixed-payload-id")
        .map(|a| {
            a.parse()
                .expect("usage: audit_write [BATCHES [SIZE]] [--fixed-payload-id]")
        })
        .collect();
    let batches = args.first().copied().unwrap_or(200);
    let size = args.get(1).copied().unwrap_or(256);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite:{}", dir.path().join("audit.db").display());
    rt.block_on(async {
        let store = Store::open(&url).await.unwrap();
        let mut n = 0;
        let batch = |n: &mut usize| -> Vec<AuditRecord> {
            let b = (*n..*n + size)
                .map(|i| record(i, fixed_payload_id))
                .collect();
            *n += size;
            b
        };
        for _ in 0..WARM_UP {
            store.record_messages(&batch(&mut n)).await.unwrap();
        }
        // Records are built outside the timed part, as the server builds them on the request
        // path, not in the writer.
        let all: Vec<Vec<AuditRecord>> = (0..batches).map(|_| batch(&mut n)).collect();
        let started = Instant::now();
        let cpu_before = process_cpu();
        for b in &all {
            store.record_messages(b).await.unwrap();
        }
        let elapsed = started.elapsed();
        let cpu = process_cpu().saturating_sub(cpu_before);
        let records = batches * size;
        println!(
            "{records} records in {batches} batches of {size}, {} PayloadIDs: {:.2} µs per record (wall), {:.2} µs CPU (user + system, all threads)",
            if fixed_payload_id { "one repeated" } else { "random" },
            elapsed.as_secs_f64() * 1e6 / records as f64,
            cpu.as_secs_f64() * 1e6 / records as f64
        );
        store.close().await;
    });
}
