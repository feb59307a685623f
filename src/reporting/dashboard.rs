//! The marketer dashboard: one server-rendered page with inline SVG charts.
//! No scripts, fonts or anything external: it loads fully offline and reads
//! well on a phone. Every value is HTML-escaped.

use crate::attribution::models::Model;
use crate::base::html::escape;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// What the page shows (report rows as the reports API returns them).
#[derive(Debug, Clone, Default)]
pub struct Data {
    pub model: Option<Model>,
    pub from: String,
    pub to: String,
    pub currency: String,
    pub by_influencer: Vec<Map<String, Value>>,
    pub totals: Map<String, Value>,
    pub comparison: Vec<Map<String, Value>>,
    pub weekly: Vec<Map<String, Value>>,
    pub by_app: Vec<Map<String, Value>>,
    pub quality: BTreeMap<String, u64>,
    /// The latest link checks: `slug`, `checked_at`, `verdict`.
    pub checks: Vec<Map<String, Value>>,
    /// Lifetime value rows (`GET /api/v1/reports/ltv`, 90 days).
    pub ltv: Vec<Map<String, Value>>,
}

const STYLE: &str = "\
*{box-sizing:border-box}body{margin:0;font:15px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1c1c1e;background:#f5f5f2}\
header{background:#111;color:#fff;padding:.8rem 1rem;display:flex;flex-wrap:wrap;gap:.6rem;align-items:center;justify-content:space-between}\
header h1{font-size:1.1rem;margin:0}nav{display:flex;flex-wrap:wrap;gap:.35rem}nav a{color:#fff;padding:.2rem .5rem;border-radius:.4rem;text-decoration:none;font-size:.85rem;border:1px solid #555}\
nav a.on{background:#fff;color:#111}main{max-width:72rem;margin:0 auto;padding:1rem;display:grid;gap:1rem;grid-template-columns:repeat(auto-fit,minmax(20rem,1fr))}\
section{background:#fff;border-radius:.8rem;padding:1rem;box-shadow:0 1px 2px #0001;overflow-x:auto}section.wide{grid-column:1/-1}\
h2{font-size:1rem;margin:0 0 .6rem}.kpis{display:flex;flex-wrap:wrap;gap:1rem}.kpi b{display:block;font-size:1.3rem}.kpi span{color:#666;font-size:.8rem}\
table{border-collapse:collapse;width:100%;font-size:.85rem}th,td{text-align:right;padding:.3rem .45rem;border-bottom:1px solid #eee;white-space:nowrap}\
th:first-child,td:first-child{text-align:left}svg{width:100%;height:auto;display:block}.warn{color:#a40}.ok{color:#275}.muted{color:#777}";

