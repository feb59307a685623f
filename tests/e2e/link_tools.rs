//! Link-tool features: targeting rules, A/B variants, QR codes, tags,
//! short domains and bulk operations. Each checks exact Locations and what
//! D1 really stored.

use crate::harness::*;
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};

const IPHONE_SAFARI: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1";
const ANDROID_CHROME: &str = "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
const TIKTOK_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_3_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 BytedanceWebview/d8a21c6 musical_ly_33.2.1 JsSdk/2.0 NetType/WIFI Channel/App Store ByteLocale/en Region/US";
const INSTAGRAM_IOS: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 16_1_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Instagram 263.1.0.14.103 (iPhone14,2; iOS 16_1_1; en_US; en-US; scale=3.00; 1170x2532; 428326971) NW/3";
const DESKTOP: &str =
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36";

/// The UTM tail every target of a link carries.
fn tail(link: &Value) -> String {
    format!(
        "utm_source={}&utm_medium=influencer&utm_campaign={}",
        link["influencer"].as_str().unwrap(),
        link["campaign"].as_str().unwrap()
    )
}

/// A GET of `/{slug}` with `headers`: asserts a 302 to exactly `expected`
/// plus a click id, and returns the click id.
fn redirect(slug: &str, headers: &[(&str, &str)], expected: &str) -> String {
    let r = get(&format!("/{slug}"), headers);
    assert_eq!(r.status, 302, "{headers:?}: {}", r.body);
    click_id_of(r.header("location").unwrap(), expected)
}

/// Polls D1 until `sql` returns `want` rows (clicks are written a few
/// milliseconds after their redirect).
fn d1_rows(sql: &str, want: usize) -> Vec<Value> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let rows = d1(sql);
        if rows.len() >= want || Instant::now() > deadline {
            return rows;
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// (the rule that should match, request headers, the expected Location).
type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], String);

