//! Splits bytes into segments, interchange by interchange, with bounded look-ahead.
//!
//! The lexer works on a window of the input so the same code serves a payload held in memory
//! and a stream read in chunks (see [`crate::x12::reader`]).

use super::delimiters::{
    Delimiters, ISA_LEN, ISA_SEPARATOR_OFFSETS, IsaError, IsaLayout, read_isa,
};
use super::segment::Segment;

/// Longest segment accepted; longer ones are reported and skipped (no HIPAA segment comes close).
pub const MAX_SEGMENT_LEN: usize = 64 * 1024 - 1;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// One thing found in the input.
#[derive(Debug)]
pub enum Lexeme<'a> {
    /// An ISA segment, with the delimiters it declares.
    Isa { seg: Segment<'a>, layout: IsaLayout },
    /// Any other segment of the current interchange.
    Segment(Segment<'a>),
    /// The last segment of the input lacks its terminator.
    Unterminated(Segment<'a>),
    /// A UTF-8 byte-order mark at the start of the payload.
    ByteOrderMark,
    /// Spaces or tabs before a segment (pretty-printed files).
    Indentation,
    /// Bytes outside any interchange.
    Junk { len: usize },
    /// Bytes starting with `ISA` whose delimiters cannot be read.
    BadIsa(IsaError),
    /// A segment longer than [`MAX_SEGMENT_LEN`].
    Oversized,
    /// Line breaks or skipped bytes: nothing to report.
    Blank,
}

/// The result of one lexing step.
#[derive(Debug)]
pub enum Step<'a> {
    /// A lexeme, found `offset` bytes into the window, and the bytes consumed in all.
    Item {
        lexeme: Lexeme<'a>,
        offset: usize,
        consumed: usize,
    },
    /// More input is needed before anything can be said (never returned at end of input).
    NeedMore,
    /// Nothing left.
    End,
}

/// Lexer state carried between windows.
#[derive(Debug, Default)]
pub struct Lexer {
    delims: Option<Delimiters>,
    started: bool,
    skipping: bool,
    /// Inside the remains of an interchange whose ISA could not be read.
    after_bad_isa: bool,
}

impl Lexer {
    pub fn new() -> Self {
        Self::default()
    }

    /// Delimiters of the interchange being read, if inside one.
    pub fn delimiters(&self) -> Option<Delimiters> {
        self.delims
    }

    /// Lexes the next item from `buf`, the unread input. `eof` says no more input follows.
    pub fn step<'a>(&mut self, buf: &'a [u8], eof: bool) -> Step<'a> {
        if !self.started {
            if buf.len() < BOM.len() && !eof && BOM.starts_with(buf) {
                return Step::NeedMore;
            }
            self.started = true;
            if buf.starts_with(BOM) {
                return item(Lexeme::ByteOrderMark, 0, BOM.len());
            }
        }
        if self.skipping {
            return self.skip_oversized(buf, eof);
        }
        // Line breaks after a terminator are routine; other blanks are reported once each run.
        let mut pos = 0;
        while pos < buf.len() && is_blank(buf[pos]) && !self.is_delimiter(buf[pos]) {
            if buf[pos] == b' ' || buf[pos] == b'\t' {
                let run = buf[pos..]
                    .iter()
                    .take_while(|&&b| b == b' ' || b == b'\t')
                    .count();
                return item(Lexeme::Indentation, pos, pos + run);
            }
            pos += 1;
        }
        let rest = &buf[pos..];
        if rest.is_empty() {
            return if eof {
                if pos > 0 { item_skip(pos) } else { Step::End }
            } else {
                need(pos)
            };
        }
        if rest.len() < 3 && !eof && b"ISA".starts_with(rest) {
            return need(pos);
        }
        if rest.starts_with(b"ISA") {
            return self.isa(buf, pos, eof);
        }
        let Some(delims) = self.delims else {
            // Outside an interchange: everything up to the next `ISA` is junk (already reported
            // when it is the rest of an unreadable interchange).
            let junk = |len: usize| {
                if self.after_bad_isa {
                    Lexeme::Blank
                } else {
                    Lexeme::Junk { len }
                }
            };
            let len = find(rest, b"ISA").unwrap_or(rest.len());
            if len == rest.len() && !eof {
                if rest.len() < MAX_SEGMENT_LEN {
                    return need(pos);
                }
                // Keep the last two bytes: they may begin an `ISA` split across windows.
                let keep = 2;
                return item(junk(rest.len() - keep), pos, pos + rest.len() - keep);
            }
            return item(junk(len), pos, pos + len);
        };
        match Segment::scan(rest, delims, MAX_SEGMENT_LEN + 1) {
            Some((seg, end)) => {
                if seg.id_key() == crate::x12::spec::ids::IEA {
                    self.delims = None;
                }
                item(Lexeme::Segment(seg), pos, pos + end + 1)
            }
            None if rest.len() > MAX_SEGMENT_LEN => {
                self.skipping = true;
                item(Lexeme::Oversized, pos, pos)
            }
            None if eof => {
                let trimmed = trim_end_blank(rest);
                let seg = Segment::new(trimmed, delims);
                self.delims = None;
                item(Lexeme::Unterminated(seg), pos, buf.len())
            }
            None => need(pos),
        }
    }

    fn isa<'a>(&mut self, buf: &'a [u8], pos: usize, eof: bool) -> Step<'a> {
        let rest = &buf[pos..];
        match read_isa(rest) {
            Ok(layout) => {
                self.after_bad_isa = false;
                self.delims = Some(layout.delimiters);
                let raw = &rest[..layout.len - 1];
                let seg = if layout.fixed_width {
                    Segment::fixed_isa(raw, layout.delimiters, &ISA_SEPARATOR_OFFSETS)
                } else {
                    Segment::new(raw, layout.delimiters)
                };
                item(Lexeme::Isa { seg, layout }, pos, pos + layout.len)
            }
            Err(IsaError::Truncated) if !eof && rest.len() < ISA_LEN + 512 => need(pos),
            Err(e) => {
                // Unreadable envelope: what follows up to the next ISA belongs to it and is
                // skipped without further notes, however the input is split into reads.
                self.delims = None;
                self.after_bad_isa = true;
                item(Lexeme::BadIsa(e), pos, pos + 3)
            }
        }
    }

    fn skip_oversized<'a>(&mut self, buf: &'a [u8], eof: bool) -> Step<'a> {
        let term = self.delims.map_or(b'~', |d| d.segment);
        match buf.iter().position(|&b| b == term) {
            Some(i) => {
                self.skipping = false;
                item_skip(i + 1)
            }
            None if eof => {
                self.skipping = false;
                if buf.is_empty() {
                    Step::End
                } else {
                    item_skip(buf.len())
                }
            }
            None if buf.is_empty() => Step::NeedMore,
            None => item_skip(buf.len()),
        }
    }

    fn is_delimiter(&self, b: u8) -> bool {
        self.delims.is_some_and(|d| {
            b == d.segment || b == d.element || b == d.component || Some(b) == d.repetition
        })
    }
}

