//! Where a server-side fetch may go. The registry's automatic auditor and its webhooks fetch
//! URLs that people outside the organization influence (crate repositories, subscriber URLs), so
//! every outbound connection is checked against an [`EgressPolicy`]: https only, and never to
//! loopback, private, link-local (cloud metadata), shared, multicast or reserved addresses,
//! unless the host is a configured mirror.
//!
//! The check happens where the address is chosen: [`GuardedResolver`] is the resolver of a
//! guarded [`crate::http::HttpClient`], so the addresses it approves are the ones connected to
//! (no window for DNS rebinding), and every redirect hop is resolved, and checked, again. Tools
//! that resolve on their own (libgit2) are checked beforehand with [`EgressPolicy::check_url`].

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, ToSocketAddrs as _};

use ureq::unversioned::resolver::{ResolvedSocketAddrs, Resolver};

use crate::dns::CachingResolver;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EgressError {
    #[error(
        "`{url}` is not an https URL; only https reaches hosts that are not configured mirrors"
    )]
    NotHttps { url: String },
    #[error(
        "`{url}` has no host, or holds a backslash, space or control character where URL parsers disagree"
    )]
    NoHost { url: String },
    // The address stays out of the message: messages reach the public dashboard and watch list,
    // and what an internal name resolves to would map the internal network for an outsider.
    #[error(
        "`{host}` resolves to a {kind} address; outbound fetches go to public addresses only (add the host as a mirror if it is yours)"
    )]
    Forbidden {
        host: String,
        addr: IpAddr,
        kind: &'static str,
    },
    #[error("cannot resolve `{host}`: {reason}")]
    Resolve { host: String, reason: String },
}

/// Which hosts outbound requests may reach. The default allows public addresses over https.
#[derive(Debug, Clone, Default)]
pub struct EgressPolicy {
    /// Lowercase `host` or `host:port` entries that may be reached by http or https whatever
    /// they resolve to: an internal mirror of crates.io or of git repositories, a test server.
    mirrors: Vec<String>,
}

impl EgressPolicy {
    pub fn public_only() -> EgressPolicy {
        EgressPolicy::default()
    }

    /// Adds mirror hosts (`host` or `host:port`).
    pub fn with_mirrors<I, S>(mut self, hosts: I) -> EgressPolicy
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        self.mirrors.extend(
            hosts
                .into_iter()
                .map(|h| h.as_ref().trim().to_ascii_lowercase()),
        );
        self
    }

    pub fn mirrors(&self) -> &[String] {
        &self.mirrors
    }

    /// Whether `host` (without brackets) on `port` is a configured mirror.
    pub fn is_mirror(&self, host: &str, port: u16) -> bool {
        let host = host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .to_ascii_lowercase();
        let with_port = format!("{host}:{port}");
        let bracketed = format!("[{host}]:{port}");
        self.mirrors
            .iter()
            .any(|m| *m == host || *m == with_port || *m == bracketed || *m == format!("[{host}]"))
    }

    /// Checks a URL for a tool that connects by itself: scheme, then every address its host
    /// resolves to now. (That tool resolves again, so this narrows rather than closes the
    /// rebinding window; HTTP goes through [`GuardedResolver`] instead.)
    pub fn check_url(&self, url: &str) -> Result<(), EgressError> {
        let parsed = parse_url(url)?;
        // A mirror is exempt from the address check, not from the scheme check: `file://`
        // and the like name the server's own disk whatever host they carry.
        let fetch_scheme = matches!(parsed.scheme.as_str(), "https" | "http" | "ssh" | "git");
        if fetch_scheme && self.is_mirror(&parsed.host, parsed.port) {
            return Ok(());
        }
        if parsed.scheme != "https" {
            return Err(EgressError::NotHttps {
                url: url.to_owned(),
            });
        }
        let addrs = resolve(&parsed.host, parsed.port)?;
        self.check_addrs(&parsed.host, &addrs)
    }

    /// Refuses the whole set when any address is not public: a name that resolves to one
    /// public and one private address is a rebinding attempt, not a choice to make for it.
    pub fn check_addrs(&self, host: &str, addrs: &[SocketAddr]) -> Result<(), EgressError> {
        for addr in addrs {
            if let Some(kind) = forbidden_kind(addr.ip()) {
                return Err(EgressError::Forbidden {
                    host: host.to_owned(),
                    addr: addr.ip(),
                    kind,
                });
            }
        }
        Ok(())
    }
}

