//! The client's address behind reverse proxies (the `trusted_proxies` setting).
//!
//! A request's socket peer is the client, unless the peer is a proxy the
//! operator trusts: then the client is read from `X-Forwarded-For`, which each
//! proxy extends on the right with the address it received the request from.
//! The standard walk ([`client_address`]): from the right, skip addresses that
//! are themselves trusted proxies; the first one that is not is the client.
//! Everything left of it was written by the client (or by proxies we do not
//! know) and could be forged, so it is never read. A malformed entry where an
//! address is needed gives the peer back, never an error.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

/// An IP network: an address and a prefix length (`10.0.0.0/8`, `fd00::/8`);
/// a bare address is a network of one (`/32`, `/128`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

/// Why a network could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not an IP address or a CIDR network (such as 10.0.0.0/8, 192.168.1.5 or fd00::/8)")]
pub struct BadNet(pub String);

impl IpNet {
    /// The network's first address (host bits cleared).
    pub fn addr(&self) -> IpAddr {
        self.addr
    }

    pub fn prefix(&self) -> u8 {
        self.prefix
    }

    /// Whether `ip` is in the network. An IPv4-mapped IPv6 address
    /// (`::ffff:10.1.2.3`, what a dual-stack socket reports) is read as its IPv4 address.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, canonical(ip)) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => mask4(ip, self.prefix) == net,
            (IpAddr::V6(net), IpAddr::V6(ip)) => mask6(ip, self.prefix) == net,
            _ => false,
        }
    }
}

impl FromStr for IpNet {
    type Err = BadNet;
    fn from_str(s: &str) -> Result<Self, BadNet> {
        let bad = || BadNet(s.to_owned());
        let t = s.trim();
        let (addr, prefix) = match t.split_once('/') {
            Some((a, p)) => {
                if p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit()) || p.len() > 3 {
                    return Err(bad());
                }
                (a, Some(p.parse::<u8>().map_err(|_| bad())?))
            }
            None => (t, None),
        };
        let addr = addr.parse::<IpAddr>().map_err(|_| bad())?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        if prefix > max {
            return Err(bad());
        }
        // An IPv4-mapped network (`::ffff:10.0.0.0/104`) is the IPv4 network it maps.
        let (addr, prefix) = match addr {
            IpAddr::V6(v6) if prefix >= 96 && v6.to_ipv4_mapped().is_some() => (canonical(addr), prefix - 96),
            _ => (addr, prefix),
        };
        let addr = match addr {
            IpAddr::V4(a) => IpAddr::V4(mask4(a, prefix)),
            IpAddr::V6(a) => IpAddr::V6(mask6(a, prefix)),
        };
        Ok(IpNet { addr, prefix })
    }
}

impl std::fmt::Display for IpNet {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.addr, self.prefix)
    }
}

/// Reads a list of networks (the setting), naming the first bad one.
pub fn parse_networks<S: AsRef<str>>(items: &[S]) -> Result<Vec<IpNet>, BadNet> {
    items.iter().map(|s| s.as_ref().parse()).collect()
}

