//! Following a redirect chain: one [`Hop`] per response, the next URL to
//! fetch (relative Locations resolved, loops and [`MAX_HOPS`] stopped), and
//! the kind of a fetch that failed.

use serde::Serialize;
use url::Url;

/// Most redirects followed per agent; a chain that still redirects after
/// them is `too_many_hops`.
pub const MAX_HOPS: usize = 10;

/// Longest message kept from an unrecognised fetch error (bytes).
const ERROR_MESSAGE_MAX: usize = 200;

/// One response in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hop {
    /// The URL fetched.
    pub url: String,
    pub status: u16,
    pub location: Option<String>,
    /// One entry per `Set-Cookie` header.
    pub set_cookie: Vec<String>,
    pub elapsed_ms: u64,
}

/// Why a fetch failed (no response at all). JSON: `{"kind":"dns"}`, or
/// `{"kind":"other","message":"..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "message", rename_all = "snake_case")]
pub enum FetchError {
    Dns,
    Tls,
    Timeout,
    Connect,
    Other(String),
}

/// Maps a fetch error's message (workerd, or our own `AbortSignal`'s) to its
/// kind. First match wins: DNS, TLS, timeout, connection.
pub fn classify_error(msg: &str) -> FetchError {
    let lower = msg.to_ascii_lowercase();
    let has = |words: &[&str]| words.iter().any(|w| lower.contains(w));
    if has(&[
        "dns",
        "getaddrinfo",
        "enotfound",
        "could not resolve",
        "name_not_resolved",
        "no such host",
    ]) {
        FetchError::Dns
    } else if has(&["tls", "ssl", "certificate", "handshake"]) {
        FetchError::Tls
    } else if has(&["timed out", "timeout", "abort"]) {
        FetchError::Timeout
    } else if has(&["connect", "econn", "refused", "unreachable"]) {
        FetchError::Connect
    } else {
        let mut end = msg.len().min(ERROR_MESSAGE_MAX);
        while !msg.is_char_boundary(end) {
            end -= 1;
        }
        FetchError::Other(msg[..end].to_owned())
    }
}

/// Why a redirect's Location cannot be followed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BadLocation {
    /// Not a URL, even relative to the current one.
    Unparsable,
    /// Not http(s): an app hand-off such as `instagram://`; the chain ends.
    NotHttp,
}

/// Where a response sends the client: `None` unless the status is 301, 302,
/// 303, 307 or 308 with a Location, which is resolved against `current`.
pub fn next_url(
    current: &str,
    hop_status: u16,
    location: Option<&str>,
) -> Option<Result<String, BadLocation>> {
    if !matches!(hop_status, 301 | 302 | 303 | 307 | 308) {
        return None;
    }
    let location = location?;
    Some(
        match Url::parse(current).and_then(|base| base.join(location)) {
            Ok(url) if matches!(url.scheme(), "http" | "https") => Ok(url.into()),
            Ok(_) => Err(BadLocation::NotHttp),
            Err(_) => Err(BadLocation::Unparsable),
        },
    )
}

/// A URL without its fragment, for comparing hops (a fragment is never
/// sent).
pub(super) fn same(url: &str) -> String {
    Url::parse(url).map_or_else(
        |_| url.to_owned(),
        |mut u| {
            u.set_fragment(None);
            u.into()
        },
    )
}

/// The URL the shell fetches next, or `None` when the chain is over: the
/// last response does not redirect, [`MAX_HOPS`] redirects were followed,
/// or the next URL was already fetched (a loop).
pub fn next_fetch(hops: &[Hop]) -> Option<String> {
    let last = hops.last()?;
    let next = next_url(&last.url, last.status, last.location.as_deref())?.ok()?;
    let key = same(&next);
    (hops.len() <= MAX_HOPS && !hops.iter().any(|h| same(&h.url) == key)).then_some(next)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_urls() {
        let at = "https://shop.example/relative/serum?x=1#top";
        let n = |status, location| next_url(at, status, location);
        let ok = |s: &str| Some(Ok(s.to_owned()));
        assert_eq!(
            n(302, Some("../products/serum?x=1")),
            ok("https://shop.example/products/serum?x=1")
        );
        assert_eq!(n(301, Some("/a")), ok("https://shop.example/a"));
        assert_eq!(
            n(303, Some("?y=2")),
            ok("https://shop.example/relative/serum?y=2")
        );
        assert_eq!(n(307, Some("//cdn.example/a")), ok("https://cdn.example/a"));
        assert_eq!(
            n(308, Some("HTTP://Other.Example")),
            ok("http://other.example/")
        );
        assert_eq!(
            n(302, Some("instagram://user?u=x")),
            Some(Err(BadLocation::NotHttp))
        );
        assert_eq!(
            n(302, Some("http://[::1")),
            Some(Err(BadLocation::Unparsable))
        );
        for status in [200, 300, 304, 305, 404] {
            assert_eq!(n(status, Some("/a")), None, "{status}");
        }
        assert_eq!(n(302, None), None);
        assert_eq!(next_fetch(&[]), None);
    }

    #[test]
    fn error_messages() {
        for (msg, want) in [
            ("DNS lookup failed", FetchError::Dns),
            ("getaddrinfo ENOTFOUND shop.example", FetchError::Dns),
            ("could not resolve host", FetchError::Dns),
            ("TLS handshake failed", FetchError::Tls),
            ("SSL routines: certificate has expired", FetchError::Tls),
            (
                "The operation was aborted due to timeout",
                FetchError::Timeout,
            ),
            (
                "AbortError: The operation was aborted.",
                FetchError::Timeout,
            ),
            ("request timed out", FetchError::Timeout),
            ("Network connection lost.", FetchError::Connect),
            ("connect ECONNREFUSED 127.0.0.1:9", FetchError::Connect),
            ("internal error", FetchError::Other("internal error".into())),
        ] {
            assert_eq!(classify_error(msg), want, "{msg}");
        }
        let FetchError::Other(long) = classify_error(&"é".repeat(300)) else {
            panic!("not other");
        };
        assert_eq!(long.len(), ERROR_MESSAGE_MAX);
    }
}
