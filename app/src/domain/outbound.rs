//! Where a workflow may send requests. By default nothing inside: loopback,
//! private, link-local (cloud metadata), shared, reserved and multicast
//! addresses are refused, however they are spelled (IPv4-mapped IPv6,
//! NAT64, 6to4). An allow list (host names, `*.` wildcards, addresses and
//! networks, each with an optional port) admits intended internal hosts.
//! The same patterns say where each secret may be sent.

use ipnet::IpNet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether `url` can be a webhook's address: `http(s)://` with a host, at
/// most 2000 characters, no spaces or control characters. (Where it may
/// point is the policy's call when it is sent.) The error says what it
/// must be.
pub fn check_webhook_url(url: &str) -> Result<(), String> {
    let host = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .and_then(|rest| rest.split(['/', '?', '#']).next());
    let ok = url.len() <= 2000
        && host.is_some_and(|h| !h.is_empty())
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(format!(
            "must be an http(s) address of at most 2000 characters, not '{}'",
            url.chars().take(80).collect::<String>()
        ))
    }
}

/// Why `ip` is refused unless allowed, or `None` for a public address.
pub fn refused_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => v4_kind(v4),
        IpAddr::V6(v6) => v6_kind(v6),
    }
}

fn v4_kind(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (169, 254, 169) if ip.octets()[3] == 254 => "link-local address (cloud metadata)",
        (0, _, _) => "'this network' address (it reaches this machine)",
        (127, _, _) => "loopback address (this machine)",
        (10, _, _) | (192, 168, _) => "private-network address",
        (172, 16..=31, _) => "private-network address",
        (169, 254, _) => "link-local address",
        (100, 64..=127, _) => "shared (carrier-grade NAT) address",
        (192, 0, 0) => "reserved address",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation address",
        (198, 18..=19, _) => "benchmarking address",
        (224..=239, _, _) => "multicast address",
        (240..=255, _, _) => "reserved address",
        _ => return None,
    })
}

fn v6_kind(ip: Ipv6Addr) -> Option<&'static str> {
    let s = ip.segments();
    // addresses that carry an IPv4 address are judged by it
    if let Some(v4) = ip.to_ipv4_mapped() {
        return v4_kind(v4);
    }
    if s[..6] == [0; 6] && !ip.is_loopback() && !ip.is_unspecified() {
        // IPv4-compatible (::a.b.c.d)
        return v4_kind(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64
        return v4_kind(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    if s[0] == 0x2002 {
        // 6to4
        return v4_kind(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    Some(match s[0] {
        _ if ip.is_loopback() => "loopback address (this machine)",
        _ if ip.is_unspecified() => "unspecified address (it reaches this machine)",
        0xfe80..=0xfebf => "link-local address",
        0xfec0..=0xfeff => "site-local (private) address",
        0xfc00..=0xfdff => "private-network (unique local) address",
        0xff00..=0xffff => "multicast address",
        0x2001 if s[1] == 0x0db8 => "documentation address",
        0x0100 if s[1..4] == [0, 0, 0] => "discard address",
        _ => return None,
    })
}

#[derive(Clone, Debug, PartialEq)]
enum Host {
    Net(IpNet),
    /// Lowercase; `*.example.com` matches every name below example.com.
    Name(String),
}

/// One entry: `ledger.internal`, `*.corp.example`, `10.1.2.3`,
/// `10.0.0.0/8`, `[fd00::1]`, each optionally with `:port`.
#[derive(Clone, Debug, PartialEq)]
pub struct HostPattern {
    host: Host,
    port: Option<u16>,
}

impl std::str::FromStr for HostPattern {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let s = s.trim();
        let bad = || {
            format!(
                "'{s}' is not a host pattern; write a name (ledger.internal, *.corp.example), an address or network (10.1.2.3, 10.0.0.0/8, [fd00::1]), optionally with :port"
            )
        };
        if s.is_empty() || s.len() > 253 || s.contains("://") || s.contains(char::is_whitespace) {
            return Err(bad());
        }
        if let Ok(net) = s.parse::<IpNet>() {
            return Ok(HostPattern {
                host: Host::Net(net),
                port: None,
            });
        }
        if let Ok(ip) = s.parse::<IpAddr>() {
            return Ok(HostPattern {
                host: Host::Net(ip.into()),
                port: None,
            });
        }
        // [v6]:port, [v6], host:port, v4:port, v4/n:port
        let (host, port) = if let Some(rest) = s.strip_prefix('[') {
            let (h, after) = rest.split_once(']').ok_or_else(bad)?;
            let port = match after {
                "" => None,
                p => Some(p.strip_prefix(':').ok_or_else(bad)?),
            };
            (h, port)
        } else {
            match s.rsplit_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (s, None),
            }
        };
        let port = match port {
            Some(p) => Some(p.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad)?),
            None => None,
        };
        let host = if let Ok(net) = host.parse::<IpNet>() {
            Host::Net(net)
        } else if let Ok(ip) = host.parse::<IpAddr>() {
            Host::Net(ip.into())
        } else {
            let name = host.trim_end_matches('.').to_ascii_lowercase();
            let plain = name.strip_prefix("*.").unwrap_or(&name);
            let ok = !plain.is_empty()
                && plain.split('.').all(|label| {
                    !label.is_empty()
                        && label.len() <= 63
                        && !label.starts_with('-')
                        && !label.ends_with('-')
                        && label
                            .chars()
                            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
                });
            if !ok {
                return Err(bad());
            }
            Host::Name(name)
        };
        Ok(HostPattern { host, port })
    }
}

impl std::fmt::Display for HostPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let host = match &self.host {
            Host::Net(n) if n.prefix_len() == n.max_prefix_len() => match n.addr() {
                IpAddr::V6(a) if self.port.is_some() => format!("[{a}]"),
                a => a.to_string(),
            },
            Host::Net(n) => n.to_string(),
            Host::Name(n) => n.clone(),
        };
        match self.port {
            Some(p) => write!(f, "{host}:{p}"),
            None => f.write_str(&host),
        }
    }
}

