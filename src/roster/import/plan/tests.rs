//! The plan's tests: files planned against an empty and a stored
//! [`Snapshot`], absent columns kept and empty cells cleared.

use super::*;
use crate::base::csv;
use crate::base::time;
use crate::roster::import::harness::{check, summary};

/// What the shell would have stored after writing `plan`.
fn stored(plan: &Plan) -> Snapshot {
    Snapshot {
        influencers: plan
            .influencers
            .iter()
            .map(|(h, p, _)| (h.clone(), p.clone()))
            .collect(),
        campaigns: plan.campaigns.iter().map(|(c, _)| c.clone()).collect(),
        codes: plan
            .codes
            .iter()
            .map(|(c, h, _)| (c.clone(), h.clone()))
            .collect(),
        links: plan
            .links
            .iter()
            .enumerate()
            .map(|(i, l)| ExistingLink {
                slug: l
                    .slug
                    .clone()
                    .unwrap_or_else(|| Slug::parse(&format!("gen{i}")).unwrap()),
                influencer: l.influencer.clone(),
                campaign: l.campaign.clone(),
                destination: l.destination.clone(),
                format: l.format,
                posted_at: l.posted_at,
                product_category: l.product_category.clone(),
                discount_code: l.discount_code.clone(),
                discount_style: l.discount_style,
                // Stored in any order.
                tags: l.tags.iter().rev().cloned().collect(),
            })
            .collect(),
    }
}

const HEADER: &str = "handle,name,follower_count,campaign,destination,code,tags,format,posted_at";

/// `n` rows over 20 influencers and 4 campaigns; each influencer's
/// rows carry its code. `followers` of influencer 3 is given.
fn generated(n: usize, followers_3: u64) -> String {
    let mut out = String::new();
    csv::write_row(&mut out, &HEADER.split(',').collect::<Vec<_>>());
    for i in 0..n {
        let k = i % 20;
        let followers = if k == 3 { followers_3 } else { k as u64 * 1000 };
        csv::write_row(
            &mut out,
            &[
                &format!("inf{k}"),
                &format!("Influencer {k}, \"the {k}th\""),
                &followers.to_string(),
                &format!("camp{}", i % 4),
                &format!("https://shop.example/p/{i}?ref=x"),
                &format!("INF{k}"),
                "summer;Sale; summer",
                ["story", "reel", ""][i % 3],
                "2026-11-01T10:00:00Z",
            ],
        );
    }
    out
}

#[test]
fn generated_file_creates_then_changes_nothing() {
    let empty = Snapshot::default();
    let p = check(
        &generated(200, 3000),
        &empty,
        Ok(summary([[20, 0, 0], [4, 0, 0], [20, 0, 0], [200, 0, 0]])),
    )
    .unwrap();
    let l = &p.links[7];
    assert_eq!(
        (
            l.line,
            l.influencer.as_str(),
            l.campaign.as_str(),
            l.slug.clone()
        ),
        (9, "inf7", "camp3", None)
    );
    assert_eq!(
        l.tags.iter().map(Tag::as_str).collect::<Vec<_>>(),
        ["sale", "summer"]
    );
    assert_eq!(
        (l.format, l.discount_code.as_ref().map(PromoCode::as_str)),
        (Some(Format::Reel), Some("INF7"))
    );
    assert_eq!(
        p.influencers[3].1.name.as_deref(),
        Some("Influencer 3, \"the 3th\"")
    );
    assert_eq!(p.influencers[3].1.follower_count, Some(3000));
    // The same file again, and an export of it (other column order,
    // export-only columns), change nothing.
    let again = stored(&p);
    check(
        &generated(200, 3000),
        &again,
        Ok(summary([[0, 0, 20], [0, 0, 4], [0, 0, 20], [0, 0, 200]])),
    );
    let mut export = String::new();
    csv::write_row(
        &mut export,
        &[
            "Slug",
            "clicks",
            "Handle",
            "campaign",
            "destination",
            "ROI",
            "tags",
        ],
    );
    for l in p.links.iter().take(3) {
        let i = l.line - 2;
        csv::write_row(
            &mut export,
            &[
                &format!("gen{i}"),
                "12",
                l.influencer.as_str(),
                l.campaign.as_str(),
                l.destination.as_str(),
                "-0.5",
                "sale;summer",
            ],
        );
    }
    check(
        &export,
        &again,
        Ok(summary([[0, 0, 3], [0, 0, 3], [0, 0, 0], [0, 0, 3]])),
    );
    // One influencer's follower count changed: one update.
    let p = check(
        &generated(200, 3500),
        &again,
        Ok(summary([[0, 1, 19], [0, 0, 4], [0, 0, 20], [0, 0, 200]])),
    )
    .unwrap();
    assert_eq!(
        (p.influencers[3].1.follower_count, p.influencers[3].2),
        (Some(3500), Action::Update)
    );
}