struct ParsedUrl {
    scheme: String,
    host: String,
    port: u16,
}

fn parse_url(url: &str) -> Result<ParsedUrl, EgressError> {
    let no_host = || EgressError::NoHost {
        url: url.to_owned(),
    };
    // Backslashes, spaces and control characters are where URL parsers disagree (a WHATWG
    // parser reads `\\` as `/`); the tool that connects must see the host checked here.
    if url
        .chars()
        .any(|c| c == '\\' || c.is_whitespace() || c.is_control())
    {
        return Err(no_host());
    }
    let (scheme, rest) = url.split_once("://").ok_or_else(no_host)?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Credentials before `@` are not part of where we connect.
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let default_port = match scheme.as_str() {
        "https" => 443,
        "http" => 80,
        "ssh" => 22,
        "git" => 9418,
        _ => 0,
    };
    let (host, port) = if let Some(inner) = authority.strip_prefix('[') {
        let (host, after) = inner.split_once(']').ok_or_else(no_host)?;
        let port = after.strip_prefix(':').and_then(|p| p.parse().ok());
        (host.to_owned(), port.unwrap_or(default_port))
    } else {
        match authority.rsplit_once(':') {
            Some((h, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => {
                (h.to_owned(), p.parse().map_err(|_| no_host())?)
            }
            _ => (authority.to_owned(), default_port),
        }
    };
    if host.is_empty() {
        return Err(no_host());
    }
    Ok(ParsedUrl {
        scheme,
        host: host.to_ascii_lowercase(),
        port,
    })
}

fn resolve(host: &str, port: u16) -> Result<Vec<SocketAddr>, EgressError> {
    let addrs: Vec<SocketAddr> = (host, port)
        .to_socket_addrs()
        .map_err(|e| EgressError::Resolve {
            host: host.to_owned(),
            reason: e.to_string(),
        })?
        .collect();
    if addrs.is_empty() {
        return Err(EgressError::Resolve {
            host: host.to_owned(),
            reason: "no addresses".into(),
        });
    }
    Ok(addrs)
}

/// Why an address may not be reached from a server, or `None` when it is public.
pub fn forbidden_kind(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_private() => "private",
        // 169.254.169.254 and friends: cloud metadata lives here.
        _ if ip.is_link_local() => "link-local (metadata)",
        _ if ip.is_unspecified() || a == 0 => "unspecified",
        _ if ip.is_broadcast() => "broadcast",
        _ if ip.is_multicast() => "multicast",
        (100, 64..=127, _) => "shared (carrier-grade NAT)",
        (192, 0, 0) => "IETF protocol assignment",
        (192, 88, 99) => "6to4 relay anycast",
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => "documentation",
        (198, 18..=19, _) => "benchmarking",
        (240..=255, _, _) => "reserved",
        _ => return None,
    })
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    // Addresses that carry an IPv4 address are judged by it.
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    if s[0..5] == [0, 0, 0, 0, 0xffff] && s[5] == 0 {
        // IPv4-translated (SIIT, `::ffff:0:a.b.c.d`).
        return forbidden_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        // NAT64 well-known prefix.
        return forbidden_v4(Ipv4Addr::new(
            (s[6] >> 8) as u8,
            s[6] as u8,
            (s[7] >> 8) as u8,
            s[7] as u8,
        ));
    }
    if s[0] == 0x2002 {
        // 6to4 embeds the IPv4 address in the next 32 bits.
        return forbidden_v4(Ipv4Addr::new(
            (s[1] >> 8) as u8,
            s[1] as u8,
            (s[2] >> 8) as u8,
            s[2] as u8,
        ));
    }
    Some(match s[0] {
        _ if ip.is_loopback() => "loopback",
        _ if ip.is_unspecified() => "unspecified",
        _ if ip.is_multicast() => "multicast",
        // Deprecated IPv4-compatible addresses (::a.b.c.d).
        0 if s[1..6] == [0, 0, 0, 0, 0] => "IPv4-compatible",
        // The rest of ::/16 is reserved and not routed on the internet.
        0 => "reserved",
        // Local-use NAT64 (64:ff9b:1::/48): the site's own translator, to any IPv4 address.
        0x64 if s[1] == 0xff9b && s[2] == 1 => "local NAT64",
        0x100 if s[1..4] == [0, 0, 0] => "discard",
        // Teredo tunnels to whatever server the address names.
        0x2001 if s[1] == 0 => "Teredo",
        x if x & 0xfe00 == 0xfc00 => "private (unique local)",
        x if x & 0xffc0 == 0xfe80 => "link-local",
        x if x & 0xffc0 == 0xfec0 => "site-local",
        0x2001 if s[1] == 0x0db8 => "documentation",
        _ => return None,
    })
}