fn text(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

fn num(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

/// A horizontal bar chart of `(label, value)`; negative values extend left
/// of the zero line.
pub fn bar_chart(title: &str, bars: &[(String, f64)], format: impl Fn(f64) -> String) -> String {
    if bars.is_empty() {
        return format!("<p class=\"muted\">No data for {} yet.</p>", escape(title));
    }
    let row_h = 26.0;
    let (w, label_w, value_w) = (640.0, 150.0, 90.0);
    let plot = w - label_w - value_w;
    let max = bars.iter().map(|b| b.1).fold(0.0f64, f64::max);
    let min = bars.iter().map(|b| b.1).fold(0.0f64, f64::min);
    let span = if max - min > 0.0 { max - min } else { 1.0 };
    let zero = label_w + plot * (-min / span);
    let h = row_h * bars.len() as f64 + 8.0;
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\"><line x1=\"{zero:.1}\" y1=\"0\" x2=\"{zero:.1}\" y2=\"{h}\" stroke=\"#bbb\"/>",
        escape(title)
    );
    for (i, (label, v)) in bars.iter().enumerate() {
        let y = 4.0 + i as f64 * row_h;
        let len = plot * (v.abs() / span);
        let x = if *v >= 0.0 { zero } else { zero - len };
        let color = if *v >= 0.0 { "#2f6fde" } else { "#d0582b" };
        let _ = write!(
            svg,
            "<text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\" text-anchor=\"end\">{}</text>\
             <rect x=\"{x:.1}\" y=\"{:.1}\" width=\"{len:.1}\" height=\"{:.1}\" rx=\"3\" fill=\"{color}\"/>\
             <text x=\"{:.1}\" y=\"{:.1}\" font-size=\"12\">{}</text>",
            label_w - 6.0,
            y + 16.0,
            escape(label),
            y + 3.0,
            row_h - 8.0,
            label_w + plot + 6.0,
            y + 16.0,
            escape(&format(*v))
        );
    }
    svg.push_str("</svg>");
    svg
}

/// A line chart of `(label, value)` points in order.
pub fn line_chart(title: &str, points: &[(String, f64)], format: impl Fn(f64) -> String) -> String {
    if points.is_empty() {
        return format!("<p class=\"muted\">No data for {} yet.</p>", escape(title));
    }
    let (w, h, pad) = (640.0, 220.0, 36.0);
    let max = points.iter().map(|p| p.1).fold(0.0f64, f64::max).max(1e-9);
    let step = if points.len() > 1 {
        (w - 2.0 * pad) / (points.len() - 1) as f64
    } else {
        0.0
    };
    let xy: Vec<(f64, f64)> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            (
                pad + step * i as f64,
                h - pad - (h - 2.0 * pad) * (p.1 / max),
            )
        })
        .collect();
    let path: Vec<String> = xy.iter().map(|(x, y)| format!("{x:.1},{y:.1}")).collect();
    let mut svg = format!(
        "<svg viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{}\">\
         <line x1=\"{pad}\" y1=\"{y0}\" x2=\"{x1}\" y2=\"{y0}\" stroke=\"#bbb\"/>\
         <polyline points=\"{}\" fill=\"none\" stroke=\"#2f6fde\" stroke-width=\"2.5\"/>",
        escape(title),
        path.join(" "),
        y0 = h - pad,
        x1 = w - pad,
    );
    for ((x, y), (label, v)) in xy.iter().zip(points) {
        let _ = write!(
            svg,
            "<circle cx=\"{x:.1}\" cy=\"{y:.1}\" r=\"4\" fill=\"#2f6fde\"/>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>\
             <text x=\"{x:.1}\" y=\"{:.1}\" font-size=\"11\" text-anchor=\"middle\">{}</text>",
            y - 8.0,
            escape(&format(*v)),
            h - pad + 16.0,
            escape(label)
        );
    }
    svg.push_str("</svg>");
    svg
}

fn table(rows: &[Map<String, Value>], columns: &[(&str, &str)]) -> String {
    if rows.is_empty() {
        return "<p class=\"muted\">No rows yet.</p>".to_owned();
    }
    let mut t = String::from("<table><thead><tr>");
    for (_, title) in columns {
        let _ = write!(t, "<th>{}</th>", escape(title));
    }
    t.push_str("</tr></thead><tbody>");
    for r in rows {
        t.push_str("<tr>");
        for (k, _) in columns {
            let _ = write!(t, "<td>{}</td>", escape(&text(r.get(*k))));
        }
        t.push_str("</tr>");
    }
    t.push_str("</tbody></table>");
    t
}

