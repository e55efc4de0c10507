//! Writes the acknowledgement interchange for one received interchange.

use std::borrow::Cow;

use crate::x12::engine::ID_QUALIFIERS;
use crate::x12::report::{GroupReport, InterchangeReport, SetReport};
use crate::x12::validate::element::{is_date, is_time};
use crate::x12::writer::{Digits, SegmentWriter, reply_delimiters};

/// Functional groups a 999 can acknowledge (AK101); acknowledgements (FA) are not acknowledged.
pub const ACKNOWLEDGEABLE_GROUPS: &[&str] = &["BE", "HB", "HC", "HI", "HN", "HP", "HR", "HS", "RA"];

/// Transaction sets a 999 can name (AK201).
const ACKNOWLEDGEABLE_SETS: &[&str] = &[
    "270", "271", "276", "277", "278", "820", "834", "835", "837",
];

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

/// A reply interchange under construction, addressed back to the sender of `ic`.
///
/// The 999 is written into one; so are the 271 and 277 responses: open it, add a functional
/// group per answer with [`Reply::group`], write the sets, and [`Reply::finish`].
#[derive(Debug)]
pub struct Reply {
    pub writer: SegmentWriter,
    isa13: Digits,
    groups: usize,
}

impl Reply {
    /// Writes the ISA: the sender's IDs swapped, its delimiters when they are usable, its usage
    /// indicator (a test interchange gets a test reply). Values unusable in an envelope (a
    /// rejected ISA may hold anything) are replaced, so the reply is always well-formed.
    pub fn open(ic: &InterchangeReport, ctl: &AckControl) -> Self {
        let d = reply_delimiters(ic.delimiters);
        let mut writer = SegmentWriter::new(d).with_line_breaks(ctl.line_breaks);
        let isa13 = Digits::padded(u64::from(ctl.interchange_control % 1_000_000_000), 9);
        let qual = |q: &str| {
            ID_QUALIFIERS
                .iter()
                .find(|&&k| k == q)
                .copied()
                .unwrap_or("ZZ")
        };
        let id = |v| envelope_id(v, 1, d);
        let usage = if ic.is_test() { "T" } else { "P" };
        let yymmdd = ctl.date.get(2..).unwrap_or("");
        writer.isa(&[
            "00",
            "",
            "00",
            "",
            qual(ic.isa(7)),
            &id(ic.isa(8)),
            qual(ic.isa(5)),
            &id(ic.isa(6)),
            yymmdd,
            &ctl.time,
            "",
            "00501",
            isa13.as_str(),
            "0",
            usage,
            "",
        ]);
        Self {
            writer,
            isa13,
            groups: 0,
        }
    }

    /// Opens a functional group answering `to` (application IDs swapped). Close it with
    /// [`Reply::end_group`].
    pub fn group(&mut self, gs01: &str, to: &GroupReport, version: &str, ctl: &AckControl) {
        let d = self.writer.delimiters();
        let app_id = |v| envelope_id(v, 2, d);
        let gs06 = Digits::new(ctl.group_control.into());
        let (from, recv) = (app_id(to.gs(3)), app_id(to.gs(2)));
        self.writer.segment(
            "GS",
            &[
                gs01,
                &from,
                &recv,
                &ctl.date,
                &ctl.time,
                gs06.as_str(),
                "X",
                version,
            ],
        );
    }

    /// Writes GE for a group of `sets` transaction sets.
    pub fn end_group(&mut self, sets: usize, ctl: &AckControl) {
        self.writer.segment(
            "GE",
            &[
                Digits::new(sets as u64),
                Digits::new(ctl.group_control.into()),
            ],
        );
        self.groups += 1;
    }

    /// Writes IEA and returns the interchange.
    pub fn finish(mut self) -> Vec<u8> {
        self.writer
            .segment("IEA", &[Digits::new(self.groups as u64), self.isa13]);
        self.writer.finish()
    }
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
    let mut reply = Reply::open(ic, ctl);
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
            (ctl.date.get(2..).unwrap_or(""), ctl.time.as_str())
        };
        reply
            .writer
            .segment("TA1", &[echo_ctl, date, time, ack, note]);
    }
    if send_999 {
        reply.group("FA", groups[0], "005010X231A1", ctl);
        for (i, g) in groups.iter().enumerate() {
            write_999(&mut reply.writer, g, i + 1);
        }
        reply.end_group(groups.len(), ctl);
    }
    Some(reply.finish())
}

fn write_999(w: &mut SegmentWriter, g: &GroupReport, n: usize) {
    let st02 = Digits::padded(n as u64, 4);
    w.start_count();
    w.segment("ST", &["999", st02.as_str(), "005010X231A1"]);
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
    let declared = Digits::new(g.declared_sets.unwrap_or(g.sets.len() as u64));
    let received = Digits::new(g.sets.len() as u64);
    let accepted = Digits::new(g.accepted_sets() as u64);
    let mut ak9 = vec![
        g.ack_code(),
        declared.as_str(),
        received.as_str(),
        accepted.as_str(),
    ];
    ak9.extend(codes);
    w.segment("AK9", &ak9);
    let count = Digits::new(u64::from(w.counted()) + 1);
    w.segment("SE", &[count, st02]);
}

fn write_set(w: &mut SegmentWriter, s: &SetReport) {
    let d = w.delimiters();
    // A control number that is itself invalid (IK5 7) still has to fit AK202 (AN 4-9).
    let st02 = format!("{:0>4}", fit(&s.st02, 9, d));
    w.segment("AK2", &[s.st01.as_str(), &st02, &fit(&s.st03, 35, d)]);
    for seg in &s.segments {
        let pos = Digits::new(seg.position.into());
        let id = format!("{:?<2}", fit(&seg.segment, 3, d));
        w.segment(
            "IK3",
            &[
                id.as_str(),
                pos.as_str(),
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

/// [`fit`] to 15 characters, or `UNKNOWN` when shorter than `min`: an envelope needs an ID.
fn envelope_id(v: &str, min: usize, d: crate::x12::Delimiters) -> Cow<'_, str> {
    Some(fit(v, 15, d))
        .filter(|v| v.len() >= min)
        .unwrap_or(Cow::Borrowed("UNKNOWN"))
}

/// Makes a received value safe to echo: only X12 extended characters that are not reply
/// delimiters, no surrounding blanks, at most `max` characters.
fn fit(v: &str, max: usize, d: crate::x12::Delimiters) -> Cow<'_, str> {
    let is_delim = |c: char| {
        [d.element, d.component, d.segment].contains(&(c as u8)) || d.repetition == Some(c as u8)
    };
    let keep = |&c: &char| (c.is_ascii_graphic() || c == ' ') && !is_delim(c);
    // By bytes: a non-ASCII byte is never kept, as a non-ASCII character is not. (The
    // writer's word-at-a-time test is the same rule: printable ASCII but the delimiters.)
    if crate::x12::writer::is_plain(d, v) {
        // Usually so: all ASCII, so characters are bytes and the answer is a slice of `v`; the
        // only blank printable ASCII has is the space, so `trim_ascii` is `trim` here.
        return Cow::Borrowed(v.get(..max).unwrap_or(v).trim_ascii());
    }
    let kept: String = v.chars().filter(keep).take(max).collect();
    Cow::Owned(kept.trim().to_string())
}
