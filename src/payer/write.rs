//! Small pieces shared by the 271 and 277 writers.
//!
//! The real-time path writes one 271 per request, so these avoid heap allocations: values are
//! formatted into [`Scratch`] (on the stack unless long) and the request's elements are passed
//! on as borrowed text.

use std::borrow::Cow;
use std::fmt::{self, Write as _};

use time::Date;

use super::ResponseContext;
use crate::x12::segment::Segment;
use crate::x12::writer::{Digits, SegmentWriter};

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
        let id = Digits::new(self.next as u64);
        let parent = parent.map(|p| Digits::new(p as u64));
        w.segment(
            "HL",
            &[
                id.as_str(),
                parent.as_ref().map_or("", Digits::as_str),
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

pub(crate) fn write_trn<'a>(w: &mut SegmentWriter, trns: impl IntoIterator<Item = Segment<'a>>) {
    // The request's TRN*1 come back as TRN*2 (referenced transaction trace numbers).
    for t in trns {
        echo_as(w, "TRN", &t, Some("2"), 0);
    }
}

pub(crate) fn write_date(w: &mut SegmentWriter, qualifier: &str, from: Date, to: Date) {
    if from == to {
        w.segment("DTP", &[qualifier, "D8", x12_date(from).as_str()]);
    } else {
        let mut range = Scratch::default();
        let _ = write!(
            range,
            "{}-{}",
            x12_date(from).as_str(),
            x12_date(to).as_str()
        );
        w.segment("DTP", &[qualifier, "RD8", range.as_str()]);
    }
}

/// Writes `seg` back as it came (each element trimmed).
pub(crate) fn echo(w: &mut SegmentWriter, seg: &Segment<'_>) {
    let id = String::from_utf8_lossy(seg.id());
    echo_as(w, &id, seg, None, 0);
}

/// Writes segment `id` with `seg`'s elements (each trimmed), element 1 replaced by `first`
/// when `seg` has one, and empty elements added up to `min` elements.
pub(crate) fn echo_as(
    w: &mut SegmentWriter,
    id: &str,
    seg: &Segment<'_>,
    first: Option<&str>,
    min: usize,
) {
    /// Elements kept on the stack; longer segments (rare) go through a vector.
    const INLINE: usize = 32;
    fn fill<'v>(els: &mut [Cow<'v, str>], seg: &Segment<'v>, first: Option<&'v str>) {
        for (slot, e) in els.iter_mut().zip(seg.elements()) {
            *slot = text(e);
        }
        if let (Some(f), Some(slot)) = (first, els.first_mut())
            && !seg.is_empty()
        {
            *slot = Cow::Borrowed(f);
        }
    }
    let n = seg.len().max(min);
    if n <= INLINE {
        let mut els: [Cow<'_, str>; INLINE] = std::array::from_fn(|_| Cow::Borrowed(""));
        fill(&mut els[..n], seg, first);
        w.segment(id, &els[..n]);
    } else {
        let mut els = vec![Cow::Borrowed(""); n];
        fill(&mut els, seg, first);
        w.segment(id, &els);
    }
}

/// HHMM of the context's clock.
pub(crate) fn hhmm(ctx: &ResponseContext) -> Scratch {
    let mut s = Scratch::default();
    let _ = write!(s, "{:02}{:02}", ctx.now.hour(), ctx.now.minute());
    s
}

/// `CCYYMMDD` (as [`super::x12_date`], without allocating).
pub(crate) fn x12_date(d: Date) -> Scratch {
    let mut s = Scratch::default();
    let _ = write!(s, "{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day());
    s
}

/// An element's text, trimmed: borrowed from the request unless it is not UTF-8 (then with
/// replacement characters, as `String::from_utf8_lossy` gives).
pub(crate) fn text(b: &[u8]) -> Cow<'_, str> {
    match String::from_utf8_lossy(b) {
        Cow::Borrowed(s) => Cow::Borrowed(s.trim()),
        Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
    }
}

/// An X12 amount (R) from cents: no trailing zeros after the decimal point, none at all for
/// whole amounts (`150`, `150.5`, `150.55`).
pub(crate) fn amount(cents: i64) -> Scratch {
    let sign = if cents < 0 { "-" } else { "" };
    let c = cents.unsigned_abs();
    let mut s = Scratch::default();
    let _ = match c % 100 {
        0 => write!(s, "{sign}{}", c / 100),
        f if f % 10 == 0 => write!(s, "{sign}{}.{}", c / 100, f / 10),
        f => write!(s, "{sign}{}.{f:02}", c / 100),
    };
    s
}

/// Bytes kept on the stack by [`Scratch`] before it moves to the heap.
const SCRATCH_INLINE: usize = 48;

/// Text built for one element: on the stack while short (dates, numbers, amounts, a few
/// service type codes), on the heap past that.
#[derive(Clone, Debug)]
pub(crate) enum Scratch {
    Inline {
        bytes: [u8; SCRATCH_INLINE],
        len: usize,
    },
    Heap(String),
}

impl Default for Scratch {
    fn default() -> Self {
        Self::Inline {
            bytes: [0; SCRATCH_INLINE],
            len: 0,
        }
    }
}

impl Scratch {
    pub(crate) fn as_str(&self) -> &str {
        match self {
            // Only whole `&str`s are ever copied in, so the bytes are UTF-8.
            Self::Inline { bytes, len } => std::str::from_utf8(&bytes[..*len]).unwrap_or_default(),
            Self::Heap(s) => s,
        }
    }
}

impl AsRef<str> for Scratch {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl fmt::Write for Scratch {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        match self {
            Self::Inline { bytes, len } => {
                let end = *len + s.len();
                if let Some(dst) = bytes.get_mut(*len..end) {
                    dst.copy_from_slice(s.as_bytes());
                    *len = end;
                } else {
                    let mut heap = String::with_capacity(end.max(2 * SCRATCH_INLINE));
                    heap.push_str(std::str::from_utf8(&bytes[..*len]).unwrap_or_default());
                    heap.push_str(s);
                    *self = Self::Heap(heap);
                }
            }
            Self::Heap(h) => h.push_str(s),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scratch_spills_to_the_heap() {
        let mut s = Scratch::default();
        for i in 0..30 {
            write!(s, "{i},").unwrap();
        }
        let want: String = (0..30).map(|i| format!("{i},")).collect();
        assert_eq!(s.as_str(), want);
        assert!(matches!(s, Scratch::Heap(_)));
    }

    #[test]
    fn amounts_and_dates() {
        assert_eq!(amount(15000).as_str(), "150");
        assert_eq!(amount(15050).as_str(), "150.5");
        assert_eq!(amount(-15055).as_str(), "-150.55");
        assert_eq!(amount(5).as_str(), "0.05");
        let d = Date::from_calendar_date(2026, time::Month::June, 5).unwrap();
        assert_eq!(x12_date(d).as_str(), "20260605");
        assert_eq!(super::super::x12_date(d), "20260605");
        let m = Date::MIN;
        assert_eq!(
            x12_date(m).as_str(),
            format!("{:04}{:02}{:02}", m.year(), u8::from(m.month()), m.day())
        );
    }

    #[test]
    fn text_trims_and_keeps_lossy_form() {
        assert!(matches!(text(b" AB "), Cow::Borrowed("AB")));
        assert_eq!(text(b"A\xffB "), String::from_utf8_lossy(b"A\xffB").trim());
    }
}
