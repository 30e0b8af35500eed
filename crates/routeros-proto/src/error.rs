use thiserror::Error;

/// Why a byte stream or a command could not be turned into RouterOS API words.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
pub enum ProtoError {
    /// A first byte of 0xF8 or above: a reserved control byte. RouterOS
    /// defines none, so the connection cannot continue.
    #[error("router sent reserved control byte {byte:#04x}; the connection cannot continue")]
    ControlByte { byte: u8 },
    /// First bytes 0xF1–0xF7 are not a defined length form.
    #[error("invalid word length prefix {byte:#04x} (only 0xF0 starts a 5-byte length)")]
    ReservedLength { byte: u8 },
    #[error("word of {len} bytes exceeds the limit of {max} bytes")]
    WordTooLong { len: u64, max: usize },
    #[error("sentence of more than {max} bytes exceeds the limit")]
    SentenceTooLong { max: usize },
    #[error("sentence has more than {max} words")]
    TooManyWords { max: usize },
    #[error("invalid command word {0:?}: it must start with '/' and contain no spaces or control characters")]
    InvalidCommand(String),
    #[error(
        "invalid attribute name {0:?}: names may not be empty or contain '=' or control characters"
    )]
    InvalidAttributeName(String),
    #[error("invalid login challenge {0:?}: expected hex")]
    InvalidChallenge(String),
}
