//! Writes the acknowledgement interchange for one received interchange.

use crate::x12::report::{GroupReport, InterchangeReport, SetReport};
use crate::x12::writer::{reply_delimiters, SegmentWriter};

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
    let send_999 = !ic.rejected() && !ic.groups.is_empty();
    if !send_999 && !ic.wants_ta1() {
        return None;
    }
    let d = reply_delimiters(ic.delimiters);
    let mut w = SegmentWriter::new(d).with_line_breaks(ctl.line_breaks);
    let isa13 = format!("{:09}", ctl.interchange_control % 1_000_000_000);
    let yymmdd = ctl.date.get(2..).unwrap_or("");
    let usage = if ic.is_test() { "T" } else { "P" };
    let qual = |q: &str| if q.trim().is_empty() { "ZZ".to_string() } else { q.trim().to_string() };
    w.isa(&[
        "00", "", "00", "",
        &qual(ic.isa(7)), ic.isa(8).trim(), &qual(ic.isa(5)), ic.isa(6).trim(),
        yymmdd, &ctl.time, "", "00501", &isa13, "0", usage, "",
    ]);
    if ic.wants_ta1() {
        let (ack, note) = ic.ta1_verdict();
        w.segment("TA1", &[ic.control_number(), ic.isa(9), ic.isa(10), ack, note]);
    }
    let mut groups = 0;
    if send_999 {
        groups = 1;
        let first = &ic.groups[0];
        let gs06 = ctl.group_control.to_string();
        w.segment("GS", &["FA", first.gs(3), first.gs(2), &ctl.date, &ctl.time, &gs06, "X", "005010X231A1"]);
        for (i, g) in ic.groups.iter().enumerate() {
            write_999(&mut w, g, i + 1);
        }
        w.segment("GE", &[ic.groups.len().to_string().as_str(), &gs06]);
    }
    w.segment("IEA", &[groups.to_string().as_str(), &isa13]);
    Some(w.finish())
}

fn write_999(w: &mut SegmentWriter, g: &GroupReport, n: usize) {
    let st02 = format!("{n:04}");
    w.start_count();
    w.segment("ST", &["999", &st02, "005010X231A1"]);
    w.segment("AK1", &[g.gs(1), g.gs(6), g.gs(8)]);
    if g.errors.is_empty() {
        for s in &g.sets {
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
    let mut ak9 = vec![g.ack_code(), declared.as_str(), received.as_str(), accepted.as_str()];
    ak9.extend(codes);
    w.segment("AK9", &ak9);
    let count = (w.counted() + 1).to_string();
    w.segment("SE", &[count.as_str(), &st02]);
}

fn write_set(w: &mut SegmentWriter, s: &SetReport) {
    w.segment("AK2", &[s.st01.as_str(), &s.st02, &s.st03]);
    for seg in &s.segments {
        let pos = seg.position.to_string();
        w.segment("IK3", &[seg.segment.as_str(), &pos, seg.ls_loop.as_deref().unwrap_or(""), seg.code]);
        if let Some((name, value)) = &seg.business_unit {
            let ctx = w.composite(&[name.as_str(), value]);
            w.segment("CTX", &[ctx]);
        }
        for e in &seg.elements {
            let c = if e.component == 0 { String::new() } else { e.component.to_string() };
            let r = if e.repetition == 0 { String::new() } else { e.repetition.to_string() };
            let position = w.composite(&[e.element.to_string().as_str(), &c, &r]);
            w.segment("IK4", &[position.as_str(), &e.reference, e.code, e.value.as_deref().unwrap_or("")]);
        }
    }
    let mut ik5 = vec![if s.accepted() { "A" } else { "R" }];
    let mut codes = s.ik5_codes();
    codes.truncate(5);
    ik5.extend(codes);
    w.segment("IK5", &ik5);
}
