//! The small HTML pages the edge serves instead of a bare redirect:
//! the in-app "open in browser" interstitial, the Open Graph page for
//! link-preview bots, and the 404 page. Self-contained: no external assets,
//! every value HTML-escaped.

use crate::base::html::escape;
use crate::traffic::ua::Os;
use url::{form_urlencoded, Url};

/// The link that hands `location` to the system browser:
/// an Android intent (with the location as its fallback), Safari's
/// `x-safari-https://` on iOS, and the location itself elsewhere.
pub fn open_in_browser_href(location: &str, os: Os) -> String {
    let Ok(url) = Url::parse(location) else {
        return location.to_owned();
    };
    let scheme = url.scheme();
    let rest = &location[scheme.len() + 3..]; // after "https://"
    match os {
        Os::Android => {
            let without_fragment = rest.split('#').next().unwrap_or(rest);
            let fallback: String = form_urlencoded::byte_serialize(location.as_bytes()).collect();
            format!("intent://{without_fragment}#Intent;scheme={scheme};S.browser_fallback_url={fallback};end")
        }
        Os::Ios => format!("x-safari-{scheme}://{rest}"),
        _ => location.to_owned(),
    }
}

const STYLE: &str = "body{font:17px/1.45 system-ui,-apple-system,sans-serif;margin:0;background:#f6f6f4;color:#1d1d1f}\
main{max-width:26rem;margin:12vh auto;padding:0 1.25rem;text-align:center}\
h1{font-size:1.35rem;margin:0 0 .5rem}p{margin:.25rem 0 1.25rem;color:#555}\
a,button{display:block;width:100%;box-sizing:border-box;padding:.9rem 1rem;border-radius:.75rem;font:inherit;font-weight:600;text-decoration:none;margin:.6rem 0;cursor:pointer}\
.primary{background:#111;color:#fff;border:0}.secondary{background:transparent;color:#111;border:1px solid #bbb}\
.code{font-size:1.4rem;letter-spacing:.08em;padding:.6rem;border:2px dashed #999;border-radius:.6rem;margin:1rem 0 .25rem;user-select:all;-webkit-user-select:all}";

/// The interstitial for in-app visitors of links with `escape_in_app`:
/// "Open in browser", "Copy code" (when the link has a code), and a plain
/// "Continue here" link to the same tracked destination. Works without
/// JavaScript through its links; the script only adds copying.
pub fn interstitial(location: &str, os: Os, code: Option<&str>) -> String {
    let open = escape(&open_in_browser_href(location, os));
    let here = escape(location);
    let code_block = code.map_or_else(String::new, |c| {
        let c = escape(c);
        format!(
            "<div class=\"code\" id=\"code\">{c}</div>\
             <button class=\"secondary\" id=\"copy\" type=\"button\" data-code=\"{c}\">Copy code</button>"
        )
    });
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
<title>Open in your browser</title><style>{STYLE}</style></head><body><main>\
<h1>Open in your browser</h1><p>Your discount is applied there, and checkout is faster.</p>\
<a class=\"primary\" id=\"open\" href=\"{open}\">Open in browser</a>{code_block}\
<a class=\"secondary\" id=\"continue\" href=\"{here}\">Continue here</a></main>\
<script>(function(){{var b=document.getElementById('copy');if(!b)return;b.addEventListener('click',function(){{\
var c=b.getAttribute('data-code'),d=function(){{b.textContent='Copied'}};\
if(navigator.clipboard&&navigator.clipboard.writeText){{navigator.clipboard.writeText(c).then(d,function(){{}})}}\
else{{var r=document.createRange();r.selectNodeContents(document.getElementById('code'));var s=getSelection();s.removeAllRanges();s.addRange(r);\
try{{document.execCommand('copy');d()}}catch(e){{}}}}}})}})();</script></body></html>"
    )
}

/// What link-preview bots get: an Open Graph page pointing at the
/// destination, so the preview shows the shop's own card.
pub fn preview(destination: &str) -> String {
    let d = escape(destination);
    let host = Url::parse(destination)
        .ok()
        .and_then(|u| u.host_str().map(str::to_owned))
        .unwrap_or_default();
    let host = escape(&host);
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{host}</title>\
<meta property=\"og:type\" content=\"website\"><meta property=\"og:url\" content=\"{d}\">\
<meta property=\"og:title\" content=\"{host}\"><link rel=\"canonical\" href=\"{d}\">\
<meta http-equiv=\"refresh\" content=\"0;url={d}\"></head><body><a href=\"{d}\">{d}</a></body></html>"
    )
}

/// The page for unknown, disabled and expired links.
pub const NOT_FOUND: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
<title>Link not found</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:15vh auto;padding:0 1rem;color:#222}</style>\
</head><body><h1>Link not found</h1><p>This link does not exist, has been disabled, or is not live yet.</p></body></html>";

/// The 410 page of an expired link without an `expired_url`.
pub const GONE: &str = "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
<title>Link expired</title><style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:15vh auto;padding:0 1rem;color:#222}</style>\
</head><body><h1>This link has expired</h1><p>The offer behind it has ended.</p></body></html>";

#[cfg(test)]
mod tests {
    use super::*;

    const LOC: &str = "https://shop.example/p?utm_source=sarah&lc_cid=ABC#top";

    #[test]
    fn open_in_browser_per_os() {
        assert_eq!(
            open_in_browser_href(LOC, Os::Android),
            "intent://shop.example/p?utm_source=sarah&lc_cid=ABC#Intent;scheme=https;\
             S.browser_fallback_url=https%3A%2F%2Fshop.example%2Fp%3Futm_source%3Dsarah%26lc_cid%3DABC%23top;end"
        );
        assert_eq!(
            open_in_browser_href(LOC, Os::Ios),
            "x-safari-https://shop.example/p?utm_source=sarah&lc_cid=ABC#top"
        );
        assert_eq!(open_in_browser_href(LOC, Os::Windows), LOC);
    }

    #[test]
    fn interstitial_has_three_ways_out_and_no_external_assets() {
        let html = interstitial(LOC, Os::Ios, Some("SARAH20"));
        assert!(html.contains(
            "href=\"x-safari-https://shop.example/p?utm_source=sarah&amp;lc_cid=ABC#top\""
        ));
        assert!(html.contains(
            "id=\"continue\" href=\"https://shop.example/p?utm_source=sarah&amp;lc_cid=ABC#top\""
        ));
        assert!(html.contains(">Copy code</button>"));
        assert!(html.contains(">SARAH20</div>"));
        assert!(!html.contains("src="), "no external scripts or images");
        assert!(!html.contains("<link"), "no external stylesheets");
        assert!(!interstitial(LOC, Os::Android, None).contains("Copy code"));
    }

    #[test]
    fn values_are_escaped() {
        assert_eq!(escape("a&b<c>\"d'"), "a&amp;b&lt;c&gt;&quot;d&#39;");
        let html = preview("https://shop.example/?q=\"><script>");
        assert!(!html.contains("<script>"));
        assert!(
            html.contains("og:url\" content=\"https://shop.example/?q=%22%3E%3Cscript%3E\"")
                || html.contains("&quot;&gt;&lt;script&gt;")
        );
    }
}
