//! The properties both fuzz targets check, the same ones as `tests/no_panic.rs`:
//!
//! 1. the engine never panics (libFuzzer also flags a hang with `-timeout`);
//! 2. every acknowledgement we write validates as accepted by our own engine;
//! 3. streaming validation (`validate_reader`) and in-memory validation (`validate`) give the
//!    same report, also (feature `chunked-reader`, on by default) when the reader hands the bytes
//!    over in small chunks.

#[cfg(feature = "chunked-reader")]
use std::io::{self, Read};

use hts_gateway::x12::ack::{AckControl, write_acknowledgment};
use hts_gateway::x12::report::Report;
use hts_gateway::x12::{validate, validate_reader};

/// Checks every property on one payload; panics (a fuzzer finding) when one fails.
pub fn exercise(bytes: &[u8]) {
    let r = validate(bytes);

    // What we send back is well-formed X12, whatever we received.
    for line_breaks in [false, true] {
        let ctl = AckControl {
            interchange_control: 1,
            group_control: 1,
            date: "20260101".into(),
            time: "0000".into(),
            line_breaks,
        };
        for ic in &r.interchanges {
            if let Some(ack) = write_acknowledgment(ic, &ctl) {
                let back = validate(&ack);
                assert!(
                    back.accepted(),
                    "our acknowledgement is not accepted by our own engine: {}\n--- ack ---\n{}",
                    summary(&back),
                    String::from_utf8_lossy(&ack)
                );
            }
        }
    }

    // Streaming, the whole slice offered at once.
    let streamed = validate_reader(bytes).expect("an in-memory reader does not fail");
    same_report(&r, &streamed, "validate_reader(whole slice)");

    // Streaming, the bytes handed over a few at a time (chunk size fixed by the input length, so
    // that a finding reproduces from its file alone).
    #[cfg(feature = "chunked-reader")]
    {
        let chunk = 1 + bytes.len() % 61;
        let trickled = validate_reader(Trickle { rest: bytes, chunk }).expect("an in-memory reader does not fail");
        same_report(&r, &trickled, "validate_reader(chunks)");
    }
}

fn same_report(mem: &Report, streamed: &Report, how: &str) {
    // The stable projection the integration tests compare first, for a readable message...
    assert_eq!(summary(mem), summary(streamed), "validate vs {how}: verdicts differ");
    // ...then everything the report serialises (offsets, messages, counts).
    let a = serde_json::to_string(mem).expect("report serialises");
    let b = serde_json::to_string(streamed).expect("report serialises");
    assert_eq!(a, b, "validate vs {how}: reports differ");
}

/// A reader that returns at most `chunk` bytes per call.
#[cfg(feature = "chunked-reader")]
struct Trickle<'a> {
    rest: &'a [u8],
    chunk: usize,
}

#[cfg(feature = "chunked-reader")]
impl Read for Trickle<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.rest.len().min(buf.len()).min(self.chunk);
        buf[..n].copy_from_slice(&self.rest[..n]);
        self.rest = &self.rest[n..];
        Ok(n)
    }
}

/// One line per verdict (see `Report::verdict_line`).
pub fn summary(r: &Report) -> String {
    r.verdict_line()
}

/// The valid interchanges the `mutate_valid` target starts from.
pub const SEEDS: [&[u8]; 2] = [
    include_bytes!("../../fixtures/x12/837P_two_claims.x12"),
    include_bytes!("../../fixtures/x12/271_active_with_pcp.x12"),
];

/// Bytes that matter to the lexer and the element checks.
const INTERESTING: &[u8] = b"*~:^|\r\n 0123456789ABCDEFHIMNPRSTXYZ-.";