/// The resolver of a guarded HTTP client: resolves as usual, then refuses a non-https scheme
/// or any forbidden address unless the host is a mirror. Redirects are resolved here too.
#[derive(Debug)]
pub struct GuardedResolver {
    policy: EgressPolicy,
    /// Cached answers are checked below like fresh ones: the cache saves DNS round trips, never
    /// a check.
    inner: CachingResolver,
}

impl GuardedResolver {
    pub fn new(policy: EgressPolicy) -> GuardedResolver {
        GuardedResolver {
            policy,
            inner: CachingResolver::default(),
        }
    }
}

fn refused(e: EgressError) -> ureq::Error {
    ureq::Error::Io(std::io::Error::new(
        std::io::ErrorKind::PermissionDenied,
        e.to_string(),
    ))
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: ureq::unversioned::transport::NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let scheme = uri.scheme_str().unwrap_or("").to_ascii_lowercase();
        let host = uri.host().unwrap_or("").to_owned();
        let port = uri
            .port_u16()
            .unwrap_or(if scheme == "http" { 80 } else { 443 });
        let mirror = self.policy.is_mirror(&host, port);
        if !mirror && scheme != "https" {
            return Err(refused(EgressError::NotHttps {
                url: uri.to_string(),
            }));
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        if !mirror {
            self.policy.check_addrs(&host, &addrs).map_err(refused)?;
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kind(ip: &str) -> Option<&'static str> {
        forbidden_kind(ip.parse().expect("an address"))
    }

    #[test]
    fn public_addresses_pass_and_internal_ones_do_not() {
        for public in [
            "1.1.1.1",
            "151.101.1.137",
            "2606:4700::1111",
            "2a04:4e42::649",
        ] {
            assert_eq!(kind(public), None, "{public}");
        }
        for (ip, why) in [
            ("127.0.0.1", "loopback"),
            ("10.1.2.3", "private"),
            ("172.16.0.1", "private"),
            ("192.168.1.1", "private"),
            ("169.254.169.254", "link-local (metadata)"),
            ("100.64.0.1", "shared (carrier-grade NAT)"),
            ("0.0.0.0", "unspecified"),
            ("255.255.255.255", "broadcast"),
            ("224.0.0.1", "multicast"),
            ("198.18.0.1", "benchmarking"),
            ("240.0.0.1", "reserved"),
            ("::1", "loopback"),
            ("::", "unspecified"),
            ("fd00:ec2::254", "private (unique local)"),
            ("fe80::1", "link-local"),
            ("::ffff:127.0.0.1", "loopback"),
            ("::ffff:169.254.169.254", "link-local (metadata)"),
            ("64:ff9b::a00:1", "private"),
            ("2002:7f00:1::", "loopback"),
            ("::7f00:1", "IPv4-compatible"),
        ] {
            assert_eq!(kind(ip), Some(why), "{ip}");
        }
    }

    #[test]
    fn urls_to_internal_hosts_are_refused_unless_mirrored() {
        let policy = EgressPolicy::public_only();
        assert!(matches!(
            policy.check_url("https://127.0.0.1:8443/x"),
            Err(EgressError::Forbidden {
                kind: "loopback",
                ..
            })
        ));
        assert!(matches!(
            policy.check_url("https://user:pw@[::1]/x"),
            Err(EgressError::Forbidden {
                kind: "loopback",
                ..
            })
        ));
        assert!(matches!(
            policy.check_url("https://localhost/x"),
            Err(EgressError::Forbidden { .. })
        ));
        assert!(matches!(
            policy.check_url("http://example.com/"),
            Err(EgressError::NotHttps { .. })
        ));
        assert!(matches!(
            policy.check_url("file:///etc/passwd"),
            Err(EgressError::NoHost { .. }) | Err(EgressError::NotHttps { .. })
        ));
        let mirrored = EgressPolicy::public_only().with_mirrors(["127.0.0.1:8443"]);
        assert_eq!(mirrored.check_url("http://127.0.0.1:8443/index"), Ok(()));
        assert!(mirrored.check_url("http://127.0.0.1:9999/index").is_err());
        let by_host = EgressPolicy::public_only().with_mirrors(["LocalHost"]);
        assert_eq!(by_host.check_url("http://localhost:1234/"), Ok(()));
    }

    #[test]
    fn numeric_dotted_and_disguised_forms_of_internal_hosts_are_refused() {
        // The system resolver reads decimal, hex, octal and short IPv4 forms like an address
        // (`http://2130706433/` is 127.0.0.1); whatever it makes of a host is what is checked.
        let policy = EgressPolicy::public_only();
        for url in [
            "https://2130706433/",
            "https://0x7f.1/",
            "https://0177.0.0.1/",
            "https://127.1/",
            "https://0/",
            "https://localhost./",
            "https://LOCALHOST/",
            "https://[::ffff:7f00:1]/",
            "https://[0:0:0:0:0:ffff:169.254.169.254]/",
            "https://[::ffff:a9fe:a9fe]:443/",
            "https://user:pw@127.0.0.1:443/",
            "https://public.example@127.0.0.1/",
            "https://127.0.0.1#@public.example/",
            "https://127.0.0.1?@public.example/",
            "https://169.254.169.254/latest/meta-data/",
        ] {
            assert!(policy.check_url(url).is_err(), "{url} was allowed");
        }
    }

    #[test]
    fn urls_that_parsers_read_differently_are_refused() {
        // A WHATWG parser reads `\\` as `/`, making the host 127.0.0.1 where a plain split
        // at `@` sees 1.1.1.1: whichever tool connects, no such URL is let through.
        let policy = EgressPolicy::public_only();
        for url in [
            "https://127.0.0.1\\@1.1.1.1/",
            "https://127.0.0.1\\\\@1.1.1.1/",
            "https://1.1.1.1\n/",
            "https://1.1.1.1 /",
            "https://1.1.1.1\u{0}/",
        ] {
            assert!(policy.check_url(url).is_err(), "{url:?} was allowed");
        }
        assert_eq!(policy.check_url("https://1.1.1.1/x?y#z"), Ok(()));
    }

    #[test]
    fn ipv6_ranges_that_reach_internal_ipv4_or_go_nowhere_are_refused() {
        for ip in [
            // Local-use NAT64 prefix (RFC 8215): a translator turns it into 10.0.0.1.
            "64:ff9b:1::a00:1",
            // IPv4-translated (SIIT) form of 127.0.0.1.
            "::ffff:0:7f00:1",
            // Teredo relays to whatever server the address names.
            "2001:0:4136:e378:8000:63bf:3fff:fdd2",
            // Discard-only and the rest of the reserved ::/16.
            "100::1",
            "::1:0:0:1",
            // 6to4 relay anycast.
            "192.88.99.1",
        ] {
            assert!(kind(ip).is_some(), "{ip} counted as public");
        }
    }

    #[test]
    fn a_mirror_is_reached_only_over_web_and_git_schemes() {
        // A bare-host mirror must not turn `file://localhost/…` into a way to read the
        // server's own disk through a tool like libgit2.
        let policy = EgressPolicy::public_only().with_mirrors(["localhost"]);
        for url in [
            "file://localhost/etc/passwd",
            "ftp://localhost/x",
            "gopher://localhost:70/x",
        ] {
            assert!(
                matches!(policy.check_url(url), Err(EgressError::NotHttps { .. })),
                "{url} was allowed"
            );
        }
        for url in [
            "http://localhost/x",
            "https://localhost/x",
            "ssh://git@localhost/r.git",
            "git://localhost/r.git",
        ] {
            assert_eq!(policy.check_url(url), Ok(()), "{url}");
        }
    }
}
