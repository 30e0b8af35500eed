//! Sans-IO RouterOS API protocol.
//!
//! The RouterOS API (TCP 8728, API-SSL 8729) is a stream of *words*, each a
//! length prefix and raw bytes, grouped into *sentences* ended by an empty
//! word. This crate encodes and decodes that framing, models replies
//! (`!re`, `!done`, `!trap`, `!fatal`, `!empty`), builds commands and computes
//! the legacy login challenge. It performs no I/O: the `routeros` client and
//! the `routeros-sim` simulator drive it over sockets.

mod command;
#[cfg(feature = "codec")]
mod codec;
mod decoder;
mod error;
mod length;
pub mod login;
mod reply;
mod sentence;
pub mod value;

#[cfg(feature = "codec")]
pub use codec::{ApiCodec, CodecError};
pub use command::Command;
pub use decoder::{Limits, SentenceDecoder};
pub use error::ProtoError;
pub use length::{decode_length, encode_length, encoded_length_size};
pub use reply::{Reply, ReplyKind};
pub use sentence::{Attribute, Sentence};
