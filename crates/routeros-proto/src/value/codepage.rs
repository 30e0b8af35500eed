//! Character sets: the bytes RouterOS stores, shown and sent as text.

#[allow(unused_imports)]
use super::*;

// ---------------------------------------------------------------------------
// Character sets

/// The codepage a router's strings are assumed to use when they are not
/// UTF-8. RouterOS stores raw bytes; WinBox writes them in the Windows
/// codepage of the PC (ROUTEROS.md §1.8).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Codepage {
    Utf8,
    Windows1250,
    Windows1251,
    /// Western European; WinBox's usual codepage, and node-routeros's fixed one.
    #[default]
    Windows1252,
    Windows1253,
    Windows1254,
    Windows1255,
    Windows1256,
    Windows1257,
    Windows1258,
    /// ISO-8859-1 proper: byte `n` is U+00nn (unlike the WHATWG label,
    /// which means windows-1252).
    Latin1,
    Iso8859_2,
    Iso8859_5,
    Iso8859_15,
    Koi8R,
    Koi8U,
}

impl Codepage {
    pub const ALL: [Codepage; 16] = [
        Codepage::Utf8,
        Codepage::Windows1250,
        Codepage::Windows1251,
        Codepage::Windows1252,
        Codepage::Windows1253,
        Codepage::Windows1254,
        Codepage::Windows1255,
        Codepage::Windows1256,
        Codepage::Windows1257,
        Codepage::Windows1258,
        Codepage::Latin1,
        Codepage::Iso8859_2,
        Codepage::Iso8859_5,
        Codepage::Iso8859_15,
        Codepage::Koi8R,
        Codepage::Koi8U,
    ];

    /// The canonical (WHATWG) name, accepted back by `FromStr`.
    pub fn name(self) -> &'static str {
        match self {
            Codepage::Utf8 => "utf-8",
            Codepage::Windows1250 => "windows-1250",
            Codepage::Windows1251 => "windows-1251",
            Codepage::Windows1252 => "windows-1252",
            Codepage::Windows1253 => "windows-1253",
            Codepage::Windows1254 => "windows-1254",
            Codepage::Windows1255 => "windows-1255",
            Codepage::Windows1256 => "windows-1256",
            Codepage::Windows1257 => "windows-1257",
            Codepage::Windows1258 => "windows-1258",
            Codepage::Latin1 => "iso-8859-1",
            Codepage::Iso8859_2 => "iso-8859-2",
            Codepage::Iso8859_5 => "iso-8859-5",
            Codepage::Iso8859_15 => "iso-8859-15",
            Codepage::Koi8R => "koi8-r",
            Codepage::Koi8U => "koi8-u",
        }
    }

    /// The encoding_rs codec; `None` for Latin-1, which encoding_rs does not
    /// have (its `iso-8859-1` label is windows-1252).
    fn encoding(self) -> Option<&'static encoding_rs::Encoding> {
        use encoding_rs as e;
        Some(match self {
            Codepage::Utf8 => e::UTF_8,
            Codepage::Windows1250 => e::WINDOWS_1250,
            Codepage::Windows1251 => e::WINDOWS_1251,
            Codepage::Windows1252 => e::WINDOWS_1252,
            Codepage::Windows1253 => e::WINDOWS_1253,
            Codepage::Windows1254 => e::WINDOWS_1254,
            Codepage::Windows1255 => e::WINDOWS_1255,
            Codepage::Windows1256 => e::WINDOWS_1256,
            Codepage::Windows1257 => e::WINDOWS_1257,
            Codepage::Windows1258 => e::WINDOWS_1258,
            Codepage::Latin1 => return None,
            Codepage::Iso8859_2 => e::ISO_8859_2,
            Codepage::Iso8859_5 => e::ISO_8859_5,
            Codepage::Iso8859_15 => e::ISO_8859_15,
            Codepage::Koi8R => e::KOI8_R,
            Codepage::Koi8U => e::KOI8_U,
        })
    }
}

impl std::fmt::Display for Codepage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An unknown or unsupported codepage name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown codepage {0:?} (try windows-1250, windows-1251, windows-1252, iso-8859-1, utf-8)")]
pub struct UnknownCodepage(pub String);

impl std::str::FromStr for Codepage {
    type Err = UnknownCodepage;

