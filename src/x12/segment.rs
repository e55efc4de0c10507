//! Zero-copy view of one segment.

use std::borrow::Cow;

use super::delimiters::Delimiters;

/// Element separators tracked inline; segments with more elements fall back to scanning.
const INLINE: usize = 32;

/// One segment, borrowed from the payload, without its terminator.
#[derive(Clone, Copy)]
pub struct Segment<'a> {
    raw: &'a [u8],
    delims: Delimiters,
    /// `ends[i]` is the offset just past field `i` (field 0 is the segment ID). Segments are at
    /// most `lexer::MAX_SEGMENT_LEN` (< 64 KiB) long, so offsets fit in 16 bits.
    ends: [u16; INLINE + 1],
    /// Number of fields including the ID; may exceed `INLINE + 1`.
    fields: usize,
    /// The segment ID packed (see `spec::id_key`), computed once: every stage dispatches on it.
    key: u32,
}

impl std::fmt::Debug for Segment<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Segment")
            .field(&String::from_utf8_lossy(self.raw))
            .finish()
    }
}

impl<'a> Segment<'a> {
    pub fn new(raw: &'a [u8], delims: Delimiters) -> Self {
        // Longer views (only ever built by hand) are cut: the lexer never makes one.
        let raw = &raw[..raw.len().min(usize::from(u16::MAX))];
        let (ends, fields, _) = index(raw, delims.element, None);
        Self {
            raw,
            delims,
            ends,
            fields,
            key: 0,
        }
        .with_key()
    }

    /// The ISA of a fixed-width interchange header: `raw` is its 105 bytes before the
    /// terminator, with an element separator at each of the 16 fixed `offsets` (as
    /// [`crate::x12::delimiters::read_isa`] found them). When no other byte is the element
    /// separator, the element ends are those offsets, so the bytes need not be indexed one
    /// word at a time (three ISAs are read per real-time request); otherwise as [`Self::new`].
    pub(crate) fn fixed_isa(raw: &'a [u8], delims: Delimiters, offsets: &[usize; 16]) -> Self {
        // Counted a word at a time: cheaper than recording where each separator is.
        let e = splat(delims.element);
        let words = raw.chunks_exact(8);
        let tail = words
            .remainder()
            .iter()
            .filter(|&&b| b == delims.element)
            .count();
        let separators = words.fold(tail, |n, w| {
            let x = u64::from_le_bytes([w[0], w[1], w[2], w[3], w[4], w[5], w[6], w[7]]);
            n + equal_bytes(x, e).count_ones() as usize
        });
        if separators != offsets.len() || offsets.last().is_none_or(|&o| o >= raw.len()) {
            return Self::new(raw, delims);
        }
        let mut ends = [0u16; INLINE + 1];
        for (end, &o) in ends.iter_mut().zip(offsets) {
            *end = o as u16;
        }
        ends[offsets.len()] = raw.len() as u16;
        Self {
            raw,
            delims,
            ends,
            fields: offsets.len() + 1,
            key: 0,
        }
        .with_key()
    }

    /// Reads one segment from the start of `input` up to its terminator, in a single pass that
    /// also notes where the elements end. Returns the segment and its length without the
    /// terminator, or `None` when no terminator occurs within `limit` bytes.
    #[inline]
    pub fn scan(input: &'a [u8], delims: Delimiters, limit: usize) -> Option<(Self, usize)> {
        let window = &input[..input.len().min(limit).min(usize::from(u16::MAX))];
        let (ends, fields, at) = index(window, delims.element, Some(delims.segment));
        let at = at?;
        Some((
            Self {
                raw: &input[..at],
                delims,
                ends,
                fields,
                key: 0,
            }
            .with_key(),
            at,
        ))
    }

