//! Writes the acknowledgement interchange for one received interchange.

use crate::x12::report::{GroupReport, InterchangeReport, SetReport};
use crate::x12::validate::element::{is_date, is_time};
use crate::x12::writer::{SegmentWriter, reply_delimiters};

/// Functional groups a 999 can acknowledge (AK101); acknowledgements (FA) are not acknowledged.
pub const ACKNOWLEDGEABLE_GROUPS: &[&str] = &["BE", "HB", "HC", "HI", "HN", "HP", "HR", "HS", "RA"];

/// Transaction sets a 999 can name (AK201).
const ACKNOWLEDGEABLE_SETS: &[&str] = &[
    "270", "271", "276", "277", "278", "820", "834", "835", "837",
];

/// Interchange ID qualifiers (ISA05/ISA07) a reply may carry.
const QUALIFIERS: &[&str] = &["01", "14", "20", "27", "28", "29", "30", "33", "ZZ"];

/// What the caller decides: control numbers and the clock (the engine does no IO).
#[derive(Clone, Debug)]
pub struct AckControl {
    /// ISA13 of the acknowledgement interchange.
    pub interchange_control: u32,
    /// GS06 of its functional group.
    pub group_control: u32,
    /// CCYYMMDD.
    pub date: String,
    /// HHMM.
    pub time: String,
    /// Line break after each segment.
    pub line_breaks: bool,
}

/// Writes ISA, an optional TA1, one GS*FA with a 999 per received group, and IEA.
///
/// A rejected interchange gets only its TA1: its groups were not opened. Returns `None` when
/// there is nothing to acknowledge (no TA1 wanted and no group received).
pub fn write_acknowledgment(ic: &InterchangeReport, ctl: &AckControl) -> Option<Vec<u8>> {
    let groups: Vec<&GroupReport> = ic
        .groups
        .iter()
        .filter(|g| ACKNOWLEDGEABLE_GROUPS.contains(&g.gs(1)))
        .collect();
    let send_999 = !ic.rejected() && !groups.is_empty();
    if !send_999 && !ic.wants_ta1() {
        return None;
    }
    let d = reply_delimiters(ic.delimiters);
    let mut w = SegmentWriter::new(d).with_line_breaks(ctl.line_breaks);
    let isa13 = format!("{:09}", ctl.interchange_control % 1_000_000_000);
    let yymmdd = ctl.date.get(2..).unwrap_or("");
    let usage = if ic.is_test() { "T" } else { "P" };
    // The reply mirrors the sender's IDs; values unusable in an envelope (a rejected ISA may
    // hold anything) are replaced so that the TA1 itself is always well-formed.
    let qual = |q: &str| {
        if QUALIFIERS.contains(&q) {
            q.to_string()
        } else {
            "ZZ".to_string()
        }
    };
    let usable = |c: char| c.is_ascii_graphic() || c == ' ';
    let delim = |c: char| {
        [d.element, d.component, d.segment].contains(&(c as u8)) || d.repetition == Some(c as u8)
    };
    let id = |v: &str| {
        let kept: String = v.chars().filter(|&c| usable(c) && !delim(c)).collect();
        if kept.trim().is_empty() {
            "UNKNOWN".to_string()
        } else {
            kept.trim().to_string()
        }
    };
    w.isa(&[
        "00",
        "",
        "00",
        "",
        &qual(ic.isa(7)),
        &id(ic.isa(8)),
        &qual(ic.isa(5)),
        &id(ic.isa(6)),
        yymmdd,
        &ctl.time,
        "",
        "00501",
        &isa13,
        "0",
        usage,
        "",
    ]);
    if ic.wants_ta1() {
        let (ack, note) = ic.ta1_verdict();
        let digits = |v: &str, n: usize| v.len() == n && v.bytes().all(|b| b.is_ascii_digit());
        let echo_ctl = if digits(ic.control_number(), 9) {
            ic.control_number()
        } else {
            "000000000"
        };
        let ok_date = digits(ic.isa(9), 6) && is_date(ic.isa(9).as_bytes());
        let ok_time = digits(ic.isa(10), 4) && is_time(ic.isa(10).as_bytes());
        let (date, time) = if ok_date && ok_time {
            (ic.isa(9), ic.isa(10))
        } else {
            (yymmdd, ctl.time.as_str())
        };
        w.segment("TA1", &[echo_ctl, date, time, ack, note]);
    }
    if send_999 {
        let first = groups[0];
        let gs06 = ctl.group_control.to_string();
        let app_id = |v: &str| {
            let v = fit(v, 15, d);
            if v.len() < 2 {
                "UNKNOWN".to_string()
            } else {
                v
            }
        };
        w.segment(
            "GS",
            &[
                "FA",
                &app_id(first.gs(3)),
                &app_id(first.gs(2)),
                &ctl.date,
                &ctl.time,
                &gs06,
                "X",
                "005010X231A1",
            ],
        );
        for (i, g) in groups.iter().enumerate() {
            write_999(&mut w, g, i + 1);
        }
        w.segment("GE", &[groups.len().to_string().as_str(), &gs06]);
    }
    w.segment("IEA", &[if send_999 { "1" } else { "0" }, &isa13]);
    Some(w.finish())
}

