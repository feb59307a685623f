//! Landing URLs: what the shop's landing page URL says about the click
//! that led to it (`lc_cid`, `utm_*`), looking inside Shopify's
//! `/discount/{code}?redirect=` wrappers. The Shopify order mapping reads an
//! order's landing site with it, and the pre-launch check the final URL of a
//! link's redirect chain.

use crate::links::utm::CLICK_ID_PARAM;
use crate::traffic::ids::ClickId;
use url::Url;

/// What the landing URL told us.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Landing {
    pub click_id: Option<ClickId>,
    pub utm: Vec<(String, String)>,
}

/// How many Shopify `/discount/{code}?redirect=` wrappers [`parse_landing`]
/// looks inside. Shopify wraps a landing site once; one more level is
/// tolerated. The shopper chooses the landing URL, so without a limit a
/// crafted one nests thousands of wrappers (recursing until the stack
/// overflows, and re-parsing the rest of the URL at every level).
pub const MAX_REDIRECT_DEPTH: usize = 2;

/// Most distinct `utm_*` keys kept from a landing site (later ones are
/// ignored): the list is de-duplicated by a linear scan and stored.
pub const MAX_LANDING_UTM: usize = 16;

/// Reads `lc_cid` and `utm_*` from a landing site (a path or a URL),
/// looking inside Shopify's `/discount/{code}?redirect=` as well (up to
/// [`MAX_REDIRECT_DEPTH`] wrappers). The outermost value of a key wins.
pub fn parse_landing(landing: &str) -> Landing {
    let mut out = Landing::default();
    let base = Url::parse("https://shop.invalid/").expect("static URL");
    let mut next = Some(landing.to_owned());
    for _ in 0..=MAX_REDIRECT_DEPTH {
        let Some(current) = next.take() else {
            break;
        };
        let Ok(url) = base.join(current.trim()) else {
            break;
        };
        for (k, v) in url.query_pairs() {
            if k == CLICK_ID_PARAM {
                out.click_id = out.click_id.or_else(|| ClickId::parse(&v).ok());
            } else if k.starts_with("utm_") {
                if out.utm.len() < MAX_LANDING_UTM && !out.utm.iter().any(|(key, _)| *key == k) {
                    out.utm.push((k.into_owned(), v.into_owned()));
                }
            } else if k == "redirect" && url.path().starts_with("/discount/") {
                next = Some(v.into_owned());
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use url::form_urlencoded;

    const CID: &str = "q1w2e3r4t5y6u7i8o9p0aA";

    #[test]
    fn landing_sites() {
        let l = parse_landing(&format!(
            "/products/serum?utm_source=sarah&utm_medium=influencer&lc_cid={CID}"
        ));
        assert_eq!(l.click_id.as_ref().map(ClickId::as_str), Some(CID));
        assert_eq!(
            l.utm,
            vec![
                ("utm_source".into(), "sarah".into()),
                ("utm_medium".into(), "influencer".into())
            ]
        );
        let wrapped = format!(
            "/discount/SARAH20?redirect=%2Fproducts%2Fserum%3Futm_source%3Dsarah%26lc_cid%3D{CID}"
        );
        let l = parse_landing(&wrapped);
        assert_eq!(l.click_id.as_ref().map(ClickId::as_str), Some(CID));
        assert_eq!(l.utm, vec![("utm_source".into(), "sarah".into())]);
        assert_eq!(
            parse_landing("https://shop.example/?lc_cid=bad"),
            Landing::default()
        );
        assert_eq!(parse_landing(""), Landing::default());
    }

    /// `check(landing, click id, utm keys)`.
    fn check(landing: &str, click_id: Option<&str>, utm_keys: &[String]) {
        let l = parse_landing(landing);
        let keys: Vec<&str> = l.utm.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            (l.click_id.as_ref().map(ClickId::as_str), keys),
            (click_id, utm_keys.iter().map(String::as_str).collect()),
            "landing {:?}",
            &landing[..landing.len().min(120)]
        );
    }

    /// Found while fuzzing `shopify_order`: each `/discount/..?redirect=`
    /// wrapper used to be a recursive call that re-parsed the rest of the
    /// URL, so a crafted landing site overflowed the stack (and took
    /// quadratic time); and thousands of distinct `utm_*` keys took
    /// quadratic time to de-duplicate.
    #[test]
    fn landing_site_limits() {
        let wrap = |n: usize, inner: &str| format!("{}{inner}", "/discount/A?redirect=".repeat(n));
        // Unencoded nesting: the whole rest is one `redirect` value.
        let cid = format!("/p?lc_cid={CID}");
        check(&wrap(0, &cid), Some(CID), &[]);
        check(&wrap(1, &cid), Some(CID), &[]);
        check(&wrap(MAX_REDIRECT_DEPTH, &cid), Some(CID), &[]);
        check(&wrap(MAX_REDIRECT_DEPTH + 1, &cid), None, &[]);
        check(&wrap(20_000, &cid), None, &[]);
        // Percent-encoded nesting, as Shopify writes it.
        let inner = format!("/p?utm_source=sarah&lc_cid={CID}");
        let encoded: String = form_urlencoded::byte_serialize(inner.as_bytes()).collect();
        check(
            &format!("/discount/A?redirect={encoded}&utm_medium=x"),
            Some(CID),
            &["utm_medium".to_owned(), "utm_source".to_owned()],
        );
        let many: Vec<String> = (0..1_000).map(|i| format!("utm_{i}")).collect();
        let query: Vec<String> = many.iter().map(|k| format!("{k}=v")).collect();
        check(
            &format!("/p?{}&lc_cid={CID}&utm_0=again", query.join("&")),
            Some(CID),
            &many[..MAX_LANDING_UTM],
        );
    }
}