    /// Field `n` (0 is the ID, then the elements) as text, as `String::from_utf8_lossy` gives it;
    /// empty when absent.
    #[inline]
    pub fn text(&self, n: usize) -> Cow<'a, str> {
        text(if n == 0 { self.id() } else { self.element(n) })
    }

    /// The elements as text with one UTF-8 check for the whole segment rather than one per
    /// element (for code that reads many of a segment's elements).
    pub fn texts(&self) -> Texts<'a> {
        Texts {
            seg: *self,
            whole: std::str::from_utf8(self.raw).ok(),
        }
    }

    /// Where data element `n` (1-based) is in [`Self::raw`], when present (and the segment has
    /// its element ends at hand: not for segments of more than 32 elements).
    #[inline]
    pub fn element_span(&self, n: usize) -> Option<std::ops::Range<usize>> {
        if n == 0 || n >= self.fields || self.fields > INLINE + 1 {
            return None;
        }
        Some(self.ends[n - 1] as usize + 1..self.ends[n] as usize)
    }

    /// The whole segment, without terminator.
    pub fn raw(&self) -> &'a [u8] {
        self.raw
    }

    pub fn delimiters(&self) -> Delimiters {
        self.delims
    }

    /// The segment ID (`NM1`), as written.
    pub fn id(&self) -> &'a [u8] {
        self.field(0)
    }

    /// The segment ID packed for comparison with guide segments.
    #[inline]
    pub fn id_key(&self) -> u32 {
        self.key
    }

    fn with_key(mut self) -> Self {
        self.key = crate::x12::spec::id_key(self.field(0));
        self
    }

    /// The segment ID as text (lossy for non-ASCII IDs, which are invalid anyway).
    pub fn id_str(&self) -> String {
        self.text(0).into_owned()
    }

    /// Number of data elements present, trailing empty ones included (`NM1*A**` has 3).
    pub fn len(&self) -> usize {
        self.fields - 1
    }

    pub fn is_empty(&self) -> bool {
        self.fields == 1
    }

    /// Data element `n` (1-based), or an empty slice when absent.
    #[inline]
    pub fn element(&self, n: usize) -> &'a [u8] {
        if n == 0 || n >= self.fields {
            return &[];
        }
        self.field(n)
    }

    /// The data elements in order (element 1 first), trailing empty ones included.
    pub fn elements(&self) -> impl Iterator<Item = &'a [u8]> + '_ {
        (1..self.fields).map(move |i| self.field(i))
    }

    /// Component `m` (1-based) of the first repetition of element `n`.
    pub fn component(&self, n: usize, m: usize) -> &'a [u8] {
        let first = self.repetitions(n).next().unwrap_or(&[]);
        components(first, self.delims.component)
            .nth(m.saturating_sub(1))
            .unwrap_or(&[])
    }

    /// The repetitions of element `n` (one item when the element does not repeat).
    pub fn repetitions(&self, n: usize) -> impl Iterator<Item = &'a [u8]> + use<'a> {
        let value = self.element(n);
        let sep = self.delims.repetition;
        let mut rest = Some(value);
        std::iter::from_fn(move || {
            let v = rest?;
            match sep.and_then(|s| v.iter().position(|&b| b == s)) {
                Some(i) => {
                    rest = Some(&v[i + 1..]);
                    Some(&v[..i])
                }
                None => {
                    rest = None;
                    Some(v)
                }
            }
        })
    }

    #[inline]
    fn field(&self, i: usize) -> &'a [u8] {
        if self.fields <= INLINE + 1 {
            let start = if i == 0 {
                0
            } else {
                self.ends[i - 1] as usize + 1
            };
            &self.raw[start..self.ends[i] as usize]
        } else {
            self.field_slow(i)
        }
    }

    #[cold]
    fn field_slow(&self, i: usize) -> &'a [u8] {
        self.raw
            .split(|&b| b == self.delims.element)
            .nth(i)
            .unwrap_or(&[])
    }
}

/// A segment's elements as text, from one UTF-8 check of the whole segment (see
/// [`Segment::texts`]).
#[derive(Clone, Copy, Debug)]
pub struct Texts<'a> {
    seg: Segment<'a>,
    whole: Option<&'a str>,
}

impl<'a> Texts<'a> {
    /// Data element `n` as [`Segment::text`] gives it. An element cut from valid text at
    /// character boundaries is the text of its bytes; one that is not cut at boundaries is
    /// not valid on its own, so goes the lossy way.
    pub fn element(&self, n: usize) -> Cow<'a, str> {
        match self
            .whole
            .zip(self.seg.element_span(n))
            .and_then(|(t, at)| t.get(at))
        {
            Some(v) => Cow::Borrowed(v),
            None => self.seg.text(n),
        }
    }
}

/// Where the fields of `window` end, how many there are (the ID included), and where the
/// terminator `term` is: up to the first terminator, or through all of `window` when `term` is
/// `None` (then the position is `Some(window.len())`). `None` when there is no terminator.
///
/// Separators are found eight bytes at a time as bit masks, then visited bit by bit: element
/// boundaries are unpredictable, so a branch per byte mispredicts at each one.
#[inline]
fn index(
    window: &[u8],
    element: u8,
    term: Option<u8>,
) -> ([u16; INLINE + 1], usize, Option<usize>) {
    let mut ends = [0u16; INLINE + 1];
    let mut fields = 0;
    // Without a terminator to look for, its matches are masked away.
    let (e, t) = (splat(element), splat(term.unwrap_or(0)));
    let want_t = if term.is_some() { u64::MAX } else { 0 };
    let mut i = 0;
    loop {
        let (x, valid) = match window.get(i..).and_then(<[u8]>::first_chunk::<8>) {
            Some(w) => (u64::from_le_bytes(*w), u64::MAX),
            None if i < window.len() => {
                let mut tail = [0u8; 8];
                let n = window.len() - i;
                tail[..n].copy_from_slice(&window[i..]);
                (u64::from_le_bytes(tail), (1u64 << (8 * n)) - 1)
            }
            None => {
                if term.is_some() {
                    return (ends, fields + 1, None);
                }
                if fields <= INLINE {
                    ends[fields] = window.len() as u16;
                }
                return (ends, fields + 1, Some(window.len()));
            }
        };
        let terminators = equal_bytes(x, t) & valid & want_t;
        let mut separators = equal_bytes(x, e) & valid;
        // Elements before the first terminator in this word.
        if terminators != 0 {
            separators &= terminators.wrapping_sub(1) & !terminators;
        }
        while separators != 0 {
            let at = i + (separators.trailing_zeros() / 8) as usize;
            if fields <= INLINE {
                ends[fields] = at as u16;
            }
            fields += 1;
            separators &= separators - 1;
        }
        if terminators != 0 {
            let at = i + (terminators.trailing_zeros() / 8) as usize;
            if fields <= INLINE {
                ends[fields] = at as u16;
            }
            return (ends, fields + 1, Some(at));
        }
        i += 8;
    }
}