    /// Accepts the WHATWG labels (`windows-1251`, `koi8-r`, `iso-8859-2`,
    /// `utf8`, …), Windows shorthands (`cp1251`, `win1251`, `1251`), and
    /// `latin1` / `iso-8859-1` / `l1` for true ISO-8859-1.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let label = s.trim().to_ascii_lowercase();
        let unknown = || UnknownCodepage(s.to_owned());
        match label.as_str() {
            "latin1" | "latin-1" | "l1" | "iso-8859-1" | "iso8859-1" | "iso_8859-1"
            | "iso88591" | "cp819" | "ibm819" => return Ok(Codepage::Latin1),
            _ => {}
        }
        let windows = ["cp", "win", "windows", "windows-", "ms-", ""]
            .iter()
            .find_map(|p| label.strip_prefix(p).and_then(|n| digits::<u16>(n, 4)));
        let label = match windows {
            Some(n @ 1250..=1258) => format!("windows-{n}"),
            Some(_) => return Err(unknown()),
            None => label,
        };
        let encoding = encoding_rs::Encoding::for_label(label.as_bytes()).ok_or_else(unknown)?;
        Codepage::ALL
            .into_iter()
            .find(|c| c.encoding() == Some(encoding))
            .ok_or_else(unknown)
    }
}

/// A character the chosen codepage cannot represent.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("character {ch:?} (U+{code:04X}) at position {index} cannot be written in {codepage}", code = u32::from(*ch))]
pub struct EncodeError {
    pub ch: char,
    /// Index of the character (in characters, not bytes) in the text.
    pub index: usize,
    pub codepage: Codepage,
}

/// Decodes router bytes for display: UTF-8 when they are valid UTF-8
/// (borrowed, no copy), otherwise `fallback`, the device's codepage.
///
/// Never lossy for bytes that are valid in `fallback`: every single-byte
/// codepage here maps each of its bytes to one character, and
/// [`encode_for_router`] gives the same bytes back. Only bytes the codepage
/// leaves undefined (windows-1253's `0xAA`, say) become U+FFFD.
///
/// ```
/// use routeros_proto::value::{decode_display, Codepage};
/// assert_eq!(decode_display("Zürich".as_bytes(), Codepage::Windows1252), "Zürich");
/// assert_eq!(decode_display(b"Z\xfcrich", Codepage::Windows1252), "Zürich");
/// assert_eq!(decode_display(b"\xa3\xf3d\x9f", Codepage::Windows1250), "Łódź");
/// ```
pub fn decode_display(bytes: &[u8], fallback: Codepage) -> std::borrow::Cow<'_, str> {
    use std::borrow::Cow;
    if let Ok(s) = std::str::from_utf8(bytes) {
        return Cow::Borrowed(s);
    }
    match fallback.encoding() {
        None => Cow::Owned(bytes.iter().map(|&b| char::from(b)).collect()),
        Some(e) => match e.decode_without_bom_handling_and_without_replacement(bytes) {
            Some(s) => s,
            None => e.decode_without_bom_handling(bytes).0,
        },
    }
}

/// Encodes text for writing to a router in `codepage`. Fails on the first
/// character the codepage cannot represent instead of replacing it.
///
/// ```
/// use routeros_proto::value::{encode_for_router, Codepage};
/// assert_eq!(encode_for_router("Łódź", Codepage::Windows1250).unwrap(), b"\xa3\xf3d\x9f");
/// let err = encode_for_router("Łódź", Codepage::Windows1252).unwrap_err();
/// assert_eq!((err.ch, err.index), ('Ł', 0));
/// ```
pub fn encode_for_router(text: &str, codepage: Codepage) -> Result<Vec<u8>, EncodeError> {
    let unmappable = |ch: char, byte_end: usize| EncodeError {
        ch,
        index: text[..byte_end].chars().count() - 1,
        codepage,
    };
    let encoding = match codepage.encoding() {
        None => {
            return text
                .char_indices()
                .map(|(i, c)| u8::try_from(c).map_err(|_| unmappable(c, i + c.len_utf8())))
                .collect();
        }
        Some(e) if e == encoding_rs::UTF_8 => return Ok(text.as_bytes().to_vec()),
        Some(e) => e,
    };
    let mut encoder = encoding.new_encoder();
    // Single-byte codepages: one byte per character at most.
    let mut out = vec![0; text.len()];
    let (result, read, written) =
        encoder.encode_from_utf8_without_replacement(text, &mut out, true);
    match result {
        encoding_rs::EncoderResult::InputEmpty => {
            out.truncate(written);
            Ok(out)
        }
        encoding_rs::EncoderResult::Unmappable(c) => Err(unmappable(c, read)),
        encoding_rs::EncoderResult::OutputFull => {
            unreachable!("a single-byte encoding never writes more bytes than UTF-8 has")
        }
    }
}