#[test]
fn absent_columns_keep_and_empty_cells_clear() {
    let mia = Handle::parse("mia").unwrap();
    let link = |slug: &str, format| ExistingLink {
        slug: Slug::parse(slug).unwrap(),
        influencer: mia.clone(),
        campaign: CampaignSlug::parse("glow").unwrap(),
        destination: Destination::parse("https://shop.example/serum").unwrap(),
        format,
        posted_at: Some(1_000),
        product_category: UtmValue::parse("skincare").ok(),
        discount_code: PromoCode::parse("MIA10").ok(),
        discount_style: Some(DiscountStyle::Shopify),
        tags: vec![Tag::parse("b").unwrap(), Tag::parse("a").unwrap()],
    };
    let snapshot = Snapshot {
        influencers: vec![(
            mia.clone(),
            Profile {
                name: Some("Mia".into()),
                follower_count: Some(5),
                niche: UtmValue::parse("skin").ok(),
                ..Profile::default()
            },
        )],
        campaigns: vec![CampaignSlug::parse("glow").unwrap()],
        codes: vec![(PromoCode::parse("MIA10").unwrap(), mia.clone())],
        links: vec![link("mia-story", Some(Format::Story))],
    };
    // name and every link column but format absent: kept; follower_count
    // and format empty: cleared; niche set.
    let p = check(
        "handle,follower_count,niche,campaign,destination,format\n@MIA,,Hair Care,glow,https://shop.example/serum,\n",
        &snapshot,
        Ok(summary([[0, 1, 0], [0, 0, 1], [0, 0, 0], [0, 1, 0]])),
    )
    .unwrap();
    let prof = &p.influencers[0].1;
    assert_eq!(
        (
            prof.name.as_deref(),
            prof.follower_count,
            prof.niche.as_ref().map(UtmValue::as_str)
        ),
        (Some("Mia"), None, Some("hair-care"))
    );
    let mut want = link("mia-story", None);
    want.tags.reverse();
    let l = &p.links[0];
    assert_eq!(
        (
            l.slug.as_ref(),
            l.format,
            l.posted_at,
            &l.product_category,
            &l.discount_code,
            l.discount_style,
            &l.tags
        ),
        (
            Some(&want.slug),
            None,
            want.posted_at,
            &want.product_category,
            &want.discount_code,
            want.discount_style,
            &want.tags
        )
    );
    // Empty link cells clear; tags replace; the slug matches and the
    // destination moves.
    let p = check(
        "slug,handle,campaign,destination,code,discount_style,tags,product_category,posted_at\n\
         mia-story,mia,glow,https://shop.example/new,,,c;a,,2026-11-01\n",
        &snapshot,
        Ok(summary([[0, 0, 1], [0, 0, 1], [0, 0, 0], [0, 1, 0]])),
    )
    .unwrap();
    let l = &p.links[0];
    assert_eq!(
        (
            l.destination.as_str(),
            &l.discount_code,
            l.discount_style,
            &l.product_category
        ),
        ("https://shop.example/new", &None, None, &None)
    );
    assert_eq!(
        (
            l.tags.iter().map(Tag::as_str).collect::<Vec<_>>(),
            l.posted_at
        ),
        (
            vec!["a", "c"],
            time::parse_date("2026-11-01").ok().map(|d| d * time::DAY)
        )
    );
    // Unchanged values; a second stored link with the same destination
    // claimed by its slug leaves one for the row without slug.
    let mut two = snapshot.clone();
    two.links.push(link("mia-reel", Some(Format::Reel)));
    check(
        "handle,campaign,destination,slug,format\nmia,glow,https://shop.example/serum,mia-reel,reel\nmia,glow,https://shop.example/serum,,story\n",
        &two,
        Ok(summary([[0, 0, 1], [0, 0, 1], [0, 0, 0], [0, 0, 2]])),
    );
    check(
        "handle,campaign,destination\nmia,glow,https://shop.example/serum\n",
        &two,
        Err(&[(2, "slug", "ambiguous_link")]),
    );
    // A code owned by another influencer; a slug of another influencer.
    check(
        "handle,campaign,destination,code\nsam,glow,https://shop.example/,Mia10\n",
        &snapshot,
        Err(&[(2, "code", "code_of_other_influencer")]),
    );
    check(
        "handle,campaign,destination,slug\nsam,glow,https://shop.example/,mia-story\n",
        &snapshot,
        Err(&[(2, "slug", "slug_taken")]),
    );
    // The stored contract with a new end before its start.
    let mut dated = snapshot.clone();
    dated.influencers[0].1.contract.start = time::parse_date("2026-11-01").ok();
    check(
        "handle,campaign,destination,contract_end\nmia,glow,https://shop.example/,2026-10-01\n",
        &dated,
        Err(&[(2, "contract_end", "invalid_range")]),
    );
}
