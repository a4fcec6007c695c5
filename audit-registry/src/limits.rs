//! Per-client limits: a request rate (a token bucket per IP address, refilled continuously; the
//! table of clients is bounded, so a flood of addresses cannot grow it without end) and a cap on
//! the connections one client holds open at once.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv6Addr};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Clients remembered at most; the least recently seen are forgotten first.
const MAX_CLIENTS: usize = 100_000;

#[derive(Debug)]
pub struct RateLimiter {
    per_minute: u32,
    buckets: Mutex<HashMap<IpAddr, (f64, Instant)>>,
}

impl RateLimiter {
    /// `per_minute` requests per client, with bursts up to that many; 0 disables the limit.
    pub fn new(per_minute: u32) -> RateLimiter {
        RateLimiter {
            per_minute,
            buckets: Mutex::new(HashMap::new()),
        }
    }

    /// Whether `client` may make a request now (and counts it).
    pub fn allow(&self, client: IpAddr, now: Instant) -> bool {
        if self.per_minute == 0 {
            return true;
        }
        let capacity = f64::from(self.per_minute);
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        if buckets.len() >= MAX_CLIENTS && !buckets.contains_key(&client) {
            let oldest = buckets
                .iter()
                .min_by_key(|(_, (_, seen))| *seen)
                .map(|(ip, _)| *ip);
            if let Some(ip) = oldest {
                buckets.remove(&ip);
            }
        }
        let (tokens, last) = buckets.entry(client).or_insert((capacity, now));
        let elapsed = now.saturating_duration_since(*last).as_secs_f64();
        *tokens = (*tokens + elapsed * capacity / 60.0).min(capacity);
        *last = now;
        if *tokens >= 1.0 {
            *tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// Open connections per client. An entry exists only while its client holds a connection, so
/// the table never holds more entries than there are open connections.
#[derive(Debug)]
pub struct ConnectionsPerClient {
    max: usize,
    open: Mutex<HashMap<IpAddr, usize>>,
}

/// One open connection of a client; dropping it gives the slot back.
#[derive(Debug)]
pub struct ClientSlot {
    table: Arc<ConnectionsPerClient>,
    client: IpAddr,
}

impl ConnectionsPerClient {
    /// At most `max` connections per client (at least one).
    pub fn new(max: usize) -> Arc<ConnectionsPerClient> {
        Arc::new(ConnectionsPerClient {
            max: max.max(1),
            open: Mutex::new(HashMap::new()),
        })
    }

    /// A slot for one more connection from `ip`, or `None` when it already holds the maximum.
    pub fn try_open(self: &Arc<Self>, ip: IpAddr) -> Option<ClientSlot> {
        let client = client_of(ip);
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let count = open.entry(client).or_insert(0);
        if *count >= self.max {
            return None;
        }
        *count += 1;
        Some(ClientSlot {
            table: Arc::clone(self),
            client,
        })
    }

    /// Connections `ip` holds now.
    pub fn open(&self, ip: IpAddr) -> usize {
        let open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.get(&client_of(ip)).copied().unwrap_or(0)
    }
}

impl Drop for ClientSlot {
    fn drop(&mut self) {
        let mut open = self.table.open.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(count) = open.get_mut(&self.client) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.client);
            }
        }
    }
}

/// Who counts as one client: an IPv4 address (also when it arrives IPv4-mapped on an IPv6
/// socket), or an IPv6 /64 — one subscriber usually gets a whole /64, so counting single IPv6
/// addresses would let one client open connections from 2^64 of them.
fn client_of(ip: IpAddr) -> IpAddr {
    match ip.to_canonical() {
        IpAddr::V6(v6) => {
            let prefix = u128::from(v6) & !((1u128 << 64) - 1);
            IpAddr::V6(Ipv6Addr::from(prefix))
        }
        v4 => v4,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn connections_are_capped_per_client_and_given_back() {
        let table = ConnectionsPerClient::new(2);
        let ip: IpAddr = [10, 0, 0, 1].into();
        let a = table.try_open(ip).expect("first");
        let _b = table.try_open(ip).expect("second");
        assert!(table.try_open(ip).is_none(), "a third is refused");
        assert!(
            table.try_open([10, 0, 0, 2].into()).is_some(),
            "others are apart"
        );
        drop(a);
        assert!(
            table.try_open(ip).is_some(),
            "a closed connection frees its slot"
        );

        let v6 = |s: &str| s.parse::<IpAddr>().expect("ip");
        let _c = table.try_open(v6("2001:db8::1")).expect("v6");
        let _d = table.try_open(v6("2001:db8::ffff:2")).expect("same /64");
        assert!(
            table.try_open(v6("2001:db8::3")).is_none(),
            "one /64 is one client"
        );
        assert!(table.try_open(v6("2001:db8:0:1::1")).is_some());
        let mapped = v6("::ffff:10.0.0.9");
        let _e = table.try_open(mapped).expect("mapped");
        assert_eq!(table.open([10, 0, 0, 9].into()), 1, "IPv4-mapped is IPv4");
    }

    #[test]
    fn bursts_up_to_the_limit_then_refills() {
        let limiter = RateLimiter::new(3);
        let ip: IpAddr = [127, 0, 0, 1].into();
        let other: IpAddr = [127, 0, 0, 2].into();
        let t0 = Instant::now();
        assert!((0..3).all(|_| limiter.allow(ip, t0)));
        assert!(!limiter.allow(ip, t0));
        assert!(limiter.allow(other, t0), "clients are counted apart");
        assert!(
            limiter.allow(ip, t0 + Duration::from_secs(20)),
            "one token per 20 s"
        );
        assert!(!limiter.allow(ip, t0 + Duration::from_secs(21)));
        assert!(RateLimiter::new(0).allow(ip, t0));
    }
}