/// The client's address: `peer` unless it is in `trusted`, else the right-most
/// address of the `X-Forwarded-For` values (`forwarded_for`, one per header
/// line, in the order received) that is not itself in `trusted`. When every
/// listed address is trusted, the left-most is the client. When the header is
/// missing or empty, or an entry that has to be read is not an address, the
/// peer.
pub fn client_address<'a>(peer: IpAddr, trusted: &[IpNet], forwarded_for: impl IntoIterator<Item = &'a str>) -> IpAddr {
    let peer = canonical(peer);
    let is_trusted = |ip: IpAddr| trusted.iter().any(|n| n.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    // Several header lines are one list, joined in order (RFC 9110 §5.3).
    let entries: Vec<&str> = forwarded_for.into_iter().flat_map(|v| v.split(',')).map(str::trim).collect();
    let mut client = peer;
    for entry in entries.iter().rev() {
        let Some(ip) = parse_entry(entry) else {
            return peer;
        };
        client = ip;
        if !is_trusted(ip) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, optionally with a port
/// (`203.0.113.7:51234`, `[2001:db8::1]:443`) or in brackets.
fn parse_entry(entry: &str) -> Option<IpAddr> {
    if entry.is_empty() || entry.len() > 64 {
        return None;
    }
    if let Ok(ip) = entry.parse::<IpAddr>() {
        return Some(canonical(ip));
    }
    if let Some(rest) = entry.strip_prefix('[') {
        let (inside, after) = rest.split_once(']')?;
        let port_ok = after.is_empty() || after.strip_prefix(':').is_some_and(is_port);
        return port_ok.then(|| inside.parse::<Ipv6Addr>().ok()).flatten().map(|ip| canonical(IpAddr::V6(ip)));
    }
    let (host, port) = entry.rsplit_once(':')?;
    (is_port(port)).then(|| host.parse::<Ipv4Addr>().ok()).flatten().map(IpAddr::V4)
}

fn is_port(p: &str) -> bool {
    p.bytes().all(|b| b.is_ascii_digit()) && p.parse::<u16>().is_ok()
}

/// An IPv4-mapped IPv6 address as IPv4; any other address as it is.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(ip),
        v4 => v4,
    }
}

fn mask4(ip: Ipv4Addr, prefix: u8) -> Ipv4Addr {
    let bits = u32::from(ip);
    let mask = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix)) };
    Ipv4Addr::from(bits & mask)
}

