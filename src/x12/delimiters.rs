//! Delimiters of an interchange, read from its fixed-width ISA segment.

/// Length of a fixed-width ISA segment, terminator included.
pub const ISA_LEN: usize = 106;

/// Byte offsets of the 16 element separators in a fixed-width ISA.
pub(crate) const ISA_SEPARATOR_OFFSETS: [usize; 16] = [
    3, 6, 17, 20, 31, 34, 50, 53, 69, 76, 81, 83, 89, 99, 101, 103,
];

/// Widths of ISA01..ISA16 in a conforming 00501 ISA.
pub const ISA_FIELD_WIDTHS: [usize; 16] = [2, 10, 2, 10, 2, 15, 2, 15, 6, 4, 1, 5, 9, 1, 1, 1];

/// The four delimiters of an interchange.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Delimiters {
    pub element: u8,
    /// ISA11; `None` when the sender used an alphanumeric value such as the 4010 habit `U`,
    /// which cannot be a separator.
    pub repetition: Option<u8>,
    pub component: u8,
    pub segment: u8,
}

impl Default for Delimiters {
    fn default() -> Self {
        Self {
            element: b'*',
            repetition: Some(b'^'),
            component: b':',
            segment: b'~',
        }
    }
}

/// How the ISA was read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IsaLayout {
    pub delimiters: Delimiters,
    /// Bytes from the `I` of `ISA` to the segment terminator, inclusive.
    pub len: usize,
    /// True when every separator sits at its fixed offset (a conforming 106-byte ISA).
    pub fixed_width: bool,
    /// Raw ISA11 byte, kept so a `U` can be reported.
    pub isa11: u8,
}

/// Why an ISA could not be read at all.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IsaError {
    /// The payload ends inside the ISA.
    Truncated,
    /// Fewer than 16 element separators before the data ends or a line ends.
    Malformed,
}

/// Reads the delimiters from bytes starting with `ISA`.
///
/// A conforming ISA is fixed width; files with unpadded fields exist in the wild, so when the
/// separators are not at their offsets the ISA is split on the element separator instead and
/// the caller reports the wrong widths (TA1 006 etc.) rather than giving up.
pub fn read_isa(bytes: &[u8]) -> Result<IsaLayout, IsaError> {
    if bytes.len() < 4 {
        return Err(IsaError::Truncated);
    }
    let element = bytes[3];
    // With fewer than 106 bytes, a layout that is fixed-width so far may still complete: wait.
    let fixed_so_far = ISA_SEPARATOR_OFFSETS
        .iter()
        .all(|&o| bytes.get(o).is_none_or(|&b| b == element));
    if bytes.len() < ISA_LEN && fixed_so_far {
        return Err(IsaError::Truncated);
    }
    if bytes.len() >= ISA_LEN && ISA_SEPARATOR_OFFSETS.iter().all(|&o| bytes[o] == element) {
        return Ok(layout(
            element, bytes[82], bytes[104], bytes[105], ISA_LEN, true,
        ));
    }
    // Split on the element separator: the 16th separator precedes ISA16, whose single byte
    // is followed by the segment terminator.
    let mut seen = 0;
    for (i, &b) in bytes.iter().enumerate().skip(3) {
        if b == element {
            seen += 1;
            if seen == 16 {
                return match (bytes.get(i + 1), bytes.get(i + 2)) {
                    (Some(&component), Some(&segment)) => {
                        let isa11 = isa11_by_split(bytes, element).unwrap_or(b'^');
                        Ok(layout(element, isa11, component, segment, i + 3, false))
                    }
                    _ => Err(IsaError::Truncated),
                };
            }
        } else if seen < 16 && (b == b'\n' || i > 512) {
            return Err(IsaError::Malformed);
        }
    }
    // The data ended before the 16th separator: more input may still complete the ISA.
    Err(IsaError::Truncated)
}

fn isa11_by_split(bytes: &[u8], element: u8) -> Option<u8> {
    bytes
        .split(|&b| b == element)
        .nth(11)
        .and_then(|f| f.first().copied())
}

fn layout(
    element: u8,
    isa11: u8,
    component: u8,
    segment: u8,
    len: usize,
    fixed: bool,
) -> IsaLayout {
    let repetition = if isa11.is_ascii_alphanumeric() || isa11 == b' ' {
        None
    } else {
        Some(isa11)
    };
    IsaLayout {
        delimiters: Delimiters {
            element,
            repetition,
            component,
            segment,
        },
        len,
        fixed_width: fixed,
        isa11,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ISA: &[u8] = b"ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*1*T*:~";

    #[test]
    fn fixed_width_isa() {
        let l = read_isa(ISA).unwrap();
        assert!(l.fixed_width);
        assert_eq!(l.len, 106);
        assert_eq!(l.delimiters, Delimiters::default());
    }

    #[test]
    fn unpadded_isa_is_split() {
        let l = read_isa(b"ISA*00**00**ZZ*S*ZZ*R*240101*1200*^*00501*1*0*P*>|GS*").unwrap();
        assert!(!l.fixed_width);
        assert_eq!(l.delimiters.component, b'>');
        assert_eq!(l.delimiters.segment, b'|');
    }

    #[test]
    fn u_is_no_repetition_separator() {
        let mut isa = ISA.to_vec();
        isa[82] = b'U';
        let l = read_isa(&isa).unwrap();
        assert_eq!(l.delimiters.repetition, None);
        assert_eq!(l.isa11, b'U');
    }

    #[test]
    fn truncated() {
        assert_eq!(read_isa(&ISA[..50]), Err(IsaError::Truncated));
        assert_eq!(read_isa(b"IS"), Err(IsaError::Truncated));
    }
}
