//! The X12 5010 engine: pure and synchronous. Bytes in; an interchange tree with findings out;
//! TA1, 999 and other segments written back with the sender's delimiters.
//!
//! Hand-written because no maintained crate validates HIPAA implementation guides: the crates
//! that exist parse generic X12 (x12-types), check envelopes only (`edi`, GPL) or tokenize.

pub mod ack;
pub mod delimiters;
pub mod engine;
pub mod lexer;
pub mod reader;
pub mod report;
pub mod sample;
pub mod segment;
pub mod spec;
pub mod tree;
pub mod validate;
pub mod writer;

pub use delimiters::Delimiters;
pub use reader::{validate, validate_reader};
pub use report::Report;
pub use segment::Segment;
