//! Judging one agent's chain against the [`Expectation`]: the final status,
//! lost tags and click id, loops, the hop limit, fetch errors, the discount
//! hop and the code, as a [`Verdict`]; and the summary of every agent's.

use super::chain::{next_url, same, BadLocation, FetchError, Hop};
use super::expectation::{discount_code, Expectation};
use crate::links::landing::parse_landing;
use crate::links::utm::CLICK_ID_PARAM;
use serde::Serialize;
use url::Url;

/// Every reason a [`Verdict`] can give, in the order it lists them.
pub const REASONS: [&str; 9] = [
    "status_4xx_5xx",
    "lost_utm",
    "lost_click_id",
    "loop",
    "too_many_hops",
    "timeout",
    "dns",
    "tls",
    "fetch_error",
];

/// Whether a check passed. JSON: `{"status":"ok"}` or
/// `{"status":"broken","reasons":["lost_utm"]}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", content = "reasons", rename_all = "snake_case")]
pub enum Verdict {
    Ok,
    /// Reasons from [`REASONS`], in that order.
    Broken(Vec<&'static str>),
}

impl Verdict {
    pub fn reasons(&self) -> &[&'static str] {
        match self {
            Verdict::Ok => &[],
            Verdict::Broken(reasons) => reasons,
        }
    }
}

/// One agent's check, stored as JSON and shown by the API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgentResult {
    pub agent: &'static str,
    pub hops: Vec<Hop>,
    /// The last response, when the chain ended there (no error, loop or hop
    /// limit).
    pub final_url: Option<String>,
    pub final_status: Option<u16>,
    pub error: Option<FetchError>,
    /// The hops' total; the shell adds a failed fetch's time.
    pub elapsed_ms: u64,
    /// Parameters are checked against the last URL reached: the final URL,
    /// or the URL being fetched when the chain stopped.
    pub utm_kept: bool,
    /// Lost `utm_*` keys, then `lc_cid`.
    pub lost: Vec<String>,
    pub click_id_kept: bool,
    /// `None` without a discount path.
    pub discount_answered: Option<bool>,
    /// `None` without a code.
    pub code_applied: Option<bool>,
    pub loop_detected: bool,
    pub verdict: Verdict,
}

/// Whether `url` is a Shopify `/discount/CODE` URL.
fn is_discount(url: &str) -> bool {
    Url::parse(url).is_ok_and(|u| discount_code(&u).is_some())
}