/// Applies the edits encoded in `data` to one of [`SEEDS`].
///
/// `data[0]` picks the seed; the rest is read as 4-byte edits `[op, pos_lo, pos_hi, arg]`, some
/// of which also take literal bytes that follow them. Positions wrap around the current length,
/// so every input is a valid edit script and small changes to it stay small changes to the
/// interchange: the fuzzer spends its time inside the implementation-guide walker rather than
/// on envelopes the lexer rejects up front.
pub fn mutate(data: &[u8]) -> Vec<u8> {
    let Some((&pick, mut rest)) = data.split_first() else {
        return SEEDS[0].to_vec();
    };
    let mut b = SEEDS[usize::from(pick) % SEEDS.len()].to_vec();
    while rest.len() >= 4 {
        let (op, pos, arg) = (rest[0], usize::from(u16::from_le_bytes([rest[1], rest[2]])), rest[3]);
        rest = &rest[4..];
        match op % 10 {
            // Overwrite one byte.
            0 => {
                if !b.is_empty() {
                    let i = pos % b.len();
                    b[i] = arg;
                }
            }
            // Overwrite one byte with a delimiter, digit or code letter.
            1 => {
                if !b.is_empty() {
                    let i = pos % b.len();
                    b[i] = INTERESTING[usize::from(arg) % INTERESTING.len()];
                }
            }
            // Insert one byte.
            2 => {
                let i = pos % (b.len() + 1);
                b.insert(i, arg);
            }
            // Delete a run of up to 8 bytes.
            3 => {
                if !b.is_empty() {
                    let i = pos % b.len();
                    let end = (i + 1 + usize::from(arg % 8)).min(b.len());
                    b.drain(i..end);
                }
            }
            // Truncate (keeps at least the first byte, so the edit script can go on).
            4 => {
                if b.len() > 1 {
                    b.truncate(1 + pos % b.len());
                }
            }
            // Delete a segment.
            5 => {
                let segs = segments(&b);
                if segs.len() > 1 {
                    let (s, e) = segs[pos % segs.len()];
                    b.drain(s..e);
                }
            }
            // Duplicate a segment in place.
            6 => {
                let segs = segments(&b);
                if !segs.is_empty() {
                    let (s, e) = segs[pos % segs.len()];
                    let copy = b[s..e].to_vec();
                    b.splice(e..e, copy);
                }
            }
            // Move a segment after another one.
            7 => {
                let segs = segments(&b);
                if segs.len() > 1 {
                    let (s, e) = segs[pos % segs.len()];
                    let (_, to) = segs[(pos + 1 + usize::from(arg)) % segs.len()];
                    let seg = b[s..e].to_vec();
                    if to <= s {
                        b.drain(s..e);
                        b.splice(to..to, seg);
                    } else {
                        b.splice(to..to, seg);
                        b.drain(s..e);
                    }
                }
            }
            // Insert up to 15 literal bytes taken from the input.
            8 => {
                let n = usize::from(arg % 16).min(rest.len());
                let i = pos % (b.len() + 1);
                b.splice(i..i, rest[..n].iter().copied());
                rest = &rest[n..];
            }
            // Replace element `arg % 16` of a segment with up to 15 literal bytes from the input
            // (the length is the low nibble of the next byte).
            _ => {
                let Some((&len, tail)) = rest.split_first() else { break };
                let n = usize::from(len % 16).min(tail.len());
                let value = &tail[..n];
                rest = &tail[n..];
                let segs = segments(&b);
                if !segs.is_empty() {
                    let (s, e) = segs[pos % segs.len()];
                    if let Some((es, ee)) = element(&b, s, e, usize::from(arg % 16)) {
                        b.splice(es..ee, value.iter().copied());
                    }
                }
            }
        }
    }
    b
}

/// Segment spans `[start, end)` including the terminator and any line break after it. The
/// terminator is read from ISA position 105, as the lexer does, and defaults to `~`.
fn segments(b: &[u8]) -> Vec<(usize, usize)> {
    let term = b.get(105).copied().filter(|t| !t.is_ascii_alphanumeric()).unwrap_or(b'~');
    let mut out = Vec::new();
    let mut start = 0;
    let mut i = 0;
    while i < b.len() {
        if b[i] == term {
            let mut end = i + 1;
            while end < b.len() && (b[end] == b'\r' || b[end] == b'\n') {
                end += 1;
            }
            out.push((start, end));
            start = end;
            i = end;
        } else {
            i += 1;
        }
    }
    if start < b.len() {
        out.push((start, b.len()));
    }
    out
}

/// The span of element `n` (0 = segment ID) within segment `s..e`, separator `b[3]` (ISA04).
fn element(b: &[u8], s: usize, e: usize, n: usize) -> Option<(usize, usize)> {
    let sep = b.get(3).copied().unwrap_or(b'*');
    let term = b.get(105).copied().unwrap_or(b'~');
    let seg = &b[s..e];
    let body_end = seg.iter().position(|&c| c == term).unwrap_or(seg.len());
    let mut start = 0;
    let mut idx = 0;
    for (i, &c) in seg[..body_end].iter().enumerate() {
        if c == sep {
            if idx == n {
                return Some((s + start, s + i));
            }
            idx += 1;
            start = i + 1;
        }
    }
    (idx == n).then_some((s + start, s + body_end))
}
