//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use hts_gateway::x12::report::Report;

pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub fn fixture(name: &str) -> String {
    let p = root().join("fixtures/x12").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// One line per verdict: `TA1 A 000 | AK9 A | 837 0001 R 5 | IK3 NM1@10 8 [9 67 I12]`.
pub fn summary(r: &Report) -> String {
    let mut parts = Vec::new();
    for n in r
        .notes
        .iter()
        .filter(|n| n.severity == hts_gateway::x12::report::Severity::Error)
    {
        parts.push(format!(
            "NOTE {}",
            n.message.split(':').next().unwrap_or("")
        ));
    }
    for ic in &r.interchanges {
        let (a, c) = ic.ta1_verdict();
        let codes: Vec<&str> = ic.errors.iter().map(|e| e.code).collect();
        parts.push(format!(
            "TA1 {a} {}",
            if codes.is_empty() {
                c.to_string()
            } else {
                codes.join(",")
            }
        ));
        for g in &ic.groups {
            let mut ak9 = format!("AK9 {}", g.ack_code());
            for e in &g.errors {
                ak9.push(' ');
                ak9.push_str(e.code);
            }
            parts.push(ak9);
            for s in &g.sets {
                let mut v = format!(
                    "{} {} {}",
                    s.st01,
                    s.st02,
                    if s.accepted() { "A" } else { "R" }
                );
                for c in s.ik5_codes() {
                    v.push(' ');
                    v.push_str(c);
                }
                parts.push(v);
                for seg in &s.segments {
                    let els: Vec<String> = seg
                        .elements
                        .iter()
                        .map(|e| format!("{} {} {}", e.position_text(), e.reference, e.code))
                        .collect();
                    let mut t = format!("IK3 {}@{} {}", seg.segment, seg.position, seg.code);
                    if !els.is_empty() {
                        t.push_str(&format!(" [{}]", els.join("; ")));
                    }
                    parts.push(t);
                }
            }
        }
    }
    parts.join(" | ")
}

/// Replaces segment number `n` (0-based, in file order) of a `~`-terminated fixture.
pub fn replace_segment(text: &str, n: usize, with: &str) -> String {
    let mut segs: Vec<String> = text
        .split('~')
        .map(|s| s.trim_start_matches(['\r', '\n']).to_string())
        .collect();
    segs[n] = with.to_string();
    segs.join("~\n")
}

/// Index of the first segment starting with `prefix`.
pub fn find_segment(text: &str, prefix: &str) -> usize {
    text.split('~')
        .map(|s| s.trim_start_matches(['\r', '\n']))
        .position(|s| s.starts_with(prefix))
        .unwrap_or_else(|| panic!("no segment {prefix}"))
}

/// Applies `f` to the first segment starting with `prefix`.
pub fn edit(text: &str, prefix: &str, with: &str) -> String {
    replace_segment(text, find_segment(text, prefix), with)
}

/// Removes the first segment starting with `prefix`, fixing nothing else.
pub fn remove(text: &str, prefix: &str) -> String {
    let n = find_segment(text, prefix);
    let segs: Vec<&str> = text
        .split('~')
        .map(|s| s.trim_start_matches(['\r', '\n']))
        .enumerate()
        .filter(|(i, _)| *i != n)
        .map(|(_, s)| s)
        .collect();
    segs.join("~\n")
}