fn write_999(w: &mut SegmentWriter, g: &GroupReport, n: usize) {
    let st02 = format!("{n:04}");
    w.start_count();
    w.segment("ST", &["999", &st02, "005010X231A1"]);
    let d = w.delimiters();
    w.segment("AK1", &[g.gs(1), g.gs(6), &fit(g.gs(8), 12, d)]);
    if g.errors.is_empty() {
        for s in g
            .sets
            .iter()
            .filter(|s| ACKNOWLEDGEABLE_SETS.contains(&s.st01.as_str()))
        {
            write_set(w, s);
        }
    }
    let mut codes: Vec<&str> = g.errors.iter().map(|e| e.code).collect();
    codes.sort_unstable_by_key(|c| (c.len(), *c));
    codes.dedup();
    codes.truncate(5);
    let declared = g.declared_sets.unwrap_or(g.sets.len() as u64).to_string();
    let received = g.sets.len().to_string();
    let accepted = g.accepted_sets().to_string();
    let mut ak9 = vec![
        g.ack_code(),
        declared.as_str(),
        received.as_str(),
        accepted.as_str(),
    ];
    ak9.extend(codes);
    w.segment("AK9", &ak9);
    let count = (w.counted() + 1).to_string();
    w.segment("SE", &[count.as_str(), &st02]);
}

fn write_set(w: &mut SegmentWriter, s: &SetReport) {
    let d = w.delimiters();
    // A control number that is itself invalid (IK5 7) still has to fit AK202 (AN 4-9).
    let st02 = format!("{:0>4}", fit(&s.st02, 9, d));
    w.segment("AK2", &[s.st01.as_str(), &st02, &fit(&s.st03, 35, d)]);
    for seg in &s.segments {
        let pos = seg.position.to_string();
        let id = format!("{:?<2}", fit(&seg.segment, 3, d));
        w.segment(
            "IK3",
            &[
                id.as_str(),
                &pos,
                &fit(seg.ls_loop.as_deref().unwrap_or(""), 4, d),
                seg.code,
            ],
        );
        if let Some((name, value)) = &seg.business_unit {
            let value = fit(value, 35, d);
            if !value.is_empty() {
                let ctx = w.composite(&[name.as_str(), &value]);
                w.segment("CTX", &[ctx]);
            }
        }
        for e in &seg.elements {
            let c = if e.component == 0 {
                String::new()
            } else {
                e.component.to_string()
            };
            let r = if e.repetition == 0 {
                String::new()
            } else {
                e.repetition.to_string()
            };
            let position = w.composite(&[e.element.to_string().as_str(), &c, &r]);
            let bad = fit(e.value.as_deref().unwrap_or(""), 99, d);
            // IK402 holds a data element number; composites (C022...) have none to give.
            let reference = if e.reference.bytes().all(|b| b.is_ascii_digit()) {
                &*e.reference
            } else {
                ""
            };
            w.segment("IK4", &[position.as_str(), reference, e.code, &bad]);
        }
    }
    let mut ik5 = vec![if s.accepted() { "A" } else { "R" }];
    let mut codes = s.ik5_codes();
    codes.truncate(5);
    ik5.extend(codes);
    w.segment("IK5", &ik5);
}

/// Makes a received value safe to echo: only X12 extended characters that are not reply
/// delimiters, no surrounding blanks, at most `max` characters.
fn fit(v: &str, max: usize, d: crate::x12::Delimiters) -> String {
    let is_delim = |c: char| {
        [d.element, d.component, d.segment].contains(&(c as u8)) || d.repetition == Some(c as u8)
    };
    let kept: String = v
        .chars()
        .filter(|&c| (c.is_ascii_graphic() || c == ' ') && !is_delim(c))
        .take(max)
        .collect();
    kept.trim().to_string()
}