#[cfg(test)]
mod codepage_tests {
    use super::*;
    use std::borrow::Cow;

    const ROUTER_CP1251: &[u8] = b"\xcc\xe0\xf0\xf8\xf0\xf3\xf2\xe8\xe7\xe0\xf2\xee\xf0";
    const POLISH_CP1250: &[u8] = b"Za\xbf\xf3\xb3\xe6 g\xea\x9cl\xb9 ja\x9f\xf1";

    #[test]
    fn utf8_wins_when_valid_and_borrows() {
        for cp in Codepage::ALL {
            assert!(matches!(
                decode_display("Маршрутизатор łąć".as_bytes(), cp),
                Cow::Borrowed("Маршрутизатор łąć")
            ));
            assert!(matches!(
                decode_display(b"ether1", cp),
                Cow::Borrowed("ether1")
            ));
        }
    }

    #[test]
    fn librouteros_drops_what_we_keep() {
        // librouteros decodes `\x11\xfb\x95łąć` to `\x11łąć`, silently losing
        // two bytes (ROUTEROS.md §5). We fall back to the codepage instead,
        // and the text encodes back to exactly the same bytes.
        let bytes = "\x11\u{fb}\u{95}łąć"
            .chars()
            .flat_map(|c| match c {
                '\u{fb}' => vec![0xFB],
                '\u{95}' => vec![0x95],
                c => c.to_string().into_bytes(),
            })
            .collect::<Vec<u8>>();
        assert_eq!(bytes, b"\x11\xfb\x95\xc5\x82\xc4\x85\xc4\x87");
        let text = decode_display(&bytes, Codepage::Windows1252);
        assert_eq!(text, "\u{11}û•Å‚Ä…Ä‡");
        assert_eq!(
            encode_for_router(&text, Codepage::Windows1252).unwrap(),
            bytes
        );
        let latin1 = decode_display(&bytes, Codepage::Latin1);
        assert_eq!(latin1, "\u{11}û\u{95}Å\u{82}Ä\u{85}Ä\u{87}");
        assert_eq!(encode_for_router(&latin1, Codepage::Latin1).unwrap(), bytes);
    }

    #[test]
    fn cyrillic_identity_in_cp1251() {
        assert_eq!(
            decode_display(ROUTER_CP1251, Codepage::Windows1251),
            "Маршрутизатор"
        );
        assert_eq!(
            encode_for_router("Маршрутизатор", Codepage::Windows1251).unwrap(),
            ROUTER_CP1251
        );
        // The same letters in KOI8-R are different bytes.
        let koi8 = b"\xed\xc1\xd2\xdb\xd2\xd5\xd4\xc9\xda\xc1\xd4\xcf\xd2";
        assert_eq!(decode_display(koi8, Codepage::Koi8R), "Маршрутизатор");
        assert_eq!(
            encode_for_router("Маршрутизатор", Codepage::Koi8R).unwrap(),
            koi8
        );
        // Read with the wrong codepage, it is still not lossy, just wrong.
        let wrong = decode_display(ROUTER_CP1251, Codepage::Windows1252);
        assert_eq!(wrong, "Ìàðøðóòèçàòîð");
        assert_eq!(
            encode_for_router(&wrong, Codepage::Windows1252).unwrap(),
            ROUTER_CP1251
        );
    }

    #[test]
    fn polish_comment_in_cp1250() {
        assert_eq!(
            decode_display(POLISH_CP1250, Codepage::Windows1250),
            "Zażółć gęślą jaźń"
        );
        assert_eq!(
            encode_for_router("Zażółć gęślą jaźń", Codepage::Windows1250).unwrap(),
            POLISH_CP1250
        );
        // ISO-8859-2 puts some letters elsewhere (ź is 0xBC, not 0x9F).
        assert_eq!(
            encode_for_router("Łódź", Codepage::Iso8859_2).unwrap(),
            b"\xa3\xf3d\xbc"
        );
    }

    #[test]
    fn latin1_is_not_windows_1252() {
        assert_eq!(decode_display(b"\x80\xe9", Codepage::Windows1252), "€é");
        assert_eq!(decode_display(b"\x80\xe9", Codepage::Latin1), "\u{80}é");
        assert_eq!(
            encode_for_router("€", Codepage::Windows1252).unwrap(),
            b"\x80"
        );
        let err = encode_for_router("ab€", Codepage::Latin1).unwrap_err();
        assert_eq!(
            (err.ch, err.index, err.codepage),
            ('€', 2, Codepage::Latin1)
        );
    }

