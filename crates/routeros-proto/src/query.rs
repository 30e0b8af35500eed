//! Typed `print` queries (`?name=value`, `?-name`, `?<`, `?>`, `?#`).
//!
//! RouterOS evaluates query words on a stack of booleans; building them by
//! hand is error-prone, so callers compose a [`Query`] and get the words.

/// A condition on the items a `print` returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Query {
    /// The item has the property.
    Has(String),
    /// The item lacks the property.
    Lacks(String),
    Eq(String, Vec<u8>),
    Lt(String, Vec<u8>),
    Gt(String, Vec<u8>),
    Not(Box<Query>),
    And(Vec<Query>),
    Or(Vec<Query>),
}

impl Query {
    pub fn eq(name: impl Into<String>, value: impl AsRef<[u8]>) -> Self {
        Query::Eq(name.into(), value.as_ref().to_vec())
    }
    pub fn lt(name: impl Into<String>, value: impl AsRef<[u8]>) -> Self {
        Query::Lt(name.into(), value.as_ref().to_vec())
    }
    pub fn gt(name: impl Into<String>, value: impl AsRef<[u8]>) -> Self {
        Query::Gt(name.into(), value.as_ref().to_vec())
    }
    pub fn has(name: impl Into<String>) -> Self {
        Query::Has(name.into())
    }
    pub fn lacks(name: impl Into<String>) -> Self {
        Query::Lacks(name.into())
    }
    #[allow(clippy::should_implement_trait)]
    pub fn not(q: Query) -> Self {
        Query::Not(Box::new(q))
    }
    /// Any of the values: `name = a OR name = b …`.
    pub fn any_of<I, V>(name: &str, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: AsRef<[u8]>,
    {
        Query::Or(values.into_iter().map(|v| Query::eq(name, v)).collect())
    }

    /// The query words, in the order RouterOS must receive them.
    pub fn words(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        self.push_words(&mut out);
        out
    }

    fn push_words(&self, out: &mut Vec<Vec<u8>>) {
        let word = |prefix: &str, name: &str, value: Option<&[u8]>| {
            let mut w = prefix.as_bytes().to_vec();
            w.extend_from_slice(name.as_bytes());
            if let Some(v) = value {
                w.push(b'=');
                w.extend_from_slice(v);
            }
            w
        };
        match self {
            Query::Has(n) => out.push(word("?", n, None)),
            Query::Lacks(n) => out.push(word("?-", n, None)),
            Query::Eq(n, v) => out.push(word("?=", n, Some(v))),
            Query::Lt(n, v) => out.push(word("?<", n, Some(v))),
            Query::Gt(n, v) => out.push(word("?>", n, Some(v))),
            Query::Not(q) => {
                q.push_words(out);
                out.push(b"?#!".to_vec());
            }
            Query::And(qs) | Query::Or(qs) => {
                let op: &[u8] = if matches!(self, Query::And(_)) {
                    b"?#&"
                } else {
                    b"?#|"
                };
                if qs.is_empty() {
                    // An empty AND is true; an empty OR matches nothing.
                    if matches!(self, Query::Or(_)) {
                        out.push(b"?.id".to_vec());
                        out.push(b"?#!".to_vec());
                    }
                    return;
                }
                for q in qs {
                    q.push_words(out);
                }
                for _ in 1..qs.len() {
                    out.push(op.to_vec());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text(q: &Query) -> Vec<String> {
        q.words()
            .into_iter()
            .map(|w| String::from_utf8(w).unwrap())
            .collect()
    }

    #[test]
    fn simple_words() {
        assert_eq!(text(&Query::has("comment")), ["?comment"]);
        assert_eq!(text(&Query::lacks("comment")), ["?-comment"]);
        assert_eq!(text(&Query::eq("type", "ether")), ["?=type=ether"]);
        assert_eq!(text(&Query::gt("comment", "")), ["?>comment="]);
        assert_eq!(text(&Query::lt("mtu", "1500")), ["?<mtu=1500"]);
    }

    #[test]
    fn composition_matches_librouteros() {
        // != becomes ?=k=v then ?#!
        assert_eq!(text(&Query::not(Query::eq("a", "b"))), ["?=a=b", "?#!"]);
        // In(a,b,c) is three equalities and two ORs
        assert_eq!(
            text(&Query::any_of("type", ["ether", "vlan", "bridge"])),
            ["?=type=ether", "?=type=vlan", "?=type=bridge", "?#|", "?#|"]
        );
        assert_eq!(
            text(&Query::And(vec![
                Query::eq(".id", "*1"),
                Query::eq("address", "10.0.0.1/24")
            ])),
            ["?=.id=*1", "?=address=10.0.0.1/24", "?#&"]
        );
    }
}
