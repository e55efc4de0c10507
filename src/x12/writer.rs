//! Writes segments with a given set of delimiters; the building block for TA1, 999, 271, 277.

use super::delimiters::Delimiters;

/// Bytes reserved by [`SegmentWriter::new`].
const INITIAL_CAPACITY: usize = 1024;

/// Accumulates segments into a byte buffer.
#[derive(Debug)]
pub struct SegmentWriter {
    out: Vec<u8>,
    delims: Delimiters,
    /// Write a line break after each terminator (readable files; receivers tolerate it).
    line_breaks: bool,
    /// Segments written since the last [`SegmentWriter::start_count`].
    counted: u32,
    /// Bytes written as they are: in values that may hold inner separators, and in others.
    keep_inner: Keep,
    keep_plain: Keep,
}

impl SegmentWriter {
    pub fn new(delims: Delimiters) -> Self {
        Self {
            // A real-time answer's whole interchange (ISA, a 271 or 999, IEA) fits: the buffer
            // is allocated once rather than grown through every power of two.
            out: Vec::with_capacity(INITIAL_CAPACITY),
            delims,
            line_breaks: false,
            counted: 0,
            keep_inner: Keep::new(delims, true),
            keep_plain: Keep::new(delims, false),
        }
    }

    pub fn with_line_breaks(mut self, on: bool) -> Self {
        self.line_breaks = on;
        self
    }

    pub fn delimiters(&self) -> Delimiters {
        self.delims
    }

    /// Writes `id*e1*e2...~`, dropping trailing empty elements. Delimiter bytes inside a value
    /// are replaced by spaces: data can never break the structure it is written into.
    pub fn segment<S: AsRef<str>>(&mut self, id: &str, elements: &[S]) -> &mut Self {
        self.segment_of(id, elements)
    }

    /// [`Self::segment`] with the elements from an iterator (a segment echoed element by
    /// element needs no list of them first).
    pub fn segment_of<S: AsRef<str>>(
        &mut self,
        id: &str,
        elements: impl IntoIterator<Item = S>,
    ) -> &mut Self {
        self.out.extend_from_slice(id.as_bytes());
        // Empty elements are written when a value follows them: trailing ones never are.
        let mut empty = 0;
        for e in elements {
            let e = e.as_ref();
            if e.is_empty() {
                empty += 1;
                continue;
            }
            for _ in 0..=empty {
                self.out.push(self.delims.element);
            }
            empty = 0;
            self.push_value(e, true);
        }
        self.end_segment();
        self
    }

    /// Joins components with the component separator (trailing empty ones dropped).
    pub fn composite<S: AsRef<str>>(&self, parts: &[S]) -> String {
        let used = parts
            .iter()
            .rposition(|p| !p.as_ref().is_empty())
            .map_or(0, |i| i + 1);
        let sep = (self.delims.component as char).to_string();
        parts[..used]
            .iter()
            .map(|p| self.clean(p.as_ref(), false))
            .collect::<Vec<_>>()
            .join(&sep)
    }

    /// Joins repetitions with the repetition separator.
    pub fn repeated<S: AsRef<str>>(&self, values: &[S]) -> String {
        let sep = (self.delims.repetition.unwrap_or(b'^') as char).to_string();
        values
            .iter()
            .map(|p| self.clean(p.as_ref(), false))
            .collect::<Vec<_>>()
            .join(&sep)
    }

    /// Writes a fixed-width ISA from its 16 fields (padded or cut to the 00501 widths).
    pub fn isa(&mut self, fields: &[&str; 16]) -> &mut Self {
        self.out.extend_from_slice(b"ISA");
        for (i, f) in fields.iter().enumerate() {
            self.out.push(self.delims.element);
            let width = super::delimiters::ISA_FIELD_WIDTHS[i];
            match i {
                10 => self.out.push(self.delims.repetition.unwrap_or(b'^')),
                15 => self.out.push(self.delims.component),
                _ => {
                    // The first `width` characters, then spaces up to `width` characters.
                    let (end, kept) = if f.is_ascii() {
                        // Characters are bytes (the usual case): no decoding needed.
                        let n = f.len().min(width);
                        (n, n)
                    } else {
                        f.char_indices()
                            .nth(width)
                            .map_or((f.len(), f.chars().count()), |(at, _)| (at, width))
                    };
                    self.push_value(f.get(..end).unwrap_or(f), false);
                    self.out.resize(self.out.len() + (width - kept), b' ');
                }
            }
        }
        self.end_segment();
        self
    }

    /// Starts counting segments (call before ST; [`SegmentWriter::counted`] then gives SE01).
    pub fn start_count(&mut self) {
        self.counted = 0;
    }

    pub fn counted(&self) -> u32 {
        self.counted
    }

    pub fn finish(self) -> Vec<u8> {
        self.out
    }

    fn end_segment(&mut self) {
        self.out.push(self.delims.segment);
        if self.line_breaks {
            self.out.push(b'\n');
        }
        self.counted += 1;
    }

