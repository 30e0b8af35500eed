//! MNDP, the MikroTik Neighbor Discovery Protocol (UDP 5678), sans-IO.
//!
//! A datagram is a 4-byte header (two opaque bytes, then a big-endian
//! sequence number) followed by TLVs until the end of the datagram: type
//! (u16 BE), length of the value (u16 BE), value. The only little-endian
//! field is the uptime. A datagram of four zero bytes is a *discovery
//! request*: it asks every router on the segment to announce itself now.
//!
//! [`decode`] never panics; it only checks the framing. Typed accessors such
//! as [`Announcement::mac`] return `None` when the TLV is missing or has the
//! wrong length, and TLVs of unknown types are kept (so re-encoding a decoded
//! packet reproduces it byte for byte) but ignored by the accessors.
//!
//! ```
//! use std::net::Ipv4Addr;
//! use routeros_proto::mndp::{self, Announcement, MacAddr, Packet};
//!
//! let ann = Announcement::new()
//!     .with_mac(MacAddr([0x74, 0x4d, 0x28, 0x91, 0x0d, 0x2f]))
//!     .with_identity("core-sw")
//!     .with_version("7.15.3 (stable) 2024-07-24 10:39:01")
//!     .with_uptime_secs(5596)
//!     .with_ipv4(Ipv4Addr::new(192, 168, 88, 1));
//! let bytes = mndp::encode(&ann);
//!
//! let Packet::Announcement(got) = mndp::decode(&bytes).unwrap() else { panic!() };
//! assert_eq!(got.mac().unwrap().to_string(), "74:4D:28:91:0D:2F");
//! assert_eq!(got.text(mndp::tlv::IDENTITY).as_deref(), Some("core-sw"));
//! assert_eq!(got.version_token().as_deref(), Some("7.15.3"));
//! assert_eq!(mndp::decode(&mndp::DISCOVERY_REQUEST), Ok(Packet::DiscoveryRequest));
//! ```

use std::{
    borrow::Cow,
    fmt,
    net::{Ipv4Addr, Ipv6Addr},
    time::Duration,
};

use thiserror::Error;

/// The UDP port MNDP uses, for both requests and announcements.
pub const PORT: u16 = 5678;

/// The datagram that triggers immediate announcements: four zero bytes.
pub const DISCOVERY_REQUEST: [u8; 4] = [0; 4];

/// The two opaque header bytes of a RouterOS 7.15.3 announcement; the default
/// for [`Announcement::new`].
pub const ROUTEROS_HEADER: [u8; 2] = [0x61, 0x00];

/// Size of the packet header and of each TLV header.
const HEADER_LEN: usize = 4;

/// Known TLV types.
pub mod tlv {
    /// 6 bytes: the MAC of the interface the announcement was sent from.
    pub const MAC: u16 = 1;
    /// String: the router's `/system identity`.
    pub const IDENTITY: u16 = 5;
    /// Empty in requests: tikoci's "refresh" variant of the discovery request.
    pub const REFRESH: u16 = 6;
    /// String, e.g. `7.15.3 (stable) 2024-07-24 10:39:01`.
    pub const VERSION: u16 = 7;
    /// String, `MikroTik`.
    pub const PLATFORM: u16 = 8;
    /// u32 **little-endian** seconds.
    pub const UPTIME: u16 = 10;
    /// String, e.g. `H792-MXJ3`.
    pub const SOFTWARE_ID: u16 = 11;
    /// String, e.g. `RBD52G-5HacD2HnD`, `CHR`.
    pub const BOARD: u16 = 12;
    /// 1 byte; `1` means "none".
    pub const UNPACK: u16 = 14;
    /// 16 bytes, often link-local.
    pub const IPV6: u16 = 15;
    /// String: the sending interface, e.g. `bridge/ether2`.
    pub const INTERFACE_NAME: u16 = 16;
    /// 4 bytes, network order.
    pub const IPV4: u16 = 17;

