//! Where carepath may send a webhook. A subscriber chooses the URL, so without care it could make
//! carepath call into its own network (the database, a cloud's metadata service at
//! 169.254.169.254). Every address a host resolves to is checked against the policy below at
//! each connection (the HTTP client connects only to the addresses checked, so a DNS answer that
//! changes between the check and the connection cannot slip through), and a URL naming an
//! address literal is checked when the subscription is created as well.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use url::{Host, Url};

use crate::config::WebhookSettings;

/// The longest endpoint URL accepted.
pub const MAX_URL_LEN: usize = 2000;

/// What the configuration allows beyond public addresses.
#[derive(Debug, Clone, Copy, Default)]
pub struct Policy {
    /// Loopback addresses, and plain `http://` to them (tests, local bridges).
    pub allow_loopback: bool,
    /// Private networks (RFC 1918, carrier-grade NAT, IPv6 unique-local).
    pub allow_private: bool,
}

impl From<&WebhookSettings> for Policy {
    fn from(s: &WebhookSettings) -> Self {
        Self { allow_loopback: s.allow_loopback, allow_private: s.allow_private }
    }
}

/// The kinds of address the policy tells apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Public,
    Loopback,
    Private,
    /// Never allowed: unspecified, link-local (cloud metadata lives there), multicast,
    /// broadcast, reserved and documentation ranges.
    Forbidden,
}

fn kind_v4(ip: Ipv4Addr) -> Kind {
    let [a, b, ..] = ip.octets();
    if ip.is_loopback() {
        Kind::Loopback
    } else if ip.is_private() || (a == 100 && (64..128).contains(&b)) {
        Kind::Private
    } else if ip.is_unspecified()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0
        || a >= 240
        || (a == 192 && b == 0 && ip.octets()[2] == 0)
        || (a == 198 && (b == 18 || b == 19))
    {
        Kind::Forbidden
    } else {
        Kind::Public
    }
}

fn kind_v6(ip: Ipv6Addr) -> Kind {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return kind_v4(v4);
    }
    let first = ip.segments()[0];
    if ip.is_loopback() {
        Kind::Loopback
    } else if ip.is_unspecified()
        || ip.is_multicast()
        || (first & 0xffc0) == 0xfe80 // link-local
        || (first & 0xffc0) == 0xfec0 // site-local (deprecated)
        || first == 0x2001 && ip.segments()[1] == 0x0db8 // documentation
        || first == 0x0064 && ip.segments()[1] == 0xff9b // NAT64: reaches IPv4 space unchecked
        || first == 0x2002 // 6to4: likewise
        || ip.segments()[..6] == [0; 6]
    // IPv4-compatible (deprecated)
    {
        Kind::Forbidden
    } else if (first & 0xfe00) == 0xfc00 {
        // Unique-local; fd00:ec2::254 (a cloud's metadata service) is refused even so.
        if ip == Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254) { Kind::Forbidden } else { Kind::Private }
    } else {
        Kind::Public
    }
}

/// Whether carepath may connect to `ip` for an endpoint of this scheme; the error says why not.
pub fn check_address(ip: IpAddr, https: bool, policy: Policy) -> Result<(), String> {
    let kind = match ip {
        IpAddr::V4(v4) => kind_v4(v4),
        IpAddr::V6(v6) => kind_v6(v6),
    };
    match kind {
        Kind::Loopback if policy.allow_loopback => Ok(()),
        Kind::Loopback => Err(format!("address {ip} is loopback, which this server does not allow")),
        _ if !https => Err(format!("plain http is allowed only to loopback addresses, not {ip}")),
        Kind::Public => Ok(()),
        Kind::Private if policy.allow_private => Ok(()),
        Kind::Private => Err(format!("address {ip} is on a private network, which this server does not allow")),
        Kind::Forbidden => Err(format!("address {ip} is link-local, reserved or otherwise never allowed")),
    }
}

/// A URL a subscription may name: `https://`, or `http://` to loopback where allowed; no user
/// name or password (a secret in a URL leaks into logs), no fragment; an address literal, or
/// `localhost`, is checked against the policy at once. Other host names are checked at every
/// delivery, once resolved.
pub fn check_url(raw: &str, policy: Policy) -> Result<Url, String> {
    if raw.len() > MAX_URL_LEN {
        return Err(format!("must be at most {MAX_URL_LEN} characters"));
    }
    let url = Url::parse(raw).map_err(|e| format!("not a URL: {e}"))?;
    let https = match url.scheme() {
        "https" => true,
        "http" => false,
        _ => return Err("must be an https URL (http only to loopback, where the server allows it)".into()),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return Err("must not carry a user name or password".into());
    }
    if url.fragment().is_some() {
        return Err("must not have a fragment".into());
    }
    match url.host() {
        None => return Err("must name a host".into()),
        Some(Host::Ipv4(ip)) => check_address(IpAddr::V4(ip), https, policy)?,
        Some(Host::Ipv6(ip)) => check_address(IpAddr::V6(ip), https, policy)?,
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.');
            if name == "localhost" || name.ends_with(".localhost") {
                check_address(IpAddr::V4(Ipv4Addr::LOCALHOST), https, policy)?;
            } else if !https {
                return Err("plain http is allowed only to loopback addresses".into());
            }
        }
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    const STRICT: Policy = Policy { allow_loopback: false, allow_private: false };
    const LOCAL: Policy = Policy { allow_loopback: true, allow_private: false };

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn refuses_internal_addresses_by_default() {
        for bad in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "100.64.0.1",
            "169.254.169.254",
            "0.0.0.0",
            "224.0.0.1",
            "255.255.255.255",
            "::1",
            "::",
            "fe80::1",
            "fd00:ec2::254",
            "fc00::1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a00:1",
        ] {
            assert!(check_address(ip(bad), true, STRICT).is_err(), "{bad} must be refused");
        }
        for good in ["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c", "8.8.8.8"] {
            assert!(check_address(ip(good), true, STRICT).is_ok(), "{good} must be allowed");
        }
    }

    #[test]
    fn configuration_opens_loopback_and_private_but_never_metadata() {
        let open = Policy { allow_loopback: true, allow_private: true };
        assert!(check_address(ip("127.0.0.1"), false, open).is_ok());
        assert!(check_address(ip("10.0.0.1"), true, open).is_ok());
        assert!(check_address(ip("10.0.0.1"), false, open).is_err(), "http only to loopback");
        assert!(check_address(ip("169.254.169.254"), true, open).is_err());
        assert!(check_address(ip("fd00:ec2::254"), true, open).is_err());
    }

    #[test]
    fn urls() {
        assert!(check_url("https://ehr.example.com/hooks", STRICT).is_ok());
        assert!(check_url("http://ehr.example.com/hooks", STRICT).is_err());
        assert!(check_url("http://127.0.0.1:9000/hooks", STRICT).is_err());
        assert!(check_url("http://127.0.0.1:9000/hooks", LOCAL).is_ok());
        assert!(check_url("http://localhost:9000/", LOCAL).is_ok());
        assert!(check_url("https://[::1]/", STRICT).is_err());
        assert!(check_url("https://169.254.169.254/latest/meta-data", LOCAL).is_err());
        assert!(check_url("https://user:pw@ehr.example.com/", STRICT).is_err());
        assert!(check_url("ftp://ehr.example.com/", STRICT).is_err());
        assert!(check_url("https://ehr.example.com/#x", STRICT).is_err());
        assert!(check_url("not a url", STRICT).is_err());
        assert!(check_url(&format!("https://e.example/{}", "a".repeat(MAX_URL_LEN)), STRICT).is_err());
    }
}
