//! Bots and link previews never count as human clicks; in-app visitors of
//! escape links get the interstitial.

use crate::harness::*;
use serde_json::json;

const FB_PREVIEW: &str =
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)";
const GOOGLEBOT: &str = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)";
const IG_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 334.0.4.32.98 (iPhone15,3; iOS 17_5; en_US; en; scale=3.00; 1290x2796; 609155132)";
const IG_PIXEL: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8 Build/AP2A.240705.005; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/126.0.6478.134 Mobile Safari/537.36 Instagram 340.0.0.22.109 Android (34/14; 420dpi; 1080x2205; Google/google; Pixel 8; shiba; shiba; en_US; 622796542)";
const DESKTOP: &str = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15";

#[test]
fn preview_bots_get_an_open_graph_page_and_count_as_bots() {
    let link = link_to("https://shop.example/serum", json!({}));
    let slug = link["slug"].as_str().unwrap();
    let r = get(&format!("/{slug}"), &[("User-Agent", FB_PREVIEW)]);
    assert_eq!(r.status, 200);
    assert!(
        r.body
            .contains(r#"<meta property="og:url" content="https://shop.example/serum">"#),
        "{}",
        r.body
    );
    assert!(
        r.header("set-cookie").is_none(),
        "bots get no visitor cookie"
    );
    // Crawlers, HEAD and empty user agents get the redirect, also as bots.
    assert_eq!(
        get(&format!("/{slug}"), &[("User-Agent", GOOGLEBOT)]).status,
        302
    );
    assert_eq!(
        request(
            "HEAD",
            &format!("/{slug}"),
            &[("User-Agent", DESKTOP)],
            None
        )
        .status,
        302
    );
    assert_eq!(get(&format!("/{slug}"), &[("User-Agent", "")]).status, 302);
    let s = stats_until(slug, |v| v["bot_clicks"] == 4);
    assert_eq!(s["bot_clicks"], 4, "{s}");
    assert_eq!(s["clicks"], 0, "{s}");
    // One human click moves `clicks`, not `bot_clicks`.
    assert_eq!(
        get(&format!("/{slug}"), &[("User-Agent", IG_PIXEL)]).status,
        302
    );
    let s = stats_eventually(slug, 1);
    assert_eq!(
        (s["clicks"].as_u64(), s["bot_clicks"].as_u64()),
        (Some(1), Some(4)),
        "{s}"
    );
    // Instagram on a Pixel says "Google/google" and is still a human.
    assert_eq!(s["by_app"], json!({"instagram": 1}), "{s}");
}

#[test]
fn escape_links_show_the_interstitial_to_in_app_visitors_only() {
    let (h, c) = roster();
    let code = unique_code("ESC");
    assert_eq!(
        admin(
            "POST",
            "/api/v1/codes",
            Some(json!({"code": code, "influencer": h}))
        )
        .status,
        201
    );
    let r = admin(
        "POST",
        "/api/v1/links",
        Some(
            json!({"destination": "https://shop.example/p", "influencer": h, "campaign": c,
                    "discount_code": code, "discount_style": "woocommerce", "escape_in_app": true}),
        ),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let link = r.json();
    assert_eq!(link["escape_in_app"], true);
    let slug = link["slug"].as_str().unwrap();
    let tracking = link["tracking_url"].as_str().unwrap();

    // iOS Instagram: x-safari-https, copy code, continue here.
    let r = get(&format!("/{slug}"), &[("User-Agent", IG_IOS)]);
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.header("content-type").unwrap().starts_with("text/html"));
    let continue_href = between(&r.body, "id=\"continue\" href=\"", "\"").replace("&amp;", "&");
    click_id_of(&continue_href, tracking);
    let open_href = between(&r.body, "id=\"open\" href=\"", "\"").replace("&amp;", "&");
    assert_eq!(
        open_href,
        continue_href.replacen("https://", "x-safari-https://", 1)
    );
    assert!(r.body.contains(&format!(">{code}</div>")));
    assert!(r.body.contains(">Copy code</button>"));
    assert!(
        !r.body.contains("src=") && !r.body.contains("<link"),
        "no external assets"
    );
    assert!(r.header("set-cookie").is_some());

    // Android Instagram: an intent URL with the tracked location as fallback.
    let r = get(&format!("/{slug}"), &[("User-Agent", IG_PIXEL)]);
    assert_eq!(r.status, 200);
    let open_href = between(&r.body, "id=\"open\" href=\"", "\"").replace("&amp;", "&");
    let continue_href = between(&r.body, "id=\"continue\" href=\"", "\"").replace("&amp;", "&");
    let without_scheme = continue_href.strip_prefix("https://").unwrap();
    assert!(
        open_href.starts_with(&format!(
            "intent://{without_scheme}#Intent;scheme=https;S.browser_fallback_url="
        )),
        "{open_href}"
    );
    assert!(open_href.ends_with(";end"));

    // A desktop browser on the same link gets the plain 302.
    let r = get(&format!("/{slug}"), &[("User-Agent", DESKTOP)]);
    assert_eq!(r.status, 302);
    click_id_of(r.header("location").unwrap(), tracking);

    // Interstitial views are clicks, with their app.
    let s = stats_eventually(slug, 3);
    assert_eq!(s["by_app"], json!({"browser": 1, "instagram": 2}), "{s}");
}

#[test]
fn in_app_visitors_of_ordinary_links_get_the_redirect() {
    let link = link_to("https://shop.example/plain", json!({}));
    let r = get(
        &format!("/{}", link["slug"].as_str().unwrap()),
        &[("User-Agent", IG_IOS)],
    );
    assert_eq!(r.status, 302);
    click_id_of(
        r.header("location").unwrap(),
        link["tracking_url"].as_str().unwrap(),
    );
}

fn between<'a>(s: &'a str, start: &str, end: &str) -> &'a str {
    let from = s
        .find(start)
        .unwrap_or_else(|| panic!("{start} not in {s}"))
        + start.len();
    let to = s[from..].find(end).unwrap() + from;
    &s[from..to]
}