/// The dashboard page.
pub fn render(d: &Data) -> String {
    let model = d.model.unwrap_or(Model::Linear);
    let mut nav = String::new();
    for m in Model::ALL {
        let _ = write!(
            nav,
            "<a href=\"/dashboard?model={0}&amp;from={1}&amp;to={2}\"{3}>{0}</a>",
            m.as_str(),
            escape(&d.from),
            escape(&d.to),
            if m == model { " class=\"on\"" } else { "" }
        );
    }
    let cur = escape(&d.currency);
    let kpi = |label: &str, v: Option<&Value>| {
        format!(
            "<div class=\"kpi\"><b>{}</b><span>{}</span></div>",
            escape(&text(v)),
            label
        )
    };
    let kpis = [
        kpi(&format!("revenue ({cur})"), d.totals.get("revenue")),
        kpi(&format!("cost ({cur})"), d.totals.get("cost")),
        kpi("ROI", d.totals.get("roi")),
        kpi("ROAS", d.totals.get("roas")),
        kpi(&format!("CPA ({cur})"), d.totals.get("cpa")),
        kpi("conversions", d.totals.get("conversions")),
        kpi("unique clicks", d.totals.get("unique_clicks")),
    ]
    .concat();
    let label = |r: &Map<String, Value>, k: &str| {
        r.get(k)
            .and_then(Value::as_str)
            .unwrap_or("other channels")
            .to_owned()
    };
    let revenue: Vec<(String, f64)> = d
        .by_influencer
        .iter()
        .filter_map(|r| num(r.get("revenue")).map(|v| (label(r, "influencer"), v)))
        .collect();
    let roi: Vec<(String, f64)> = d
        .by_influencer
        .iter()
        .filter_map(|r| num(r.get("roi")).map(|v| (label(r, "influencer"), v)))
        .collect();
    let roas: Vec<(String, f64)> = d
        .by_influencer
        .iter()
        .filter_map(|r| num(r.get("roas")).map(|v| (label(r, "influencer"), v)))
        .collect();
    let cpa: Vec<(String, f64)> = d
        .weekly
        .iter()
        .filter_map(|r| num(r.get("cpa")).map(|v| (label(r, "week"), v)))
        .collect();
    let mut apps: Vec<&Map<String, Value>> = d.by_app.iter().collect();
    apps.sort_by(|a, b| {
        num(b.get("unique_clicks"))
            .unwrap_or(0.0)
            .total_cmp(&num(a.get("unique_clicks")).unwrap_or(0.0))
    });
    let apps: Vec<Map<String, Value>> = apps.into_iter().take(8).cloned().collect();
    let mut comparison_cols: Vec<(String, String)> =
        vec![("influencer".into(), "influencer".into())];
    for m in Model::ALL {
        comparison_cols.push((
            format!("revenue_{}", m.as_str()),
            m.as_str().replace('_', " "),
        ));
    }
    let comparison_cols: Vec<(&str, &str)> = comparison_cols
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    // Influencers only (other channels have no storefront clicks).
    let engaged: Vec<Map<String, Value>> = d
        .by_influencer
        .iter()
        .filter(|r| r.get("influencer").is_some_and(Value::is_string))
        .cloned()
        .collect();
    let warnings: u64 = d.quality.values().sum();
    let mut quality = String::new();
    if warnings == 0 {
        quality.push_str("<p class=\"ok\">No data-quality findings.</p>");
    } else {
        quality.push_str("<ul>");
        for (k, n) in d.quality.iter().filter(|(_, n)| **n > 0) {
            let _ = write!(
                quality,
                "<li class=\"warn\">{} × {}</li>",
                n,
                escape(&k.replace('_', " "))
            );
        }
        quality.push_str("</ul><p class=\"muted\">Details: <code>GET /api/v1/quality</code></p>");
    }
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
<title>linkcredit — influencer attribution</title><link rel=\"icon\" href=\"data:,\"><style>{STYLE}</style></head><body>\
<header><h1>linkcredit · {from} to {to} · {model}</h1><nav>{nav}</nav></header><main>\
<section class=\"wide\" id=\"kpis\"><h2>Totals</h2><div class=\"kpis\">{kpis}</div></section>\
<section id=\"revenue\"><h2>Credited revenue by influencer ({cur})</h2>{rev}</section>\
<section id=\"roi\"><h2>ROI by influencer</h2>{roi}<h2>ROAS by influencer</h2>{roas}</section>\
<section class=\"wide\" id=\"cpa\"><h2>CPA over time, by week ({cur})</h2>{cpa}</section>\
<section class=\"wide\" id=\"models\"><h2>Model comparison: credited revenue ({cur})</h2>{cmp}</section>\
<section id=\"apps\"><h2>Top in-app browsers</h2>{apps}</section>\
<section id=\"quality\"><h2>Data quality</h2>{quality}</section>\
<section class=\"wide\" id=\"engagement\"><h2>On-site engagement by influencer (leading indicators)</h2>{engagement}</section>\
<section class=\"wide\" id=\"cohorts\"><h2>Customer cohorts: 90-day value by acquiring influencer ({cur})</h2>{cohorts}</section>\
<section class=\"wide\" id=\"checks\"><h2>Link checks (latest)</h2>{checks}</section>\
</main></body></html>",
        from = escape(&d.from),
        to = escape(&d.to),
        model = model.as_str(),
        rev = bar_chart("credited revenue", &revenue, |v| format!("{v:.2}")),
        roi = bar_chart("ROI", &roi, |v| format!("{:.0}%", v * 100.0)),
        roas = bar_chart("ROAS", &roas, |v| format!("{v:.2}×")),
        cpa = line_chart("CPA by week", &cpa, |v| format!("{v:.2}")),
        cmp = table(&d.comparison, &comparison_cols),
        checks = table(&d.checks, &[("slug", "link"), ("checked_at", "checked"), ("verdict", "result")]),
        engagement = table(
            &engaged,
            &[
                ("influencer", "influencer"),
                ("unique_clicks", "unique clicks"),
                ("visits", "visits"),
                ("pages_per_visit", "pages / visit"),
                ("product_view_rate", "product-view rate"),
                ("add_to_cart_rate", "add-to-cart rate"),
                ("median_seconds_to_cart", "median s click → cart"),
            ],
        ),
        cohorts = table(
            &d.ltv,
            &[
                ("influencer", "influencer"),
                ("channel", "channel"),
                ("customers", "customers"),
                ("repeat_purchase_rate", "repeat rate"),
                ("orders_per_customer", "orders / customer"),
                ("revenue_per_customer", "revenue / customer"),
                ("revenue_per_customer_vs_non_influencer", "vs other channels"),
            ],
        ),
        apps = table(&apps, &[("app", "app"), ("unique_clicks", "unique clicks"), ("conversions", "conversions"), ("conversion_rate", "conversion rate")]),
    )
}

