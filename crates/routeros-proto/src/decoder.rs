//! Incremental sentence decoder: accepts the byte stream split anywhere.

use bytes::{Buf, BytesMut};

use crate::{length::decode_length, ProtoError, Sentence};

/// Bounds that stop a hostile or broken peer from making us allocate without
/// limit. A length prefix is checked before any bytes are buffered for it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub max_word: usize,
    pub max_sentence: usize,
    pub max_words: usize,
}

impl Default for Limits {
    /// Large enough for a multi-megabyte `/export` returned as one word.
    fn default() -> Self {
        Self {
            max_word: 16 << 20,
            max_sentence: 32 << 20,
            max_words: 65_536,
        }
    }
}

/// Turns bytes into [`Sentence`]s. Complete words are taken out of the buffer
/// as soon as they arrive, so feeding one byte at a time stays linear.
#[derive(Debug, Default)]
pub struct SentenceDecoder {
    limits: Limits,
    current: Vec<Vec<u8>>,
    current_bytes: usize,
}

impl SentenceDecoder {
    pub fn new(limits: Limits) -> Self {
        Self {
            limits,
            ..Self::default()
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Decodes the next complete sentence from `buf`, consuming its bytes.
    /// Empty sentences (a bare terminator) are skipped, as RouterOS does.
    pub fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Sentence>, ProtoError> {
        loop {
            let Some((len, prefix)) = decode_length(buf)? else {
                return Ok(None);
            };
            let len = len as usize;
            if len == 0 {
                buf.advance(prefix);
                if self.current.is_empty() {
                    continue;
                }
                self.current_bytes = 0;
                return Ok(Some(Sentence::from_words(std::mem::take(
                    &mut self.current,
                ))));
            }
            if len > self.limits.max_word {
                return Err(ProtoError::WordTooLong {
                    len: len as u64,
                    max: self.limits.max_word,
                });
            }
            if self.current_bytes + len > self.limits.max_sentence {
                return Err(ProtoError::SentenceTooLong {
                    max: self.limits.max_sentence,
                });
            }
            if self.current.len() >= self.limits.max_words {
                return Err(ProtoError::TooManyWords {
                    max: self.limits.max_words,
                });
            }
            if buf.len() < prefix + len {
                buf.reserve(prefix + len - buf.len());
                return Ok(None);
            }
            // Copy the word out, then drop its bytes: `split_to` would turn
            // the buffer into a shared one and cost two atomic operations
            // per word.
            self.current.push(buf[prefix..prefix + len].to_vec());
            buf.advance(prefix + len);
            self.current_bytes += len;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn decode_all(dec: &mut SentenceDecoder, buf: &mut BytesMut) -> Vec<Sentence> {
        let mut out = Vec::new();
        while let Some(s) = dec.decode(buf).unwrap() {
            out.push(s);
        }
        out
    }

    #[test]
    fn several_sentences_in_one_read_and_empty_ones_skipped() {
        let mut bytes = Vec::new();
        bytes.push(0); // an empty sentence
        Sentence::from_words(["!re", "=name=a"]).encode(&mut bytes);
        Sentence::from_words(["!done"]).encode(&mut bytes);
        let mut buf = BytesMut::from(&bytes[..]);
        let got = decode_all(&mut SentenceDecoder::default(), &mut buf);
        assert_eq!(got.len(), 2);
        assert_eq!(got[0].first_word(), Some(&b"!re"[..]));
        assert_eq!(got[1].first_word(), Some(&b"!done"[..]));
        assert!(buf.is_empty());
    }

    #[test]
    fn hostile_length_is_refused_before_allocation() {
        let mut dec = SentenceDecoder::new(Limits {
            max_word: 1024,
            ..Limits::default()
        });
        let mut buf = BytesMut::from(&[0xF0, 0xFF, 0xFF, 0xFF, 0xFF][..]);
        assert!(matches!(
            dec.decode(&mut buf),
            Err(ProtoError::WordTooLong {
                len: 0xFFFF_FFFF,
                max: 1024
            })
        ));
        assert!(buf.capacity() < 1 << 20);
    }

    #[test]
    fn sentence_limit_applies_across_words() {
        let mut dec = SentenceDecoder::new(Limits {
            max_word: 100,
            max_sentence: 150,
            max_words: 10,
        });
        let mut bytes = Vec::new();
        Sentence::from_words([vec![b'x'; 100], vec![b'y'; 100]]).encode(&mut bytes);
        let mut buf = BytesMut::from(&bytes[..]);
        assert!(matches!(
            dec.decode(&mut buf),
            Err(ProtoError::SentenceTooLong { max: 150 })
        ));
    }

    fn arb_sentence() -> impl Strategy<Value = Sentence> {
        prop::collection::vec(prop::collection::vec(any::<u8>(), 1..300), 1..6)
            .prop_map(Sentence::from_words)
    }

    proptest! {
        #[test]
        fn any_split_decodes_the_same(
            sentences in prop::collection::vec(arb_sentence(), 1..5),
            chunk in 1usize..64,
        ) {
            let mut bytes = Vec::new();
            for s in &sentences { s.encode(&mut bytes); }
            let mut dec = SentenceDecoder::default();
            let mut buf = BytesMut::new();
            let mut got = Vec::new();
            for piece in bytes.chunks(chunk) {
                buf.extend_from_slice(piece);
                got.extend(decode_all(&mut dec, &mut buf));
            }
            prop_assert_eq!(got, sentences);
        }

        #[test]
        fn length_round_trips(len in any::<u32>()) {
            let mut v = Vec::new();
            crate::encode_length(len, &mut v);
            prop_assert_eq!(crate::decode_length(&v).unwrap(), Some((len, v.len())));
        }

        #[test]
        fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096)) {
            let mut dec = SentenceDecoder::new(Limits { max_word: 512, max_sentence: 2048, max_words: 64 });
            let mut buf = BytesMut::from(&bytes[..]);
            while let Ok(Some(_)) = dec.decode(&mut buf) {}
            prop_assert!(buf.capacity() <= 4096 + 2048);
        }
    }
}
