//! Sentences: ordered lists of words, kept as bytes.

use crate::length::{encode_length, encoded_length_size};

/// One parsed `=name=value` or `.name=value` word. Values stay bytes because
/// RouterOS does not say which encoding its strings use.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attribute<'a> {
    pub name: &'a [u8],
    pub value: &'a [u8],
}

/// A sentence as it travels on the wire, without its terminating empty word.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Sentence {
    words: Vec<Vec<u8>>,
}

impl Sentence {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn from_words<I, W>(words: I) -> Self
    where
        I: IntoIterator<Item = W>,
        W: Into<Vec<u8>>,
    {
        Self {
            words: words.into_iter().map(Into::into).collect(),
        }
    }

    pub fn push(&mut self, word: impl Into<Vec<u8>>) {
        self.words.push(word.into());
    }

    pub fn words(&self) -> &[Vec<u8>] {
        &self.words
    }

    pub fn into_words(self) -> Vec<Vec<u8>> {
        self.words
    }

    pub fn is_empty(&self) -> bool {
        self.words.is_empty()
    }

    /// The first word: a command (`/system/resource/print`) or a reply (`!re`).
    pub fn first_word(&self) -> Option<&[u8]> {
        self.words.first().map(Vec::as_slice)
    }

    /// Every attribute word (`=a=b` or `.tag=x`) after the first word.
    pub fn attributes(&self) -> impl Iterator<Item = Attribute<'_>> {
        self.words.iter().skip(1).filter_map(|w| parse_attribute(w))
    }

    /// The value of `=name=` (or `.name=` when `name` starts with a dot).
    pub fn attribute(&self, name: &str) -> Option<&[u8]> {
        self.attributes()
            .find(|a| a.name == name.as_bytes())
            .map(|a| a.value)
    }

    /// The `.tag` of this sentence, if any and non-empty.
    pub fn tag(&self) -> Option<&[u8]> {
        self.attribute(".tag").filter(|t| !t.is_empty())
    }

    /// Number of bytes [`Sentence::encode`] appends.
    pub fn encoded_len(&self) -> usize {
        self.words
            .iter()
            .map(|w| encoded_length_size(w.len() as u32) + w.len())
            .sum::<usize>()
            + 1
    }

    /// Appends the wire form, including the terminating empty word.
    pub fn encode(&self, out: &mut Vec<u8>) {
        out.reserve(self.encoded_len());
        for w in &self.words {
            encode_length(w.len() as u32, out);
            out.extend_from_slice(w);
        }
        out.push(0);
    }

    pub fn to_bytes(&self) -> Vec<u8> {
        let mut v = Vec::new();
        self.encode(&mut v);
        v
    }
}

/// Splits an attribute word at its first two `=` (or `.name=`). Words that
/// are neither (`!fatal`'s bare reason, `?query` words) yield `None`.
pub(crate) fn parse_attribute(word: &[u8]) -> Option<Attribute<'_>> {
    match word.first()? {
        b'=' => {
            let rest = &word[1..];
            Some(match rest.iter().position(|&b| b == b'=') {
                Some(i) => Attribute {
                    name: &rest[..i],
                    value: &rest[i + 1..],
                },
                // go-routeros tolerates `=only-key`; so do we.
                None => Attribute {
                    name: rest,
                    value: b"",
                },
            })
        }
        b'.' => {
            let i = word.iter().position(|&b| b == b'=')?;
            Some(Attribute {
                name: &word[..i],
                value: &word[i + 1..],
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attribute_split_at_first_two_equals() {
        let s = Sentence::from_words(["!re", "=name=iu=c3Eeg", "=only-key", ".tag=7", "=empty="]);
        assert_eq!(s.attribute("name"), Some(&b"iu=c3Eeg"[..]));
        assert_eq!(s.attribute("only-key"), Some(&b""[..]));
        assert_eq!(s.attribute("empty"), Some(&b""[..]));
        assert_eq!(s.tag(), Some(&b"7"[..]));
        assert_eq!(s.attribute("missing"), None);
    }

    #[test]
    fn word_length_counts_bytes_not_characters() {
        let s = Sentence::from_words(["ł"]);
        assert_eq!(s.to_bytes(), vec![2, 0xC5, 0x82, 0]);
    }

    #[test]
    fn a_256_byte_word_has_a_zero_in_its_prefix() {
        let word = vec![b'a'; 256];
        let bytes = Sentence::from_words([word.clone()]).to_bytes();
        assert_eq!(&bytes[..2], &[0x81, 0x00]);
        assert_eq!(&bytes[2..258], &word[..]);
        assert_eq!(bytes[258], 0);
        assert_eq!(bytes.len(), Sentence::from_words([word]).encoded_len());
    }
}
