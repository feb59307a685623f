//! The spreadsheet workflow: CSV import (dry run, idempotent, all or
//! nothing, errors by line and column) and the master spreadsheet export,
//! which imports back as a no-op.

use crate::harness::*;
use serde_json::{json, Value};

const HEADER: &str = "handle,name,primary_platform,follower_count,niche,contact_email,base_fee,\
bonus_per_conversion,revenue_share_pct,contract_start,contract_end,campaign,slug,destination,format,\
posted_at,product_category,code,discount_style,tags";

/// `n` rows: `n / 4` influencers with four links each (one with a code and
/// a fixed slug), in two campaigns.
fn sheet(prefix: &str, n: usize) -> String {
    let mut out = format!("{HEADER}\r\n");
    for i in 0..n {
        let inf = i / 4;
        let handle = format!("{prefix}-inf{inf}");
        let followers = [5_000, 50_000, 250_000, 750_000, 2_000_000][inf % 5];
        let campaign = format!("{prefix}-c{}", i % 2);
        let (slug, code) = if i % 4 == 0 {
            (
                format!("{prefix}-s{i}"),
                format!("{}{inf}", prefix.to_uppercase().replace('-', "")),
            )
        } else {
            (String::new(), String::new())
        };
        out.push_str(&format!(
            "{handle},\"Person {inf}, Jr.\",instagram,{followers},skin care,p{inf}@agency.example,1500.00,2.50,\
             12.5,2026-11-01,2026-12-31,{campaign},{slug},https://shop.example/products/serum-{i}?v=1,reel,\
             2026-11-20T18:00:00Z,,{code},,launch;{prefix}\r\n"
        ));
    }
    out
}

fn import(csv: &str, query: &str) -> Resp {
    let auth = format!("Bearer {}", admin_token());
    request(
        "POST",
        &format!("/api/v1/import{query}"),
        &[("Authorization", &auth), ("Content-Type", "text/csv")],
        Some(csv),
    )
}

fn stored(prefix: &str) -> Value {
    d1(&format!(
        "SELECT (SELECT COUNT(*) FROM influencers WHERE handle LIKE '{prefix}-%') AS influencers, \
                (SELECT COUNT(*) FROM campaigns WHERE slug LIKE '{prefix}-%') AS campaigns, \
                (SELECT COUNT(*) FROM links l JOIN influencers i ON i.id = l.influencer_id \
                  WHERE i.handle LIKE '{prefix}-%') AS links, \
                (SELECT COUNT(*) FROM link_tags WHERE tag = '{prefix}') AS tagged"
    ))[0]
        .clone()
}

