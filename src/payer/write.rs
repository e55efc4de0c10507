//! Small pieces shared by the 271 and 277 writers.

use time::Date;

use super::{ResponseContext, x12_date};
use crate::x12::segment::Segment;
use crate::x12::writer::SegmentWriter;

/// Hierarchical levels of the answer, numbered as written.
#[derive(Debug, Default)]
pub(crate) struct Hl {
    next: usize,
}

impl Hl {
    /// Writes an HL and returns its number. `children`: HL04 (`None` where the guide leaves
    /// HL04 unused, as for the 277's dependent level).
    pub(crate) fn open(
        &mut self,
        parent: Option<usize>,
        level: &str,
        children: Option<bool>,
        w: &mut SegmentWriter,
    ) -> usize {
        self.next += 1;
        let id = self.next.to_string();
        let parent = parent.map(|p| p.to_string()).unwrap_or_default();
        w.segment(
            "HL",
            &[
                id.as_str(),
                &parent,
                level,
                match children {
                    Some(true) => "1",
                    Some(false) => "0",
                    None => "",
                },
            ],
        );
        self.next
    }
}

pub(crate) fn write_trn(w: &mut SegmentWriter, trns: &[Segment<'_>]) {
    // The request's TRN*1 come back as TRN*2 (referenced transaction trace numbers).
    for t in trns {
        let mut els: Vec<String> = t.elements().map(text).collect();
        if let Some(first) = els.first_mut() {
            *first = "2".into();
        }
        w.segment("TRN", &els);
    }
}

pub(crate) fn write_date(w: &mut SegmentWriter, qualifier: &str, from: Date, to: Date) {
    if from == to {
        w.segment("DTP", &[qualifier, "D8", &x12_date(from)]);
    } else {
        let range = format!("{}-{}", x12_date(from), x12_date(to));
        w.segment("DTP", &[qualifier, "RD8", &range]);
    }
}

pub(crate) fn echo(w: &mut SegmentWriter, seg: &Segment<'_>) {
    let els: Vec<String> = seg.elements().map(text).collect();
    w.segment(&seg.id_str(), &els);
}

pub(crate) fn hhmm(ctx: &ResponseContext) -> String {
    format!("{:02}{:02}", ctx.now.hour(), ctx.now.minute())
}

pub(crate) fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).trim().to_string()
}

/// An X12 amount (R) from cents: no trailing zeros after the decimal point, none at all for
/// whole amounts (`150`, `150.5`, `150.55`).
pub(crate) fn amount(cents: i64) -> String {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    match c % 100 {
        0 => format!("{sign}{}", c / 100),
        f if f % 10 == 0 => format!("{sign}{}.{}", c / 100, f / 10),
        f => format!("{sign}{}.{f:02}", c / 100),
    }
}