    /// Whether the type is one this module has a typed accessor for.
    pub fn is_known(tlv_type: u16) -> bool {
        matches!(
            tlv_type,
            MAC | IDENTITY
                | VERSION
                | PLATFORM
                | UPTIME
                | SOFTWARE_ID
                | BOARD
                | UNPACK
                | IPV6
                | INTERFACE_NAME
                | IPV4
        )
    }
}

/// Why a datagram is not a well-formed MNDP packet.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum MndpError {
    #[error("MNDP datagram of {len} bytes is shorter than the 4-byte header")]
    TooShort { len: usize },
    #[error("MNDP datagram ends with {remaining} stray byte(s) at offset {offset}; a TLV header needs 4")]
    TruncatedTlvHeader { offset: usize, remaining: usize },
    #[error("MNDP TLV of type {tlv_type} at offset {offset} declares {declared} bytes of value but only {available} remain")]
    TruncatedTlvValue {
        offset: usize,
        tlv_type: u16,
        declared: usize,
        available: usize,
    },
}

/// A decoded datagram.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Packet {
    /// Four zero bytes (or the `00 00 00 00 00 06 00 00` "refresh" variant):
    /// someone, possibly ourselves, asks routers to announce themselves.
    DiscoveryRequest,
    /// A router (or another MNDP speaker) describing itself.
    Announcement(Announcement),
}

/// One type-length-value field. The length is implied by `value`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Tlv {
    pub tlv_type: u16,
    pub value: Vec<u8>,
}

/// An interface MAC address; displays as `74:4D:28:91:0D:2F`, like RouterOS.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct MacAddr(pub [u8; 6]);

impl fmt::Display for MacAddr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02X}:{b:02X}:{c:02X}:{d:02X}:{e:02X}:{g:02X}")
    }
}

/// One MNDP announcement: the header and the TLVs in wire order.
///
/// `tlvs` is the source of truth, so unknown and duplicate TLVs survive a
/// decode/encode round trip. Accessors read the first TLV of their type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Announcement {
    /// Bytes 0–1 of the datagram, meaning unknown ("version"/"ttl" in other
    /// implementations); kept as received.
    pub header: [u8; 2],
    /// Bytes 2–3, big-endian.
    pub sequence: u16,
    pub tlvs: Vec<Tlv>,
}

impl Default for Announcement {
    fn default() -> Self {
        Self {
            header: ROUTEROS_HEADER,
            sequence: 0,
            tlvs: Vec::new(),
        }
    }
}

impl Announcement {
    /// An empty announcement with the RouterOS header; add fields with the
    /// `with_*` builders.
    pub fn new() -> Self {
        Self::default()
    }

    /// The value of the first TLV of this type.
    pub fn get(&self, tlv_type: u16) -> Option<&[u8]> {
        self.tlvs
            .iter()
            .find(|t| t.tlv_type == tlv_type)
            .map(|t| t.value.as_slice())
    }

    /// Replaces the first TLV of this type (keeping its position) or appends one.
    pub fn set(&mut self, tlv_type: u16, value: impl Into<Vec<u8>>) -> &mut Self {
        let value = value.into();
        match self.tlvs.iter_mut().find(|t| t.tlv_type == tlv_type) {
            Some(t) => t.value = value,
            None => self.tlvs.push(Tlv { tlv_type, value }),
        }
        self
    }

    /// Builder form of [`Announcement::set`].
    pub fn with(mut self, tlv_type: u16, value: impl Into<Vec<u8>>) -> Self {
        self.set(tlv_type, value);
        self
    }

