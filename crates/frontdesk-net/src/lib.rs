//! The network guard: outbound connections the product makes on a user's
//! behalf (the crawler, actions, channel webhooks, the Graph API, IMAP/SMTP)
//! must not reach private, loopback, link-local or otherwise special
//! addresses unless `allow_private_networks` is on.
//!
//! One rule — *resolve once, check, connect to that address* — in three forms:
//!
//! * [`literal_ip`] + [`is_private`]: a URL naming an IP literal is refused
//!   before any call (reqwest does not ask a resolver about literals);
//! * [`PublicOnly`]: a resolver for reqwest that drops private addresses at
//!   connection time, so the address checked is the one connected to and a
//!   name cannot be re-pointed between a check and the call (DNS rebinding);
//!   [`guarded`] puts it on a client builder;
//! * [`resolve_checked`]: for raw TCP/TLS (IMAP, SMTP), resolves a host once
//!   and refuses it when any address is private; the caller connects to the
//!   returned [`SocketAddr`]s and keeps the host name for TLS.
//!
//! [`check_url`] / [`check_host`] are the same checks for a value being saved
//! (a clear refusal naming the address); [`refused_private`] finds our refusal
//! among an error's causes.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};

use url::Url;

/// The setting that lets connections reach private addresses, as refusals name it.
pub const SETTING: &str = "allow_private_networks";

/// Whether an IPv4 address is not a public unicast address: private,
/// loopback, link-local, "this network" (0.0.0.0/8), carrier-grade NAT,
/// IETF protocol assignments (192.0.0.0/24), documentation, benchmarking
/// (198.18.0.0/15), multicast, reserved (240.0.0.0/4) or broadcast.
fn is_private_v4(v4: Ipv4Addr) -> bool {
    let [a, b, c, _] = v4.octets();
    v4.is_private()
        || v4.is_loopback()
        || v4.is_link_local()
        || v4.is_multicast()
        || v4.is_broadcast()
        || a == 0 // 0.0.0.0/8, "this network"
        || a == 100 && (64..128).contains(&b) // carrier-grade NAT, 100.64.0.0/10
        || a == 192 && b == 0 && c == 0 // IETF protocol assignments, 192.0.0.0/24
        || a == 192 && b == 0 && c == 2 // documentation, TEST-NET-1
        || a == 198 && b == 51 && c == 100 // documentation, TEST-NET-2
        || a == 203 && b == 0 && c == 113 // documentation, TEST-NET-3
        || a == 198 && (b & 0xfe) == 18 // benchmarking, 198.18.0.0/15
        || a == 192 && b == 88 && c == 99 // 6to4 relay anycast (deprecated)
        || a >= 240 // reserved, 240.0.0.0/4 (and broadcast)
}

/// The IPv4 address an IPv6 address carries, for the forms that reach an IPv4
/// host: IPv4-mapped (`::ffff:a.b.c.d`), IPv4-translated (`::ffff:0:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), NAT64 (`64:ff9b::/96` and the local-use
/// `64:ff9b:1::/48`) and 6to4 (`2002:AABB:CCDD::/16`).
fn embedded_v4(v6: Ipv6Addr) -> Option<Ipv4Addr> {
    let s = v6.segments();
    let low = Ipv4Addr::new((s[6] >> 8) as u8, s[6] as u8, (s[7] >> 8) as u8, s[7] as u8);
    match s {
        [0, 0, 0, 0, 0, 0xffff, _, _] => Some(low),
        [0, 0, 0, 0, 0xffff, 0, _, _] => Some(low),
        // IPv4-compatible; `::` and `::1` themselves are handled as IPv6.
        [0, 0, 0, 0, 0, 0, hi, _] if hi != 0 => Some(low),
        [0x64, 0xff9b, 0, 0, 0, 0, _, _] => Some(low),
        [0x64, 0xff9b, 1, _, _, _, _, _] => Some(low),
        [0x2002, hi, lo, _, _, _, _, _] => Some(Ipv4Addr::new((hi >> 8) as u8, hi as u8, (lo >> 8) as u8, lo as u8)),
        _ => None,
    }
}

