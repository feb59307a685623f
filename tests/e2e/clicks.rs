//! Click recording: rows in D1 (read back through stats) and the visitor
//! cookie.

use crate::harness::*;
use serde_json::json;

const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

#[test]
fn every_get_records_one_click() {
    let link = link_to("https://shop.example/count", json!({}));
    let slug = link["slug"].as_str().unwrap();
    let empty = stats_eventually(slug, 0);
    assert_eq!(
        empty,
        json!({"clicks": 0, "unique_clicks": 0, "unique_visitors": 0, "bot_clicks": 0, "by_app": {},
               "first_click_at": null, "last_click_at": null})
    );

    assert_eq!(
        get(&format!("/{slug}"), &[("User-Agent", CHROME)]).status,
        302
    );
    let one = stats_eventually(slug, 1);
    assert_eq!(one["clicks"], 1, "{one}");
    assert_eq!(one["unique_visitors"], 1);
    assert!(one["first_click_at"]
        .as_str()
        .is_some_and(|t| t.ends_with('Z')));
    assert_eq!(one["first_click_at"], one["last_click_at"]);

    assert_eq!(
        get(&format!("/{slug}"), &[("User-Agent", CHROME)]).status,
        302
    );
    let two = stats_eventually(slug, 2);
    assert_eq!(two["clicks"], 2, "{two}");
    // No cookie was sent back, so these were two visitors.
    assert_eq!(two["unique_visitors"], 2);
    assert_eq!(two["unique_clicks"], 2);
    assert_eq!(two["bot_clicks"], 0);
    assert_eq!(two["by_app"], json!({"browser": 2}));
}

#[test]
fn repeat_clicks_within_30_minutes_count_once_as_unique() {
    let link = link_to("https://shop.example/unique", json!({}));
    let slug = link["slug"].as_str().unwrap();
    let ig = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 334.0.4.32.98 (iPhone15,3; iOS 17_5; en_US; en; scale=3.00; 1290x2796; 609155132)";
    let first = get(&format!("/{slug}"), &[("User-Agent", ig)]);
    let vid = first
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    for _ in 0..2 {
        assert_eq!(
            get(&format!("/{slug}"), &[("User-Agent", ig), ("Cookie", &vid)]).status,
            302
        );
    }
    assert_eq!(
        get(&format!("/{slug}"), &[("User-Agent", CHROME)]).status,
        302
    );
    let s = stats_eventually(slug, 4);
    assert_eq!(s["clicks"], 4, "{s}");
    assert_eq!(s["unique_clicks"], 2, "{s}");
    assert_eq!(s["unique_visitors"], 2, "{s}");
    assert_eq!(s["by_app"], json!({"browser": 1, "instagram": 3}), "{s}");
}

#[test]
fn visitor_cookie_is_set_once_and_reused() {
    let link = link_to("https://shop.example/cookie", json!({}));
    let slug = link["slug"].as_str().unwrap();

    let first = get(&format!("/{slug}"), &[("User-Agent", CHROME)]);
    let set_cookie = first
        .header("set-cookie")
        .expect("first visit sets lc_vid")
        .to_owned();
    let vid = set_cookie
        .strip_prefix("lc_vid=")
        .and_then(|r| r.split(';').next())
        .expect("lc_vid cookie")
        .to_owned();
    assert_eq!(vid.len(), 22);
    for attr in [
        "Max-Age=31536000",
        "Path=/",
        "HttpOnly",
        "Secure",
        "SameSite=Lax",
    ] {
        assert!(set_cookie.contains(attr), "{set_cookie} lacks {attr}");
    }

    let cookie = format!("other=1; lc_vid={vid}");
    let second = get(
        &format!("/{slug}"),
        &[("User-Agent", CHROME), ("Cookie", &cookie)],
    );
    assert_eq!(second.status, 302);
    assert!(
        second.header("set-cookie").is_none(),
        "a known visitor gets no new cookie"
    );
    let third = get(
        &format!("/{slug}"),
        &[("User-Agent", CHROME), ("Cookie", &cookie)],
    );
    assert_eq!(third.status, 302);

    let s = stats_eventually(slug, 3);
    assert_eq!(s["clicks"], 3, "{s}");
    assert_eq!(s["unique_visitors"], 1, "{s}");

    // A malformed cookie is replaced, not trusted.
    let bad = get(&format!("/{slug}"), &[("Cookie", "lc_vid=../../etc")]);
    assert!(bad
        .header("set-cookie")
        .is_some_and(|c| c.starts_with("lc_vid=")));
    let s = stats_eventually(slug, 4);
    assert_eq!(s["unique_visitors"], 2, "{s}");
}
