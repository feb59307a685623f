//! The pre-launch link check against a local fake shop
//! (`tests/fake_shop.py`): a Shopify discount path that sets a cookie and
//! keeps the query, a redirect that drops the query, a 404, a loop and a
//! page slower than the check's timeout (`scripts/e2e.sh` sets
//! `LINK_CHECK_TIMEOUT_MS=1500`).

use crate::harness::*;
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::time::Instant;

/// The fake shop, stopped when dropped.
struct Shop(Child, u16);

impl Shop {
    fn start() -> Shop {
        let mut child = Command::new("python3")
            .args(["tests/fake_shop.py", "0"])
            .stdout(Stdio::piped())
            .spawn()
            .expect("python3 runs");
        let mut line = String::new();
        BufReader::new(child.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let port = line.trim().strip_prefix("PORT ").unwrap().parse().unwrap();
        Shop(child, port)
    }
}

impl Drop for Shop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn link_checks_give_the_right_verdict_for_each_shop_behaviour() {
    let shop = Shop::start();
    let base = format!("http://127.0.0.1:{}", shop.1);
    let (handle, campaign) = roster();
    let code = unique_code("CHK");
    let r = admin(
        "POST",
        "/api/v1/codes",
        Some(json!({"code": code, "influencer": handle})),
    );
    assert_eq!(r.status, 201, "{}", r.body);
    let link = |path: &str, extra: Value| {
        let mut body = json!({"destination": format!("{base}{path}"), "influencer": handle, "campaign": campaign});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let r = admin("POST", "/api/v1/links", Some(body));
        assert_eq!(r.status, 201, "{}", r.body);
        r.json()["slug"].as_str().unwrap().to_owned()
    };
    let healthy = link(
        "/products/serum?v=1",
        json!({"discount_code": code, "discount_style": "shopify"}),
    );
    let dropped = link("/drop-query/serum", json!({}));
    let missing = link("/missing/serum", json!({}));
    let looping = link("/loop-a", json!({}));
    let slow = link("/slow/serum", json!({}));
    let relative = link("/relative/serum", json!({}));

    let check = |slug: &str| {
        let started = Instant::now();
        let r = admin(
            "POST",
            &format!("/api/v1/links/{slug}/check"),
            Some(json!({})),
        );
        assert_eq!(r.status, 200, "{}", r.body);
        (r.json(), started.elapsed())
    };

    // Shopify: the discount path answers 302 with the code's cookie and
    // keeps the query; every agent lands on the product with all tags.
    let (v, _) = check(&healthy);
    assert_eq!((&v["ok"], &v["reasons"]), (&json!(true), &json!([])), "{v}");
    let agents = v["agents"].as_array().unwrap();
    let names: Vec<&str> = agents
        .iter()
        .map(|a| a["agent"].as_str().unwrap())
        .collect();
    assert_eq!(
        names,
        ["desktop_chrome", "ios_safari", "instagram", "tiktok"]
    );
    for a in agents {
        let hops = a["hops"].as_array().unwrap();
        assert_eq!(hops.len(), 3, "{a}");
        assert!(hops[1]["url"]
            .as_str()
            .unwrap()
            .starts_with(&format!("{base}/discount/{code}?redirect=")));
        assert_eq!(hops[1]["status"], 302);
        assert_eq!(
            hops[1]["set_cookie"],
            json!([format!("discount_code={code}; Path=/")])
        );
        let final_url = a["final_url"].as_str().unwrap();
        assert!(final_url.starts_with(&format!("{base}/products/serum?v=1&utm_source={handle}&utm_medium=influencer&utm_campaign={campaign}&lc_cid=")), "{final_url}");
        assert_eq!(a["final_status"], 200);
        assert_eq!(
            (&a["utm_kept"], &a["click_id_kept"]),
            (&json!(true), &json!(true))
        );
        assert_eq!(
            (&a["discount_answered"], &a["code_applied"]),
            (&json!(true), &json!(true))
        );
        assert_eq!(a["verdict"], json!({"status": "ok"}));
    }
    // A relative Location is resolved against the hop's URL.
    assert_eq!(check(&relative).0["ok"], true);

    // Each broken behaviour, with its reason, for every agent.
    for (slug, reason) in [
        (&dropped, vec!["lost_utm", "lost_click_id"]),
        (&missing, vec!["status_4xx_5xx"]),
        (&looping, vec!["loop"]),
        (&slow, vec!["timeout"]),
    ] {
        let (v, took) = check(slug);
        assert_eq!(
            (&v["ok"], &v["reasons"]),
            (&json!(false), &json!(reason)),
            "{slug}: {v}"
        );
        for a in v["agents"].as_array().unwrap() {
            assert_eq!(
                a["verdict"],
                json!({"status": "broken", "reasons": reason}),
                "{a}"
            );
        }
        if reason == ["timeout"] {
            // Four agents, each cut off after 1.5 s, not the shop's 15 s.
            assert!(took.as_secs() < 12, "the timeout held: {took:?}");
            assert_eq!(v["agents"][0]["error"], json!({"kind": "timeout"}));
        }
    }
    let lost = &check(&dropped).0["agents"][0];
    assert_eq!(lost["final_url"], format!("{base}/products/serum"));
    assert_eq!(
        lost["lost"],
        json!(["utm_source", "utm_medium", "utm_campaign", "lc_cid"])
    );

    // The latest result is kept, and the broken ones are quality findings.
    let last = admin("GET", &format!("/api/v1/links/{missing}/check"), None).json();
    assert_eq!(
        (&last["ok"], &last["reasons"]),
        (&json!(false), &json!(["status_4xx_5xx"]))
    );
    let q = admin("GET", "/api/v1/quality", None).json();
    let broken: Vec<&str> = q["findings"]["broken_link"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["subject"].as_str().unwrap())
        .collect();
    for slug in [&dropped, &missing, &looping, &slow] {
        assert!(broken.contains(&slug.as_str()), "{slug} is a finding");
    }
    assert!(!broken.contains(&healthy.as_str()));
    assert!(!broken.contains(&relative.as_str()));
    // The batch endpoint checks the links checked longest ago (never, first).
    admin("POST", "/api/v1/links:check?limit=11", Some(json!({}))).assert_error(
        400,
        "invalid_value",
        Some("limit"),
    );
    let fresh = link("/products/batch", json!({}));
    let r = admin("POST", "/api/v1/links:check?limit=1", Some(json!({})));
    assert_eq!(r.status, 200, "{}", r.body);
    let checked = r.json()["checked"].as_array().unwrap().clone();
    assert_eq!(checked.len(), 1, "{checked:?}");
    let again = admin("GET", &format!("/api/v1/links/{fresh}/check"), None);
    // Another never-checked link may have been older; either way a check
    // ran and was kept.
    assert!(again.status == 200 || checked[0]["slug"] != fresh.as_str());
    // No check is a click.
    let stats = admin("GET", &format!("/api/v1/links/{healthy}/stats"), None).json();
    assert_eq!(stats["clicks"], 0);
}
