//! The CAQH CORE Connectivity vC2.2.0 envelope: one [`envelope::Envelope`] type whatever the
//! wire, the error table, and the codecs (SOAP 1.2, MTOM/XOP, HTTP MIME multipart).

pub mod envelope;
pub mod error;
pub mod multipart;
pub mod payload;
pub mod request;
pub mod soap;
pub mod validate;

pub use envelope::{Credentials, Envelope, Metadata, Operation, ResponseEnvelope, Wire};
pub use error::{Failure, Kind};
