//! What is kept of a page's URL: the host and the path (cut to
//! [`MAX_PATH_LEN`]), never the query or fragment, which can carry
//! personal data (emails, names, tokens).

use crate::base::error::ParseError;
use url::Url;

/// Longest accepted page URL, in characters.
pub const MAX_URL_LEN: usize = 2048;
/// Longest stored path; longer paths are cut.
pub const MAX_PATH_LEN: usize = 512;

/// The host (lowercase) and path (cut to [`MAX_PATH_LEN`]) of a page URL.
pub(super) fn parse_page_url(s: &str) -> Result<(String, String), ParseError> {
    let invalid = || {
        ParseError::new(
            "invalid_url",
            format!(
                "url must be an absolute http or https URL of at most {MAX_URL_LEN} characters"
            ),
        )
    };
    if s.chars().count() > MAX_URL_LEN {
        return Err(invalid());
    }
    let url = Url::parse(s).map_err(|_| invalid())?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(invalid());
    }
    let host = match url.host_str() {
        Some(h) if !h.is_empty() => h.to_ascii_lowercase(),
        _ => return Err(invalid()),
    };
    Ok((host, cut_path(url.path())))
}

/// Cuts a percent-encoded path to [`MAX_PATH_LEN`] characters, never in
/// the middle of a `%XX` escape.
fn cut_path(path: &str) -> String {
    if path.len() <= MAX_PATH_LEN {
        return path.to_owned();
    }
    let mut end = MAX_PATH_LEN;
    while !path.is_char_boundary(end) {
        end -= 1;
    }
    let b = path.as_bytes();
    if end >= 1 && b[end - 1] == b'%' {
        end -= 1;
    } else if end >= 2 && b[end - 2] == b'%' {
        end -= 2;
    }
    path[..end].to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_paths_are_cut_outside_escapes() {
        let at = |prefix: usize, tail: &str| {
            let url = format!("https://a.com/{}{tail}", "p".repeat(prefix));
            parse_page_url(&url).unwrap().1
        };
        assert_eq!(at(400, "").len(), 401);
        assert_eq!(at(600, "").len(), MAX_PATH_LEN);
        // "/" + 509 p's + "%E2%9C%93": the cut at 512 would split "%E2".
        let cut = at(509, "\u{2713}");
        assert_eq!(cut.len(), 510);
        assert!(cut.ends_with('p'));
        let cut = at(508, "\u{2713}");
        assert!(cut.ends_with("%E2"), "{cut}");
    }
}
