use std::borrow::Cow;

use routeros_proto::Reply;

/// One `!re` row (or the attributes of `!done`), in the order received.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Row {
    attrs: Vec<(String, Vec<u8>)>,
}

impl Row {
    pub fn from_reply(reply: &Reply) -> Self {
        Self {
            attrs: reply
                .data()
                .map(|a| {
                    (
                        String::from_utf8_lossy(a.name).into_owned(),
                        a.value.to_vec(),
                    )
                })
                .collect(),
        }
    }

    pub fn get_bytes(&self, name: &str) -> Option<&[u8]> {
        self.attrs
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_slice())
    }

    /// The value as text; invalid UTF-8 is replaced, for display only.
    pub fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        self.get_bytes(name).map(String::from_utf8_lossy)
    }

    pub fn get_u64(&self, name: &str) -> Option<u64> {
        self.get(name)?.trim().parse().ok()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &[u8])> {
        self.attrs.iter().map(|(n, v)| (n.as_str(), v.as_slice()))
    }

    pub fn is_empty(&self) -> bool {
        self.attrs.is_empty()
    }
}

/// The outcome of a command that finished without `!trap`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    pub rows: Vec<Row>,
    /// Attributes carried by `!done`, such as `ret` after `add`.
    pub done: Row,
}

impl Response {
    /// The first row, for commands like `/system/resource/print`.
    pub fn first(&self) -> Option<&Row> {
        self.rows.first()
    }
}