/// The token login form.
pub fn login_page(error: Option<&str>) -> String {
    let err = error.map_or_else(String::new, |e| {
        format!("<p class=\"warn\">{}</p>", escape(e))
    });
    format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><meta name=\"robots\" content=\"noindex\">\
<title>linkcredit — sign in</title><link rel=\"icon\" href=\"data:,\"><style>{STYLE} form{{max-width:22rem;margin:15vh auto;background:#fff;padding:1.2rem;border-radius:.8rem}}\
input,button{{width:100%;font:inherit;padding:.6rem;margin:.3rem 0;border-radius:.5rem;border:1px solid #bbb}}button{{background:#111;color:#fff}}</style></head>\
<body><form method=\"post\" action=\"/dashboard/login\"><h1>linkcredit</h1>{err}\
<label for=\"token\">Reports or admin token</label><input id=\"token\" name=\"token\" type=\"password\" autocomplete=\"current-password\" required>\
<button type=\"submit\">Sign in</button></form></body></html>"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn row(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn renders_charts_and_escapes() {
        let d = Data {
            model: Some(Model::Linear),
            from: "2026-11-01".into(),
            to: "2026-11-29".into(),
            currency: "USD".into(),
            by_influencer: vec![
                row(
                    json!({"influencer": "sarah<script>", "revenue": "120.00", "roi": 0.5, "roas": 1.5}),
                ),
                row(
                    json!({"influencer": "marco", "revenue": "40.00", "roi": -0.2, "roas": 0.8, "visits": 12,
                           "pages_per_visit": 2.5, "add_to_cart_rate": 0.25, "median_seconds_to_cart": 95.5}),
                ),
            ],
            weekly: vec![
                row(json!({"week": "2026-11-16", "cpa": "20.00"})),
                row(json!({"week": "2026-11-23", "cpa": "25.00"})),
            ],
            ltv: vec![row(
                json!({"influencer": "sarah", "channel": "influencer", "customers": 2.0, "repeat_purchase_rate": 0.5,
                       "orders_per_customer": 1.5, "revenue_per_customer": "115.00", "revenue_per_customer_vs_non_influencer": 2.88}),
            )],
            checks: vec![row(
                json!({"slug": "sarah-serum", "checked_at": "2026-11-29T10:00:00.000Z", "verdict": "lost utm, lost click id"}),
            )],
            ..Data::default()
        };
        let html = render(&d);
        assert_eq!(html.matches("<svg").count(), 4, "revenue, ROI, ROAS, CPA");
        assert!(html.contains("sarah&lt;script&gt;") && !html.contains("sarah<script>"));
        assert!(
            !html.contains("<script") && !html.contains("src="),
            "no script, nothing loaded"
        );
        assert_eq!(
            html.matches("<link").count(),
            1,
            "only the empty inline icon"
        );
        assert!(html.contains("<link rel=\"icon\" href=\"data:,\">"));
        assert!(
            html.contains("fill=\"#d0582b\""),
            "negative ROI drawn left of zero"
        );
        assert!(html.contains("No data-quality findings."));
        assert!(html.contains("<td>sarah-serum</td>") && html.contains("lost utm, lost click id"));
        assert!(
            html.contains("id=\"cohorts\"") && html.contains("<td>115.00</td>"),
            "the cohort view"
        );
        assert!(
            html.contains("id=\"engagement\"")
                && html.contains("<td>marco</td><td>—</td><td>12</td><td>2.5</td><td>—</td><td>0.25</td><td>95.5</td>"),
            "the leading indicators"
        );
        assert!(login_page(Some("wrong token")).contains("wrong token"));
    }
}
