//! The five length-prefix forms of a RouterOS API word (ROUTEROS.md §1.2).

use crate::ProtoError;

/// Number of bytes the shortest encoding of `len` takes.
pub fn encoded_length_size(len: u32) -> usize {
    match len {
        0..=0x7F => 1,
        0x80..=0x3FFF => 2,
        0x4000..=0x1F_FFFF => 3,
        0x20_0000..=0x0FFF_FFFF => 4,
        _ => 5,
    }
}

/// Appends the shortest encoding of `len` to `out`.
///
/// ```
/// let mut out = Vec::new();
/// routeros_proto::encode_length(0x4321, &mut out);
/// assert_eq!(out, [0xC0, 0x43, 0x21]);
/// assert_eq!(routeros_proto::decode_length(&out).unwrap(), Some((0x4321, 3)));
/// ```
pub fn encode_length(len: u32, out: &mut Vec<u8>) {
    match encoded_length_size(len) {
        1 => out.push(len as u8),
        2 => out.extend_from_slice(&((len | 0x8000) as u16).to_be_bytes()),
        3 => out.extend_from_slice(&(len | 0xC0_0000).to_be_bytes()[1..]),
        4 => out.extend_from_slice(&(len | 0xE000_0000).to_be_bytes()),
        _ => {
            out.push(0xF0);
            out.extend_from_slice(&len.to_be_bytes());
        }
    }
}

/// Decodes a length prefix at the start of `buf`.
///
/// Returns `Ok(None)` when more bytes are needed, otherwise the length and
/// how many bytes the prefix used. Non-minimal encodings are accepted.
pub fn decode_length(buf: &[u8]) -> Result<Option<(u32, usize)>, ProtoError> {
    let Some(&b0) = buf.first() else {
        return Ok(None);
    };
    let (size, first) = match b0 {
        0x00..=0x7F => return Ok(Some((u32::from(b0), 1))),
        0x80..=0xBF => (2, u32::from(b0 & 0x3F)),
        0xC0..=0xDF => (3, u32::from(b0 & 0x1F)),
        0xE0..=0xEF => (4, u32::from(b0 & 0x0F)),
        0xF0 => (5, 0),
        0xF1..=0xF7 => return Err(ProtoError::ReservedLength { byte: b0 }),
        _ => return Err(ProtoError::ControlByte { byte: b0 }),
    };
    if buf.len() < size {
        return Ok(None);
    }
    let len = buf[1..size]
        .iter()
        .fold(first, |acc, &b| (acc << 8) | u32::from(b));
    Ok(Some((len, size)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enc(len: u32) -> Vec<u8> {
        let mut v = Vec::new();
        encode_length(len, &mut v);
        v
    }

    /// Vectors from ROUTEROS.md §1.2: the doc table and peer test suites.
    const VECTORS: &[(u32, &[u8])] = &[
        (0x00, &[0x00]),
        (0x01, &[0x01]),
        (0x7F, &[0x7F]),
        (0x80, &[0x80, 0x80]),
        (130, &[0x80, 0x82]),
        (0x87, &[0x80, 0x87]),
        (0x100, &[0x81, 0x00]),
        (0x102, &[0x81, 0x02]),
        (300, &[0x81, 0x2C]),
        (0x3FFF, &[0xBF, 0xFF]),
        (0x4000, &[0xC0, 0x40, 0x00]),
        (0x4001, &[0xC0, 0x40, 0x01]),
        (0x4242, &[0xC0, 0x42, 0x42]),
        (0x4321, &[0xC0, 0x43, 0x21]),
        (0x010203, &[0xC1, 0x02, 0x03]),
        (2_097_140, &[0xDF, 0xFF, 0xF4]),
        (0x1F_FFFF, &[0xDF, 0xFF, 0xFF]),
        (0x20_0000, &[0xE0, 0x20, 0x00, 0x00]),
        (0x2A_CDEF, &[0xE0, 0x2A, 0xCD, 0xEF]),
        (268_435_440, &[0xEF, 0xFF, 0xFF, 0xF0]),
        (0x0FFF_FFFF, &[0xEF, 0xFF, 0xFF, 0xFF]),
        (0x1000_0000, &[0xF0, 0x10, 0x00, 0x00, 0x00]),
        (0x1000_0080, &[0xF0, 0x10, 0x00, 0x00, 0x80]),
        (0xAABB_CCDD, &[0xF0, 0xAA, 0xBB, 0xCC, 0xDD]),
        (0xFFFF_FFFF, &[0xF0, 0xFF, 0xFF, 0xFF, 0xFF]),
    ];

    #[test]
    fn encodes_every_vector_in_its_shortest_form() {
        for &(len, bytes) in VECTORS {
            assert_eq!(enc(len), bytes, "encoding {len:#x}");
            assert_eq!(encoded_length_size(len), bytes.len());
        }
    }

    #[test]
    fn decodes_every_vector() {
        for &(len, bytes) in VECTORS {
            assert_eq!(
                decode_length(bytes).unwrap(),
                Some((len, bytes.len())),
                "decoding {bytes:02x?}"
            );
        }
    }

    #[test]
    fn accepts_non_minimal_encodings() {
        assert_eq!(
            decode_length(&[0xE0, 0x13, 0x13, 0x37]).unwrap(),
            Some((0x131337, 4))
        );
        assert_eq!(decode_length(&[0x80, 0x05]).unwrap(), Some((5, 2)));
    }

    #[test]
    fn incomplete_prefixes_ask_for_more() {
        assert_eq!(decode_length(&[]).unwrap(), None);
        assert_eq!(decode_length(&[0x80]).unwrap(), None);
        assert_eq!(decode_length(&[0xC0, 0x40]).unwrap(), None);
        assert_eq!(decode_length(&[0xF0, 0, 0, 0]).unwrap(), None);
    }

    #[test]
    fn reserved_and_control_bytes_are_rejected_with_the_byte() {
        for b in 0xF1..=0xF7u8 {
            assert_eq!(
                decode_length(&[b, 0, 0, 0, 0]),
                Err(ProtoError::ReservedLength { byte: b })
            );
        }
        for b in 0xF8..=0xFFu8 {
            let err = decode_length(&[b]).unwrap_err();
            assert_eq!(err, ProtoError::ControlByte { byte: b });
            assert!(err.to_string().contains(&format!("{b:#04x}")));
        }
    }
}
