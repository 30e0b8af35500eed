//! Building command sentences safely.

use crate::{ProtoError, Sentence};

/// A command to send: a path such as `/interface/print` and its words.
///
/// Values are sent verbatim as bytes: the API has no quoting, and only the
/// first two `=` of a word are structural, so any value is safe. Command
/// paths and attribute names are validated, because a name containing `=`
/// would change what the router reads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    path: String,
    words: Vec<Vec<u8>>,
    names: Vec<String>,
}

impl Command {
    pub fn new(path: impl Into<String>) -> Self {
        Self {
            path: path.into(),
            words: Vec::new(),
            names: Vec::new(),
        }
    }

    pub fn path(&self) -> &str {
        &self.path
    }

    /// Adds `=name=value`.
    pub fn attr(mut self, name: &str, value: impl AsRef<[u8]>) -> Self {
        self.names.push(name.to_owned());
        let mut w = Vec::with_capacity(name.len() + value.as_ref().len() + 2);
        w.push(b'=');
        w.extend_from_slice(name.as_bytes());
        w.push(b'=');
        w.extend_from_slice(value.as_ref());
        self.words.push(w);
        self
    }

    /// Adds a raw word as typed by a user: an attribute (`=name=value`), an
    /// API attribute (`.proplist=a,b`) or a query word (`?type=ether`).
    /// Anything else is refused when the sentence is built.
    pub fn word(mut self, word: impl Into<Vec<u8>>) -> Self {
        let word = word.into();
        self.names.push(raw_word_name(&word).unwrap_or_default());
        self.words.push(word);
        self
    }

    /// Adds the words of a typed query (only `print` takes queries).
    pub fn query(mut self, q: &crate::Query) -> Self {
        for w in q.words() {
            self = self.word(w);
        }
        self
    }

    /// Adds `=.proplist=a,b,c` so the router returns only those properties.
    pub fn proplist<I, S>(self, props: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let list: Vec<String> = props.into_iter().map(|p| p.as_ref().to_owned()).collect();
        self.attr(".proplist", list.join(","))
    }

    /// The sentence to send, with `.tag=tag` when given.
    pub fn to_sentence(&self, tag: Option<&str>) -> Result<Sentence, ProtoError> {
        let valid_path = self.path.starts_with('/')
            && self.path.len() > 1
            && !self
                .path
                .chars()
                .any(|c| c.is_whitespace() || c.is_control() || c == '=');
        if !valid_path {
            return Err(ProtoError::InvalidCommand(self.path.clone()));
        }
        if let Some(bad) = self
            .names
            .iter()
            .find(|n| n.is_empty() || n.chars().any(|c| c == '=' || c.is_control()))
        {
            return Err(ProtoError::InvalidAttributeName(bad.clone()));
        }
        let mut s = Sentence::new();
        s.push(self.path.as_bytes());
        for w in &self.words {
            s.push(w.clone());
        }
        if let Some(tag) = tag {
            s.push(format!(".tag={tag}"));
        }
        Ok(s)
    }
}

/// The name part of a raw word, used for validation: `=name=…` → `name`,
/// `.name=…` → `.name`, `?…` → the query operand.
fn raw_word_name(word: &[u8]) -> Option<String> {
    let text = String::from_utf8_lossy(word);
    match word.first()? {
        b'=' => Some(text[1..].split('=').next().unwrap_or_default().to_owned()),
        b'.' => Some(text.split('=').next().unwrap_or_default().to_owned()),
        b'?' => {
            let op = text[1..].trim_start_matches(['=', '<', '>', '-', '#']);
            Some(if text.starts_with("?#") {
                "#".into()
            } else {
                op.split('=').next().unwrap_or("#").to_owned()
            })
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builds_words_in_order_with_tag() {
        let s = Command::new("/interface/print")
            .attr("detail", "")
            .proplist(["name", "rx-byte"])
            .to_sentence(Some("4"))
            .unwrap();
        assert_eq!(
            s.words(),
            &[
                b"/interface/print".to_vec(),
                b"=detail=".to_vec(),
                b"=.proplist=name,rx-byte".to_vec(),
                b".tag=4".to_vec()
            ]
        );
    }

    #[test]
    fn values_with_equals_and_newlines_stay_one_word() {
        let s = Command::new("/system/identity/set")
            .attr("name", "a=b\n/system/reboot")
            .to_sentence(None)
            .unwrap();
        assert_eq!(s.words().len(), 2);
        assert_eq!(s.attribute("name"), Some(&b"a=b\n/system/reboot"[..]));
    }

    #[test]
    fn raw_words_are_checked() {
        let s = Command::new("/interface/print")
            .word("?type=ether")
            .word("?#|")
            .word(".proplist=name")
            .word("=detail=")
            .to_sentence(None)
            .unwrap();
        assert_eq!(s.words().len(), 5);
        for bad in ["name=x", "", "="] {
            let r = Command::new("/x/print").word(bad).to_sentence(None);
            assert!(r.is_err(), "{bad:?}");
        }
    }

    #[test]
    fn invalid_paths_and_names_are_refused() {
        for p in ["", "/", "system/reboot", "/system reboot", "/a\n/b"] {
            assert!(
                matches!(
                    Command::new(p).to_sentence(None),
                    Err(ProtoError::InvalidCommand(_))
                ),
                "{p:?}"
            );
        }
        assert!(matches!(
            Command::new("/x/set").attr("na=me", "v").to_sentence(None),
            Err(ProtoError::InvalidAttributeName(_))
        ));
    }
}
