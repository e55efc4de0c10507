//! Declarative implementation-guide specs (see `specs/FORMAT.md`) and the registry of the
//! guides compiled into the binary.

mod model;
mod parse;
mod registry;

pub use model::*;
pub use parse::{Dictionary, SpecError, parse_spec};
pub use registry::{all_specs, is_supported_version, spec_for};