fn splat(b: u8) -> u64 {
    0x0101_0101_0101_0101 * u64::from(b)
}

/// The high bit of every byte of `x` equal to the byte in `splat` (exact: no carries between bytes).
#[inline]
fn equal_bytes(x: u64, splat: u64) -> u64 {
    const LOW7: u64 = 0x7F7F_7F7F_7F7F_7F7F;
    let y = x ^ splat;
    !(((y & LOW7) + LOW7) | y | LOW7)
}

/// Bytes as text, as `String::from_utf8_lossy` gives it: checked with `str::from_utf8` first,
/// which is cheaper on the valid (nearly always ASCII) elements of a real-time request.
#[inline]
pub fn text(v: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(v) {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => String::from_utf8_lossy(v),
    }
}

/// Splits a value into components.
pub fn components(value: &[u8], sep: u8) -> impl Iterator<Item = &[u8]> {
    value.split(move |&b| b == sep)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seg(s: &str) -> Segment<'_> {
        Segment::new(s.as_bytes(), Delimiters::default())
    }

    #[test]
    fn elements_and_components() {
        let s = seg("CLM*1606*2***11:B:1*Y");
        assert_eq!(s.id(), b"CLM");
        assert_eq!(s.len(), 6);
        assert_eq!(s.element(1), b"1606");
        assert_eq!(s.element(3), b"");
        assert_eq!(s.component(5, 2), b"B");
        assert_eq!(s.component(5, 4), b"");
        assert_eq!(s.element(9), b"");
    }

    #[test]
    fn trailing_separator_counts() {
        assert_eq!(seg("NM1*A**").len(), 3);
        assert_eq!(seg("SE").len(), 0);
    }

    #[test]
    fn repetitions() {
        let s = seg("EQ*30^1^33");
        assert_eq!(
            s.repetitions(1).collect::<Vec<_>>(),
            vec![&b"30"[..], b"1", b"33"]
        );
    }

    #[test]
    fn new_and_scan_agree_with_split() {
        let d = Delimiters::default();
        for raw in [
            "",
            "ST",
            "ST*",
            "*",
            "**",
            "NM1*IL*1*DOE*JANE****MI*100000000001",
            "A*B*C*D*E*F*G*H*I",
            "ABCDEFGH*",
            "ABCDEFG*H",
            "ISA*00*          *00*          *ZZ*110048577A     ",
        ] {
            let want: Vec<&[u8]> = raw.as_bytes().split(|&b| b == b'*').collect();
            let s = Segment::new(raw.as_bytes(), d);
            let got: Vec<&[u8]> = (0..=s.len()).map(|i| s.field(i)).collect();
            assert_eq!(got, want, "{raw:?}");
            for n in 1..=s.len() + 1 {
                let span = s.element_span(n).map(|at| &s.raw()[at]);
                assert_eq!(span, (n <= s.len()).then(|| s.element(n)), "{raw:?} {n}");
            }
            let term = format!("{raw}~REST*1~");
            let (t, at) = Segment::scan(term.as_bytes(), d, 1000).unwrap();
            assert_eq!(at, raw.len());
            let got: Vec<&[u8]> = (0..=t.len()).map(|i| t.field(i)).collect();
            assert_eq!(got, want, "{raw:?}");
            assert!(Segment::scan(raw.as_bytes(), d, 1000).is_none());
        }
    }

    #[test]
    fn fixed_isa_agrees_with_new() {
        let d = Delimiters::default();
        let isa = b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*1*T*:";
        let offsets = crate::x12::delimiters::ISA_SEPARATOR_OFFSETS;
        let mut extra = isa.to_vec();
        extra[10] = b'*';
        for raw in [&isa[..], &extra[..]] {
            let fast = Segment::fixed_isa(raw, d, &offsets);
            let slow = Segment::new(raw, d);
            assert_eq!(fast.len(), slow.len());
            assert_eq!(fast.id_key(), slow.id_key());
            for n in 0..=slow.len() + 1 {
                assert_eq!(fast.field(n.min(slow.len())), slow.field(n.min(slow.len())));
                assert_eq!(fast.element(n), slow.element(n));
                assert_eq!(fast.element_span(n), slow.element_span(n));
            }
        }
    }

    #[test]
    fn many_elements_fall_back() {
        let long = format!("ZZZ{}", "*x".repeat(60));
        let s = seg(&long);
        assert_eq!(s.len(), 60);
        assert_eq!(s.element(55), b"x");
        assert_eq!(s.element(61), b"");
    }
}