impl HostPattern {
    fn port_ok(&self, port: Option<u16>) -> bool {
        match (self.port, port) {
            (None, _) => true,
            (Some(want), Some(got)) => want == got,
            (Some(_), None) => false,
        }
    }
    fn name_matches(&self, name: &str) -> bool {
        let name = name.trim_end_matches('.').to_ascii_lowercase();
        match &self.host {
            Host::Name(p) => match p.strip_prefix("*.") {
                Some(suffix) => {
                    name.len() > suffix.len() + 1 && name.ends_with(&format!(".{suffix}"))
                }
                None => *p == name,
            },
            Host::Net(_) => false,
        }
    }
    fn ip_matches(&self, ip: IpAddr) -> bool {
        match &self.host {
            Host::Net(n) => {
                n.contains(&ip) || canonical(ip).is_some_and(|v4| n.contains(&IpAddr::V4(v4)))
            }
            Host::Name(_) => false,
        }
    }
}

/// The IPv4 address an IPv4-mapped IPv6 address stands for.
fn canonical(ip: IpAddr) -> Option<Ipv4Addr> {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped(),
        IpAddr::V4(_) => None,
    }
}

/// A list of host patterns: the instance's allowed internal hosts, or the
/// hosts one secret may be sent to.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HostList(Vec<HostPattern>);

impl std::str::FromStr for HostList {
    type Err = String;
    /// Entries separated by commas, spaces or new lines.
    fn from_str(s: &str) -> Result<Self, String> {
        s.split(|c: char| c == ',' || c.is_whitespace())
            .filter(|e| !e.is_empty())
            .map(str::parse)
            .collect::<Result<Vec<_>, _>>()
            .map(HostList)
    }
}

impl std::fmt::Display for HostList {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.0.iter().map(|p| p.to_string()).collect();
        f.write_str(&parts.join(", "))
    }
}

impl HostList {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    /// Adds one entry (`host`, `host:port`, an address or a range).
    pub fn admit(&mut self, entry: &str) -> Result<(), String> {
        self.0.push(entry.parse()?);
        Ok(())
    }
    /// Whether a request to `host` (a name, or an address as written in a
    /// URL) at `ip`, on `port` (`None`: any port) is admitted.
    pub fn admits(&self, host: &str, ip: Option<IpAddr>, port: Option<u16>) -> bool {
        let host = host.trim_start_matches('[').trim_end_matches(']');
        let literal = host.parse::<IpAddr>().ok();
        self.0.iter().any(|p| {
            p.port_ok(port)
                && (p.name_matches(host)
                    || literal.is_some_and(|a| p.ip_matches(a))
                    || ip.is_some_and(|a| p.ip_matches(a)))
        })
    }
}

/// The decision for connecting to `ip` for a request to `host:port`.
pub fn check(host: &str, ip: IpAddr, port: Option<u16>, allowed: &HostList) -> Result<(), String> {
    let Some(kind) = refused_kind(ip) else {
        return Ok(());
    };
    if allowed.admits(host, Some(ip), port) {
        return Ok(());
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if bare.parse::<IpAddr>().is_ok() {
        Err(format!(
            "{bare} is a {kind}; add it to the allowed hosts if this is intended"
        ))
    } else {
        Err(format!(
            "{bare} resolves to {ip}, a {kind}; add {bare} to the allowed hosts if this is intended"
        ))
    }
}

#[cfg(test)]
#[path = "outbound_tests.rs"]
mod tests;
