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
        echo_as(w, "TRN", &t, Some("2"));
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
    echo_as(w, &seg.text(0), seg, None);
}

/// Writes segment `id` with `seg`'s elements (each trimmed), element 1 replaced by `first`
/// when `seg` has one.
pub(crate) fn echo_as(w: &mut SegmentWriter, id: &str, seg: &Segment<'_>, first: Option<&str>) {
    let texts = seg.texts();
    w.segment_of(
        id,
        (1..=seg.len()).map(|n| match first {
            Some(f) if n == 1 => Cow::Borrowed(f),
            _ => trimmed(texts.element(n)),
        }),
    );
}

/// HHMM of the context's clock.
pub(crate) fn hhmm(ctx: &ResponseContext) -> Scratch {
    Scratch::digits(&[
        (u32::from(ctx.now.hour()), 2),
        (u32::from(ctx.now.minute()), 2),
    ])
}

/// `CCYYMMDD` (as [`super::x12_date`], without allocating).
pub(crate) fn x12_date(d: Date) -> Scratch {
    match u32::try_from(d.year()) {
        // Digits written by hand: `write!` costs ten times as much, several times a request.
        Ok(year) if year <= 9999 => Scratch::digits(&[
            (year, 4),
            (u32::from(u8::from(d.month())), 2),
            (u32::from(d.day()), 2),
        ]),
        _ => {
            let mut s = Scratch::default();
            let _ = write!(s, "{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day());
            s
        }
    }
}

/// Element `n` of `seg` as [`text`] gives it.
pub(crate) fn element_text<'a>(seg: &Segment<'a>, n: usize) -> Cow<'a, str> {
    trimmed(seg.text(n))
}

/// An element's text, trimmed: borrowed from the request unless it is not UTF-8 (then with
/// replacement characters, as `String::from_utf8_lossy` gives).
pub(crate) fn text(b: &[u8]) -> Cow<'_, str> {
    trimmed(crate::x12::segment::text(b))
}

/// `text` trimmed, borrowed when it was.
fn trimmed(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(s) => Cow::Borrowed(trim(s)),
        Cow::Owned(s) => Cow::Owned(s.trim().to_string()),
    }
}

/// `str::trim`, with ASCII ends trimmed byte by byte (the usual case, and cheaper than
/// decoding characters); a non-ASCII end goes through `str::trim`, which knows Unicode blanks.
fn trim(s: &str) -> &str {
    // The ASCII characters `char::is_whitespace` accepts: TAB, LF, VT, FF, CR and space.
    let blank = |b: &u8| matches!(b, b'\t'..=b'\r' | b' ');
    let b = s.as_bytes();
    let start = b.iter().position(|c| !blank(c)).unwrap_or(b.len());
    let end = b.iter().rposition(|c| !blank(c)).map_or(start, |i| i + 1);
    match s.get(start..end) {
        Some(t)
            if t.bytes().next().is_none_or(|c| c.is_ascii())
                && t.bytes().next_back().is_none_or(|c| c.is_ascii()) =>
        {
            t
        }
        _ => s.trim(),
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
    /// Numbers written with leading zeros, each to exactly its width (values must fit: at most
    /// `10^width - 1`), one after the other.
    fn digits(parts: &[(u32, usize)]) -> Self {
        let mut bytes = [0u8; SCRATCH_INLINE];
        let mut len = 0;
        for &(mut n, width) in parts {
            for slot in bytes[len..len + width].iter_mut().rev() {
                *slot = b'0' + (n % 10) as u8;
                n /= 10;
            }
            len += width;
        }
        Self::Inline { bytes, len }
    }

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
        for d in [
            Date::from_calendar_date(1, time::Month::January, 1).unwrap(),
            Date::from_calendar_date(999, time::Month::December, 31).unwrap(),
            Date::from_calendar_date(9999, time::Month::December, 31).unwrap(),
            Date::from_calendar_date(10000, time::Month::January, 9).unwrap_or(Date::MAX),
            Date::from_calendar_date(-1, time::Month::March, 9).unwrap(),
        ] {
            let want = format!("{:04}{:02}{:02}", d.year(), u8::from(d.month()), d.day());
            assert_eq!(x12_date(d).as_str(), want);
        }
        let m = Date::MIN;
        assert_eq!(
            x12_date(m).as_str(),
            format!("{:04}{:02}{:02}", m.year(), u8::from(m.month()), m.day())
        );
    }

    #[test]
    fn trim_is_str_trim() {
        for s in [
            "",
            " ",
            "A",
            " A ",
            "\u{b}A\t\r\n\u{c}",
            "\u{a0}A\u{85}",
            " \u{a0}",
            "é ",
            " é",
            "\u{3000}x\u{2028}",
            "a b",
            "\u{1c}A\u{1f}",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn text_trims_and_keeps_lossy_form() {
        assert!(matches!(text(b" AB "), Cow::Borrowed("AB")));
        assert_eq!(text(b"A\xffB "), String::from_utf8_lossy(b"A\xffB").trim());
    }
}
