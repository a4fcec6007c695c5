//! A minimal HTTP/1.1 keep-alive client for the load generators, over a plain `TcpStream`.
//!
//! Why not ureq: with its `gzip` feature (which the workspace enables for the CLI) ureq always
//! decodes a gzipped answer, and 32 load threads decompressing and parsing 1.4 MB answers on the
//! same two cores as the server measured the load generator, not the server. This client keeps
//! the answer as the server sent it; the caller decides which answers to decode and check.

use std::io::{BufRead as _, BufReader, Read as _, Write as _};
use std::net::TcpStream;

/// One answer, its body as sent (still gzipped when `gzip`).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub gzip: bool,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body decoded (gunzipped when it came gzipped).
    pub fn decoded(&self) -> Result<Vec<u8>, String> {
        if !self.gzip {
            return Ok(self.body.clone());
        }
        let mut out = Vec::with_capacity(self.body.len() * 4);
        flate2::read::GzDecoder::new(&self.body[..])
            .read_to_end(&mut out)
            .map_err(|e| format!("a gzipped answer does not decode: {e}"))?;
        Ok(out)
    }
}

/// One keep-alive connection to `host:port`, reopened when the server closes it.
#[derive(Debug)]
pub struct Connection {
    authority: String,
    stream: Option<BufReader<TcpStream>>,
}

impl Connection {
    /// For a base URL `http://host:port` (no path, no TLS: the registry on loopback).
    pub fn new(url: &str) -> Result<Connection, String> {
        let authority = url
            .strip_prefix("http://")
            .ok_or_else(|| format!("{url}: only http:// URLs"))?
            .trim_end_matches('/')
            .to_owned();
        Ok(Connection {
            authority,
            stream: None,
        })
    }

    /// `POST path` with a JSON body, asking for gzip when `gzip`.
    pub fn post(&mut self, path: &str, body: &[u8], gzip: bool) -> Result<Answer, String> {
        self.send("POST", path, body, gzip)
    }

    /// `GET path`, asking for gzip when `gzip`.
    pub fn get(&mut self, path: &str, gzip: bool) -> Result<Answer, String> {
        self.send("GET", path, &[], gzip)
    }

    /// Sent again once on a fresh connection when a kept-alive one fails: the server may have
    /// closed it while idle.
    fn send(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
        gzip: bool,
    ) -> Result<Answer, String> {
        let reused = self.stream.is_some();
        let first = self.exchange(method, path, body, gzip);
        if first.is_err() {
            self.stream = None;
            if reused {
                let again = self.exchange(method, path, body, gzip);
                if again.is_err() {
                    self.stream = None;
                }
                return again;
            }
        }
        first
    }

    fn exchange(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
        gzip: bool,
    ) -> Result<Answer, String> {
        if self.stream.is_none() {
            let stream = TcpStream::connect(&self.authority).map_err(|e| e.to_string())?;
            stream.set_nodelay(true).map_err(|e| e.to_string())?;
            self.stream = Some(BufReader::with_capacity(256 * 1024, stream));
        }
        let reader = self.stream.as_mut().ok_or("no connection")?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nhost: {}\r\ncontent-length: {}\r\n",
            self.authority,
            body.len()
        );
        if !body.is_empty() {
            head.push_str("content-type: application/json\r\n");
        }
        if gzip {
            head.push_str("accept-encoding: gzip\r\n");
        }
        head.push_str("\r\n");
        let stream = reader.get_mut();
        stream
            .write_all(head.as_bytes())
            .map_err(|e| e.to_string())?;
        stream.write_all(body).map_err(|e| e.to_string())?;
        let mut line = String::new();
        if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
            return Err("the server closed the connection".to_owned());
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| format!("bad status line {line:?}"))?;
        let (mut length, mut chunked, mut encoded, mut close) = (None, false, false, false);
        loop {
            line.clear();
            if reader.read_line(&mut line).map_err(|e| e.to_string())? == 0 {
                return Err("connection closed in the headers".into());
            }
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            let Some((name, value)) = header.split_once(':') else {
                continue;
            };
            let value = value.trim();
            match name.to_ascii_lowercase().as_str() {
                "content-length" => length = value.parse::<usize>().ok(),
                "transfer-encoding" => chunked = value.eq_ignore_ascii_case("chunked"),
                "content-encoding" => encoded = value.eq_ignore_ascii_case("gzip"),
                "connection" => close = value.eq_ignore_ascii_case("close"),
                _ => {}
            }
        }
        let mut out = Vec::new();
        if chunked {
            loop {
                line.clear();
                reader.read_line(&mut line).map_err(|e| e.to_string())?;
                let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or(""), 16)
                    .map_err(|_| "bad chunk size".to_owned())?;
                let start = out.len();
                out.resize(start + size + 2, 0);
                reader
                    .read_exact(&mut out[start..])
                    .map_err(|e| e.to_string())?;
                out.truncate(start + size);
                if size == 0 {
                    break;
                }
            }
        } else {
            let length = length.ok_or("no content-length")?;
            out.resize(length, 0);
            reader.read_exact(&mut out).map_err(|e| e.to_string())?;
        }
        if close {
            self.stream = None;
        }
        Ok(Answer {
            status,
            gzip: encoded,
            body: out,
        })
    }
}
