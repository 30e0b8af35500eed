//! Replies from the router: `!re`, `!done`, `!trap`, `!fatal`, `!empty`.

use crate::{sentence::parse_attribute, Attribute, Sentence};

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyKind {
    /// A data row.
    Re,
    /// The last reply to every command; may carry `=ret=`.
    Done,
    /// An error; the command still ends with `!done`.
    Trap,
    /// The router is closing the connection; the reason is a bare word.
    Fatal,
    /// RouterOS 7.18+: the query matched nothing. `!done` still follows.
    Empty,
    /// A reply word this client does not know; skipped by callers.
    Unknown(Vec<u8>),
}

/// One reply sentence with its kind decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reply {
    pub kind: ReplyKind,
    pub sentence: Sentence,
}

impl Reply {
    pub fn parse(sentence: Sentence) -> Self {
        let kind = match sentence.first_word().unwrap_or_default() {
            b"!re" => ReplyKind::Re,
            b"!done" => ReplyKind::Done,
            b"!trap" => ReplyKind::Trap,
            b"!fatal" => ReplyKind::Fatal,
            b"!empty" => ReplyKind::Empty,
            other => ReplyKind::Unknown(other.to_vec()),
        };
        Self { kind, sentence }
    }

    pub fn tag(&self) -> Option<&[u8]> {
        self.sentence.tag()
    }

    pub fn attribute(&self, name: &str) -> Option<&[u8]> {
        self.sentence.attribute(name)
    }

    /// Data attributes (`=name=value`), without API words like `.tag`.
    pub fn data(&self) -> impl Iterator<Item = Attribute<'_>> {
        self.sentence
            .words()
            .iter()
            .skip(1)
            .filter(|w| w.first() == Some(&b'='))
            .filter_map(|w| parse_attribute(w))
    }

    /// `!trap` category (0–7), when the router sent one.
    pub fn category(&self) -> Option<u8> {
        std::str::from_utf8(self.attribute("category")?)
            .ok()?
            .parse()
            .ok()
    }

    /// `!trap`'s `=message=`, or `!fatal`'s bare reason word(s).
    pub fn message(&self) -> Option<String> {
        if let Some(m) = self.attribute("message") {
            return Some(String::from_utf8_lossy(m).into_owned());
        }
        let bare: Vec<String> = self
            .sentence
            .words()
            .iter()
            .skip(1)
            .filter(|w| !matches!(w.first(), Some(b'=' | b'.')))
            .map(|w| String::from_utf8_lossy(w).into_owned())
            .collect();
        (!bare.is_empty()).then(|| bare.join(" "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_are_recognised() {
        for (word, kind) in [
            ("!re", ReplyKind::Re),
            ("!done", ReplyKind::Done),
            ("!trap", ReplyKind::Trap),
            ("!fatal", ReplyKind::Fatal),
            ("!empty", ReplyKind::Empty),
            ("!xxx", ReplyKind::Unknown(b"!xxx".to_vec())),
        ] {
            assert_eq!(Reply::parse(Sentence::from_words([word])).kind, kind);
        }
    }

    #[test]
    fn fatal_reason_is_a_bare_word() {
        let r = Reply::parse(Sentence::from_words([
            "!fatal",
            "session terminated on request",
        ]));
        assert_eq!(
            r.message().as_deref(),
            Some("session terminated on request")
        );
    }

    #[test]
    fn trap_with_category_and_without_message() {
        let r = Reply::parse(Sentence::from_words([
            "!trap",
            "=category=1",
            "=message=input does not match any value of interface",
            ".tag=3",
        ]));
        assert_eq!(r.category(), Some(1));
        assert_eq!(
            r.message().as_deref(),
            Some("input does not match any value of interface")
        );
        assert_eq!(r.tag(), Some(&b"3"[..]));
        let bare = Reply::parse(Sentence::from_words(["!trap"]));
        assert_eq!(bare.message(), None);
        assert_eq!(bare.category(), None);
    }

    #[test]
    fn data_excludes_api_attributes() {
        let r = Reply::parse(Sentence::from_words([
            "!re",
            ".tag=1",
            "=.id=*1",
            "=name=ether1",
        ]));
        let names: Vec<_> = r.data().map(|a| a.name.to_vec()).collect();
        assert_eq!(names, vec![b".id".to_vec(), b"name".to_vec()]);
    }
}