    fn clean(&self, v: &str, allow_structure: bool) -> String {
        let mut out = Vec::with_capacity(v.len());
        clean_into(self.keep(allow_structure), v, &mut out);
        // Every byte pushed is printable ASCII.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Values built with [`Self::composite`]/[`Self::repeated`] keep their inner separators.
    #[inline]
    fn push_value(&mut self, v: &str, allow_inner: bool) {
        clean_into(self.keep(allow_inner), v, &mut self.out);
    }

    fn keep(&self, allow_inner: bool) -> Keep {
        if allow_inner {
            self.keep_inner
        } else {
            self.keep_plain
        }
    }
}

/// The bytes a value keeps as they are, as a 256-bit set: printable ASCII other than the
/// structural delimiters, and the inner separators when allowed (even were they not printable).
/// Worked out once per writer; a lookup per byte is a third of the compares it replaces.
#[derive(Clone, Copy, Debug)]
struct Keep([u64; 4]);

impl Keep {
    fn new(d: Delimiters, allow_structure: bool) -> Self {
        // 0x20..=0x7E.
        let mut set = Self([!0u64 << 32, !0u64 >> 1, 0, 0]);
        set.put(d.component, allow_structure);
        if let Some(r) = d.repetition {
            set.put(r, allow_structure);
        }
        set.put(d.element, false);
        set.put(d.segment, false);
        set
    }

    fn put(&mut self, b: u8, on: bool) {
        let bit = 1u64 << (b & 63);
        let word = &mut self.0[usize::from(b >> 6)];
        if on {
            *word |= bit;
        } else {
            *word &= !bit;
        }
    }

    #[inline]
    fn keeps(self, b: u8) -> bool {
        (self.0[usize::from(b >> 6)] >> (b & 63)) & 1 != 0
    }
}

/// Is every byte of `v` printable ASCII other than the four delimiters of `d`? (What a value
/// echoed into an envelope may hold as it is.)
pub(crate) fn is_plain(d: Delimiters, v: &str) -> bool {
    // The writer's set for values without inner separators is exactly these bytes; a lookup
    // per byte is cheaper than five compares.
    let keep = Keep::new(d, false);
    v.bytes().all(|b| keep.keeps(b))
}

/// Appends `v` to `out` with structural delimiters, control and non-ASCII bytes replaced by
/// spaces (inner separators kept when `keep` allows them). Written straight into the buffer:
/// the 271/277 writers call it for every element.
#[inline(always)]
fn clean_into(keep: Keep, v: &str, out: &mut Vec<u8>) {
    if v.bytes().all(|b| keep.keeps(b)) {
        out.extend_from_slice(v.as_bytes());
    } else {
        replace_into(keep, v, out);
    }
}

#[cold]
fn replace_into(keep: Keep, v: &str, out: &mut Vec<u8>) {
    out.extend(v.bytes().map(|b| if keep.keeps(b) { b } else { b' ' }));
}

/// A number written out without a heap allocation, for elements that are counts or control
/// numbers: `writer.segment("GE", &[Digits::new(n).as_str(), …])`.
#[derive(Clone, Copy)]
pub struct Digits {
    buf: [u8; 20],
    start: u8,
}

impl Digits {
    pub fn new(n: u64) -> Self {
        Self::padded(n, 1)
    }

    /// With leading zeros up to `width` digits (at most 20).
    pub fn padded(mut n: u64, width: usize) -> Self {
        let mut buf = [b'0'; 20];
        let mut start = buf.len();
        while n > 0 || start > buf.len().saturating_sub(width.max(1)) {
            start -= 1;
            buf[start] = b'0' + (n % 10) as u8;
            n /= 10;
        }
        Self {
            buf,
            start: start as u8,
        }
    }