#[test]
fn targeting_rules_send_each_visitor_to_the_first_match() {
    let link = link_to(
        "https://shop.example/p?x=1",
        json!({"rules": [
            {"name": "tiktok", "when": {"app": ["tiktok"]}, "destination": "https://shop.example/tiktok"},
            {"name": "ios", "when": {"os": ["ios"], "device_class": ["mobile"]}, "destination": "https://apps.apple.com/app/id123"},
            {"name": "android", "when": {"os": ["android"]}, "destination": "https://play.google.com/store/apps/details?id=com.brand"},
            {"name": "dach", "when": {"country": ["DE", "AT", "CH"]}, "destination": "https://shop.example/de"},
            {"name": "french", "when": {"language": ["fr"]}, "destination": "https://shop.example/fr"}
        ]}),
    );
    let (slug, t) = (link["slug"].as_str().unwrap(), tail(&link));
    assert_eq!(link["rules"].as_array().unwrap().len(), 5);
    assert_eq!(
        link["rules"][3]["when"]["country"],
        json!(["DE", "AT", "CH"])
    );
    let cases: [Case; 8] = [
        (
            "ios",
            &[("User-Agent", IPHONE_SAFARI)],
            format!("https://apps.apple.com/app/id123?{t}"),
        ),
        // In-app on iOS: the app rule comes first, so TikTok wins over iOS.
        (
            "tiktok",
            &[("User-Agent", TIKTOK_IOS)],
            format!("https://shop.example/tiktok?{t}"),
        ),
        (
            "ios",
            &[("User-Agent", INSTAGRAM_IOS)],
            format!("https://apps.apple.com/app/id123?{t}"),
        ),
        (
            "android",
            &[("User-Agent", ANDROID_CHROME)],
            format!("https://play.google.com/store/apps/details?id=com.brand&{t}"),
        ),
        (
            "dach",
            &[
                ("User-Agent", DESKTOP),
                ("MF-CF-Blob", r#"{"country":"AT"}"#),
            ],
            format!("https://shop.example/de?{t}"),
        ),
        (
            "french",
            &[
                ("User-Agent", DESKTOP),
                ("Accept-Language", "fr-CA,fr;q=0.9,en;q=0.5"),
            ],
            format!("https://shop.example/fr?{t}"),
        ),
        // A language the visitor refuses (q=0) does not match.
        (
            "",
            &[("User-Agent", DESKTOP), ("Accept-Language", "en-US,fr;q=0")],
            format!("https://shop.example/p?x=1&{t}"),
        ),
        // Fall-through: no rule matches, the default destination applies.
        (
            "",
            &[
                ("User-Agent", DESKTOP),
                ("MF-CF-Blob", r#"{"country":"US"}"#),
            ],
            format!("https://shop.example/p?x=1&{t}"),
        ),
    ];
    let mut expected_rules = BTreeMap::new();
    for (rule, headers, location) in &cases {
        let id = redirect(slug, headers, location);
        expected_rules.insert(id, rule.to_string());
    }
    let rows = d1_rows(
        &format!(
            "SELECT c.id, COALESCE(c.rule, '') AS rule, c.variant FROM clicks c JOIN links l ON l.id = c.link_id \
             WHERE l.slug = '{slug}'"
        ),
        cases.len(),
    );
    let stored: BTreeMap<String, String> = rows
        .iter()
        .map(|r| {
            assert_eq!(r["variant"], Value::Null);
            (
                r["id"].as_str().unwrap().to_owned(),
                r["rule"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    assert_eq!(stored, expected_rules, "the rule recorded on each click");
}

#[test]
fn ab_variants_are_sticky_and_split_by_weight() {
    let link = link_to(
        "https://shop.example/p",
        json!({"variants": [
            {"name": "control", "destination": "https://shop.example/landing-a", "weight": 30},
            {"name": "new-page", "destination": "https://shop.example/landing-b?v=2", "weight": 70}
        ]}),
    );
    let (slug, t) = (link["slug"].as_str().unwrap().to_owned(), tail(&link));
    let a = format!("https://shop.example/landing-a?{t}&lc_cid=");
    let b = format!("https://shop.example/landing-b?v=2&{t}&lc_cid=");

    // Stickiness: one visitor (one lc_vid cookie) always gets one variant.
    let first = get(&format!("/{slug}"), &[("User-Agent", DESKTOP)]);
    assert_eq!(first.status, 302);
    let cookie = first
        .header("set-cookie")
        .unwrap()
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let first_location = first.header("location").unwrap().to_owned();
    let variant_of = |loc: &str| {
        if loc.starts_with(&a) {
            "control"
        } else if loc.starts_with(&b) {
            "new-page"
        } else {
            panic!("{loc} is neither variant")
        }
    };
    let sticky = variant_of(&first_location);
    for _ in 0..20 {
        let r = get(
            &format!("/{slug}"),
            &[("User-Agent", DESKTOP), ("Cookie", &cookie)],
        );
        assert_eq!(variant_of(r.header("location").unwrap()), sticky);
        assert!(r.header("set-cookie").is_none(), "the cookie is reused");
    }

    // The split: 5,000 new visitors (no cookie) within ±3 points of 30/70.
    const VISITORS: usize = 5_000;
    let counts: Vec<(usize, usize)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..8)
            .map(|_| {
                let slug = &slug;
                s.spawn(move || {
                    let (mut control, mut new) = (0, 0);
                    for _ in 0..VISITORS / 8 {
                        let r = get(&format!("/{slug}"), &[("User-Agent", DESKTOP)]);
                        assert_eq!(r.status, 302);
                        match variant_of(r.header("location").unwrap()) {
                            "control" => control += 1,
                            _ => new += 1,
                        }
                    }
                    (control, new)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let control: usize = counts.iter().map(|c| c.0).sum();
    let new: usize = counts.iter().map(|c| c.1).sum();
    assert_eq!(control + new, VISITORS);
    let share = control as f64 / VISITORS as f64;
    assert!(
        (0.27..=0.33).contains(&share),
        "control share {share} (want 0.30 ± 0.03)"
    );

    // Every click records its variant: D1 agrees with what visitors got.
    let total = VISITORS + 21;
    // The sticky visitor's 21 clicks all went to one variant.
    let want_control = control + if sticky == "control" { 21 } else { 0 };
    let deadline = Instant::now() + Duration::from_secs(60);
    let by_variant = loop {
        let rows = d1(&format!(
            "SELECT c.variant, COUNT(*) AS n FROM clicks c JOIN links l ON l.id = c.link_id \
             WHERE l.slug = '{slug}' GROUP BY c.variant ORDER BY c.variant"
        ));
        let sum: u64 = rows.iter().map(|r| r["n"].as_u64().unwrap()).sum();
        if sum as usize >= total || Instant::now() > deadline {
            break rows;
        }
        std::thread::sleep(Duration::from_millis(1000));
    };
    assert_eq!(
        by_variant,
        vec![
            json!({"variant": "control", "n": want_control}),
            json!({"variant": "new-page", "n": total - want_control}),
        ]
    );
}

/// Decodes a QR image with a real decoder (jsQR in headless Chromium).
fn decode_qr(bytes: &[u8], ext: &str) -> String {
    let path = std::env::temp_dir().join(format!("{}.{ext}", unique("qr")));
    std::fs::write(&path, bytes).unwrap();
    let out = std::process::Command::new("node")
        .arg("tests/qr_decode.mjs")
        .arg(&path)
        .output()
        .expect("node runs");
    let _ = std::fs::remove_file(&path);
    assert!(
        out.status.success(),
        "qr_decode: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn qr_codes_decode_to_the_short_url_and_scans_are_reported() {
    let link = link_to("https://shop.example/p", json!({}));
    let slug = link["slug"].as_str().unwrap();
    let scan_url = format!("{}?qr=1", link["short_url"].as_str().unwrap());

    let svg = admin("GET", &format!("/api/v1/links/{slug}/qr.svg"), None);
    assert_eq!(svg.status, 200, "{}", svg.body);
    assert_eq!(svg.header("content-type"), Some("image/svg+xml"));
    assert!(svg.body.contains(r#"width="512""#), "default size");
    assert_eq!(decode_qr(svg.body.as_bytes(), "svg"), scan_url);

    let auth = format!("Bearer {}", admin_token());
    let png = request_bytes(
        "GET",
        &format!("/api/v1/links/{slug}/qr.png?size=300&margin=2&ecc=H"),
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(png.status, 200);
    assert_eq!(png.header("content-type"), Some("image/png"));
    let png_bytes = fetch_bytes(&format!(
        "/api/v1/links/{slug}/qr.png?size=300&margin=2&ecc=H"
    ));
    assert_eq!(&png_bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert_eq!(decode_qr(&png_bytes, "png"), scan_url);

    for (query, field) in [
        ("size=10", "size"),
        ("margin=99", "margin"),
        ("ecc=Z", "ecc"),
    ] {
        admin("GET", &format!("/api/v1/links/{slug}/qr.svg?{query}"), None).assert_error(
            400,
            "invalid_value",
            Some(field),
        );
    }
    assert_eq!(
        get(&format!("/api/v1/links/{slug}/qr.svg"), &[]).status,
        401,
        "QR codes need the admin token"
    );
    admin("GET", "/api/v1/links/no-such-link-qr/qr.png", None).assert_error(404, "not_found", None);

    // A scan is a click with trigger qr; a plain visit is trigger link.
    let t = tail(&link);
    let expected = format!("https://shop.example/p?{t}");
    let scan = redirect(
        &format!("{slug}?qr=1"),
        &[("User-Agent", IPHONE_SAFARI)],
        &expected,
    );
    let plain = redirect(slug, &[("User-Agent", IPHONE_SAFARI)], &expected);
    let rows = d1_rows(
        &format!(
            "SELECT id, trigger FROM clicks WHERE id IN ('{scan}', '{plain}') ORDER BY trigger"
        ),
        2,
    );
    assert_eq!(
        rows,
        vec![
            json!({"id": plain, "trigger": "link"}),
            json!({"id": scan, "trigger": "qr"}),
        ]
    );
}

/// The raw bytes of an admin GET (the PNG is not UTF-8).
fn fetch_bytes(path: &str) -> Vec<u8> {
    let url = format!("{}{}", base(), path);
    // A 503 (the D1 file is busy with another test's CLI) is retried, as
    // the shared request helper does.
    for attempt in 1.. {
        match ureq::get(&url)
            .header("Authorization", &format!("Bearer {}", admin_token()))
            .call()
        {
            Ok(mut resp) => return resp.body_mut().read_to_vec().unwrap(),
            Err(ureq::Error::StatusCode(503)) if attempt < 6 => {
                std::thread::sleep(Duration::from_millis(100 * attempt))
            }
            Err(e) => panic!("GET {url}: {e}"),
        }
    }
    unreachable!()
}

#[test]
fn tags_are_normalised_listed_and_filtered() {
    let tag = unique("Drop");
    let link = link_to(
        "https://shop.example/p",
        json!({"tags": [format!("{tag} Launch"), "VIP", "vip"]}),
    );
    let slug = link["slug"].as_str().unwrap();
    let launch = format!("{}-launch", tag.to_lowercase());
    assert_eq!(link["tags"], json!([launch, "vip"]));
    let other = link_to("https://shop.example/q", json!({"tags": ["vip"]}));

    let listed = admin(
        "GET",
        &format!("/api/v1/links?tag={launch}&limit=200"),
        None,
    )
    .json();
    let slugs: Vec<&str> = listed["links"]
        .as_array()
        .unwrap()
        .iter()
        .map(|l| l["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, [slug]);
    assert!(!slugs.contains(&other["slug"].as_str().unwrap()));
    admin("GET", "/api/v1/links?tag=a,b", None).assert_error(400, "invalid_format", Some("tag"));

    // PATCH replaces the tags; D1 holds exactly the new set.
    let r = admin(
        "PATCH",
        &format!("/api/v1/links/{slug}"),
        Some(json!({"tags": ["Q4"]})),
    );
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["tags"], json!(["q4"]));
    let stored = d1(&format!(
        "SELECT t.tag FROM link_tags t JOIN links l ON l.id = t.link_id WHERE l.slug = '{slug}'"
    ));
    assert_eq!(stored, vec![json!({"tag": "q4"})]);
    admin(
        "POST",
        "/api/v1/links",
        Some(json!({"destination": "https://s.example/", "influencer": "x", "campaign": "y", "tags": ["ok", 5]})),
    )
    .assert_error(400, "invalid_type", Some("tags[1]"));
}

#[test]
fn links_bound_to_a_short_domain_answer_only_there() {
    // scripts/e2e.sh sets SHORT_DOMAINS=go.brand.test,http://brand.test.
    let bound = link_to("https://shop.example/p", json!({"domain": "go.brand.test"}));
    let slug = bound["slug"].as_str().unwrap();
    assert_eq!(bound["short_url"], format!("https://go.brand.test/{slug}"));
    assert_eq!(bound["domain"], "go.brand.test");
    let expected = format!("https://shop.example/p?{}", tail(&bound));
    redirect(
        slug,
        &[("Host", "go.brand.test"), ("User-Agent", DESKTOP)],
        &expected,
    );
    for host in ["brand.test", "127.0.0.1"] {
        let r = get(
            &format!("/{slug}"),
            &[("Host", host), ("User-Agent", DESKTOP)],
        );
        assert_eq!(r.status, 404, "{slug} on {host}");
    }

    // Unbound links answer on every domain; the second domain's origin.
    let free = link_to("https://shop.example/p", json!({}));
    let free_slug = free["slug"].as_str().unwrap();
    let expected = format!("https://shop.example/p?{}", tail(&free));
    for host in ["go.brand.test", "brand.test"] {
        redirect(
            free_slug,
            &[("Host", host), ("User-Agent", DESKTOP)],
            &expected,
        );
    }
    let moved = admin(
        "PATCH",
        &format!("/api/v1/links/{free_slug}"),
        Some(json!({"domain": "Brand.Test"})),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(
        moved.json()["short_url"],
        format!("http://brand.test/{free_slug}")
    );
    let r = get(
        &format!("/{free_slug}"),
        &[("Host", "go.brand.test"), ("User-Agent", DESKTOP)],
    );
    assert_eq!(r.status, 404, "moved away from go.brand.test");

    admin(
        "PATCH",
        &format!("/api/v1/links/{free_slug}"),
        Some(json!({"domain": "evil.example"})),
    )
    .assert_error(400, "unknown_domain", Some("domain"));
}

#[test]
fn bulk_operations_are_all_or_nothing() {
    let (handle, campaign) = roster();
    let tag = unique("bulk").to_lowercase();
    let make = |tags: Value| {
        let r = admin(
            "POST",
            "/api/v1/links",
            Some(
                json!({"destination": "https://shop.example/p", "influencer": handle,
                        "campaign": campaign, "tags": tags}),
            ),
        );
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["slug"].as_str().unwrap().to_owned()
    };
    let tagged = [make(json!([tag])), make(json!([tag, "other"]))];
    let untagged = make(json!([]));
    let bulk = |body: Value| admin("PATCH", "/api/v1/links:bulk", Some(body));
    let status_of = |slug: &str| get(&format!("/{slug}"), &[("User-Agent", DESKTOP)]).status;

    let r = bulk(json!({"filter": {"tag": tag}, "action": "disable"}));
    assert_eq!(r.status, 200, "{}", r.body);
    let mut affected: Vec<String> = serde_json::from_value(r.json()["slugs"].clone()).unwrap();
    affected.sort();
    let mut want = tagged.to_vec();
    want.sort();
    assert_eq!((r.json()["affected"].as_u64(), affected), (Some(2), want));
    for slug in &tagged {
        assert_eq!(status_of(slug), 404, "{slug} disabled");
    }
    assert_eq!(status_of(&untagged), 302);

    assert_eq!(
        bulk(json!({"filter": {"tag": tag}, "action": "enable"})).json()["affected"],
        2
    );
    assert_eq!(status_of(&tagged[0]), 302);

    // Move every link of the influencer in this campaign to a new campaign:
    // the redirect carries the new utm_campaign at once.
    let winter = unique("winter");
    let created = admin("POST", "/api/v1/campaigns", Some(json!({"slug": winter})));
    assert_eq!(created.status, 201);
    let r = bulk(
        json!({"filter": {"influencer": handle, "campaign": campaign},
                         "action": "move_campaign", "campaign": winter}),
    );
    assert_eq!(r.json()["affected"], 3, "{}", r.body);
    let expected = format!(
        "https://shop.example/p?utm_source={handle}&utm_medium=influencer&utm_campaign={winter}"
    );
    redirect(&untagged, &[("User-Agent", DESKTOP)], &expected);

    let r = bulk(json!({"filter": {"influencer": handle}, "action": "add_tag", "tag": "moved"}));
    assert_eq!(r.json()["affected"], 3);
    let rows = d1(&format!(
        "SELECT COUNT(*) AS n FROM link_tags t JOIN links l ON l.id = t.link_id \
         JOIN influencers i ON i.id = l.influencer_id WHERE i.handle = '{handle}' AND t.tag = 'moved'"
    ));
    assert_eq!(rows, vec![json!({"n": 3})]);

    // All or nothing: an unknown target campaign changes no link.
    bulk(json!({"filter": {"influencer": handle}, "action": "move_campaign", "campaign": "no-such-campaign"}))
        .assert_error(400, "unknown_campaign", Some("campaign"));
    let rows = d1(&format!(
        "SELECT COUNT(*) AS n FROM links l JOIN campaigns c ON c.id = l.campaign_id \
         JOIN influencers i ON i.id = l.influencer_id WHERE i.handle = '{handle}' AND c.slug = '{winter}'"
    ));
    assert_eq!(rows, vec![json!({"n": 3})]);
    bulk(json!({"filter": {}, "action": "disable"})).assert_error(400, "empty", Some("filter"));
    let r = bulk(json!({"filter": {"tag": unique("none").to_lowercase()}, "action": "disable"}));
    assert_eq!(r.json()["affected"], 0);
}

/// `(key, clicks, revenue)` of the rows whose `field` is in `keys`, sorted.
fn rows_of(rep: &Value, field: &str, keys: &[Value]) -> Vec<(Value, u64, String)> {
    let mut out: Vec<(Value, u64, String)> = rep["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| keys.contains(&r[field]))
        .map(|r| {
            (
                r[field].clone(),
                r["clicks"].as_u64().unwrap_or(0),
                r["revenue"].as_str().unwrap_or("").to_owned(),
            )
        })
        .collect();
    out.sort_by_key(|a| a.0.to_string());
    out
}

#[test]
fn reports_group_by_trigger_rule_variant_and_tag() {
    let (rule, va, vb, tag) = (
        unique("rl").to_lowercase(),
        unique("va").to_lowercase(),
        unique("vb").to_lowercase(),
        unique("tg").to_lowercase(),
    );
    let link = link_to(
        "https://shop.example/p",
        json!({"rules": [{"name": rule, "when": {"os": ["ios"]}, "destination": "https://apps.apple.com/app/id9"}],
               "variants": [{"name": va, "destination": "https://shop.example/a", "weight": 50},
                            {"name": vb, "destination": "https://shop.example/b", "weight": 50}],
               "tags": [tag]}),
    );
    let slug = link["slug"].as_str().unwrap();
    let handle = link["influencer"].as_str().unwrap().to_owned();
    let visit = |path: &str, ua: &str| {
        let r = get(path, &[("User-Agent", ua)]);
        assert_eq!(r.status, 302);
        let loc = r.header("location").unwrap().to_owned();
        (query_param(&loc, "lc_cid").unwrap(), loc)
    };
    // An iPhone (the rule), a QR scan from a desktop and a desktop visit
    // (each a new visitor, so a variant each).
    let (ios_click, loc) = visit(&format!("/{slug}"), IPHONE_SAFARI);
    assert!(loc.starts_with("https://apps.apple.com/app/id9?"), "{loc}");
    let (qr_click, qr_loc) = visit(&format!("/{slug}?qr=1"), DESKTOP);
    let (_, plain_loc) = visit(&format!("/{slug}"), DESKTOP);
    let variant_of = |loc: &str| {
        if loc.starts_with("https://shop.example/a?") {
            va.clone()
        } else {
            vb.clone()
        }
    };
    let (qr_variant, plain_variant) = (variant_of(&qr_loc), variant_of(&plain_loc));
    d1_rows(
        &format!(
            "SELECT c.id FROM clicks c JOIN links l ON l.id = c.link_id WHERE l.slug = '{slug}'"
        ),
        3,
    );

    // Two orders: 50.00 after the iPhone click, 100.00 after the QR scan.
    let now = now_ms();
    let occurred = linkcredit::base::time::format_rfc3339(now);
    for (order, click, revenue) in [
        (unique("ord-ios"), &ios_click, "50.00"),
        (unique("ord-qr"), &qr_click, "100.00"),
    ] {
        let r = ingest(
            "/api/v1/conversions",
            &json!({"order_id": order, "occurred_at": occurred, "revenue": revenue,
                    "currency": "USD", "click_id": click}),
        );
        assert_eq!(r.status, 201, "{}", r.body);
    }
    let day = linkcredit::base::time::format_date(now / 86_400_000);
    let range = format!("from={day}&to={day}&model=last_touch");
    let who = [json!(handle)];
    // Attribution (and the rollups) until the report holds both orders and
    // all three clicks; the tests share one lease, and polling goes over
    // HTTP (the D1 file is busy enough).
    let deadline = Instant::now() + Duration::from_secs(180);
    loop {
        admin("POST", "/api/v1/attribution/run", Some(json!({})));
        let rep = report(&format!("group_by=influencer&{range}"));
        let row = rep["rows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| who.contains(&r["influencer"]))
            .cloned();
        let done = row.is_some_and(|r| r["clicks"] == 3 && r["revenue"] == "150.00");
        if done || Instant::now() > deadline {
            break;
        }
        std::thread::sleep(Duration::from_millis(1000));
    }

    // Several dimensions: the fine rollups.
    let rep = report(&format!("group_by=influencer,trigger&{range}"));
    let mine: Vec<_> = rep["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| who.contains(&r["influencer"]))
        .map(|r| {
            (
                r["trigger"].clone(),
                r["clicks"].as_u64().unwrap(),
                r["revenue"].clone(),
            )
        })
        .collect();
    let mut mine = mine;
    mine.sort_by_key(|r| r.0.to_string());
    assert_eq!(
        mine,
        vec![
            (json!("link"), 2, json!("50.00")),
            (json!("qr"), 1, json!("100.00"))
        ],
        "{rep}"
    );

    // One dimension: the per-dimension rollups.
    let rep = report(&format!("group_by=rule&{range}"));
    assert_eq!(
        rows_of(&rep, "rule", &[json!(rule)]),
        vec![(json!(rule), 1, "50.00".to_owned())]
    );
    let rep = report(&format!("group_by=variant&{range}"));
    let mut want = vec![(json!(qr_variant), 1, "100.00".to_owned())];
    if plain_variant == qr_variant {
        want[0].1 = 2;
    } else {
        want.push((json!(plain_variant), 1, "0.00".to_owned()));
    }
    want.sort_by_key(|a| a.0.to_string());
    assert_eq!(
        rows_of(&rep, "variant", &[json!(va), json!(vb)]),
        want,
        "{rep}"
    );

    // Tags: the link's current tags, joined at read time.
    let rep = report(&format!("group_by=tag&{range}"));
    assert_eq!(
        rows_of(&rep, "tag", &[json!(tag)]),
        vec![(json!(tag), 3, "150.00".to_owned())]
    );
    // The tag rows overlap (a link counts under each tag); the totals are
    // the ungrouped ones. Another test's attribution run may land between
    // the two reads, so compare a few times.
    let mut same = false;
    for _ in 0..5 {
        let (tagged, whole) = (
            report(&format!("group_by=tag&{range}")),
            report(&format!("group_by=channel&{range}")),
        );
        if tagged["totals"] == whole["totals"] {
            same = true;
            break;
        }
    }
    assert!(same, "tag totals are the ungrouped totals");
}