fn mask6(ip: Ipv6Addr, prefix: u8) -> Ipv6Addr {
    let bits = u128::from(ip);
    let mask = if prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(prefix)) };
    Ipv6Addr::from(bits & mask)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    fn nets(items: &[&str]) -> Vec<IpNet> {
        parse_networks(items).unwrap()
    }

    #[test]
    fn networks_are_read_and_bad_ones_named() {
        let n: IpNet = "10.1.2.3/8".parse().unwrap();
        assert_eq!(n.to_string(), "10.0.0.0/8", "host bits are cleared");
        assert_eq!(" 192.168.1.5 ".parse::<IpNet>().unwrap().to_string(), "192.168.1.5/32");
        assert_eq!("fd00::1/8".parse::<IpNet>().unwrap().to_string(), "fd00::/8");
        assert_eq!("::1".parse::<IpNet>().unwrap().to_string(), "::1/128");
        assert_eq!("0.0.0.0/0".parse::<IpNet>().unwrap().to_string(), "0.0.0.0/0");
        assert_eq!("::ffff:10.0.0.0/104".parse::<IpNet>().unwrap().to_string(), "10.0.0.0/8");
        assert_eq!("::ffff:10.1.2.3".parse::<IpNet>().unwrap().to_string(), "10.1.2.3/32");
        for bad in [
            "",
            "10.0.0.0/33",
            "::/129",
            "10.0.0.0/",
            "10.0.0.0/-1",
            "10.0.0.0/+8",
            "10.0.0/8",
            "localhost",
            "10.0.0.0/8/8",
            "10.0.0.0/0008",
        ] {
            let e = bad.parse::<IpNet>().unwrap_err();
            assert!(e.to_string().contains("is not an IP address or a CIDR network"), "{bad}: {e}");
        }
        let e = parse_networks(&["10.0.0.0/8", "10.0.0.0/33"]).unwrap_err();
        assert_eq!(e, BadNet("10.0.0.0/33".into()));
    }

    #[test]
    fn membership() {
        let n: IpNet = "10.0.0.0/8".parse().unwrap();
        assert!(n.contains(ip("10.255.0.1")) && !n.contains(ip("11.0.0.1")));
        assert!(n.contains(ip("::ffff:10.2.3.4")), "a dual-stack socket's mapped address");
        assert!(!n.contains(ip("::a02:304")), "IPv4-compatible (deprecated) is not mapped");
        let v6: IpNet = "2001:db8::/32".parse().unwrap();
        assert!(v6.contains(ip("2001:db8:ffff::1")) && !v6.contains(ip("2001:db9::1")));
        assert!(!v6.contains(ip("10.0.0.1")));
        let all: IpNet = "0.0.0.0/0".parse().unwrap();
        assert!(all.contains(ip("203.0.113.9")) && !all.contains(ip("2001:db8::1")));
        let one: IpNet = "127.0.0.1".parse().unwrap();
        assert!(one.contains(ip("127.0.0.1")) && !one.contains(ip("127.0.0.2")));
    }

    #[test]
    fn an_untrusted_peer_is_the_client_whatever_it_forwards() {
        let t = nets(&["10.0.0.0/8"]);
        assert_eq!(client_address(ip("203.0.113.5"), &t, ["1.2.3.4"]), ip("203.0.113.5"));
        assert_eq!(client_address(ip("203.0.113.5"), &[], ["1.2.3.4"]), ip("203.0.113.5"));
        // With no setting, nothing is trusted, not even loopback.
        assert_eq!(client_address(ip("127.0.0.1"), &[], ["1.2.3.4"]), ip("127.0.0.1"));
    }

    #[test]
    fn the_right_most_untrusted_address_is_the_client() {
        let t = nets(&["10.0.0.0/8", "2001:db8:1::/48"]);
        let peer = ip("10.0.0.2");
        assert_eq!(client_address(peer, &t, ["198.51.100.7"]), ip("198.51.100.7"));
        // A forged entry on the left is not read: the proxy appended the real one.
        assert_eq!(client_address(peer, &t, ["6.6.6.6, 198.51.100.7"]), ip("198.51.100.7"));
        // Chains of trusted proxies are skipped.
        assert_eq!(client_address(peer, &t, ["6.6.6.6, 198.51.100.7, 10.1.1.1, 10.2.2.2"]), ip("198.51.100.7"));
        // Several header lines are one list.
        assert_eq!(client_address(peer, &t, ["6.6.6.6", "198.51.100.7 ,10.1.1.1"]), ip("198.51.100.7"));
        // Everything trusted: the left-most.
        assert_eq!(client_address(peer, &t, ["10.9.9.9, 10.1.1.1"]), ip("10.9.9.9"));
        // IPv6, ports, brackets, mapped addresses.
        assert_eq!(client_address(ip("2001:db8:1::5"), &t, ["2001:db8:2::9"]), ip("2001:db8:2::9"));
        assert_eq!(client_address(peer, &t, ["[2001:db8:2::9]:443"]), ip("2001:db8:2::9"));
        assert_eq!(client_address(peer, &t, ["[2001:db8:2::9]"]), ip("2001:db8:2::9"));
        assert_eq!(client_address(peer, &t, ["198.51.100.7:51234"]), ip("198.51.100.7"));
        assert_eq!(client_address(ip("::ffff:10.0.0.2"), &t, ["::ffff:198.51.100.7"]), ip("198.51.100.7"));
        // The peer's mapped form is read as IPv4 when it is the answer too.
        assert_eq!(client_address(ip("::ffff:203.0.113.5"), &t, ["1.2.3.4"]), ip("203.0.113.5"));
    }

    #[test]
    fn missing_or_malformed_values_give_the_peer() {
        let t = nets(&["10.0.0.0/8"]);
        let peer = ip("10.0.0.2");
        assert_eq!(client_address(peer, &t, []), peer);
        assert_eq!(client_address(peer, &t, [""]), peer);
        assert_eq!(client_address(peer, &t, [" , "]), peer);
        for bad in [
            "unknown",
            "1.2.3.4.5",
            "1.2.3.4:99999",
            "1.2.3.4:",
            "[::1",
            "[::1]x",
            "2001:db8::1:80x",
            "<script>",
            "1.2.3.4 5.6.7.8",
            "\u{0}",
        ] {
            assert_eq!(client_address(peer, &t, [bad]), peer, "{bad:?}");
        }
        // A malformed entry to the left of the client is never read.
        assert_eq!(client_address(peer, &t, ["garbage, 198.51.100.7"]), ip("198.51.100.7"));
        // A malformed entry behind trusted hops gives the peer.
        assert_eq!(client_address(peer, &t, ["198.51.100.7, junk, 10.1.1.1"]), peer);
        let long = "1".repeat(100_000);
        assert_eq!(client_address(peer, &t, [long.as_str()]), peer);
    }
}
