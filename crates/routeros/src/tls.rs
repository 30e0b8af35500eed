//! API-SSL (TCP 8729): TLS with the router's self-signed certificate,
//! trusted by its pinned SHA-256 fingerprint rather than by a CA.
//!
//! Routers almost never carry a CA-signed certificate, so name and chain
//! checks would reject every one of them. Instead a technician trusts the
//! certificate the first time (`TlsMode::TrustOnFirstUse` returns its
//! fingerprint to store with the device) and from then on a different
//! certificate is a hard error: either it was replaced on purpose, or
//! someone is in the middle.
//!
//! A router whose API-SSL service has no certificate offers only anonymous
//! Diffie-Hellman (ADH) suites. rustls cannot speak those, so
//! [`TlsMode::AnonymousDh`] goes through OpenSSL instead. It encrypts but
//! does not authenticate the router at all; it exists for bootstrap, to
//! install a certificate.

use std::{
    fmt, io,
    pin::Pin,
    str::FromStr,
    sync::{Arc, Mutex, OnceLock},
    task::{Context, Poll},
};

use openssl::ssl::{SslConnector, SslMethod, SslVerifyMode, SslVersion};

use rustls::{
    client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
    crypto::{ring, verify_tls12_signature, verify_tls13_signature, CryptoProvider},
    pki_types::{CertificateDer, ServerName, UnixTime},
    DigitallySignedStruct, SignatureScheme,
};
use sha2::{Digest, Sha256};
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// SHA-256 of a certificate's DER bytes.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Fingerprint(pub [u8; 32]);

impl Fingerprint {
    pub fn of(der: &[u8]) -> Self {
        Self(Sha256::digest(der).into())
    }
}

impl fmt::Display for Fingerprint {
    /// `AB:CD:…`, the way certificate tools print fingerprints.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hex: Vec<String> = self.0.iter().map(|b| format!("{b:02X}")).collect();
        f.write_str(&hex.join(":"))
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({self})")
    }
}

impl FromStr for Fingerprint {
    type Err = String;

    /// Accepts hex with or without `:` separators, any case.
    fn from_str(s: &str) -> Result<Self, String> {
        let clean: String = s
            .chars()
            .filter(|c| *c != ':' && !c.is_whitespace())
            .collect();
        let bytes =
            hex::decode(&clean).map_err(|_| format!("{s:?} is not a hex SHA-256 fingerprint"))?;
        let arr: [u8; 32] = bytes
            .try_into()
            .map_err(|_| format!("{s:?} is not 32 bytes (a SHA-256 fingerprint)"))?;
        Ok(Self(arr))
    }
}

/// How to secure the connection.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum TlsMode {
    /// Plain API (8728): passwords travel in clear.
    #[default]
    Plain,
    /// API-SSL, accepting only the certificate with this fingerprint.
    Pinned(Fingerprint),
    /// API-SSL, accepting the certificate presented and reporting its
    /// fingerprint, for the caller to pin from then on.
    TrustOnFirstUse,
    /// API-SSL to a router that has **no certificate**, over anonymous
    /// Diffie-Hellman (OpenSSL, cipher list `ADH:@SECLEVEL=0`, TLS 1.2 at
    /// most).
    ///
    /// **This does not authenticate the router at all: anyone in the path
    /// can impersonate it** and read the password and everything else. The
    /// traffic is only protected from passive eavesdroppers. Use it only
    /// where the router has no certificate yet, e.g. to install one during
    /// bootstrap, then switch to [`TlsMode::TrustOnFirstUse`] /
    /// [`TlsMode::Pinned`]. There is no fingerprint to pin:
    /// `Client::peer_fingerprint` is `None`, and every connection logs a
    /// warning.
    AnonymousDh,
}

/// Checks the handshake signature properly but trusts the certificate by
/// fingerprint instead of by CA and host name.
#[derive(Debug)]
pub(crate) struct PinVerifier {
    pin: Option<Fingerprint>,
    pub(crate) seen: Mutex<Option<Fingerprint>>,
    provider: Arc<CryptoProvider>,
}

