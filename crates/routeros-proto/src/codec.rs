//! `tokio_util` codec over [`SentenceDecoder`].

use bytes::BytesMut;
use tokio_util::codec::{Decoder, Encoder};

use crate::{Limits, ProtoError, Sentence, SentenceDecoder};

/// Frames a byte stream into RouterOS API sentences.
#[derive(Debug, Default)]
pub struct ApiCodec {
    decoder: SentenceDecoder,
}

impl ApiCodec {
    pub fn new(limits: Limits) -> Self {
        Self {
            decoder: SentenceDecoder::new(limits),
        }
    }
}

/// Errors of the framed transport: the socket or the byte stream.
#[derive(Debug, thiserror::Error)]
pub enum CodecError {
    #[error(transparent)]
    Io(#[from] std::io::Error),
    #[error(transparent)]
    Protocol(#[from] ProtoError),
}

impl Decoder for ApiCodec {
    type Item = Sentence;
    type Error = CodecError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Sentence>, CodecError> {
        Ok(self.decoder.decode(src)?)
    }
}

impl Encoder<Sentence> for ApiCodec {
    type Error = CodecError;

    fn encode(&mut self, item: Sentence, dst: &mut BytesMut) -> Result<(), CodecError> {
        let mut v = Vec::with_capacity(item.encoded_len());
        item.encode(&mut v);
        dst.extend_from_slice(&v);
        Ok(())
    }
}
