//! All network access of the library goes through here: one HTTP client (ureq over rustls),
//! bounded in time and size, so a hostile or broken server can neither hang us nor fill memory.
//! Connections are kept alive and pooled (HTTP/1.1), and host names are resolved once a minute
//! rather than once a request ([`crate::dns`]).

use std::time::Duration;

/// What a response body may be at most, unless a caller asks for less.
pub const DEFAULT_MAX_BODY: u64 = 256 * 1024 * 1024;

/// How many requests the library's network phases (index lookups, crate downloads) keep in
/// flight. Network-bound, so independent of the core count: each worker mostly waits for a
/// round trip. The pool keeps as many idle connections per host, so every worker's next request
/// reuses a kept-alive connection instead of paying a new TCP and TLS handshake (ureq's default
/// keeps 3 per host).
pub const PARALLEL_REQUESTS: usize = 32;

#[derive(Debug, thiserror::Error)]
pub enum HttpError {
    #[error("{0}")]
    Transport(String),
    #[error("the response was larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("the server answered {status}")]
    Status { status: u16 },
}

impl HttpError {
    /// Whether trying again later may succeed.
    pub fn is_transient(&self) -> bool {
        match self {
            HttpError::Transport(_) => true,
            HttpError::Status { status } => *status == 429 || *status >= 500,
            HttpError::TooLarge { .. } => false,
        }
    }
}

/// What identifies a version of a fetched file to its server (`ETag`, `Last-Modified`).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// The answer to a conditional GET.
#[derive(Debug)]
pub enum Conditional {
    NotModified,
    Changed {
        body: Vec<u8>,
        validators: Validators,
    },
}

/// The answer to a GET of the bytes of a file from an offset on ([`HttpClient::get_from`]).
#[derive(Debug)]
pub enum Ranged {
    /// 206: the bytes from the offset asked to the end.
    Partial(Vec<u8>),
    /// 200: the server does not serve ranges and sent the whole file.
    Whole(Vec<u8>),
    /// 416: the file is not that long (any more).
    NotSatisfiable,
}

/// A blocking client shared by worker threads.
#[derive(Clone)]
pub struct HttpClient {
    agent: ureq::Agent,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("HttpClient")
    }
}

impl Default for HttpClient {
    fn default() -> Self {
        Self::new(Duration::from_secs(120))
    }
}

impl HttpClient {
    pub fn new(timeout: Duration) -> Self {
        HttpClient {
            agent: ureq::Agent::with_parts(
                Self::config(timeout).build(),
                ureq::unversioned::transport::DefaultConnector::default(),
                crate::dns::CachingResolver::default(),
            ),
        }
    }

    /// A client for a server's outbound fetches: every connection, redirects included, is
    /// checked against `policy` at the moment its address is resolved (see [`crate::egress`]).
    /// Proxies from the environment are ignored, since through a proxy the policy would only
    /// ever see the proxy's address.
    pub fn guarded(timeout: Duration, policy: crate::egress::EgressPolicy) -> Self {
        let config = Self::config(timeout).proxy(None).build();
        HttpClient {
            agent: ureq::Agent::with_parts(
                config,
                ureq::unversioned::transport::DefaultConnector::default(),
                crate::egress::GuardedResolver::new(policy),
            ),
        }
    }

    fn config(timeout: Duration) -> ureq::config::ConfigBuilder<ureq::typestate::AgentScope> {
        ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .timeout_connect(Some(Duration::from_secs(15)))
            .http_status_as_error(false)
            .max_redirects(5)
            .max_idle_connections_per_host(PARALLEL_REQUESTS)
            .max_idle_connections(2 * PARALLEL_REQUESTS)
            .user_agent(concat!("cargo-audit-trust/", env!("CARGO_PKG_VERSION")))
            // The operating system's trust store, like cargo: organizations that inspect TLS
            // install their own root there.
            .tls_config(
                ureq::tls::TlsConfig::builder()
                    .root_certs(ureq::tls::RootCerts::PlatformVerifier)
                    .build(),
            )
    }

    /// Sends a prepared request (crates-index builds them) and returns the whole response, whatever
    /// its status, with a body of at most `max_body` bytes.
    pub fn send(
        &self,
        mut request: http_types::Request<()>,
        max_body: u64,
    ) -> Result<http_types::Response<Vec<u8>>, HttpError> {
        // crates-index prepares HTTP/2 requests; this client speaks HTTP/1.1, which every
        // registry serves too.
        *request.version_mut() = http_types::Version::HTTP_11;
        self.run_bounded(request, max_body)
    }

