//! API-SSL for simulated routers: a self-signed certificate per router,
//! like a router given `/certificate add … ` and `/ip service set api-ssl
//! certificate=…`.

use std::sync::Arc;

use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

/// A router's TLS identity.
pub(crate) struct RouterCert {
    pub acceptor: TlsAcceptor,
    pub fingerprint: [u8; 32],
}

pub(crate) fn router_cert(identity: &str) -> std::io::Result<RouterCert> {
    let io = |e: String| std::io::Error::other(e);
    let ck = rcgen::generate_simple_self_signed(vec![format!("{identity}.local")])
        .map_err(|e| io(e.to_string()))?;
    let der = ck.cert.der().clone();
    let fingerprint: [u8; 32] = Sha256::digest(der.as_ref()).into();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(ck.signing_key.serialize_der()));
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .map_err(|e| io(e.to_string()))?
    .with_no_client_auth()
    .with_single_cert(vec![der], key)
    .map_err(|e| io(e.to_string()))?;
    Ok(RouterCert {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        fingerprint,
    })
}
