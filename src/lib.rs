//! hts-gateway: a HIPAA X12 5010 gateway for CAQH CORE connectivity.

pub mod auth;
pub mod cli;
pub mod core;
pub mod payer;
pub mod server;
pub mod store;
pub mod worker;
pub mod x12;