/// Judges one agent's chain. `error` is the failure of the fetch after the
/// last hop, if any.
pub fn evaluate(
    agent: &'static str,
    hops: Vec<Hop>,
    error: Option<FetchError>,
    expect: &Expectation,
) -> AgentResult {
    let last = hops.last();
    let next = last.and_then(|h| next_url(&h.url, h.status, h.location.as_deref()));
    let continuing = match &next {
        Some(Ok(url)) => Some(url.as_str()),
        _ => None,
    };
    let seen: Vec<String> = hops.iter().map(|h| same(&h.url)).collect();
    let loop_detected = seen.iter().enumerate().any(|(i, u)| seen[..i].contains(u))
        || continuing.is_some_and(|u| seen.contains(&same(u)));
    let (final_url, final_status) = match last {
        Some(h) if error.is_none() && continuing.is_none() => (Some(h.url.clone()), Some(h.status)),
        _ => (None, None),
    };

    // The last URL reached; a discount URL carries its target's parameters
    // inside `redirect=`.
    let query: Option<Vec<(String, String)>> = continuing
        .or(last.map(|h| h.url.as_str()))
        .and_then(|u| Url::parse(u).ok())
        .map(|u| {
            let mut pairs: Vec<(String, String)> = u.query_pairs().into_owned().collect();
            if discount_code(&u).is_some() {
                let landing = parse_landing(u.as_str());
                pairs.extend(landing.utm);
                pairs.extend(
                    landing
                        .click_id
                        .map(|c| (CLICK_ID_PARAM.to_owned(), c.as_str().to_owned())),
                );
            }
            pairs
        });
    let kept = |k: &str, v: &str| {
        query
            .as_ref()
            .is_none_or(|q| q.iter().any(|(qk, qv)| qk == k && qv == v))
    };
    let mut lost: Vec<String> = expect
        .utm
        .iter()
        .filter(|(k, v)| !kept(k, v))
        .map(|(k, _)| k.clone())
        .collect();
    let utm_kept = lost.is_empty();
    let click_id_kept = expect.click_id.is_empty() || kept(CLICK_ID_PARAM, &expect.click_id);
    if !click_id_kept {
        lost.push(CLICK_ID_PARAM.to_owned());
    }

    let discount_answered = expect.discount_path.then(|| {
        hops.iter()
            .find(|h| is_discount(&h.url))
            .is_some_and(|h| h.status < 400)
    });
    let code_applied = expect.code.as_deref().map(|code| {
        let code = code.to_ascii_lowercase();
        let in_query = query.iter().flatten().any(|(k, v)| {
            k != CLICK_ID_PARAM && !k.starts_with("utm_") && v.eq_ignore_ascii_case(&code)
        });
        // A cookie's value: after the first `=`, before the first `;`.
        let in_cookie = hops.iter().flat_map(|h| &h.set_cookie).any(|c| {
            let pair = c.split(';').next().unwrap_or_default();
            pair.split_once('=')
                .is_some_and(|(_, v)| v.to_ascii_lowercase().contains(&code))
        });
        in_query || in_cookie
    });

    let flags = [
        final_status.is_some_and(|s| s >= 400),
        !utm_kept,
        !click_id_kept,
        loop_detected,
        continuing.is_some() && !loop_detected && error.is_none(),
        error == Some(FetchError::Timeout),
        error == Some(FetchError::Dns),
        error == Some(FetchError::Tls),
        matches!(error, Some(FetchError::Connect | FetchError::Other(_)))
            || next == Some(Err(BadLocation::Unparsable)),
    ];
    let reasons: Vec<&'static str> = REASONS
        .iter()
        .zip(flags)
        .filter_map(|(reason, on)| on.then_some(*reason))
        .collect();
    AgentResult {
        agent,
        elapsed_ms: hops.iter().map(|h| h.elapsed_ms).sum(),
        hops,
        final_url,
        final_status,
        error,
        utm_kept,
        lost,
        click_id_kept,
        discount_answered,
        code_applied,
        loop_detected,
        verdict: if reasons.is_empty() {
            Verdict::Ok
        } else {
            Verdict::Broken(reasons)
        },
    }
}