    /// A string TLV decoded for display (see [`decode_text`]).
    pub fn text(&self, tlv_type: u16) -> Option<Cow<'_, str>> {
        self.get(tlv_type).map(decode_text)
    }

    fn fixed<const N: usize>(&self, tlv_type: u16) -> Option<[u8; N]> {
        self.get(tlv_type).and_then(|v| v.try_into().ok())
    }

    pub fn mac(&self) -> Option<MacAddr> {
        self.fixed(tlv::MAC).map(MacAddr)
    }
    pub fn identity(&self) -> Option<&[u8]> {
        self.get(tlv::IDENTITY)
    }
    /// The full version string, build date included on RouterOS 7.
    pub fn version(&self) -> Option<&[u8]> {
        self.get(tlv::VERSION)
    }
    /// The leading token of the version, e.g. `7.15.3`.
    pub fn version_token(&self) -> Option<String> {
        self.text(tlv::VERSION)
            .and_then(|v| version_token(&v).map(str::to_owned))
    }
    pub fn platform(&self) -> Option<&[u8]> {
        self.get(tlv::PLATFORM)
    }
    /// Uptime in seconds (the only little-endian field).
    pub fn uptime_secs(&self) -> Option<u32> {
        self.fixed(tlv::UPTIME).map(u32::from_le_bytes)
    }
    pub fn uptime(&self) -> Option<Duration> {
        self.uptime_secs().map(|s| Duration::from_secs(s.into()))
    }
    pub fn software_id(&self) -> Option<&[u8]> {
        self.get(tlv::SOFTWARE_ID)
    }
    pub fn board(&self) -> Option<&[u8]> {
        self.get(tlv::BOARD)
    }
    pub fn unpack(&self) -> Option<u8> {
        self.fixed::<1>(tlv::UNPACK).map(|[b]| b)
    }
    pub fn ipv6(&self) -> Option<Ipv6Addr> {
        self.fixed::<16>(tlv::IPV6).map(Ipv6Addr::from)
    }
    pub fn interface_name(&self) -> Option<&[u8]> {
        self.get(tlv::INTERFACE_NAME)
    }
    pub fn ipv4(&self) -> Option<Ipv4Addr> {
        self.fixed::<4>(tlv::IPV4).map(Ipv4Addr::from)
    }

    /// TLVs of types without a typed accessor.
    pub fn unknown_tlvs(&self) -> impl Iterator<Item = &Tlv> {
        self.tlvs.iter().filter(|t| !tlv::is_known(t.tlv_type))
    }

    pub fn with_mac(self, mac: MacAddr) -> Self {
        self.with(tlv::MAC, mac.0)
    }
    pub fn with_identity(self, identity: impl Into<Vec<u8>>) -> Self {
        self.with(tlv::IDENTITY, identity)
    }
    pub fn with_version(self, version: impl Into<Vec<u8>>) -> Self {
        self.with(tlv::VERSION, version)
    }
    pub fn with_platform(self, platform: impl Into<Vec<u8>>) -> Self {
        self.with(tlv::PLATFORM, platform)
    }
    pub fn with_uptime_secs(self, secs: u32) -> Self {
        self.with(tlv::UPTIME, secs.to_le_bytes())
    }
    pub fn with_software_id(self, software_id: impl Into<Vec<u8>>) -> Self {
        self.with(tlv::SOFTWARE_ID, software_id)
    }
    pub fn with_board(self, board: impl Into<Vec<u8>>) -> Self {
        self.with(tlv::BOARD, board)
    }
    pub fn with_unpack(self, unpack: u8) -> Self {
        self.with(tlv::UNPACK, [unpack])
    }
    pub fn with_ipv6(self, addr: Ipv6Addr) -> Self {
        self.with(tlv::IPV6, addr.octets())
    }
    pub fn with_interface_name(self, name: impl Into<Vec<u8>>) -> Self {
        self.with(tlv::INTERFACE_NAME, name)
    }
    pub fn with_ipv4(self, addr: Ipv4Addr) -> Self {
        self.with(tlv::IPV4, addr.octets())
    }
}

