//! Writes segments with a given set of delimiters; the building block for TA1, 999, 271, 277.

use super::delimiters::Delimiters;

/// Accumulates segments into a byte buffer.
#[derive(Debug)]
pub struct SegmentWriter {
    out: Vec<u8>,
    delims: Delimiters,
    /// Write a line break after each terminator (readable files; receivers tolerate it).
    line_breaks: bool,
    /// Segments written since the last [`SegmentWriter::start_count`].
    counted: u32,
}

impl SegmentWriter {
    pub fn new(delims: Delimiters) -> Self {
        Self {
            out: Vec::new(),
            delims,
            line_breaks: false,
            counted: 0,
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
        let used = elements
            .iter()
            .rposition(|e| !e.as_ref().is_empty())
            .map_or(0, |i| i + 1);
        self.out.extend_from_slice(id.as_bytes());
        for e in &elements[..used] {
            self.out.push(self.delims.element);
            self.push_value(e.as_ref(), true);
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
                    let v: String = f.chars().take(width).collect();
                    let v = format!("{v:<width$}");
                    self.push_value(&v, false);
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
        clean_into(self.delims, v, allow_structure, &mut out);
        // Every byte pushed is printable ASCII.
        String::from_utf8(out).unwrap_or_default()
    }

    /// Values built with [`Self::composite`]/[`Self::repeated`] keep their inner separators.
    fn push_value(&mut self, v: &str, allow_inner: bool) {
        clean_into(self.delims, v, allow_inner, &mut self.out);
    }
}

/// Appends `v` to `out` with structural delimiters, control and non-ASCII bytes replaced by
/// spaces (inner separators kept when `allow_structure`). Written straight into the buffer:
/// the 271/277 writers call it for every element.
fn clean_into(d: Delimiters, v: &str, allow_structure: bool, out: &mut Vec<u8>) {
    let keep = |b: u8| {
        let structural = b == d.element || b == d.segment;
        let inner = b == d.component || Some(b) == d.repetition;
        !structural
            && if inner {
                allow_structure
            } else {
                (0x20..0x7F).contains(&b)
            }
    };
    if v.bytes().all(keep) {
        out.extend_from_slice(v.as_bytes());
    } else {
        out.extend(v.bytes().map(|b| if keep(b) { b } else { b' ' }));
    }
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
