//! Login helpers: the pre-6.43 MD5 challenge response.

use md5::{Digest, Md5};

use crate::ProtoError;

/// Computes `00` + hex(md5(0x00 ‖ password ‖ challenge-bytes)), the
/// `=response=` of the legacy challenge login (ROUTEROS.md §1.4).
pub fn challenge_response(password: &[u8], challenge_hex: &str) -> Result<String, ProtoError> {
    let challenge = hex::decode(challenge_hex)
        .map_err(|_| ProtoError::InvalidChallenge(challenge_hex.to_owned()))?;
    let mut h = Md5::new();
    h.update([0u8]);
    h.update(password);
    h.update(&challenge);
    Ok(format!("00{}", hex::encode(h.finalize())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_routeros_vector() {
        assert_eq!(
            challenge_response(b"passTest", "abc123").unwrap(),
            "0021277bff9ac7caf06aa608e46616d47f"
        );
    }

    #[test]
    fn non_hex_challenge_is_an_error() {
        assert!(challenge_response(b"x", "zz").is_err());
    }
}
