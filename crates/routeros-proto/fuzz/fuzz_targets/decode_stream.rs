//! The sentence decoder on arbitrary bytes split into arbitrary chunks.
//!
//! Input layout: byte 0 and 1 pick small [`Limits`], byte 2 picks how the
//! rest is cut into chunks (a fixed size, or sizes read from the input
//! itself); the rest is the byte stream a router would send.
//!
//! Invariants:
//! - no panic;
//! - sentences respect the limits, the bytes left waiting in the buffer
//!   never exceed one length prefix plus one word (`max_word`), and its
//!   capacity stays a small multiple of that whatever length is declared;
//! - the chunking does not matter: the same sentences and the same error as
//!   feeding everything at once;
//! - decoded sentences re-encode (shortest prefixes) to bytes that decode to
//!   the same sentences, and re-encoding those gives the same bytes again.
#![no_main]

use bytes::BytesMut;
use libfuzzer_sys::fuzz_target;
use routeros_proto::{Limits, ProtoError, Sentence, SentenceDecoder};

/// Longest length prefix (`F0` and four bytes).
const MAX_PREFIX: usize = 5;

fn limits(a: u8, b: u8) -> Limits {
    let max_word = 1 + usize::from(a % 64) * 8; // 1..=505
    Limits {
        max_word,
        max_sentence: max_word + usize::from(b >> 4) * 64, // up to +960
        max_words: 1 + usize::from(b & 0x0F),              // 1..=16
    }
}

/// Feeds `chunks` one by one, decoding after each, until the stream ends or
/// the decoder fails (a real connection is dropped then).
fn run<'a>(
    lim: Limits,
    chunks: impl Iterator<Item = &'a [u8]>,
) -> (Vec<Sentence>, Option<ProtoError>) {
    let mut dec = SentenceDecoder::new(lim);
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    let mut largest_chunk = 0;
    for chunk in chunks {
        largest_chunk = largest_chunk.max(chunk.len());
        buf.extend_from_slice(chunk);
        loop {
            match dec.decode(&mut buf) {
                Ok(Some(s)) => {
                    check_limits(&s, lim);
                    out.push(s);
                }
                Ok(None) => break,
                Err(e) => return (out, Some(e)),
            }
        }
        // Waiting for more: at most a prefix and one word are buffered, and
        // a hostile length (up to 4 GiB) never reserves more than the word
        // limit. The capacity bound allows for BytesMut's growth policy
        // (doubling, and 1 KiB "original capacity" buckets when it
        // reallocates a split buffer), not for the declared length.
        assert!(
            buf.len() < MAX_PREFIX + lim.max_word,
            "{} bytes buffered, limit {lim:?}",
            buf.len()
        );
        assert!(
            buf.capacity() <= 4 * (MAX_PREFIX + lim.max_word + largest_chunk) + 2048,
            "capacity {} for {lim:?}, chunk {largest_chunk}",
            buf.capacity()
        );
    }
    (out, None)
}

fn check_limits(s: &Sentence, lim: Limits) {
    let words = s.words();
    assert!(!words.is_empty(), "an empty sentence was returned");
    assert!(
        words.len() <= lim.max_words,
        "{} words, {lim:?}",
        words.len()
    );
    assert!(words
        .iter()
        .all(|w| !w.is_empty() && w.len() <= lim.max_word));
    assert!(words.iter().map(Vec::len).sum::<usize>() <= lim.max_sentence);
}

fuzz_target!(|data: &[u8]| {
    let [a, b, split, stream @ ..] = data else {
        return;
    };
    let lim = limits(*a, *b);

    let whole = run(lim, std::iter::once(stream));
    let chunked = if split & 0x80 == 0 {
        // Fixed-size chunks of 1..=128 bytes.
        run(lim, stream.chunks(usize::from(split & 0x7F) + 1))
    } else {
        // Chunk sizes read from the stream itself (0..=31 bytes; an empty
        // read is always followed by a non-empty one), cycling.
        let mut rest = stream;
        let mut sizes = stream.iter().cycle().map(|b| usize::from(b & 0x1F));
        let mut was_empty = false;
        let pieces = std::iter::from_fn(|| {
            if rest.is_empty() {
                return None;
            }
            let mut n = sizes.next().unwrap_or(1);
            if was_empty {
                n = n.max(1);
            }
            was_empty = n == 0;
            let (piece, tail) = rest.split_at(n.min(rest.len()));
            rest = tail;
            Some(piece)
        });
        run(lim, pieces)
    };
    assert_eq!(whole, chunked, "chunking changed the result");

    let (sentences, _) = whole;
    let mut wire = Vec::new();
    for s in &sentences {
        s.encode(&mut wire);
    }
    let (again, err) = run(lim, std::iter::once(&wire[..]));
    assert_eq!(err, None, "re-encoded sentences do not decode");
    assert_eq!(again, sentences, "re-encoding changed the sentences");
    let mut wire2 = Vec::new();
    for s in &again {
        s.encode(&mut wire2);
    }
    assert_eq!(wire, wire2, "encoding is not canonical");
});