/// Whether an address must not be connected to without `allow_private_networks`:
/// any IPv4 address that is not public unicast (see the list in the source),
/// and in IPv6 loopback, unspecified, multicast, unique local (`fc00::/7`),
/// link-local (`fe80::/10`), site-local (`fec0::/10`), discard (`100::/64`),
/// documentation (`2001:db8::/32`), Teredo (`2001::/32`), and every form that embeds an IPv4
/// address (mapped, translated, compatible, NAT64, 6to4, Teredo) whose IPv4
/// address is private.
pub fn is_private(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_private_v4(v4),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local, fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local, fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated), fec0::/10
                || s[..4] == [0x100, 0, 0, 0] // discard, 100::/64
                || s[..2] == [0x2001, 0xdb8] // documentation
                || s[..2] == [0x2001, 0] // Teredo, 2001::/32: tunnels to an address we cannot check
                || embedded_v4(v6).is_some_and(is_private_v4)
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

/// A refused connection: `host` is or resolves to the private address `ip`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrivateAddress {
    pub host: String,
    pub ip: IpAddr,
    /// The setting that would allow it (named in the message).
    pub setting: &'static str,
}

impl PrivateAddress {
    pub fn new(host: impl Into<String>, ip: IpAddr) -> Self {
        PrivateAddress { host: host.into(), ip, setting: SETTING }
    }
}

impl std::fmt::Display for PrivateAddress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = self.host.trim_matches(['[', ']']);
        if host.parse::<IpAddr>().is_ok_and(|ip| ip == self.ip) {
            write!(f, "{host} is a private or local address")?;
        } else {
            write!(f, "{host} points to a private or local address ({})", self.ip)?;
        }
        write!(f, "; set {} to allow it", self.setting)
    }
}

impl std::error::Error for PrivateAddress {}

/// Why a host or URL was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GuardError {
    /// Not an http(s) URL.
    Scheme(String),
    /// The URL has no host.
    NoHost,
    /// The host (or one of its addresses) is private.
    Private(PrivateAddress),
    /// The host name could not be resolved.
    Unresolved { host: String, message: String },
}

impl std::fmt::Display for GuardError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            GuardError::Scheme(s) => write!(f, "{s} URLs cannot be used: only http and https"),
            GuardError::NoHost => write!(f, "the URL has no host"),
            GuardError::Private(p) => p.fmt(f),
            GuardError::Unresolved { host, message } => write!(f, "the host {host} could not be resolved: {message}"),
        }
    }
}

impl std::error::Error for GuardError {}

/// The private address a URL names literally, unless allowed.
pub fn check_literal(url: &Url, allow_private: bool) -> Result<(), PrivateAddress> {
    match literal_ip(url) {
        Some(ip) if !allow_private && is_private(ip) => {
            Err(PrivateAddress::new(url.host_str().unwrap_or_default(), ip))
        }
        _ => Ok(()),
    }
}

/// Resolves `host` once and refuses it when any of its addresses is private
/// (unless allowed); the caller connects to the addresses returned, so the
/// address checked is the address connected to.
pub async fn resolve_checked(host: &str, port: u16, allow_private: bool) -> Result<Vec<SocketAddr>, GuardError> {
    let bare = host.trim().trim_matches(['[', ']']);
    let addrs: Vec<SocketAddr> = match bare.parse::<IpAddr>() {
        Ok(ip) => vec![SocketAddr::new(ip, port)],
        Err(_) => match tokio::net::lookup_host((bare, port)).await {
            Ok(a) => a.collect(),
            Err(e) => return Err(GuardError::Unresolved { host: bare.to_owned(), message: e.to_string() }),
        },
    };
    if addrs.is_empty() {
        return Err(GuardError::Unresolved { host: bare.to_owned(), message: "no address".into() });
    }
    if !allow_private {
        if let Some(a) = addrs.iter().find(|a| is_private(a.ip())) {
            return Err(GuardError::Private(PrivateAddress::new(bare, a.ip())));
        }
    }
    Ok(addrs)
}

/// For a host being saved: refused when it is, or resolves to, a private
/// address (unless allowed). A name that does not resolve now is accepted
/// (it is checked again at every connection).
pub async fn check_host(host: &str, port: u16, allow_private: bool) -> Result<(), PrivateAddress> {
    let lookup = resolve_checked(host, port, allow_private);
    match tokio::time::timeout(std::time::Duration::from_secs(5), lookup).await {
        Ok(Err(GuardError::Private(p))) => Err(p),
        _ => Ok(()),
    }
}

