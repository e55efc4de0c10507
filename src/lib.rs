//! hts-gateway: a HIPAA X12 5010 gateway for CAQH CORE connectivity.

pub mod cli;
pub mod x12;
