//! Exports with their secrets, sealed for the store when the technician
//! opts in: compressed, then AES-256-GCM under a key kept in the keyring
//! (made on first use), with the version's id bound in as associated data
//! so a sealed body cannot be passed off as another version's. Without
//! the key (another laptop, the shared database alone) the store holds
//! nothing readable.

use ring::{
    aead::{self, Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN},
    rand::{SecureRandom, SystemRandom},
};

use crate::{
    credentials::{CredentialStore, Sensitive},
    FleetError,
};

/// The key sealed exports are encrypted with.
pub struct ConfigKey(LessSafeKey);

fn failed(what: &str) -> FleetError {
    FleetError::InvalidInput(what.to_owned())
}

impl ConfigKey {
    fn from_hex(hex_key: &str) -> Result<Self, FleetError> {
        let bytes = hex::decode(hex_key.trim())
            .map_err(|_| failed("the key for sealed exports in the keyring is damaged"))?;
        let key = UnboundKey::new(&AES_256_GCM, &bytes)
            .map_err(|_| failed("the key for sealed exports in the keyring is damaged"))?;
        Ok(Self(LessSafeKey::new(key)))
    }

    /// This machine's key, if it has one.
    pub fn load(credentials: &CredentialStore) -> Result<Option<Self>, FleetError> {
        credentials
            .config_key()?
            .map(|k| Self::from_hex(k.expose()))
            .transpose()
    }

    /// This machine's key, made and kept in the keyring on first use.
    pub fn load_or_create(credentials: &CredentialStore) -> Result<Self, FleetError> {
        if let Some(key) = Self::load(credentials)? {
            return Ok(key);
        }
        let mut bytes = [0u8; 32];
        SystemRandom::new()
            .fill(&mut bytes)
            .map_err(|_| failed("no random numbers for a new key"))?;
        let hex_key = Sensitive::new(hex::encode(bytes));
        credentials.set_config_key(&hex_key)?;
        Self::from_hex(hex_key.expose())
    }

    /// `text` sealed for version `version_id`: nonce, then ciphertext and
    /// tag.
    pub fn seal(&self, version_id: &str, text: &str) -> Result<Vec<u8>, FleetError> {
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .map_err(|_| failed("no random numbers for a nonce"))?;
        let mut body = zstd::encode_all(text.as_bytes(), 3)
            .map_err(|e| failed(&format!("compressing the export: {e}")))?;
        self.0
            .seal_in_place_append_tag(
                Nonce::assume_unique_for_key(nonce),
                Aad::from(version_id.as_bytes()),
                &mut body,
            )
            .map_err(|_| failed("the export could not be sealed"))?;
        let mut out = nonce.to_vec();
        out.append(&mut body);
        Ok(out)
    }

    /// The text sealed for version `version_id`; an error when the body
    /// was sealed under another key, for another version, or altered.
    pub fn open(&self, version_id: &str, sealed: &[u8]) -> Result<Sensitive<String>, FleetError> {
        let refused = || {
            failed("the sealed export cannot be opened with this machine's key (sealed on another machine, or altered)")
        };
        if sealed.len() < NONCE_LEN + aead::MAX_TAG_LEN {
            return Err(refused());
        }
        let (nonce, body) = sealed.split_at(NONCE_LEN);
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| refused())?;
        let mut body = body.to_vec();
        let plain = self
            .0
            .open_in_place(nonce, Aad::from(version_id.as_bytes()), &mut body)
            .map_err(|_| refused())?;
        let bytes = zstd::decode_all(&plain[..]).map_err(|_| refused())?;
        String::from_utf8(bytes)
            .map(Sensitive::new)
            .map_err(|_| refused())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_export_opens_only_with_its_key_and_version() {
        let dir = tempfile::tempdir().unwrap();
        let creds = CredentialStore::file(dir.path().join("c.json"));
        assert!(ConfigKey::load(&creds).unwrap().is_none());
        let key = ConfigKey::load_or_create(&creds).unwrap();
        let text = "/ppp secret add name=alice password=Hunter2Secret\n";
        let sealed = key.seal("v1", text).unwrap();
        assert!(!sealed.windows(13).any(|w| w == b"Hunter2Secret"));
        // The same key again, from the keyring.
        let again = ConfigKey::load(&creds).unwrap().unwrap();
        assert_eq!(again.open("v1", &sealed).unwrap().expose(), text);
        // Another version's id, an altered byte, another machine's key.
        assert!(again.open("v2", &sealed).is_err());
        let mut altered = sealed.clone();
        *altered.last_mut().unwrap() ^= 1;
        assert!(again.open("v1", &altered).is_err());
        let other = CredentialStore::file(dir.path().join("other.json"));
        let e = ConfigKey::load_or_create(&other)
            .unwrap()
            .open("v1", &sealed)
            .unwrap_err();
        assert!(e.to_string().contains("another machine"), "{e}");
    }
}