    /// Runs a request and reads at most `max_body` bytes of the answer, whatever its status.
    fn run_bounded(
        &self,
        request: http_types::Request<impl ureq::AsSendBody>,
        max_body: u64,
    ) -> Result<http_types::Response<Vec<u8>>, HttpError> {
        let response = self
            .agent
            .run(request)
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        let (parts, mut body) = response.into_parts();
        let bytes = body
            .with_config()
            .limit(max_body)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => HttpError::TooLarge { limit: max_body },
                other => HttpError::Transport(other.to_string()),
            })?;
        Ok(http_types::Response::from_parts(parts, bytes))
    }

    /// A POST of `body` over HTTP/1.1 with `headers`.
    fn post_request(
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
    ) -> Result<http_types::Request<Vec<u8>>, HttpError> {
        let mut builder = http_types::Request::post(url);
        for (name, value) in headers {
            builder = builder.header(*name, value.as_str());
        }
        let mut request = builder
            .body(body)
            .map_err(|e| HttpError::Transport(format!("invalid request to `{url}`: {e}")))?;
        *request.version_mut() = http_types::Version::HTTP_11;
        Ok(request)
    }

    /// [`Self::get_ok`], tried again after a pause when the failure may pass (network errors,
    /// 429 and 5xx answers): at most `attempts` tries.
    pub fn get_ok_retrying(
        &self,
        url: &str,
        max_body: u64,
        attempts: u32,
    ) -> Result<Vec<u8>, HttpError> {
        let mut attempt = 1;
        loop {
            match self.get_ok(url, max_body) {
                Err(e) if attempt < attempts && e.is_transient() => {
                    std::thread::sleep(retry_pause(attempt));
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// POST a JSON body to `url`; returns the status and a body of at most `max_body` bytes,
    /// whatever the status (the registry explains its 4xx answers in JSON).
    pub fn post_json(
        &self,
        url: &str,
        body: Vec<u8>,
        max_body: u64,
    ) -> Result<(u16, Vec<u8>), HttpError> {
        self.post_json_inner(url, None, body, max_body)
    }

    /// [`Self::post_json`] with `Authorization: Bearer <token>` (a registry admin token).
    pub fn post_json_with_bearer(
        &self,
        url: &str,
        token: &str,
        body: Vec<u8>,
        max_body: u64,
    ) -> Result<(u16, Vec<u8>), HttpError> {
        self.post_json_inner(url, Some(token), body, max_body)
    }

    fn post_json_inner(
        &self,
        url: &str,
        token: Option<&str>,
        body: Vec<u8>,
        max_body: u64,
    ) -> Result<(u16, Vec<u8>), HttpError> {
        let mut headers = vec![("content-type", "application/json".to_owned())];
        if let Some(token) = token {
            headers.push(("authorization", format!("Bearer {token}")));
        }
        let response = self.run_bounded(Self::post_request(url, &headers, body)?, max_body)?;
        Ok((response.status().as_u16(), response.into_body()))
    }

    /// GET `url` unless it is unchanged since `validators` (an `ETag` and a `Last-Modified`
    /// from an earlier answer, sent as `If-None-Match` / `If-Modified-Since`).
    pub fn get_if_changed(
        &self,
        url: &str,
        max_body: u64,
        validators: &Validators,
    ) -> Result<Conditional, HttpError> {
        let mut builder = http_types::Request::get(url);
        if let Some(etag) = &validators.etag {
            builder = builder.header("if-none-match", etag.as_str());
        }
        if let Some(modified) = &validators.last_modified {
            builder = builder.header("if-modified-since", modified.as_str());
        }
        let request = builder
            .body(())
            .map_err(|e| HttpError::Transport(format!("invalid URL `{url}`: {e}")))?;
        let response = self.send(request, max_body)?;
        match response.status().as_u16() {
            304 => Ok(Conditional::NotModified),
            200 => {
                let header = |name: &str| {
                    response
                        .headers()
                        .get(name)
                        .and_then(|v| v.to_str().ok())
                        .filter(|v| v.len() <= 256)
                        .map(str::to_owned)
                };
                let validators = Validators {
                    etag: header("etag"),
                    last_modified: header("last-modified"),
                };
                Ok(Conditional::Changed {
                    body: response.into_body(),
                    validators,
                })
            }
            status => Err(HttpError::Status { status }),
        }
    }

    /// POST `body` with extra `headers` and follow no redirect: for webhooks, whose answer is
    /// the receiver's own (a redirect would turn the POST into a GET elsewhere). Returns the
    /// status and the first `max_body` bytes of the response, whatever the status. A longer
    /// answer is cut, not an error: the status is the receiver's answer, and what follows it
    /// is only read to bound memory, never to decide anything.
    pub fn post_without_redirects(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: Vec<u8>,
        max_body: u64,
    ) -> Result<(u16, Vec<u8>), HttpError> {
        use std::io::Read as _;
        let request = self
            .agent
            .configure_request(Self::post_request(url, headers, body)?)
            .max_redirects(0)
            .build();
        let response = self
            .agent
            .run(request)
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        let status = response.status().as_u16();
        let mut bytes = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(max_body)
            .read_to_end(&mut bytes)
            .map_err(|e| HttpError::Transport(e.to_string()))?;
        Ok((status, bytes))
    }

    /// GET the bytes of `url` from `offset` to its end (`Range: bytes=<offset>-`), at most
    /// `max_body` of them. A 206 whose `Content-Range` does not start at `offset` is an error.
    pub fn get_from(&self, url: &str, offset: u64, max_body: u64) -> Result<Ranged, HttpError> {
        let request = http_types::Request::get(url)
            .header("range", format!("bytes={offset}-"))
            .body(())
            .map_err(|e| HttpError::Transport(format!("invalid URL `{url}`: {e}")))?;
        let response = self.send(request, max_body)?;
        match response.status().as_u16() {
            206 => {
                let starts_there = response
                    .headers()
                    .get("content-range")
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.starts_with(&format!("bytes {offset}-")));
                if !starts_there {
                    return Err(HttpError::Transport(format!(
                        "asked for the bytes from {offset}, got another range"
                    )));
                }
                Ok(Ranged::Partial(response.into_body()))
            }
            200 => Ok(Ranged::Whole(response.into_body())),
            416 => Ok(Ranged::NotSatisfiable),
            status => Err(HttpError::Status { status }),
        }
    }

    /// GET `url`, expecting 200 with a body of at most `max_body` bytes.
    pub fn get_ok(&self, url: &str, max_body: u64) -> Result<Vec<u8>, HttpError> {
        let request = http_types::Request::get(url)
            .body(())
            .map_err(|e| HttpError::Transport(format!("invalid URL `{url}`: {e}")))?;
        let response = self.send(request, max_body)?;
        if response.status() != http_types::StatusCode::OK {
            return Err(HttpError::Status {
                status: response.status().as_u16(),
            });
        }
        Ok(response.into_body())
    }
}

/// The pause after failed attempt `attempt` (1 for the first): 0.5 s, tripled each time, at
/// most a minute; saturating, so no number of attempts overflows.
fn retry_pause(attempt: u32) -> Duration {
    let factor = 3u32.saturating_pow(attempt.saturating_sub(1));
    Duration::from_millis(500)
        .saturating_mul(factor)
        .min(Duration::from_secs(60))
}

// The `http` crate as re-exported by crates-index, so request types agree with ureq's.
use crates_index::http as http_types;

#[cfg(test)]
mod guarded_tests {
    use super::*;
    use crate::egress::EgressPolicy;

    #[test]
    fn retry_pauses_triple_up_to_a_cap_without_overflow() {
        let pauses: Vec<u64> = (1..=4).map(|a| retry_pause(a).as_millis() as u64).collect();
        assert_eq!(pauses, [500, 1500, 4500, 13500]);
        assert_eq!(retry_pause(30), Duration::from_secs(60));
        assert_eq!(retry_pause(u32::MAX), Duration::from_secs(60));
        assert_eq!(retry_pause(0), Duration::from_millis(500));
    }

    /// The guarded client's resolver sees what the system resolver makes of odd spellings of
    /// loopback and metadata addresses, and refuses them before any connection (nothing listens
    /// on these ports: a refusal that came from a connection would not name the address kind).
    #[test]
    fn the_guarded_client_refuses_disguised_internal_hosts_before_connecting() {
        let client = HttpClient::guarded(Duration::from_secs(5), EgressPolicy::public_only());
        for url in [
            "https://2130706433:9/",
            "https://0x7f.1:9/",
            "https://127.1:9/",
            "https://[::ffff:7f00:1]:9/",
            "https://[::ffff:169.254.169.254]:9/",
            "https://user@169.254.169.254:9/",
        ]
        // Twice: the second answer comes from the client's DNS cache and is checked all the same.
        .iter()
        .flat_map(|url| [url, url])
        {
            let error = client
                .post_without_redirects(url, &[], Vec::new(), 1024)
                .expect_err(url)
                .to_string();
            assert!(
                error.contains("loopback") || error.contains("link-local"),
                "{url}: {error}"
            );
        }
        let error = client
            .get_ok("http://example.com:9/", 1024)
            .expect_err("http")
            .to_string();
        assert!(error.contains("not an https URL"), "{error}");
    }
}
