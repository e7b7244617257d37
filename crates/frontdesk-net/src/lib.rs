//! The network guard: outbound calls chosen by admins or by pages (the
//! crawler, actions, custom-channel webhooks) must not reach private, loopback
//! or link-local addresses unless `allow_private_networks` is on.
//!
//! Three checks, used together: [`literal_ip`] + [`is_private`] refuse an IP
//! literal before any call; [`check_url`] resolves a host name once (the
//! crawler, which follows redirects by hand); [`PublicOnly`] is a resolver for
//! reqwest that drops private addresses at connection time, so a name cannot
//! be re-pointed between the check and the call. [`refused_private`] finds our
//! refusal among an error's causes.

use std::net::{IpAddr, SocketAddr};

use url::Url;

/// Whether an address is private, loopback, link-local, unspecified,
/// broadcast, multicast or carrier-grade NAT (IPv4 mapped in IPv6 included).
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            v4.is_private()
                || v4.is_loopback()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.octets()[0] == 100 && (64..128).contains(&v4.octets()[1]) // carrier-grade NAT
        }
        IpAddr::V6(v6) => {
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (v6.segments()[0] & 0xfe00) == 0xfc00 // unique local
                || (v6.segments()[0] & 0xffc0) == 0xfe80 // link local
                || v6.to_ipv4_mapped().is_some_and(|v4| is_private(IpAddr::V4(v4)))
        }
    }
}

/// The IP address a URL names literally (`http://10.0.0.1/`), if any.
pub fn literal_ip(url: &Url) -> Option<IpAddr> {
    match url.host()? {
        url::Host::Ipv4(ip) => Some(IpAddr::V4(ip)),
        url::Host::Ipv6(ip) => Some(IpAddr::V6(ip)),
        url::Host::Domain(_) => None,
    }
}

/// Refuses URLs that are not http(s) or that resolve to a private address
/// (unless allowed). Returns a message naming the problem.
pub async fn check_url(url: &Url, allow_private: bool) -> Result<(), String> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err("only http and https URLs can be imported".into());
    }
    let host = url.host_str().ok_or("the URL has no host")?;
    if allow_private {
        return Ok(());
    }
    let port = url.port_or_known_default().unwrap_or(80);
    let addrs: Vec<IpAddr> = match tokio::net::lookup_host((host.trim_matches(['[', ']']), port)).await {
        Ok(a) => a.map(|s| s.ip()).collect(),
        Err(e) => return Err(format!("the host {host} could not be resolved: {e}")),
    };
    if addrs.is_empty() {
        return Err(format!("the host {host} has no address"));
    }
    if let Some(ip) = addrs.into_iter().find(|ip| is_private(*ip)) {
        return Err(format!("{host} resolves to a private or local address ({ip}); only public sites can be imported"));
    }
    Ok(())
}

/// The error a [`PublicOnly`] resolver fails with: the host has no public address.
#[derive(Debug)]
pub struct PrivateAddress(String);

impl std::fmt::Display for PrivateAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} resolves to a private or local address", self.0)
    }
}

impl std::error::Error for PrivateAddress {}

/// A resolver that drops private addresses (and fails when none is left),
/// checked at connection time: no rebinding window.
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let public: Vec<SocketAddr> = addrs.into_iter().filter(|a| !is_private(a.ip())).collect();
            if public.is_empty() {
                return Err(Box::new(PrivateAddress(host)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// Our private-address refusal, when it is the error or one of its causes.
pub fn refused_private<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a PrivateAddress> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(p) = err.downcast_ref::<PrivateAddress>() {
            return Some(p);
        }
        cur = err.source();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::is_private;

    #[test]
    fn private_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.10",
            "172.16.5.4",
            "169.254.1.1",
            "0.0.0.0",
            "::1",
            "fe80::1",
            "fd00::1",
            "100.64.0.1",
            "::ffff:127.0.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "8.8.8.8", "2606:4700::1111"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
    }
}
