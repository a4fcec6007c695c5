//! A short-lived cache of name resolutions for one [`crate::http::HttpClient`].
//!
//! ureq resolves the host name before it looks for a pooled connection, so without this every
//! request costs a DNS round trip even when it then reuses a kept-alive connection. On a cold
//! `check` that is hundreds of lookups in a burst; resolvers that drop some of them make glibc
//! wait its 5-second retry timeout each time (measured: 36 s of a 36 s cold `check` on the
//! cargo-vet lockfile went to such stalls). Cargo, through curl, resolves once per connection.
//!
//! Answers are kept for [`TTL`] and looked up once per host at a time (the first of many workers
//! resolves, the others wait for its answer instead of sending the same query). Failures are not
//! kept. The cache sits *below* the egress check of a guarded client: the policy is applied to
//! every answer, cached or fresh, so caching never lets a refused address through.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// How long an answer is reused. Long enough for one run's burst of requests, short enough that
/// a long-running server (the registry's auditor, webhooks) follows DNS changes.
pub const TTL: Duration = Duration::from_secs(60);

/// One host's slot: its lock is held while the host is being resolved (single flight).
type Slot = Arc<Mutex<Option<(Instant, ResolvedSocketAddrs)>>>;

/// Wraps a resolver (the system's by default) with the cache.
#[derive(Debug)]
pub struct CachingResolver<R = DefaultResolver> {
    inner: R,
    slots: Mutex<HashMap<String, Slot>>,
}

impl Default for CachingResolver<DefaultResolver> {
    fn default() -> Self {
        CachingResolver::new(DefaultResolver::default())
    }
}

impl<R: Resolver> CachingResolver<R> {
    pub fn new(inner: R) -> Self {
        CachingResolver {
            inner,
            slots: Mutex::new(HashMap::new()),
        }
    }

    fn slot(&self, key: String) -> Slot {
        let mut slots = lock(&self.slots);
        // A server meets many hosts over its life: drop expired slots now and then so the map
        // does not grow without bound (a slot being resolved right now is kept: it is locked).
        if slots.len() > 256 {
            slots.retain(|_, slot| {
                slot.try_lock().map_or(true, |s| {
                    s.as_ref().is_some_and(|(at, _)| at.elapsed() < TTL)
                })
            });
        }
        Arc::clone(slots.entry(key).or_default())
    }
}

impl<R: Resolver> Resolver for CachingResolver<R> {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        // What the answer depends on: host and port (the scheme only through its default port).
        let Some(authority) = uri.authority() else {
            return self.inner.resolve(uri, config, timeout);
        };
        let port = authority.port_u16().unwrap_or(match uri.scheme_str() {
            Some("http") => 80,
            _ => 443,
        });
        let key = format!("{}:{port}", authority.host().to_ascii_lowercase());
        let slot = self.slot(key);
        let mut cached = lock(&slot);
        if let Some((at, addrs)) = cached.as_ref()
            && at.elapsed() < TTL
        {
            return Ok(addrs.clone());
        }
        let addrs = self.inner.resolve(uri, config, timeout)?;
        *cached = Some((Instant::now(), addrs.clone()));
        Ok(addrs)
    }
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::SocketAddr;
    use std::sync::atomic::{AtomicUsize, Ordering};

    /// Answers every name with one address and counts the questions.
    #[derive(Debug, Default)]
    struct Counting {
        asked: AtomicUsize,
    }

    impl Resolver for Counting {
        fn resolve(
            &self,
            uri: &ureq::http::Uri,
            _config: &ureq::config::Config,
            _timeout: NextTimeout,
        ) -> Result<ResolvedSocketAddrs, ureq::Error> {
            self.asked.fetch_add(1, Ordering::SeqCst);
            // Sleep a little so concurrent callers overlap: they must share one question.
            std::thread::sleep(Duration::from_millis(20));
            let mut out = self.empty();
            let ip = if uri.host() == Some("a.example") {
                "1.1.1.1"
            } else {
                "8.8.8.8"
            };
            out.push(SocketAddr::new(ip.parse().expect("ip"), 443));
            Ok(out)
        }
    }

    fn ask(resolver: &CachingResolver<Counting>, url: &str) -> String {
        let uri: ureq::http::Uri = url.parse().expect("uri");
        let config = ureq::config::Config::default();
        let timeout = NextTimeout {
            after: ureq::unversioned::transport::time::Duration::NotHappening,
            reason: ureq::Timeout::Resolve,
            per_read: None,
            per_write: None,
        };
        let addrs = resolver.resolve(&uri, &config, timeout).expect("resolved");
        addrs.iter().map(|a| a.to_string()).collect()
    }

    #[test]
    fn one_question_per_host_however_many_requests_ask_at_once() {
        let resolver = CachingResolver::new(Counting::default());
        std::thread::scope(|s| {
            for _ in 0..16 {
                s.spawn(|| assert_eq!(ask(&resolver, "https://a.example/x"), "1.1.1.1:443"));
            }
        });
        assert_eq!(ask(&resolver, "https://A.example:443/y"), "1.1.1.1:443");
        assert_eq!(resolver.inner.asked.load(Ordering::SeqCst), 1);
        assert_eq!(ask(&resolver, "https://b.example/"), "8.8.8.8:443");
        assert_eq!(ask(&resolver, "https://a.example:8443/"), "1.1.1.1:443");
        assert_eq!(resolver.inner.asked.load(Ordering::SeqCst), 3);
    }
}
