//! No SSRF into the operator's network: a subscription's URL may not lead to a loopback,
//! private or link-local address, unless the handle allows private targets. The URL is checked
//! when the subscription is made, and every connection is checked again at the address it
//! resolves to then (a name may be pointed elsewhere after the check), by the resolver the
//! delivering client uses. Redirects are never followed.

use crate::error::{Error, Result};
use std::net::{IpAddr, SocketAddr, ToSocketAddrs};
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Whether a delivery to `ip` is refused unless private targets are allowed: loopback,
/// private (RFC 1918, unique local), link-local, shared (carrier-grade NAT), unspecified, and
/// IPv4 addresses mapped into IPv6 that are any of these.
pub fn is_refused_address(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || (a == 100 && (64..128).contains(&b))
                || a == 0
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_refused_address(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            v6.is_loopback()
                || v6.is_unspecified()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
        }
    }
}

/// Checks a subscription URL: `http` or `https` with a host, and unless `allow_private`, every
/// address the host resolves to now is public. VALIDATION_ERROR on `url` otherwise.
pub fn check_target(url: &str, allow_private: bool) -> Result<()> {
    let bad = |why: String| Error::validation("url", why);
    let uri: Uri = url
        .parse()
        .map_err(|e| bad(format!("url is not a URL: {e}")))?;
    let port = match uri.scheme_str() {
        Some("http") => 80,
        Some("https") => 443,
        _ => return Err(bad("url must start with http:// or https://".into())),
    };
    let host = uri
        .host()
        .filter(|h| !h.is_empty())
        .ok_or_else(|| bad("url must name a host".into()))?;
    if allow_private {
        return Ok(());
    }
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let addrs: Vec<SocketAddr> = (host, uri.port_u16().unwrap_or(port))
        .to_socket_addrs()
        .map_err(|e| bad(format!("url's host {host:?} does not resolve: {e}")))?
        .collect();
    if let Some(refused) = addrs.iter().find(|a| is_refused_address(a.ip())) {
        return Err(bad(format!(
            "url's host {host:?} resolves to {}, a loopback, private or link-local address \
             (a server started with --webhook-allow-private allows it)",
            refused.ip()
        )));
    }
    Ok(())
}

/// ureq's resolver, keeping only the addresses a delivery may connect to.
#[derive(Debug, Default)]
pub(crate) struct GuardedResolver {
    pub allow_private: bool,
    inner: DefaultResolver,
}

impl GuardedResolver {
    pub fn new(allow_private: bool) -> Self {
        GuardedResolver {
            allow_private,
            inner: DefaultResolver::default(),
        }
    }
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> std::result::Result<ResolvedSocketAddrs, ureq::Error> {
        let found = self.inner.resolve(uri, config, timeout)?;
        if self.allow_private {
            return Ok(found);
        }
        let mut kept = self.empty();
        for addr in found.iter().filter(|a| !is_refused_address(a.ip())) {
            kept.push(*addr);
        }
        if kept.is_empty() {
            return Err(ureq::Error::Io(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                "the host resolves only to loopback, private or link-local addresses",
            )));
        }
        Ok(kept)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_the_operators_network() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_refused_address(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111", "172.32.0.1"] {
            assert!(!is_refused_address(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn checks_urls() {
        assert!(check_target("http://127.0.0.1:9/x", false).is_err());
        assert!(check_target("http://localhost/x", false).is_err());
        assert!(check_target("http://[::1]:8080/", false).is_err());
        assert!(check_target("http://127.0.0.1:9/x", true).is_ok());
        assert!(check_target("ftp://example.com/", true).is_err());
        assert!(check_target("not a url", true).is_err());
    }
}