    #[test]
    fn unrepresentable_characters_are_errors_not_replacements() {
        let err = encode_for_router("Маршрутизатор", Codepage::Windows1252).unwrap_err();
        assert_eq!((err.ch, err.index), ('М', 0));
        let err = encode_for_router("Zażółć", Codepage::Windows1252).unwrap_err();
        assert_eq!((err.ch, err.index), ('ż', 2));
        assert_eq!(
            err.to_string(),
            "character 'ż' (U+017C) at position 2 cannot be written in windows-1252"
        );
        let err = encode_for_router("ok 😀", Codepage::Windows1251).unwrap_err();
        assert_eq!((err.ch, err.index), ('😀', 3));
        assert_eq!(
            encode_for_router("ok 😀", Codepage::Utf8).unwrap(),
            "ok 😀".as_bytes()
        );
        assert_eq!(encode_for_router("", Codepage::Windows1250).unwrap(), b"");
    }

    #[test]
    fn every_byte_a_codepage_defines_round_trips() {
        for cp in Codepage::ALL.into_iter().filter(|c| *c != Codepage::Utf8) {
            let mut holes = Vec::new();
            for b in 0x80..=0xFFu8 {
                let byte = [b];
                let text = decode_display(&byte, cp);
                if text == "\u{FFFD}" {
                    holes.push(b);
                    continue;
                }
                assert_eq!(text.chars().count(), 1, "{cp} {b:#04x}");
                assert_eq!(encode_for_router(&text, cp).unwrap(), [b], "{cp} {b:#04x}");
            }
            // The codepages users report (§1.8) define every byte.
            if matches!(
                cp,
                Codepage::Windows1250
                    | Codepage::Windows1251
                    | Codepage::Windows1252
                    | Codepage::Latin1
            ) {
                assert!(holes.is_empty(), "{cp} leaves {holes:02x?} undefined");
            }
        }
    }

    #[test]
    fn codepage_names() {
        assert_eq!(Codepage::default(), Codepage::Windows1252);
        for (label, cp) in [
            ("windows-1251", Codepage::Windows1251),
            ("cp1251", Codepage::Windows1251),
            ("CP1251", Codepage::Windows1251),
            ("win1251", Codepage::Windows1251),
            ("1251", Codepage::Windows1251),
            (" Windows-1250 ", Codepage::Windows1250),
            ("cp1252", Codepage::Windows1252),
            ("windows-1257", Codepage::Windows1257),
            ("latin1", Codepage::Latin1),
            ("ISO-8859-1", Codepage::Latin1),
            ("iso8859-1", Codepage::Latin1),
            ("latin2", Codepage::Iso8859_2),
            ("iso-8859-2", Codepage::Iso8859_2),
            ("koi8-r", Codepage::Koi8R),
            ("utf8", Codepage::Utf8),
            ("UTF-8", Codepage::Utf8),
        ] {
            assert_eq!(label.parse::<Codepage>(), Ok(cp), "{label}");
        }
        for bad in ["", "cp437", "cp1249", "windows-1259", "shift_jis", "ebcdic"] {
            assert!(bad.parse::<Codepage>().is_err(), "{bad}");
        }
        for cp in Codepage::ALL {
            assert_eq!(cp.name().parse::<Codepage>(), Ok(cp));
            assert_eq!(cp.to_string(), cp.name());
        }
    }

    fn single_byte() -> impl proptest::strategy::Strategy<Value = Codepage> {
        proptest::sample::select(
            Codepage::ALL
                .into_iter()
                .filter(|c| *c != Codepage::Utf8)
                .collect::<Vec<_>>(),
        )
    }

    proptest::proptest! {
        #[test]
        fn decoding_is_never_lossy_for_bytes_the_codepage_defines(
            cp in single_byte(),
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
        ) {
            // Bytes that are valid UTF-8 read as UTF-8 (that is the rule);
            // everything else is the codepage's and must come back intact.
            let text = decode_display(&bytes, cp);
            if std::str::from_utf8(&bytes).is_err() && !text.contains('\u{FFFD}') {
                proptest::prop_assert_eq!(encode_for_router(&text, cp).unwrap(), bytes);
            }
        }

        #[test]
        fn encoding_then_decoding_gives_the_text_back(
            cp in single_byte(),
            text in "\\PC{0,16}",
        ) {
            if let Ok(bytes) = encode_for_router(&text, cp) {
                let back = decode_display(&bytes, cp);
                // Bytes that happen to be valid UTF-8 read as UTF-8 first.
                if std::str::from_utf8(&bytes).is_err() {
                    proptest::prop_assert_eq!(back, text);
                }
            }
        }
    }
}
