//! Sans-IO RouterOS API protocol.
//!
//! The RouterOS API (TCP 8728, API-SSL 8729) is a stream of *words*, each a
//! length prefix and raw bytes, grouped into *sentences* ended by an empty
//! word. This crate encodes and decodes that framing, models replies
//! (`!re`, `!done`, `!trap`, `!fatal`, `!empty`), builds commands and computes
//! the legacy login challenge. It performs no I/O: the `routeros` client and
//! the `routeros-sim` simulator drive it over sockets.
//!
//! ```
//! use bytes::BytesMut;
//! use routeros_proto::{Command, Reply, ReplyKind, Sentence, SentenceDecoder};
//!
//! // What a client writes: the command, its words, a tag, the empty word.
//! let cmd = Command::new("/interface/print").proplist(["name"]);
//! let wire = cmd.to_sentence(Some("7")).unwrap().to_bytes();
//! assert_eq!(&wire[..17], b"\x10/interface/print");
//!
//! // What a client reads back, in whatever pieces TCP delivers it.
//! let mut bytes = Vec::new();
//! Sentence::from_words(["!re", "=name=ether1", ".tag=7"]).encode(&mut bytes);
//! let (a, b) = bytes.split_at(5);
//! let mut decoder = SentenceDecoder::default();
//! let mut buf = BytesMut::from(a);
//! assert!(decoder.decode(&mut buf).unwrap().is_none());
//! buf.extend_from_slice(b);
//! let reply = Reply::parse(decoder.decode(&mut buf).unwrap().unwrap());
//! assert_eq!(reply.kind, ReplyKind::Re);
//! assert_eq!(reply.attribute("name"), Some(&b"ether1"[..]));
//! assert_eq!(reply.tag(), Some(&b"7"[..]));
//! ```

#[cfg(feature = "codec")]
mod codec;
mod command;
mod decoder;
mod error;
mod length;
pub mod login;
pub mod mndp;
mod query;
mod reply;
pub mod script;
mod sentence;
pub mod value;

#[cfg(feature = "codec")]
pub use codec::{ApiCodec, CodecError};
pub use command::Command;
pub use decoder::{Limits, SentenceDecoder};
pub use error::ProtoError;
pub use length::{decode_length, encode_length, encoded_length_size};
pub use query::Query;
pub use reply::{Reply, ReplyKind};
pub use sentence::{Attribute, Sentence};
