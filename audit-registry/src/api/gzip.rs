//! Gzip for large answers. A whole lockfile's answer is hundreds of kilobytes of JSON, much of
//! it hex ids, checksums and base64 that compress to about half; the answer is compressed once
//! when it is built and cached both ways, so a fleet of clients costs no CPU per request.
//! Clients that do not send `Accept-Encoding: gzip` get the plain bytes.

use std::io::Write as _;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use flate2::Compression;
use flate2::write::GzEncoder;

/// Below this, compressing saves less than the headers cost.
const MIN_GZIP_BYTES: usize = 1024;

/// An answer as JSON, and gzipped when that is worth it.
#[derive(Debug, Clone)]
pub struct Encoded {
    pub plain: Bytes,
    pub gzip: Option<Bytes>,
}

impl Encoded {
    pub fn new(plain: Bytes) -> Encoded {
        let gzip = (plain.len() >= MIN_GZIP_BYTES)
            .then(|| {
                let mut encoder =
                    GzEncoder::new(Vec::with_capacity(plain.len() / 2), Compression::new(6));
                encoder.write_all(&plain).ok()?;
                encoder.finish().ok()
            })
            .flatten()
            .map(Bytes::from);
        Encoded { plain, gzip }
    }

    /// Bytes held (both forms), for cache budgets.
    pub fn len(&self) -> usize {
        self.plain.len() + self.gzip.as_ref().map_or(0, Bytes::len)
    }

    /// A JSON response, gzipped when the request accepts it.
    pub fn response(&self, request: &HeaderMap) -> Response {
        let mut response = match &self.gzip {
            Some(gzip) if accepts_gzip(request) => {
                let mut r = Body::from(gzip.clone()).into_response();
                r.headers_mut()
                    .insert(header::CONTENT_ENCODING, HeaderValue::from_static("gzip"));
                r
            }
            _ => Body::from(self.plain.clone()).into_response(),
        };
        *response.status_mut() = StatusCode::OK;
        let headers = response.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::VARY, HeaderValue::from_static("accept-encoding"));
        response
    }
}

/// Whether `Accept-Encoding` lists gzip with a non-zero quality.
fn accepts_gzip(request: &HeaderMap) -> bool {
    request
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|coding| {
            let mut parts = coding.split(';').map(str::trim);
            let name = parts.next().unwrap_or("");
            let refused = parts.any(|p| {
                p.strip_prefix("q=")
                    .and_then(|q| q.parse::<f32>().ok())
                    .is_some_and(|q| q <= 0.0)
            });
            (name.eq_ignore_ascii_case("gzip") || name == "*") && !refused
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accept_encoding_is_read_as_the_rfc_says() {
        let accepts = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(
                header::ACCEPT_ENCODING,
                HeaderValue::from_str(v).expect("value"),
            );
            accepts_gzip(&h)
        };
        assert!(accepts("gzip"));
        assert!(accepts("br, GZIP;q=0.5"));
        assert!(accepts("*"));
        assert!(!accepts("gzip;q=0"));
        assert!(!accepts("deflate, br"));
        assert!(!accepts_gzip(&HeaderMap::new()));
    }

    #[test]
    fn large_answers_are_gzipped_and_round_trip() {
        use std::io::Read as _;
        let plain = Bytes::from("{\"id\":\"0123456789abcdef\"}".repeat(200));
        let encoded = Encoded::new(plain.clone());
        let gzip = encoded.gzip.expect("compressed");
        assert!(gzip.len() < plain.len() / 4);
        let mut back = Vec::new();
        flate2::read::GzDecoder::new(&gzip[..])
            .read_to_end(&mut back)
            .expect("decodes");
        assert_eq!(back, plain);
        assert!(Encoded::new(Bytes::from("{}")).gzip.is_none());
    }
}
