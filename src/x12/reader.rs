//! Entry points: validate a payload held in memory, or one read from a stream in bounded memory.

use std::io::{self, Read};

use super::engine::Validator;
use super::lexer::{Lexeme, Lexer, MAX_SEGMENT_LEN, Step};
use super::report::Report;
use super::tree::{Interchange, TreeBuilder};

/// Validates a whole payload in memory.
pub fn validate(bytes: &[u8]) -> Report {
    validate_with(bytes, Validator::new())
}

/// Feeds a payload held in memory to a given validator.
pub(crate) fn validate_with(bytes: &[u8], mut v: Validator) -> Report {
    for_each_lexeme_in(bytes, |lexeme, offset| v.push_ref(&lexeme, offset));
    v.finish()
}

/// Validates a whole payload in memory and splits it into its envelope tree in the same pass
/// (one lexing for both; see [`super::tree::parse`]).
pub fn validate_tree(bytes: &[u8]) -> (Report, Vec<Interchange<'_>>) {
    let mut v = Validator::new();
    let mut tree = TreeBuilder::default();
    for_each_lexeme_in(bytes, |lexeme, offset| {
        tree.push(&lexeme);
        v.push_ref(&lexeme, offset);
    });
    (v.finish(), tree.finish())
}

/// Feeds every lexeme of a payload held in memory to `visit`, in order, with its byte offset
/// (the in-memory twin of [`for_each_lexeme`]).
pub(crate) fn for_each_lexeme_in<'a>(bytes: &'a [u8], mut visit: impl FnMut(Lexeme<'a>, u64)) {
    let mut lexer = Lexer::new();
    let mut pos = 0;
    while let Step::Item {
        lexeme,
        offset,
        consumed,
    } = lexer.step(&bytes[pos..], true)
    {
        visit(lexeme, (pos + offset) as u64);
        pos += consumed;
    }
}

/// Window size for streaming; one segment never needs more than this.
const WINDOW: usize = 4 * MAX_SEGMENT_LEN;

/// Validates a payload read from `input`, holding at most a fixed window of it in memory.
pub fn validate_reader<R: Read>(input: R) -> io::Result<Report> {
    let mut v = Validator::new();
    for_each_lexeme(input, |lexeme, offset| v.push_ref(&lexeme, offset))?;
    Ok(v.finish())
}

/// Feeds every lexeme of a payload read from `input` to `visit`, in file order, with its byte
/// offset, holding at most a fixed window of the payload in memory (a 200 MB batch costs the
/// window, not 200 MB).
pub fn for_each_lexeme<R: Read>(
    mut input: R,
    mut visit: impl FnMut(Lexeme<'_>, u64),
) -> io::Result<()> {
    let mut lexer = Lexer::new();
    let mut buf = vec![0u8; WINDOW];
    let (mut start, mut end) = (0usize, 0usize);
    let mut base: u64 = 0;
    let mut eof = false;
    loop {
        match lexer.step(&buf[start..end], eof) {
            Step::Item {
                lexeme,
                offset,
                consumed,
            } => {
                visit(lexeme, base + (start + offset) as u64);
                start += consumed;
            }
            Step::End => break,
            Step::NeedMore => {
                // Slide the unread bytes to the front, then read until the unread part has at
                // least doubled: the lexer rescans what it could not use, so retrying after
                // every small read would cost quadratic time on input that trickles in.
                if start > 0 {
                    buf.copy_within(start..end, 0);
                    base += start as u64;
                    end -= start;
                    start = 0;
                }
                if end == buf.len() {
                    // Cannot happen: the lexer reports oversized segments before the window fills.
                    eof = true;
                }
                let want = (end * 2 + 4096).min(buf.len());
                while end < want && !eof {
                    match input.read(&mut buf[end..]) {
                        Ok(0) => eof = true,
                        Ok(n) => end += n,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
    }
    Ok(())
}