fn item(lexeme: Lexeme<'_>, offset: usize, consumed: usize) -> Step<'_> {
    Step::Item {
        lexeme,
        offset,
        consumed,
    }
}

/// Consumes bytes that carry nothing to report (line breaks, skipped data).
fn item_skip<'a>(consumed: usize) -> Step<'a> {
    Step::Item {
        lexeme: Lexeme::Blank,
        offset: consumed,
        consumed,
    }
}

fn need<'a>(_pos: usize) -> Step<'a> {
    Step::NeedMore
}

fn is_blank(b: u8) -> bool {
    matches!(b, b'\r' | b'\n' | b' ' | b'\t')
}

fn trim_end_blank(s: &[u8]) -> &[u8] {
    let end = s.iter().rposition(|&b| !is_blank(b)).map_or(0, |i| i + 1);
    &s[..end]
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lex_all(input: &[u8]) -> Vec<String> {
        let mut lx = Lexer::new();
        let mut pos = 0;
        let mut out = vec![];
        loop {
            match lx.step(&input[pos..], true) {
                Step::Item {
                    lexeme, consumed, ..
                } => {
                    pos += consumed;
                    out.push(match lexeme {
                        Lexeme::Isa { .. } => "ISA".to_string(),
                        Lexeme::Segment(s) => s.id_str(),
                        Lexeme::Unterminated(s) => format!("unterminated {}", s.id_str()),
                        Lexeme::Blank => continue,
                        other => format!("{other:?}"),
                    });
                }
                Step::End => return out,
                Step::NeedMore => panic!("need more at eof"),
            }
        }
    }

    const ISA: &str = "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER       *240101*1200*^*00501*000000001*1*T*:~";

    #[test]
    fn crlf_bom_and_indentation() {
        let input = format!("\u{FEFF}{ISA}\r\n  GS*HC~\r\nIEA*1*000000001");
        assert_eq!(
            lex_all(input.as_bytes()),
            vec![
                "ByteOrderMark",
                "ISA",
                "Indentation",
                "GS",
                "unterminated IEA"
            ]
        );
    }

    #[test]
    fn junk_outside_interchange() {
        let input = format!("hello{ISA}IEA*0*000000001~garbage");
        assert_eq!(
            lex_all(input.as_bytes()),
            vec!["Junk { len: 5 }", "ISA", "IEA", "Junk { len: 7 }"]
        );
    }

    #[test]
    fn bad_isa() {
        assert_eq!(lex_all(b"ISA*00*junk"), vec!["BadIsa(Truncated)"]);
    }
}