/// Whether every agent passed, and the distinct reasons (in [`REASONS`]
/// order) of those that did not.
pub fn summarize(results: &[AgentResult]) -> (bool, Vec<&'static str>) {
    let reasons: Vec<&'static str> = REASONS
        .into_iter()
        .filter(|r| results.iter().any(|a| a.verdict.reasons().contains(r)))
        .collect();
    (results.iter().all(|a| a.verdict == Verdict::Ok), reasons)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::links::check::chain::{classify_error, next_fetch, MAX_HOPS};
    use crate::links::check::expectation::expectation;
    use crate::links::check::expectation::tests::{SHOP, SHOPIFY, TAGS};

    fn hop(url: &str, status: u16, location: Option<&str>, cookie: &[&str]) -> Hop {
        Hop {
            url: url.to_owned(),
            status,
            location: location.map(str::to_owned),
            set_cookie: cookie.iter().map(|c| c.to_string()).collect(),
            elapsed_ms: 10,
        }
    }

    /// A chain: the first Location, the link's code, the hops, the error.
    struct Case<'a> {
        location: String,
        code: Option<&'a str>,
        hops: Vec<Hop>,
        error: Option<FetchError>,
    }

    /// What [`evaluate`] should find.
    #[derive(Debug, Clone, Copy, PartialEq)]
    struct Want<'a> {
        final_status: Option<u16>,
        reasons: &'a [&'a str],
        lost: &'a [&'a str],
        discount: Option<bool>,
        code: Option<bool>,
    }

    const OK: Want = Want {
        final_status: Some(200),
        reasons: &[],
        lost: &[],
        discount: None,
        code: None,
    };

    fn check(input: Case, expected: Want) {
        let expect = expectation(&input.location, input.code);
        let n = input.hops.len() as u64;
        let r = evaluate("ios_safari", input.hops, input.error, &expect);
        let got = Want {
            final_status: r.final_status,
            reasons: r.verdict.reasons(),
            lost: &r.lost.iter().map(String::as_str).collect::<Vec<_>>(),
            discount: r.discount_answered,
            code: r.code_applied,
        };
        assert_eq!(got, expected, "{}", input.location);
        assert_eq!((r.agent, r.elapsed_ms), ("ios_safari", 10 * n));
        assert_eq!(r.loop_detected, expected.reasons.contains(&"loop"));
        assert_eq!(r.utm_kept, !expected.reasons.contains(&"lost_utm"));
        assert_eq!(r.final_url.is_some(), expected.final_status.is_some());
    }

    fn case(location: &str, hops: Vec<Hop>, error: Option<FetchError>) -> Case<'static> {
        Case {
            location: location.to_owned(),
            code: None,
            hops,
            error,
        }
    }

    #[test]
    fn chains() {
        let product = format!("{SHOP}/products/serum?{TAGS}");
        // A clean chain: http → https, then the page.
        let http = product.replacen("https", "http", 1);
        check(
            case(
                &http,
                vec![
                    hop(&http, 301, Some(&product), &[]),
                    hop(&product, 200, None, &[]),
                ],
                None,
            ),
            OK,
        );
        // Shopify: the discount hop sets the cookie and keeps the query.
        let shopify = |code| Case {
            location: SHOPIFY.to_owned(),
            code,
            hops: vec![
                hop(
                    SHOPIFY,
                    302,
                    Some(&format!("/products/serum?{TAGS}")),
                    &["_shop=1; Path=/", "discount_code=SARAH20; Path=/"],
                ),
                hop(&product, 200, None, &[]),
            ],
            error: None,
        };
        let applied = Want {
            discount: Some(true),
            code: Some(true),
            ..OK
        };
        check(shopify(None), applied);
        check(shopify(Some("sarah20")), applied);
        check(
            shopify(Some("OTHER10")),
            Want {
                code: Some(false),
                ..applied
            },
        );
        // The code in the final query (the `query` style), case-insensitive.
        let query_style = format!("{SHOP}/products/serum?discount=SARAH20&{TAGS}");
        check(
            Case {
                code: Some("sarah20"),
                ..case(&query_style, vec![hop(&query_style, 200, None, &[])], None)
            },
            Want {
                code: Some(true),
                ..OK
            },
        );
        // A redirect that drops the query string.
        let drop = format!("{SHOP}/drop-query/serum?{TAGS}");
        check(
            case(
                &drop,
                vec![
                    hop(&drop, 301, Some("/products/serum"), &[]),
                    hop(&format!("{SHOP}/products/serum"), 200, None, &[]),
                ],
                None,
            ),
            Want {
                reasons: &["lost_utm", "lost_click_id"],
                lost: &["utm_source", "utm_medium", "lc_cid"],
                ..OK
            },
        );
        // A changed value is lost too.
        let changed = product.replace("sarah", "other");
        check(
            case(
                &product,
                vec![
                    hop(&product, 302, Some(&changed), &[]),
                    hop(&changed, 200, None, &[]),
                ],
                None,
            ),
            Want {
                reasons: &["lost_utm"],
                lost: &["utm_source"],
                ..OK
            },
        );
        // A 404 final page.
        let missing = format!("{SHOP}/missing/serum?{TAGS}");
        check(
            case(&missing, vec![hop(&missing, 404, None, &[])], None),
            Want {
                final_status: Some(404),
                reasons: &["status_4xx_5xx"],
                ..OK
            },
        );
        // A Shopify discount path that is not found.
        check(
            Case {
                hops: vec![hop(SHOPIFY, 404, None, &[])],
                ..shopify(None)
            },
            Want {
                final_status: Some(404),
                reasons: &["status_4xx_5xx"],
                discount: Some(false),
                code: Some(false),
                ..OK
            },
        );
        // A loop, stopped by next_fetch before fetching /loop-a again.
        let (a, b) = (
            format!("{SHOP}/loop-a?{TAGS}"),
            format!("{SHOP}/loop-b?{TAGS}#x"),
        );
        let looping = vec![
            hop(&a, 302, Some(&format!("/loop-b?{TAGS}")), &[]),
            hop(&b, 302, Some(&format!("/loop-a?{TAGS}")), &[]),
        ];
        assert_eq!(next_fetch(&looping), None);
        let looped = Want {
            final_status: None,
            reasons: &["loop"],
            ..OK
        };
        check(case(&a, looping.clone(), None), looped);
        // ... or fetched again by a shell that does not stop.
        let mut again = looping;
        again.push(hop(&a, 302, Some(&format!("/loop-b?{TAGS}")), &[]));
        check(case(&a, again, None), looped);
        // A timeout on the second fetch: the parameters reached it.
        let slow = format!("{SHOP}/slow/serum?{TAGS}");
        check(
            case(
                &product,
                vec![hop(&product, 302, Some(&slow), &[])],
                Some(FetchError::Timeout),
            ),
            Want {
                final_status: None,
                reasons: &["timeout"],
                ..OK
            },
        );
        // A DNS error on the first fetch: no hop, the discount never answered.
        check(
            Case {
                hops: vec![],
                error: Some(classify_error("DNS lookup failed")),
                ..shopify(None)
            },
            Want {
                final_status: None,
                reasons: &["dns"],
                discount: Some(false),
                code: Some(false),
                ..OK
            },
        );
        check(
            case(&product, vec![], Some(FetchError::Other("boom".into()))),
            Want {
                final_status: None,
                reasons: &["fetch_error"],
                ..OK
            },
        );
        // Too many hops: MAX_HOPS redirects followed, the last still redirects.
        let hops: Vec<Hop> = (0..=MAX_HOPS)
            .map(|i| {
                let url = format!("{SHOP}/hop/{i}?{TAGS}");
                hop(&url, 302, Some(&format!("/hop/{}?{TAGS}", i + 1)), &[])
            })
            .collect();
        assert_eq!(
            next_fetch(&hops[..MAX_HOPS]),
            Some(format!("{SHOP}/hop/{MAX_HOPS}?{TAGS}"))
        );
        assert_eq!(next_fetch(&hops), None);
        check(
            case(&hops[0].url.clone(), hops, None),
            Want {
                final_status: None,
                reasons: &["too_many_hops"],
                ..OK
            },
        );
        // A relative Location.
        let relative = format!("{SHOP}/relative/serum?{TAGS}");
        check(
            case(
                &relative,
                vec![
                    hop(
                        &relative,
                        302,
                        Some(&format!("../products/serum?{TAGS}")),
                        &[],
                    ),
                    hop(&product, 200, None, &[]),
                ],
                None,
            ),
            OK,
        );
        // An unparsable Location ends the chain at the redirect.
        check(
            case(
                &product,
                vec![hop(&product, 302, Some("http://[::1"), &[])],
                None,
            ),
            Want {
                final_status: Some(302),
                reasons: &["fetch_error"],
                ..OK
            },
        );
    }

    #[test]
    fn summaries_and_json() {
        let product = format!("{SHOP}/products/serum?{TAGS}");
        let expect = expectation(&product, None);
        let good = evaluate(
            "desktop_chrome",
            vec![hop(&product, 200, None, &[])],
            None,
            &expect,
        );
        let bad = evaluate("tiktok", vec![], Some(FetchError::Tls), &expect);
        let lost = evaluate(
            "instagram",
            vec![hop(&format!("{SHOP}/"), 404, None, &[])],
            None,
            &expect,
        );
        assert_eq!(summarize(std::slice::from_ref(&good)), (true, vec![]));
        assert_eq!(summarize(&[]), (true, vec![]));
        assert_eq!(
            summarize(&[good.clone(), bad.clone(), lost]),
            (
                false,
                vec!["status_4xx_5xx", "lost_utm", "lost_click_id", "tls"]
            )
        );
        let json = |r: &AgentResult| serde_json::to_value(r).unwrap();
        assert_eq!(
            json(&good),
            serde_json::json!({
                "agent": "desktop_chrome",
                "hops": [{"url": product, "status": 200, "location": null,
                          "set_cookie": [], "elapsed_ms": 10}],
                "final_url": product, "final_status": 200, "error": null,
                "elapsed_ms": 10, "utm_kept": true, "lost": [], "click_id_kept": true,
                "discount_answered": null, "code_applied": null, "loop_detected": false,
                "verdict": {"status": "ok"}
            })
        );
        assert_eq!(json(&bad)["error"], serde_json::json!({"kind": "tls"}));
        assert_eq!(
            json(&bad)["verdict"],
            serde_json::json!({"status": "broken", "reasons": ["tls"]})
        );
        assert_eq!(
            serde_json::to_value(FetchError::Other("x".into())).unwrap(),
            serde_json::json!({"kind": "other", "message": "x"})
        );
    }
}