/// Decodes one datagram. Checks the framing only; never panics.
pub fn decode(datagram: &[u8]) -> Result<Packet, MndpError> {
    let Some((head, mut rest)) = datagram.split_first_chunk::<HEADER_LEN>() else {
        return Err(MndpError::TooShort {
            len: datagram.len(),
        });
    };
    let all_zero_header = *head == DISCOVERY_REQUEST;
    if all_zero_header && is_refresh_body(rest) {
        return Ok(Packet::DiscoveryRequest);
    }
    let mut tlvs = Vec::new();
    while !rest.is_empty() {
        let offset = datagram.len() - rest.len();
        let Some((th, body)) = rest.split_first_chunk::<HEADER_LEN>() else {
            return Err(MndpError::TruncatedTlvHeader {
                offset,
                remaining: rest.len(),
            });
        };
        let tlv_type = u16::from_be_bytes([th[0], th[1]]);
        let len = usize::from(u16::from_be_bytes([th[2], th[3]]));
        let Some((value, next)) = body.split_at_checked(len) else {
            return Err(MndpError::TruncatedTlvValue {
                offset,
                tlv_type,
                declared: len,
                available: body.len(),
            });
        };
        tlvs.push(Tlv {
            tlv_type,
            value: value.to_vec(),
        });
        rest = next;
    }
    Ok(Packet::Announcement(Announcement {
        header: [head[0], head[1]],
        sequence: u16::from_be_bytes([head[2], head[3]]),
        tlvs,
    }))
}

/// After a zero header: nothing, or only empty type-6 "refresh" TLVs,
/// optionally followed by one zero byte (the variants tikoci reports).
fn is_refresh_body(body: &[u8]) -> bool {
    let mut chunks = body.chunks_exact(HEADER_LEN);
    let [t0, t1] = tlv::REFRESH.to_be_bytes();
    chunks.all(|c| c == [t0, t1, 0, 0]) && matches!(chunks.remainder(), [] | [0])
}

/// Encodes an announcement. A TLV value longer than 65 535 bytes cannot be
/// expressed in MNDP (nor sent in one datagram) and is cut to that length.
pub fn encode(announcement: &Announcement) -> Vec<u8> {
    let body: usize = announcement
        .tlvs
        .iter()
        .map(|t| HEADER_LEN + t.value.len().min(usize::from(u16::MAX)))
        .sum();
    let mut out = Vec::with_capacity(HEADER_LEN + body);
    out.extend_from_slice(&announcement.header);
    out.extend_from_slice(&announcement.sequence.to_be_bytes());
    for t in &announcement.tlvs {
        let len = u16::try_from(t.value.len()).unwrap_or(u16::MAX);
        out.extend_from_slice(&t.tlv_type.to_be_bytes());
        out.extend_from_slice(&len.to_be_bytes());
        out.extend_from_slice(&t.value[..usize::from(len)]);
    }
    out
}

/// The leading token of a RouterOS version string: `7.15.3` from
/// `7.15.3 (stable) 2024-07-24 10:39:01`, `6.49.10` from `6.49.10 (long-term)`.
pub fn version_token(version: &str) -> Option<&str> {
    version.split_whitespace().next()
}