impl PinVerifier {
    pub(crate) fn new(pin: Option<Fingerprint>) -> Arc<Self> {
        Arc::new(Self {
            pin,
            seen: Mutex::new(None),
            provider: Arc::new(ring::default_provider()),
        })
    }
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fp = Fingerprint::of(end_entity.as_ref());
        *self.seen.lock().expect("fingerprint lock") = Some(fp);
        match self.pin {
            Some(pin) if pin != fp => Err(rustls::Error::General(
                "certificate fingerprint mismatch".into(),
            )),
            _ => Ok(ServerCertVerified::assertion()),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A rustls client config for one connection.
pub(crate) fn client_config(
    verifier: Arc<PinVerifier>,
) -> Result<rustls::ClientConfig, rustls::Error> {
    Ok(
        rustls::ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
            .with_safe_default_protocol_versions()?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth(),
    )
}

/// The name sent in SNI: the IP or host; routers ignore it.
pub(crate) fn server_name(host: &str) -> ServerName<'static> {
    if let Ok(ip) = host.parse::<std::net::IpAddr>() {
        return ServerName::IpAddress(ip.into());
    }
    ServerName::try_from(host.to_owned())
        .unwrap_or_else(|_| ServerName::try_from("router.invalid").expect("valid name"))
}

/// The cipher list that enables anonymous Diffie-Hellman: OpenSSL 1.1.0+
/// disables it unless the security level is dropped to 0.
pub(crate) const ANONYMOUS_DH_CIPHERS: &str = "ADH:@SECLEVEL=0";

/// The OpenSSL connector for [`TlsMode::AnonymousDh`], built once: ADH
/// suites only, TLS 1.2 at most (ADH does not exist in TLS 1.3), and no
/// certificate verification (there is no certificate).
pub(crate) fn anonymous_connector() -> Result<SslConnector, String> {
    static CONNECTOR: OnceLock<Result<SslConnector, String>> = OnceLock::new();
    let build = || -> Result<SslConnector, openssl::error::ErrorStack> {
        let mut b = SslConnector::builder(SslMethod::tls_client())?;
        b.set_cipher_list(ANONYMOUS_DH_CIPHERS)?;
        b.set_max_proto_version(Some(SslVersion::TLS1_2))?;
        b.set_verify(SslVerifyMode::NONE);
        Ok(b.build())
    };
    match CONNECTOR.get_or_init(|| build().map_err(|e| e.to_string())) {
        Ok(c) => Ok(c.clone()),
        Err(e) => Err(format!(
            "OpenSSL could not be set up for anonymous TLS ({ANONYMOUS_DH_CIPHERS}): {e}"
        )),
    }
}

/// Bytes of a TLS alert record: type, version (2), length (2), level,
/// description.
const HEAD: usize = 7;

/// A byte stream that remembers the first bytes the router sent, so that a
/// failed handshake can be explained from what actually came back: nothing
/// TLS-like (a plain API port), or a TLS alert (and which one).
pub(crate) struct Sniff<S> {
    inner: S,
    head: [u8; HEAD],
    len: usize,
}

impl<S> Sniff<S> {
    pub(crate) fn new(inner: S) -> Self {
        Self {
            inner,
            head: [0; HEAD],
            len: 0,
        }
    }

    /// What the router answered, judged from its first bytes.
    pub(crate) fn answer(&self) -> Answer {
        match &self.head[..self.len] {
            // Alert record, TLS 1.x, two bytes long: level, description.
            [0x15, 0x03, _, 0x00, 0x02, _, desc] => Answer::Alert(*desc),
            [0x15 | 0x16, 0x03, ..] => Answer::Tls,
            _ => Answer::NotTls,
        }
    }
}

/// What came back during a failed handshake.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Answer {
    /// Nothing, or something that is not a TLS record.
    NotTls,
    /// A TLS alert with this description code.
    Alert(u8),
    /// TLS, but not a lone alert.
    Tls,
}

/// TLS alert descriptions (RFC 5246 §7.2).
pub(crate) const ALERT_HANDSHAKE_FAILURE: u8 = 40;
pub(crate) const ALERT_PROTOCOL_VERSION: u8 = 70;
pub(crate) const ALERT_INSUFFICIENT_SECURITY: u8 = 71;

impl<S: AsyncRead + Unpin> AsyncRead for Sniff<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if this.len < HEAD {
            if let Poll::Ready(Ok(())) = r {
                let new = &buf.filled()[before..];
                let n = new.len().min(HEAD - this.len);
                this.head[this.len..this.len + n].copy_from_slice(&new[..n]);
                this.len += n;
            }
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Sniff<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprints_print_and_parse() {
        let fp = Fingerprint::of(b"certificate");
        let text = fp.to_string();
        assert_eq!(text.len(), 32 * 3 - 1);
        assert_eq!(text.parse::<Fingerprint>().unwrap(), fp);
        assert_eq!(
            text.replace(':', "")
                .to_lowercase()
                .parse::<Fingerprint>()
                .unwrap(),
            fp
        );
        assert!("abcd".parse::<Fingerprint>().is_err());
        assert!("zz".repeat(32).parse::<Fingerprint>().is_err());
    }

    fn sniffed(bytes: &[u8]) -> Answer {
        let mut s = Sniff::new(bytes);
        let mut out = [0u8; 64];
        let waker = futures::task::noop_waker();
        let mut cx = Context::from_waker(&waker);
        // One byte at a time, the way a fragmenting peer would send them.
        for _ in 0..bytes.len() {
            let mut buf = ReadBuf::new(&mut out[..1]);
            let r = Pin::new(&mut s).poll_read(&mut cx, &mut buf);
            assert!(matches!(r, Poll::Ready(Ok(()))));
        }
        s.answer()
    }

    #[test]
    fn sniffing_tells_alerts_from_tls_and_from_plain_api() {
        assert_eq!(
            sniffed(&[0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 40, 0xff]),
            Answer::Alert(ALERT_HANDSHAKE_FAILURE)
        );
        assert_eq!(
            sniffed(&[0x16, 0x03, 0x03, 0x00, 0x40, 0x02, 0, 0, 0]),
            Answer::Tls
        );
        // `!fatal` from a plain API port, and silence.
        assert_eq!(sniffed(b"\x06!fatal\x00"), Answer::NotTls);
        assert_eq!(sniffed(b""), Answer::NotTls);
    }
}
