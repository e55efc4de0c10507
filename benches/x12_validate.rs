//! `cargo bench --bench x12_validate`: full implementation-guide validation of a generated
//! 10,000-claim 837P (one core), against a baseline run in the same invocation: splitting the
//! same bytes into segments only (the floor any validator pays).

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use hts_gateway::x12::lexer::{Lexer, Step};
use hts_gateway::x12::sample::{Sample837, write_837p};
use hts_gateway::x12::validate;

fn file(claims: usize) -> Vec<u8> {
    let mut buf = Vec::new();
    write_837p(
        Sample837 {
            claims,
            claims_per_set: 5000,
            sets_per_interchange: 100,
        },
        &mut buf,
    )
    .expect("in-memory write");
    buf
}

fn lex_only(bytes: &[u8]) -> usize {
    let mut lx = Lexer::new();
    let (mut pos, mut n) = (0, 0);
    while let Step::Item { consumed, .. } = lx.step(&bytes[pos..], true) {
        pos += consumed;
        n += 1;
    }
    n
}

fn bench(c: &mut Criterion) {
    let bytes = file(10_000);
    // Validation must accept the file, or the figure means nothing.
    assert!(validate(&bytes).accepted());
    let mut g = c.benchmark_group("837P_10000_claims");
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.sample_size(20);
    g.bench_with_input(
        BenchmarkId::new("baseline_segment_split", bytes.len()),
        &bytes,
        |b, x| b.iter(|| lex_only(x)),
    );
    g.bench_with_input(
        BenchmarkId::new("full_validation", bytes.len()),
        &bytes,
        |b, x| b.iter(|| validate(x)),
    );
    g.finish();
    if let Ok(dir) = std::env::var("HTS_BENCH_OUT") {
        std::fs::write(std::path::Path::new(&dir).join("837P_10000.x12"), &bytes)
            .expect("writable HTS_BENCH_OUT");
    }
}

criterion_group!(benches, bench);
criterion_main!(benches);