/// Decodes MNDP (or API) string bytes for display: UTF-8 when valid,
/// otherwise Windows-1252, the usual WinBox codepage (a superset of Latin-1's
/// printable characters; its five undefined bytes map to the C1 controls of
/// the same value, as in the WHATWG encoding standard). Never fails; borrows
/// when the bytes are UTF-8. [`crate::value::decode_display`] with the
/// default [`crate::value::Codepage`].
pub fn decode_text(bytes: &[u8]) -> Cow<'_, str> {
    crate::value::decode_display(bytes, crate::value::Codepage::Windows1252)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// A real RouterOS 7.15.3 announcement from a hAP ac² (ROUTEROS.md §3.1).
    const GOLDEN_HEX: &str = concat!(
        "6100000000010006744d28910d2f000500084d696b726f54696b00070023372e31352e3320",
        "28737461626c652920323032342d30372d32342031303a33393a3031000800084d696b726f",
        "54696b000a0004dc150000000b0009483739322d4d584a33000c00105242443532472d3548",
        "61634432486e44000e000101000f0010fe80000000000000764d28fffe910d2f0010000d62",
        "72696467652f65746865723200110004c0a85801",
    );

    fn golden() -> Vec<u8> {
        hex::decode(GOLDEN_HEX).unwrap()
    }

    fn announcement(bytes: &[u8]) -> Announcement {
        match decode(bytes).unwrap() {
            Packet::Announcement(a) => a,
            other => panic!("expected an announcement, got {other:?}"),
        }
    }

    #[test]
    fn golden_vector_decodes_to_the_documented_values() {
        let bytes = golden();
        assert_eq!(bytes.len(), 168);
        let a = announcement(&bytes);
        assert_eq!(a.header, [0x61, 0x00]);
        assert_eq!(a.sequence, 0);
        assert_eq!(a.mac().unwrap().to_string(), "74:4D:28:91:0D:2F");
        assert_eq!(a.mac(), Some(MacAddr([0x74, 0x4d, 0x28, 0x91, 0x0d, 0x2f])));
        assert_eq!(a.identity(), Some(&b"MikroTik"[..]));
        assert_eq!(
            a.version(),
            Some(&b"7.15.3 (stable) 2024-07-24 10:39:01"[..])
        );
        assert_eq!(a.version_token().as_deref(), Some("7.15.3"));
        assert_eq!(a.platform(), Some(&b"MikroTik"[..]));
        assert_eq!(a.uptime_secs(), Some(5596));
        assert_eq!(a.uptime(), Some(Duration::from_secs(5596)));
        assert_eq!(a.software_id(), Some(&b"H792-MXJ3"[..]));
        assert_eq!(a.board(), Some(&b"RBD52G-5HacD2HnD"[..]));
        assert_eq!(a.unpack(), Some(1));
        assert_eq!(
            a.ipv6(),
            Some("fe80::764d:28ff:fe91:d2f".parse::<Ipv6Addr>().unwrap())
        );
        assert_eq!(a.interface_name(), Some(&b"bridge/ether2"[..]));
        assert_eq!(a.ipv4(), Some(Ipv4Addr::new(192, 168, 88, 1)));
        assert_eq!(a.text(tlv::IDENTITY).as_deref(), Some("MikroTik"));
        assert_eq!(a.unknown_tlvs().count(), 0);
        let types: Vec<u16> = a.tlvs.iter().map(|t| t.tlv_type).collect();
        assert_eq!(types, [1, 5, 7, 8, 10, 11, 12, 14, 15, 16, 17]);
    }

    #[test]
    fn golden_vector_re_encodes_to_the_same_bytes() {
        let bytes = golden();
        assert_eq!(encode(&announcement(&bytes)), bytes);
    }

    #[test]
    fn builder_reproduces_the_golden_vector() {
        let built = Announcement::new()
            .with_mac(MacAddr([0x74, 0x4d, 0x28, 0x91, 0x0d, 0x2f]))
            .with_identity("MikroTik")
            .with_version("7.15.3 (stable) 2024-07-24 10:39:01")
            .with_platform("MikroTik")
            .with_uptime_secs(5596)
            .with_software_id("H792-MXJ3")
            .with_board("RBD52G-5HacD2HnD")
            .with_unpack(1)
            .with_ipv6("fe80::764d:28ff:fe91:d2f".parse().unwrap())
            .with_interface_name("bridge/ether2")
            .with_ipv4(Ipv4Addr::new(192, 168, 88, 1));
        assert_eq!(encode(&built), golden());
    }

    #[test]
    fn encode_decode_round_trip_keeps_unknown_tlvs_and_order() {
        let mut a = Announcement::new()
            .with(2, [9, 9])
            .with_identity(&b"caf\xe9"[..])
            .with_mac(MacAddr([2, 0, 0, 0, 0, 1]))
            .with(0x7fff, Vec::<u8>::new())
            .with_interface_name("ether1");
        a.sequence = 0xBEEF;
        a.header = [1, 2];
        let bytes = encode(&a);
        assert_eq!(&bytes[..4], [1, 2, 0xBE, 0xEF]);
        let back = announcement(&bytes);
        assert_eq!(back, a);
        let unknown: Vec<u16> = back.unknown_tlvs().map(|t| t.tlv_type).collect();
        assert_eq!(unknown, [2, 0x7fff]);
        assert_eq!(back.text(tlv::IDENTITY).as_deref(), Some("café"));
        assert_eq!(back.version(), None);
        assert_eq!(back.uptime_secs(), None);
    }

    #[test]
    fn set_replaces_in_place() {
        let mut a = Announcement::new().with_identity("a").with_board("CHR");
        a.set(tlv::IDENTITY, "b");
        assert_eq!(a.tlvs.len(), 2);
        assert_eq!(a.tlvs[0].tlv_type, tlv::IDENTITY);
        assert_eq!(a.identity(), Some(&b"b"[..]));
    }

    #[test]
    fn four_zero_bytes_are_a_discovery_request() {
        assert_eq!(decode(&DISCOVERY_REQUEST), Ok(Packet::DiscoveryRequest));
        // tikoci's refresh variants.
        assert_eq!(
            decode(&[0, 0, 0, 0, 0, 6, 0, 0]),
            Ok(Packet::DiscoveryRequest)
        );
        assert_eq!(
            decode(&[0, 0, 0, 0, 0, 6, 0, 0, 0]),
            Ok(Packet::DiscoveryRequest)
        );
        // A non-zero header with no TLVs is an (empty) announcement.
        let a = announcement(&[0x61, 0, 0, 1]);
        assert_eq!(a.sequence, 1);
        assert!(a.tlvs.is_empty());
        assert_eq!(a.mac(), None);
        // A zero header followed by real TLVs is an announcement.
        let a = announcement(&[0, 0, 0, 0, 0, 5, 0, 1, b'x']);
        assert_eq!(a.identity(), Some(&b"x"[..]));
    }

    #[test]
    fn short_and_truncated_datagrams_are_errors() {
        assert_eq!(decode(b""), Err(MndpError::TooShort { len: 0 }));
        assert_eq!(decode(&[0, 0, 0]), Err(MndpError::TooShort { len: 3 }));
        let bytes = golden();
        assert_eq!(
            decode(&bytes[..bytes.len() - 1]),
            Err(MndpError::TruncatedTlvValue {
                offset: 160,
                tlv_type: tlv::IPV4,
                declared: 4,
                available: 3,
            })
        );
        assert_eq!(
            decode(&bytes[..6]),
            Err(MndpError::TruncatedTlvHeader {
                offset: 4,
                remaining: 2
            })
        );
        let err = decode(&[0x61, 0, 0, 0, 0, 5, 0xff, 0xff, b'a']).unwrap_err();
        assert_eq!(
            err.to_string(),
            "MNDP TLV of type 5 at offset 4 declares 65535 bytes of value but only 1 remain"
        );
        assert!(decode(&[0, 0, 0, 0, 0, 6, 0, 0, 0, 0])
            .unwrap_err()
            .to_string()
            .contains("stray"));
    }

    #[test]
    fn wrong_length_typed_fields_read_as_absent() {
        let a = Announcement::new()
            .with(tlv::MAC, [1, 2, 3])
            .with(tlv::UPTIME, [1, 2, 3, 4, 5, 6, 7, 8])
            .with(tlv::IPV4, [10, 0, 0])
            .with(tlv::IPV6, [0; 4])
            .with(tlv::UNPACK, Vec::<u8>::new());
        let a = announcement(&encode(&a));
        assert_eq!(a.mac(), None);
        assert_eq!(a.uptime_secs(), None);
        assert_eq!(a.ipv4(), None);
        assert_eq!(a.ipv6(), None);
        assert_eq!(a.unpack(), None);
    }

    #[test]
    fn oversized_values_are_cut_to_the_u16_limit() {
        let a = Announcement::new().with(99, vec![7u8; 70_000]);
        let bytes = encode(&a);
        assert_eq!(bytes.len(), 4 + 4 + 65_535);
        assert_eq!(announcement(&bytes).get(99).unwrap().len(), 65_535);
    }

    #[test]
    fn version_tokens() {
        assert_eq!(
            version_token("7.15.3 (stable) 2024-07-24 10:39:01"),
            Some("7.15.3")
        );
        assert_eq!(version_token("6.49.10 (long-term)"), Some("6.49.10"));
        assert_eq!(version_token("  7.16rc2"), Some("7.16rc2"));
        assert_eq!(version_token("   "), None);
    }

    #[test]
    fn text_falls_back_to_windows_1252() {
        assert!(matches!(
            decode_text(b"MikroTik"),
            Cow::Borrowed("MikroTik")
        ));
        assert_eq!(decode_text("Zürich".as_bytes()), "Zürich");
        assert_eq!(decode_text(b"Z\xfcrich"), "Zürich");
        assert_eq!(decode_text(b"\x80 5\x99 \x81"), "€ 5™ \u{81}");
    }

    #[test]
    fn mac_displays_like_routeros() {
        assert_eq!(
            MacAddr([0x0a, 0xb, 0, 0xff, 0x10, 1]).to_string(),
            "0A:0B:00:FF:10:01"
        );
    }

    fn arb_announcement() -> impl Strategy<Value = Announcement> {
        let tlv = (
            prop_oneof![0u16..20, any::<u16>()],
            proptest::collection::vec(any::<u8>(), 0..64),
        )
            .prop_map(|(tlv_type, value)| Tlv { tlv_type, value });
        (
            // A non-zero first byte keeps it from being a discovery request.
            (1u8..=255, any::<u8>()),
            any::<u16>(),
            proptest::collection::vec(tlv, 0..12),
        )
            .prop_map(|((h0, h1), sequence, tlvs)| Announcement {
                header: [h0, h1],
                sequence,
                tlvs,
            })
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048)) {
            match decode(&bytes) {
                Ok(Packet::Announcement(a)) => {
                    // Whatever decodes re-encodes to the same bytes, and the
                    // accessors cope with any value.
                    prop_assert_eq!(encode(&a), bytes);
                    let _ = (a.mac(), a.uptime(), a.ipv4(), a.ipv6(), a.unpack());
                    let _ = (a.version_token(), a.text(tlv::IDENTITY));
                }
                Ok(Packet::DiscoveryRequest) => prop_assert!(bytes.len() >= 4),
                Err(e) => prop_assert!(!e.to_string().is_empty()),
            }
        }

        #[test]
        fn tlv_shaped_garbage_never_panics(
            head in any::<[u8; 4]>(),
            tlvs in proptest::collection::vec((any::<u16>(), any::<u16>(), proptest::collection::vec(any::<u8>(), 0..40)), 0..8),
        ) {
            let mut bytes = head.to_vec();
            for (t, len, value) in tlvs {
                bytes.extend_from_slice(&t.to_be_bytes());
                bytes.extend_from_slice(&(len % 48).to_be_bytes());
                bytes.extend_from_slice(&value);
            }
            let _ = decode(&bytes);
        }

        #[test]
        fn encode_then_decode_is_identity(a in arb_announcement()) {
            let bytes = encode(&a);
            prop_assert_eq!(decode(&bytes), Ok(Packet::Announcement(a)));
        }
    }
}
