//! The engine never panics or hangs, whatever the bytes. (The fuzz target in fuzz/ explores the
//! same property with coverage guidance; see README.)

#![allow(clippy::unwrap_used, clippy::expect_used)] // tests fail loudly by design

mod common;

use hts_gateway::x12::ack::{AckControl, write_acknowledgment};
use hts_gateway::x12::{validate, validate_reader};
use proptest::prelude::*;

fn exercise(bytes: &[u8]) {
    let r = validate(bytes);
    let ctl = AckControl {
        interchange_control: 1,
        group_control: 1,
        date: "20260101".into(),
        time: "0000".into(),
        line_breaks: false,
    };
    for ic in &r.interchanges {
        if let Some(ack) = write_acknowledgment(ic, &ctl) {
            // Whatever we received, what we send back is well-formed X12.
            let back = validate(&ack);
            assert!(back.accepted(), "{}", common::summary(&back));
        }
    }
    // The batch workers' extractors read the same untrusted bytes: they must not panic either.
    let _ = hts_gateway::payer::intake::claims_in(bytes);
    let _ = hts_gateway::payer::intake::enrollment_in(bytes);
    let streamed = validate_reader(bytes).expect("in-memory reader");
    assert_eq!(common::summary(&r), common::summary(&streamed));
    // However the input is split into reads, the report is the same.
    let chunked = validate_reader(Trickle {
        data: bytes,
        step: 1 + bytes.len() % 61,
    })
    .expect("in-memory reader");
    assert_eq!(common::summary(&r), common::summary(&chunked));
}

/// A reader handing out `step` bytes per read.
struct Trickle<'a> {
    data: &'a [u8],
    step: usize,
}

impl std::io::Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.data.len().min(buf.len()).min(self.step);
        buf[..n].copy_from_slice(&self.data[..n]);
        self.data = &self.data[n..];
        Ok(n)
    }
}

/// Every input the fuzzer ever failed on (fuzz/regressions/) is replayed here.
#[test]
fn fuzz_regressions() {
    let dir = common::root().join("fuzz/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        exercise(&std::fs::read(entry.unwrap().path()).unwrap());
        n += 1;
    }
    assert!(n > 0, "no regression inputs in {}", dir.display());
}

/// An unreadable ISA followed by more data than the streaming window holds.
#[test]
fn bad_isa_longer_than_the_window() {
    let mut b = b"ISA*00*~\n".to_vec();
    b.extend(std::iter::repeat_n(b'x', 300_000));
    exercise(&b);
}

fn seeds() -> Vec<Vec<u8>> {
    [
        "837P_two_claims.x12",
        "271_active_with_pcp.x12",
        "837I_three_claims.x12",
        "834_enrollment_changes.x12",
    ]
    .iter()
    .map(|f| common::fixture(f).into_bytes())
    .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, .. ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
        exercise(&bytes);
    }

    #[test]
    fn arbitrary_bytes_after_an_isa(tail in proptest::collection::vec(any::<u8>(), 0..400)) {
        let mut b = seeds()[0][..106].to_vec();
        b.extend(tail);
        exercise(&b);
    }

    #[test]
    fn mutated_valid_files(seed in 0usize..4, edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..8), cut in any::<usize>()) {
        let mut b = seeds()[seed].clone();
        for (at, byte) in edits {
            let i = at % b.len();
            b[i] = byte;
        }
        let len = b.len();
        b.truncate(len - cut % 20);
        exercise(&b);
    }

    #[test]
    fn delimiter_characters_everywhere(picks in proptest::collection::vec(0usize..12, 0..300)) {
        let alphabet = b"ISA*~:^|\r\n GSTE1";
        let b: Vec<u8> = picks.iter().map(|&i| alphabet[i]).collect();
        exercise(&b);
    }
}

/// A payload several times the streaming window, read from a file as the CLI does.
#[test]
fn large_files_stream_like_in_memory() {
    let mut b = Vec::new();
    let shape = hts_gateway::x12::sample::Sample837 {
        claims: 6_000,
        claims_per_set: 2_500,
        sets_per_interchange: 2,
    };
    hts_gateway::x12::sample::write_837p(shape, &mut b).unwrap();
    assert!(b.len() > 4 * 262_144);
    let r = validate(&b);
    assert!(r.accepted(), "{}", common::summary(&r));
    let path = std::path::PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("large.x12");
    std::fs::write(&path, &b).unwrap();
    let streamed =
        validate_reader(std::io::BufReader::new(std::fs::File::open(&path).unwrap())).unwrap();
    assert_eq!(common::summary(&r), common::summary(&streamed));
    let chunked = validate_reader(Trickle {
        data: &b,
        step: 4093,
    })
    .unwrap();
    assert_eq!(common::summary(&r), common::summary(&chunked));
}
