//! Acknowledgements: TA1 for the interchange, 999 (005010X231A1) for groups and sets.

mod ack999;

pub use ack999::{ACKNOWLEDGEABLE_GROUPS, AckControl, Reply, write_acknowledgment};