/// Refuses URLs that are not http(s) or that are, or resolve to, a private
/// address (unless allowed). For values being saved, and for messages: a
/// connection must still go through [`PublicOnly`] (or [`guarded`]).
pub async fn check_url(url: &Url, allow_private: bool) -> Result<(), String> {
    check_url_typed(url, allow_private).await.map_err(|e| e.to_string())
}

/// [`check_url`] with the reason typed.
pub async fn check_url_typed(url: &Url, allow_private: bool) -> Result<(), GuardError> {
    if !matches!(url.scheme(), "http" | "https") {
        return Err(GuardError::Scheme(url.scheme().to_owned()));
    }
    let host = url.host_str().ok_or(GuardError::NoHost)?;
    if allow_private {
        return Ok(());
    }
    let port = url.port_or_known_default().unwrap_or(80);
    resolve_checked(host, port, false).await.map(|_| ())
}

/// A resolver that drops private addresses (and fails with [`PrivateAddress`]
/// when none is left), checked at connection time: no rebinding window.
/// IP literals never reach a resolver: check them with [`check_literal`].
pub struct PublicOnly;

impl reqwest::dns::Resolve for PublicOnly {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            let first_private = addrs.iter().find(|a| is_private(a.ip())).map(|a| a.ip());
            let public: Vec<SocketAddr> = addrs.into_iter().filter(|a| !is_private(a.ip())).collect();
            if public.is_empty() {
                let ip = first_private.unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED));
                return Err(Box::new(PrivateAddress::new(host, ip)) as Box<dyn std::error::Error + Send + Sync>);
            }
            Ok(Box::new(public.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// A client builder with the guard: [`PublicOnly`] as its resolver unless
/// private networks are allowed. Redirects are the caller's to check.
pub fn guarded(builder: reqwest::ClientBuilder, allow_private: bool) -> reqwest::ClientBuilder {
    if allow_private {
        builder
    } else {
        builder.dns_resolver(std::sync::Arc::new(PublicOnly))
    }
}

/// One pooled client per guard setting for the whole process: `static
/// CLIENTS: Clients = Clients::new();` then `CLIENTS.get(allow_private, build)`,
/// where `build` makes the client (through [`guarded`]) the first time.
pub struct Clients {
    open: std::sync::OnceLock<reqwest::Client>,
    guarded: std::sync::OnceLock<reqwest::Client>,
}

impl Clients {
    pub const fn new() -> Clients {
        Clients { open: std::sync::OnceLock::new(), guarded: std::sync::OnceLock::new() }
    }

    pub fn get(&self, allow_private: bool, build: fn(bool) -> reqwest::Client) -> &reqwest::Client {
        let slot = if allow_private { &self.open } else { &self.guarded };
        slot.get_or_init(|| build(allow_private))
    }
}

impl Default for Clients {
    fn default() -> Clients {
        Clients::new()
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
    use super::*;

    #[test]
    fn private_addresses_are_recognised() {
        // (address, private?, what it is)
        let table: &[(&str, bool, &str)] = &[
            ("127.0.0.1", true, "loopback"),
            ("127.255.1.2", true, "loopback /8"),
            ("10.1.2.3", true, "private"),
            ("172.16.5.4", true, "private"),
            ("172.31.255.255", true, "private"),
            ("192.168.0.10", true, "private"),
            ("169.254.169.254", true, "link-local (cloud metadata)"),
            ("0.0.0.0", true, "unspecified"),
            ("0.1.2.3", true, "this network 0.0.0.0/8"),
            ("100.64.0.1", true, "carrier-grade NAT"),
            ("100.127.255.254", true, "carrier-grade NAT"),
            ("192.0.0.8", true, "IETF protocol assignments 192.0.0.0/24"),
            ("192.0.2.1", true, "documentation"),
            ("198.18.0.1", true, "benchmarking 198.18.0.0/15"),
            ("198.19.255.1", true, "benchmarking 198.18.0.0/15"),
            ("224.0.0.1", true, "multicast"),
            ("240.0.0.1", true, "reserved 240.0.0.0/4"),
            ("255.255.255.255", true, "broadcast"),
            ("::1", true, "IPv6 loopback"),
            ("::", true, "IPv6 unspecified"),
            ("fe80::1", true, "link-local"),
            ("fd00::1", true, "unique local"),
            ("fc00::1", true, "unique local"),
            ("fec0::1", true, "site-local"),
            ("ff02::1", true, "multicast"),
            ("100::1", true, "discard 100::/64"),
            ("2001:db8::1", true, "documentation"),
            ("2001:0:4136:e378:8000:63bf:3fff:fdd2", true, "Teredo"),
            ("::ffff:127.0.0.1", true, "IPv4-mapped loopback"),
            ("::ffff:10.0.0.1", true, "IPv4-mapped private"),
            ("::ffff:0:127.0.0.1", true, "IPv4-translated loopback"),
            ("::127.0.0.1", true, "IPv4-compatible loopback"),
            ("::10.0.0.1", true, "IPv4-compatible private"),
            ("::169.254.169.254", true, "IPv4-compatible link-local"),
            ("64:ff9b::127.0.0.1", true, "NAT64 of loopback"),
            ("64:ff9b::a00:1", true, "NAT64 of 10.0.0.1"),
            ("64:ff9b:1::a9fe:a9fe", true, "local-use NAT64 of 169.254.169.254"),
            ("2002:7f00:1::", true, "6to4 of 127.0.0.1"),
            ("2002:c0a8:101::1", true, "6to4 of 192.168.1.1"),
            ("2002:a9fe:a9fe::", true, "6to4 of 169.254.169.254"),
            // Public.
            ("93.184.216.34", false, "public"),
            ("8.8.8.8", false, "public"),
            ("100.128.0.1", false, "just past carrier-grade NAT"),
            ("172.32.0.1", false, "just past 172.16/12"),
            ("198.20.0.1", false, "just past benchmarking"),
            ("2606:4700::1111", false, "public IPv6"),
            ("::ffff:8.8.8.8", false, "IPv4-mapped public"),
            ("64:ff9b::808:808", false, "NAT64 of 8.8.8.8"),
            ("2002:808:808::1", false, "6to4 of 8.8.8.8"),
        ];
        for (ip, private, what) in table {
            assert_eq!(is_private(ip.parse().unwrap()), *private, "{ip} ({what})");
        }
    }

    #[test]
    fn literals_are_refused_naming_address_and_setting() {
        for u in
            ["http://[::127.0.0.1]/", "http://[64:ff9b::7f00:1]:8080/x", "http://[2002:7f00:1::]/", "http://0.0.0.0/"]
        {
            let url = Url::parse(u).unwrap();
            let e = check_literal(&url, false).unwrap_err();
            assert!(e.to_string().contains(SETTING), "{e}");
            assert!(check_literal(&url, true).is_ok());
        }
        let e = check_literal(&Url::parse("http://127.0.0.1:9/").unwrap(), false).unwrap_err();
        assert_eq!(e.to_string(), "127.0.0.1 is a private or local address; set allow_private_networks to allow it");
        assert!(check_literal(&Url::parse("https://8.8.8.8/").unwrap(), false).is_ok());
    }

    #[tokio::test]
    async fn names_are_resolved_once_and_checked() {
        let e = resolve_checked("localhost", 25, false).await.unwrap_err();
        let GuardError::Private(p) = e else { panic!("{e:?}") };
        assert!(p.ip.is_loopback(), "{p:?}");
        assert!(p.to_string().starts_with("localhost points to a private or local address ("), "{p}");
        let addrs = resolve_checked("localhost", 25, true).await.unwrap();
        assert!(addrs.iter().all(|a| a.port() == 25 && a.ip().is_loopback()), "{addrs:?}");
        assert!(resolve_checked("[::ffff:127.0.0.1]", 993, false).await.is_err());
        assert_eq!(resolve_checked("8.8.8.8", 993, false).await.unwrap(), vec!["8.8.8.8:993".parse().unwrap()]);
    }

    #[tokio::test]
    async fn the_resolver_refuses_a_name_of_a_private_address_at_connect_time() {
        // A listener that records whether it was called.
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let called = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
        let seen = called.clone();
        tokio::spawn(async move {
            while let Ok((_s, _)) = listener.accept().await {
                seen.store(true, std::sync::atomic::Ordering::SeqCst);
            }
        });
        let client = guarded(reqwest::Client::builder(), false).build().unwrap();
        let e = client.get(format!("http://localhost:{port}/")).send().await.unwrap_err();
        let p = refused_private(&e).expect("refused by the guard");
        assert_eq!(p.host, "localhost");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert!(!called.load(std::sync::atomic::Ordering::SeqCst), "the private listener was called");
    }
}
