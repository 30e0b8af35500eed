//! How the shared database is reached: over TLS by default, with the
//! server's certificate verified (the built-in web roots, plus a CA file
//! the URL names) and its name checked. Plain is an explicit opt-out in
//! the URL, for a local test server, and is logged every time.
//!
//! Fleetdeck's own URL parameters are taken out before the rest of the URL
//! is handed to the driver:
//! - `tls=off`: no TLS (never across a network);
//! - `ca=PATH`: a PEM file of CA certificates trusted for this server
//!   (a company CA, or SingleStore's own), besides the built-in roots.
//!
//! The driver's own switches that weaken verification (`require_ssl`,
//! `verify_ca`, `verify_identity`, `built_in_roots`) are refused.

use std::path::PathBuf;

use mysql_async::{Opts, OptsBuilder, SslOpts};

use crate::StoreError;

/// Connection options for `url`; `location` is the URL without its
/// password, for errors and logs.
pub(crate) fn opts(url: &str, location: &str) -> Result<OptsBuilder, StoreError> {
    let invalid = || StoreError::InvalidUrl(location.to_owned());
    let mut driver_url = url::Url::parse(url).map_err(|_| invalid())?;
    let mut tls = true;
    let mut ca = None;
    let mut rest = Vec::new();
    for (key, value) in driver_url.query_pairs() {
        match key.as_ref() {
            "tls" => {
                tls = match value.as_ref() {
                    "on" => true,
                    "off" => false,
                    other => {
                        return Err(StoreError::Option(format!(
                            "tls={other} in {location}: use tls=off (no TLS, for a local test server) or leave it out"
                        )))
                    }
                }
            }
            "ca" => ca = Some(PathBuf::from(value.as_ref())),
            "require_ssl" | "verify_ca" | "verify_identity" | "built_in_roots" => {
                return Err(StoreError::Option(format!(
                    "{key}= in {location} is not accepted: the shared database is reached over TLS with its certificate verified (name a private CA with ca=PATH), or, for a local test server only, without TLS (tls=off)"
                )))
            }
            _ => rest.push((key.into_owned(), value.into_owned())),
        }
    }
    driver_url.set_query(None);
    if !rest.is_empty() {
        driver_url.query_pairs_mut().extend_pairs(rest);
    }
    let opts = Opts::from_url(driver_url.as_str()).map_err(|_| invalid())?;
    // Never the local socket: the driver does not secure it, and the
    // server named is the one to verify.
    let builder = OptsBuilder::from_opts(opts).prefer_socket(false);
    if !tls {
        if ca.is_some() {
            return Err(StoreError::Option(format!(
                "{location} names a CA file but turns TLS off: leave out one of tls=off and ca="
            )));
        }
        tracing::warn!(%location, "the shared database is reached without TLS (tls=off in its URL): what crosses the network can be read and changed");
        return Ok(builder);
    }
    let mut ssl = SslOpts::default();
    if let Some(ca) = ca {
        if !ca.is_file() {
            return Err(StoreError::Option(format!(
                "the CA file {} named by {location} cannot be read",
                ca.display()
            )));
        }
        ssl = ssl.with_root_certs(vec![ca.into()]);
    }
    Ok(builder.ssl_opts(ssl))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tls_is_on_unless_turned_off_and_weakening_switches_are_refused() {
        let on = opts("mysql://u@db.example:3306/fleet", "x").unwrap();
        assert!(Opts::from(on).ssl_opts().is_some(), "TLS by default");
        let off = opts("mysql://u@127.0.0.1:3306/fleet?tls=off", "x").unwrap();
        assert!(Opts::from(off).ssl_opts().is_none());
        for weak in [
            "verify_ca=false",
            "verify_identity=false",
            "require_ssl=false",
            "built_in_roots=false",
        ] {
            let err = opts(&format!("mysql://u@h:3306/f?{weak}"), "the-location").unwrap_err();
            assert!(err.to_string().contains("is not accepted"), "{err}");
            assert!(err.to_string().contains("the-location"), "{err}");
        }
        assert!(opts("mysql://u@h:3306/f?tls=maybe", "x").is_err());
        assert!(opts("mysql://u@h:3306/f?ca=/no/such/ca.pem", "x")
            .unwrap_err()
            .to_string()
            .contains("cannot be read"));
        // The driver's other parameters pass through.
        let cached = opts("mysql://u@h:3306/f?tls=off&stmt_cache_size=5", "x").unwrap();
        assert_eq!(Opts::from(cached).stmt_cache_size(), 5);
    }
}
