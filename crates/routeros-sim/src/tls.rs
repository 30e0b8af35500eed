//! API-SSL for simulated routers: a self-signed certificate per router,
//! like a router given `/certificate add … ` and `/ip service set api-ssl
//! certificate=…`; or no certificate at all, in which case, like a real
//! router, only anonymous Diffie-Hellman suites are offered (OpenSSL,
//! since rustls has none).

use std::sync::Arc;

use openssl::{
    dh::Dh,
    ssl::{SslContext, SslMethod, SslVerifyMode, SslVersion},
};
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

/// The API-SSL server side of a router without a certificate: ADH suites
/// only (`ADH:@SECLEVEL=0`, since OpenSSL 1.1.0 disables them otherwise),
/// TLS 1.2 at most (TLS 1.3 has no anonymous suites) and the 2048-bit
/// RFC 5114 DH group. A client offering only certificate suites gets a
/// handshake-failure alert, as from the real thing.
pub(crate) fn anonymous_context() -> std::io::Result<SslContext> {
    let io = |e: openssl::error::ErrorStack| std::io::Error::other(e.to_string());
    let mut b = SslContext::builder(SslMethod::tls_server()).map_err(io)?;
    b.set_cipher_list("ADH:@SECLEVEL=0").map_err(io)?;
    b.set_max_proto_version(Some(SslVersion::TLS1_2))
        .map_err(io)?;
    let dh = Dh::get_2048_256().map_err(io)?;
    b.set_tmp_dh(&dh).map_err(io)?;
    b.set_verify(SslVerifyMode::NONE);
    Ok(b.build())
}
