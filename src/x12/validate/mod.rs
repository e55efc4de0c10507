//! Implementation-guide validation of one transaction set.

pub mod element;
pub mod rules;
pub mod walker;