#[test]
fn import_is_planned_idempotent_and_all_or_nothing() {
    let prefix = unique("imp").to_lowercase();
    let csv = sheet(&prefix, 200);

    // A dry run plans and writes nothing.
    let r = import(&csv, "?dry_run=true");
    assert_eq!(r.status, 200, "{}", r.body);
    let plan = r.json();
    assert_eq!(plan["dry_run"], true);
    assert_eq!(
        (
            &plan["influencers"]["creates"],
            &plan["campaigns"]["creates"],
            &plan["links"]["creates"],
            &plan["codes"]["creates"]
        ),
        (&json!(50), &json!(2), &json!(200), &json!(50)),
        "{plan}"
    );
    assert_eq!(
        stored(&prefix),
        json!({"influencers": 0, "campaigns": 0, "links": 0, "tagged": 0})
    );

    let r = import(&csv, "");
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["creates"], 302, "{}", r.body);
    assert_eq!(
        stored(&prefix),
        json!({"influencers": 50, "campaigns": 2, "links": 200, "tagged": 200})
    );
    let inf = admin("GET", &format!("/api/v1/influencers/{prefix}-inf2"), None).json();
    assert_eq!(
        (&inf["tier"], &inf["name"], &inf["revenue_share_pct"]),
        (&json!("mid"), &json!("Person 2, Jr."), &json!("12.5"))
    );
    let link = admin("GET", &format!("/api/v1/links/{prefix}-s8"), None).json();
    assert_eq!(
        link["discount_code"],
        format!("{}2", prefix.to_uppercase().replace('-', ""))
    );
    assert_eq!(
        (&link["format"], &link["tags"]),
        (&json!("reel"), &json!([prefix, "launch"]))
    );

    // The same file again changes nothing.
    let again = import(&csv, "").json();
    assert_eq!(
        (&again["creates"], &again["updates"]),
        (&json!(0), &json!(0)),
        "{again}"
    );
    assert_eq!(again["unchanged"], 302);
    assert_eq!(
        stored(&prefix),
        json!({"influencers": 50, "campaigns": 2, "links": 200, "tagged": 200})
    );

    // One changed value (in each of the influencer's four rows) is one
    // update.
    let changed = csv.replacen(",5000,", ",9000,", 4);
    let r = import(&changed, "").json();
    assert_eq!(
        (&r["updates"], &r["influencers"]["updates"]),
        (&json!(1), &json!(1)),
        "{r}"
    );

    // A file with one bad row writes nothing, and names line and column.
    let other = unique("imq").to_lowercase();
    let mut bad = sheet(&other, 12);
    bad = bad.replace(
        "https://shop.example/products/serum-5?v=1",
        "javascript:alert(1)",
    );
    let r = import(&bad, "");
    assert_eq!(r.status, 400, "{}", r.body);
    let v = r.json();
    assert_eq!(v["error"]["field"], "destination", "{v}");
    assert_eq!(v["errors"][0]["line"], 7, "{v}");
    assert_eq!(v["errors"][0]["column"], "destination");
    assert_eq!(
        stored(&other),
        json!({"influencers": 0, "campaigns": 0, "links": 0, "tagged": 0})
    );
    let r = import(
        "handle,campaign,destination,color\r\na,b,https://s.example/,red\r\n",
        "",
    );
    assert_eq!(r.status, 400);
    assert_eq!(
        (&r.json()["errors"][0]["line"], &r.json()["error"]["field"]),
        (&json!(1), &json!("color"))
    );
    let auth = format!("Bearer {}", admin_token());
    let r = request(
        "POST",
        "/api/v1/import",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/json"),
        ],
        Some("{}"),
    );
    r.assert_error(415, "unsupported_media_type", None);
}

#[test]
fn the_exported_spreadsheet_imports_back_as_a_no_op() {
    let prefix = unique("exp").to_lowercase();
    let r = import(&sheet(&prefix, 8), "");
    assert_eq!(r.status, 200, "{}", r.body);
    let slug = format!("{prefix}-s4");
    let visit = get(&format!("/{slug}"), &[("User-Agent", "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1")]);
    assert_eq!(visit.status, 302);

    let auth = format!("Bearer {}", admin_token());
    let r = request(
        "GET",
        "/api/v1/export/links.csv",
        &[("Authorization", &auth)],
        None,
    );
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/csv; charset=utf-8"));
    let mut lines = r.body.split("\r\n");
    let header = lines.next().unwrap();
    assert!(header.starts_with(HEADER), "{header}");
    assert!(header.ends_with(",tier,short_url,tracking_url,status,last_check_at,last_check,clicks,unique_clicks,conversions,revenue,cost,roi"));
    let mine: Vec<&str> = lines
        .filter(|l| l.starts_with(&format!("{prefix}-")))
        .collect();
    assert_eq!(mine.len(), 8);
    let link = admin("GET", &format!("/api/v1/links/{slug}"), None).json();
    let row = mine
        .iter()
        .find(|l| l.contains(&format!(",{slug},")))
        .unwrap();
    assert!(
        row.contains(&format!(
            ",{},{},active,",
            link["short_url"].as_str().unwrap(),
            link["tracking_url"].as_str().unwrap()
        )),
        "{row}"
    );
    assert!(
        row.contains(",\"Person 1, Jr.\",instagram,50000,skin-care,"),
        "{row}"
    );

    let back = format!("{header}\r\n{}\r\n", mine.join("\r\n"));
    let r = import(&back, "").json();
    assert_eq!(
        (&r["creates"], &r["updates"]),
        (&json!(0), &json!(0)),
        "{r}"
    );
    assert_eq!(
        r["unchanged"],
        8 + 2 + 2 + 2,
        "8 links, 2 influencers, 2 campaigns, 2 codes: {r}"
    );
}