    pub fn as_str(&self) -> &str {
        // Only ASCII digits are written.
        std::str::from_utf8(self.buf.get(self.start as usize..).unwrap_or_default()).unwrap_or("")
    }
}

impl AsRef<str> for Digits {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl std::fmt::Debug for Digits {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Writes the last `dst.len()` decimal digits of `n` into `dst`, zero-padded: [`Digits`] for a
/// fixed-width field of a larger buffer (timestamps), checked as text once with the rest.
pub(crate) fn put_digits(dst: &mut [u8], mut n: u32) {
    for d in dst.iter_mut().rev() {
        *d = b'0' + (n % 10) as u8;
        n /= 10;
    }
}

/// ISA13 or GS06 (at most 9 digits, never 0) for the `value`-th number of an ever-growing
/// counter (the store's sequences start at 1): 1 … 999,999,999, then 1 again.
pub fn control_number(value: i64) -> u32 {
    // In range by construction: 1 ..= 999,999,999.
    u32::try_from((value - 1).rem_euclid(999_999_999) + 1).unwrap_or(1)
}

/// Delimiters safe to answer with: the sender's own when they are valid, else the common set.
pub fn reply_delimiters(inbound: Delimiters) -> Delimiters {
    let d = inbound;
    let all = [d.element, d.component, d.segment];
    let distinct = all
        .iter()
        .enumerate()
        .all(|(i, a)| all[i + 1..].iter().all(|b| a != b));
    // Only ASCII, and no blanks or line breaks: the reply must survive any receiver.
    let unusable =
        |b: &u8| !b.is_ascii() || b.is_ascii_alphanumeric() || matches!(b, b' ' | b'\r' | b'\n');
    if !distinct || all.iter().any(unusable) {
        return Delimiters::default();
    }
    let repetition = d
        .repetition
        .filter(|r| !all.contains(r) && !unusable(r))
        .or_else(|| {
            [b'^', b'{', b'!', b'|']
                .into_iter()
                .find(|r| !all.contains(r))
        });
    Delimiters { repetition, ..d }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_numbers_wrap_within_nine_digits_and_skip_zero() {
        for (value, want) in [
            (1, 1),
            (2, 2),
            (999_999_999, 999_999_999),
            (1_000_000_000, 1),
            (1_999_999_998, 999_999_999),
            (1_999_999_999, 1),
            (0, 999_999_999),
        ] {
            assert_eq!(control_number(value), want, "{value}");
        }
    }

    #[test]
    fn writes_and_sanitizes() {
        let mut w = SegmentWriter::new(Delimiters::default());
        let c = w.composite(&["HC", "99213", ""]);
        w.segment("SV1", &[c.as_str(), "100", "", ""]);
        w.segment("NM1", &["IL", "A*B~C"]);
        assert_eq!(
            String::from_utf8(w.finish()).unwrap(),
            "SV1*HC:99213*100~NM1*IL*A B C~"
        );
    }

    #[test]
    fn isa_is_fixed_width() {
        let mut w = SegmentWriter::new(Delimiters::default());
        w.isa(&[
            "00",
            "",
            "00",
            "",
            "ZZ",
            "ME",
            "ZZ",
            "YOU",
            "240101",
            "1200",
            "^",
            "00501",
            "000000001",
            "0",
            "T",
            ":",
        ]);
        let out = w.finish();
        assert_eq!(out.len(), 106);
        assert_eq!(
            crate::x12::delimiters::read_isa(&out).unwrap().delimiters,
            Delimiters::default()
        );
    }

    #[test]
    fn keep_set_agrees_with_the_rule() {
        // The rule as stated: structural delimiters never kept, inner separators when allowed,
        // otherwise printable ASCII.
        let rule = |d: Delimiters, allow: bool, b: u8| {
            let structural = b == d.element || b == d.segment;
            let inner = b == d.component || Some(b) == d.repetition;
            !structural
                && if inner {
                    allow
                } else {
                    (0x20..0x7F).contains(&b)
                }
        };
        for (e, c, s, r) in [
            (b'*', b':', b'~', Some(b'^')),
            (b'|', b'>', b'\n', None),
            (0x1D, 0x1F, 0x1C, Some(0x1E)),
            (0xE9, 0x80, 0xFF, Some(0x7F)),
            (b'*', b'*', b'*', Some(b'*')),
        ] {
            let d = Delimiters {
                element: e,
                repetition: r,
                component: c,
                segment: s,
            };
            for allow in [false, true] {
                let keep = Keep::new(d, allow);
                for b in 0..=255u8 {
                    assert_eq!(keep.keeps(b), rule(d, allow, b), "{d:?} {allow} {b:#x}");
                }
            }
        }
    }

    #[test]
    fn digits() {
        for n in [0, 1, 9, 10, 77, 1234, 999_999_999, 1_000_000_000, u64::MAX] {
            assert_eq!(Digits::new(n).as_str(), n.to_string());
            assert_eq!(Digits::padded(n, 9).as_str(), format!("{n:09}"));
            assert_eq!(Digits::padded(n, 20).as_str(), format!("{n:020}"));
        }
    }

    #[test]
    fn isa_fields_are_cut_and_padded_by_character() {
        let mut w = SegmentWriter::new(Delimiters::default());
        let long = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
        w.isa(&[
            "0",
            "é",
            "00",
            "",
            "ZZ",
            long,
            "ZZ",
            "Zoë",
            "240101",
            "1200",
            "^",
            "00501",
            "000000001",
            "0",
            "T",
            ":",
        ]);
        let mut expected = String::from("ISA*0 *");
        expected.push_str(&format!("{:<10}", "é").replace('é', "  "));
        expected.push_str("*00*          *ZZ*ABCDEFGHIJKLMNO*ZZ*");
        expected.push_str(&format!("{:<15}", "Zoë").replace('ë', "  "));
        expected.push_str("*240101*1200*^*00501*000000001*0*T*:~");
        assert_eq!(String::from_utf8(w.finish()).unwrap(), expected);
    }

    #[test]
    fn bad_inbound_delimiters_are_replaced() {
        let bad = Delimiters {
            element: b'*',
            repetition: Some(b'^'),
            component: b'^',
            segment: b'~',
        };
        assert_eq!(reply_delimiters(bad).component, b'^');
        let collide = Delimiters {
            element: b'*',
            repetition: Some(b':'),
            component: b':',
            segment: b'~',
        };
        assert_eq!(reply_delimiters(collide).repetition, Some(b'^'));
        let alnum = Delimiters {
            element: b'A',
            repetition: None,
            component: b':',
            segment: b'~',
        };
        assert_eq!(reply_delimiters(alnum), Delimiters::default());
    }
}
