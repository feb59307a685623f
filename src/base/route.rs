//! The worker's route table: method and path to a [`Route`].
//!
//! Routing is a pure function so it is tested natively, costs nothing on the
//! redirect hot path (no router is built per request), and lets every API
//! miss answer with the JSON error shape instead of a plain-text 404/405.

/// The HTTP methods the worker distinguishes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Head,
    Post,
    Put,
    Patch,
    Delete,
    Options,
    Other,
}

impl Method {
    pub fn parse(s: &str) -> Method {
        match s {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            "PUT" => Method::Put,
            "PATCH" => Method::Patch,
            "DELETE" => Method::Delete,
            "OPTIONS" => Method::Options,
            _ => Method::Other,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route<'a> {
    Health,
    /// `GET`/`HEAD /{slug}`; the slug is not yet validated.
    Redirect(&'a str),
    /// `GET`/`HEAD /c/{code}`: a promo code as a URL.
    CodeRedirect(&'a str),
    CreateCode,
    ListCodes,
    /// `POST /api/v1/conversions` (ingest token).
    CreateConversion,
    /// `POST /api/v1/conversions:batch` (ingest token).
    ConversionBatch,
    /// `GET /api/v1/conversions/{order_id}` (admin).
    GetConversion(&'a str),
    /// `POST /api/v1/touchpoints` (ingest token).
    CreateTouchpoint,
    /// `POST /api/v1/webhooks/shopify` (HMAC).
    ShopifyWebhook,
    /// `GET /api/v1/journeys/{order_id}` (admin).
    GetJourney(&'a str),
    /// `POST /api/v1/attribution/run` (admin): the scheduled job, now.
    RunAttribution,
    /// `GET /api/v1/attribution` (admin): state and removal effects.
    AttributionStatus,
    /// `POST /api/v1/attribution/rollups` (admin): rebuild report rollups.
    RebuildRollups,
    /// `GET /api/v1/quality` (admin): data-quality findings.
    Quality,
    CreateCost,
    ListCosts,
    DeleteCost(&'a str),
    PutRate,
    ListRates,
    /// `PATCH /api/v1/campaigns/{slug}`: goals.
    PatchCampaign(&'a str),
    /// `GET /api/v1/reports` (reports or admin token).
    Report,
    /// `GET /api/v1/reports/ranking`.
    Ranking,
    /// `GET /dashboard`, and `POST /dashboard/login` for the token form.
    Dashboard,
    DashboardLogin,
    /// `GET /openapi.json`.
    OpenApi,
    CreateInfluencer,
    ListInfluencers,
    CreateCampaign,
    ListCampaigns,
    CreateLink,
    ListLinks,
    GetLink(&'a str),
    PatchLink(&'a str),
    DeleteLink(&'a str),
    LinkStats(&'a str),
    LinkQrSvg(&'a str),
    LinkQrPng(&'a str),
    BulkLinks,
    ErasePerson(&'a str),
    GetInfluencer(&'a str),
    PatchInfluencer(&'a str),
    CheckLink(&'a str),
    LastCheck(&'a str),
    CheckLinks,
    ExportLinks,
    ImportCsv,
    RefundConversion(&'a str),
    Ltv,
    Payouts,
    ClosePayout(&'a str),
    /// `POST /api/v1/events` (public, shop origins only): a storefront event.
    TrackEvent,
    /// `OPTIONS /api/v1/events`: the CORS preflight.
    EventsPreflight,
    /// `GET /t.js`: the storefront snippet.
    Snippet,
    CreateWebhookEndpoint,
    ListWebhookEndpoints,
    DeleteWebhookEndpoint(&'a str),
    ListDeliveries,
    ReplayDelivery(&'a str),
    /// An API path that exists, with the wrong method (JSON 405).
    MethodNotAllowed,
    /// An unknown API path (JSON 404).
    ApiNotFound,
    /// Anything else (HTML 404 page).
    NotFound,
}

/// Routes a request. `path` is the URL path, without query.
pub fn route<'a>(method: Method, path: &'a str) -> Route<'a> {
    use Method::*;
    use Route::*;
    if let Some(api) = path.strip_prefix("/api/") {
        let segs: Vec<&str> = api.trim_end_matches('/').split('/').collect();
        let by_method = |get: Route<'static>, post: Route<'static>| match method {
            Get => get,
            Post => post,
            _ => MethodNotAllowed,
        };
        let post_only = |r: Route<'static>| if method == Post { r } else { MethodNotAllowed };
        let get_only = |r: Route<'a>| -> Route<'a> {
            if method == Get {
                r
            } else {
                MethodNotAllowed
            }
        };
        return match segs.as_slice() {
            ["v1", "influencers"] => by_method(ListInfluencers, CreateInfluencer),
            ["v1", "campaigns"] => by_method(ListCampaigns, CreateCampaign),
            ["v1", "codes"] => by_method(ListCodes, CreateCode),
            ["v1", "conversions"] => post_only(CreateConversion),
            ["v1", "conversions:batch"] => post_only(ConversionBatch),
            ["v1", "conversions", order] => get_only(GetConversion(order)),
            ["v1", "conversions", order, "refund"] => match method {
                Post => RefundConversion(order),
                _ => MethodNotAllowed,
            },
            ["v1", "touchpoints"] => post_only(CreateTouchpoint),
            ["v1", "webhooks", "shopify"] => post_only(ShopifyWebhook),
            ["v1", "journeys", order] => get_only(GetJourney(order)),
            ["v1", "attribution", "run"] => post_only(RunAttribution),
            ["v1", "attribution", "rollups"] => post_only(RebuildRollups),
            ["v1", "attribution"] => get_only(AttributionStatus),
            ["v1", "quality"] => get_only(Quality),
            ["v1", "costs"] => by_method(ListCosts, CreateCost),
            ["v1", "costs", id] => match method {
                Delete => DeleteCost(id),
                _ => MethodNotAllowed,
            },
            ["v1", "fx"] => match method {
                Get => ListRates,
                Put => PutRate,
                _ => MethodNotAllowed,
            },
            ["v1", "campaigns", slug] => match method {
                Patch => PatchCampaign(slug),
                _ => MethodNotAllowed,
            },
            ["v1", "reports"] => get_only(Report),
            ["v1", "reports", "ranking"] => get_only(Ranking),
            ["v1", "reports", "ltv"] => get_only(Ltv),
            ["v1", "payouts"] => get_only(Payouts),
            ["v1", "payouts", period, "close"] => match method {
                Post => ClosePayout(period),
                _ => MethodNotAllowed,
            },
            ["v1", "links"] => by_method(ListLinks, CreateLink),
            ["v1", "links", slug] => match method {
                Get => GetLink(slug),
                Patch => PatchLink(slug),
                Delete => DeleteLink(slug),
                _ => MethodNotAllowed,
            },
            ["v1", "links", slug, "stats"] => match method {
                Get => LinkStats(slug),
                _ => MethodNotAllowed,
            },
            ["v1", "links", slug, "qr.svg"] => get_only(LinkQrSvg(slug)),
            ["v1", "links", slug, "qr.png"] => get_only(LinkQrPng(slug)),
            ["v1", "influencers", handle] => match method {
                Get => GetInfluencer(handle),
                Patch => PatchInfluencer(handle),
                _ => MethodNotAllowed,
            },
            ["v1", "people", id] => match method {
                Delete => ErasePerson(id),
                _ => MethodNotAllowed,
            },
            ["v1", "links", slug, "check"] => match method {
                Post => CheckLink(slug),
                Get => LastCheck(slug),
                _ => MethodNotAllowed,
            },
            ["v1", "links:check"] => post_only(CheckLinks),
            ["v1", "export", "links.csv"] => get_only(ExportLinks),
            ["v1", "import"] => post_only(ImportCsv),
            ["v1", "events"] => match method {
                Post => TrackEvent,
                Options => EventsPreflight,
                _ => MethodNotAllowed,
            },
            ["v1", "webhook-endpoints"] => by_method(ListWebhookEndpoints, CreateWebhookEndpoint),
            ["v1", "webhook-endpoints", id] => match method {
                Delete => DeleteWebhookEndpoint(id),
                _ => MethodNotAllowed,
            },
            ["v1", "webhook-deliveries"] => get_only(ListDeliveries),
            ["v1", "webhook-deliveries", id, "replay"] => match method {
                Post => ReplayDelivery(id),
                _ => MethodNotAllowed,
            },
            ["v1", "links:bulk"] => match method {
                Patch => BulkLinks,
                _ => MethodNotAllowed,
            },
            _ => ApiNotFound,
        };
    }
    let rest = path.strip_prefix('/').unwrap_or(path);
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    match (method, rest) {
        (Get | Head, "healthz") => Health,
        (Get, "dashboard") => Dashboard,
        (Post, "dashboard/login") => DashboardLogin,
        (Get, "openapi.json") => OpenApi,
        (Get | Head, "t.js") => Snippet,
        (_, "" | "c") => NotFound,
        (Get | Head, code)
            if code.starts_with("c/") && code.len() > 2 && !code[2..].contains('/') =>
        {
            CodeRedirect(&code[2..])
        }
        (Get | Head, slug) if !slug.contains('/') => Redirect(slug),
        _ => NotFound,
    }
}

/// Percent-decodes one path segment (e.g. an order id). Only `%XX` is
/// decoded: in a path `+` is a plus sign, not a space. A `%` that starts no
/// valid escape is kept as it is; bytes that are not UTF-8 become U+FFFD.
pub fn decode_segment(segment: &str) -> String {
    percent_encoding::percent_decode_str(segment)
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::Method::*;
    use super::Route::*;
    use super::*;

    fn check(method: Method, path: &str, expected: Route<'_>) {
        assert_eq!(route(method, path), expected, "{method:?} {path}");
    }

    #[test]
    fn segments_are_percent_decoded_only() {
        assert_eq!(decode_segment("1001"), "1001");
        assert_eq!(decode_segment("a%20b+c"), "a b+c");
        assert_eq!(
            decode_segment("%27%3B%20DROP%20TABLE%20clicks%3B%20--"),
            "'; DROP TABLE clicks; --"
        );
        assert_eq!(decode_segment("caf%C3%A9%2F"), "café/");
        assert_eq!(decode_segment("100%"), "100%");
        assert_eq!(decode_segment("%zz%4"), "%zz%4");
        assert_eq!(decode_segment("%FF"), "\u{fffd}");
    }

    #[test]
    fn table() {
        check(Get, "/healthz", Health);
        check(Get, "/sarah-serum", Redirect("sarah-serum"));
        check(Head, "/sarah-serum", Redirect("sarah-serum"));
        check(Get, "/sarah-serum/", Redirect("sarah-serum"));
        check(Post, "/sarah-serum", NotFound);
        check(Get, "/", NotFound);
        check(Get, "/a/b", NotFound);
        check(Get, "/c/SARAH20", CodeRedirect("SARAH20"));
        check(Head, "/c/sarah20/", CodeRedirect("sarah20"));
        check(Get, "/c/", NotFound);
        check(Get, "/c/a/b", NotFound);
        check(Post, "/api/v1/codes", CreateCode);
        check(Get, "/api/v1/codes", ListCodes);
        check(Post, "/api/v1/conversions", CreateConversion);
        check(Get, "/api/v1/conversions", MethodNotAllowed);
        check(Post, "/api/v1/conversions:batch", ConversionBatch);
        check(Get, "/api/v1/conversions/1001", GetConversion("1001"));
        check(Post, "/api/v1/touchpoints", CreateTouchpoint);
        check(Post, "/api/v1/webhooks/shopify", ShopifyWebhook);
        check(Get, "/api/v1/webhooks/shopify", MethodNotAllowed);
        check(Get, "/api/v1/journeys/1001", GetJourney("1001"));
        check(Post, "/api/v1/attribution/run", RunAttribution);
        check(Get, "/api/v1/attribution/run", MethodNotAllowed);
        check(Get, "/api/v1/attribution", AttributionStatus);
        check(Get, "/api/v1/quality", Quality);
        check(Post, "/api/v1/costs", CreateCost);
        check(Get, "/api/v1/costs", ListCosts);
        check(Delete, "/api/v1/costs/7", DeleteCost("7"));
        check(Put, "/api/v1/fx", PutRate);
        check(Get, "/api/v1/fx", ListRates);
        check(Patch, "/api/v1/campaigns/summer", PatchCampaign("summer"));
        check(Get, "/api/v1/reports", Report);
        check(Get, "/api/v1/reports/ranking", Ranking);
        check(Get, "/dashboard", Dashboard);
        check(Post, "/dashboard/login", DashboardLogin);
        check(Get, "/openapi.json", OpenApi);
        check(Post, "/api/v1/influencers", CreateInfluencer);
        check(Get, "/api/v1/influencers", ListInfluencers);
        check(Post, "/api/v1/campaigns", CreateCampaign);
        check(Get, "/api/v1/campaigns/", ListCampaigns);
        check(Post, "/api/v1/links", CreateLink);
        check(Get, "/api/v1/links", ListLinks);
        check(Get, "/api/v1/links/abc", GetLink("abc"));
        check(Patch, "/api/v1/links/abc", PatchLink("abc"));
        check(Delete, "/api/v1/links/abc", DeleteLink("abc"));
        check(Put, "/api/v1/links/abc", MethodNotAllowed);
        check(Get, "/api/v1/links/abc/stats", LinkStats("abc"));
        check(Get, "/api/v1/links/abc/qr.svg", LinkQrSvg("abc"));
        check(Get, "/api/v1/links/abc/qr.png", LinkQrPng("abc"));
        check(Post, "/api/v1/links/abc/qr.png", MethodNotAllowed);
        check(Patch, "/api/v1/links:bulk", BulkLinks);
        check(Delete, "/api/v1/people/abc", ErasePerson("abc"));
        check(Get, "/api/v1/influencers/sarah", GetInfluencer("sarah"));
        check(Patch, "/api/v1/influencers/sarah", PatchInfluencer("sarah"));
        check(Post, "/api/v1/links/abc/check", CheckLink("abc"));
        check(Get, "/api/v1/links/abc/check", LastCheck("abc"));
        check(Post, "/api/v1/links:check", CheckLinks);
        check(Get, "/api/v1/export/links.csv", ExportLinks);
        check(Post, "/api/v1/import", ImportCsv);
        check(
            Post,
            "/api/v1/conversions/o-1/refund",
            RefundConversion("o-1"),
        );
        check(Get, "/api/v1/reports/ltv", Ltv);
        check(Get, "/api/v1/payouts", Payouts);
        check(
            Post,
            "/api/v1/payouts/2026-10/close",
            ClosePayout("2026-10"),
        );
        check(Post, "/api/v1/events", TrackEvent);
        check(Options, "/api/v1/events", EventsPreflight);
        check(Get, "/api/v1/events", MethodNotAllowed);
        check(Get, "/t.js", Snippet);
        check(Post, "/t.js", NotFound);
        check(Post, "/api/v1/webhook-endpoints", CreateWebhookEndpoint);
        check(Get, "/api/v1/webhook-endpoints", ListWebhookEndpoints);
        check(
            Delete,
            "/api/v1/webhook-endpoints/3",
            DeleteWebhookEndpoint("3"),
        );
        check(Get, "/api/v1/webhook-deliveries", ListDeliveries);
        check(
            Post,
            "/api/v1/webhook-deliveries/9/replay",
            ReplayDelivery("9"),
        );
        check(Get, "/api/v1/webhook-deliveries/9/replay", MethodNotAllowed);
        check(Get, "/api/v1/people/abc", MethodNotAllowed);
        check(Post, "/api/v1/links:bulk", MethodNotAllowed);
        check(Delete, "/api/v1/links", MethodNotAllowed);
        check(Get, "/api/v1/nothing", ApiNotFound);
        check(Get, "/api/v2/links", ApiNotFound);
    }
}

#[cfg(test)]
mod openapi_tests {
    use super::Method::*;
    use super::*;

    /// The OpenAPI operation of every route. The match is exhaustive, so a
    /// new route does not compile until it is documented here.
    fn documented(r: Route<'_>) -> Option<(&'static str, &'static str)> {
        use Route::*;
        Some(match r {
            Health => ("get", "/healthz"),
            Redirect(_) => ("get", "/{slug}"),
            CodeRedirect(_) => ("get", "/c/{code}"),
            CreateCode => ("post", "/api/v1/codes"),
            ListCodes => ("get", "/api/v1/codes"),
            CreateConversion => ("post", "/api/v1/conversions"),
            ConversionBatch => ("post", "/api/v1/conversions:batch"),
            GetConversion(_) => ("get", "/api/v1/conversions/{order_id}"),
            CreateTouchpoint => ("post", "/api/v1/touchpoints"),
            ShopifyWebhook => ("post", "/api/v1/webhooks/shopify"),
            GetJourney(_) => ("get", "/api/v1/journeys/{order_id}"),
            RunAttribution => ("post", "/api/v1/attribution/run"),
            RebuildRollups => ("post", "/api/v1/attribution/rollups"),
            AttributionStatus => ("get", "/api/v1/attribution"),
            Quality => ("get", "/api/v1/quality"),
            CreateCost => ("post", "/api/v1/costs"),
            ListCosts => ("get", "/api/v1/costs"),
            DeleteCost(_) => ("delete", "/api/v1/costs/{id}"),
            PutRate => ("put", "/api/v1/fx"),
            ListRates => ("get", "/api/v1/fx"),
            PatchCampaign(_) => ("patch", "/api/v1/campaigns/{slug}"),
            Report => ("get", "/api/v1/reports"),
            Ranking => ("get", "/api/v1/reports/ranking"),
            Dashboard => ("get", "/dashboard"),
            DashboardLogin => ("post", "/dashboard/login"),
            OpenApi => ("get", "/openapi.json"),
            CreateInfluencer => ("post", "/api/v1/influencers"),
            ListInfluencers => ("get", "/api/v1/influencers"),
            CreateCampaign => ("post", "/api/v1/campaigns"),
            ListCampaigns => ("get", "/api/v1/campaigns"),
            CreateLink => ("post", "/api/v1/links"),
            ListLinks => ("get", "/api/v1/links"),
            GetLink(_) => ("get", "/api/v1/links/{slug}"),
            PatchLink(_) => ("patch", "/api/v1/links/{slug}"),
            DeleteLink(_) => ("delete", "/api/v1/links/{slug}"),
            LinkStats(_) => ("get", "/api/v1/links/{slug}/stats"),
            LinkQrSvg(_) => ("get", "/api/v1/links/{slug}/qr.svg"),
            LinkQrPng(_) => ("get", "/api/v1/links/{slug}/qr.png"),
            BulkLinks => ("patch", "/api/v1/links:bulk"),
            ErasePerson(_) => ("delete", "/api/v1/people/{id}"),
            GetInfluencer(_) => ("get", "/api/v1/influencers/{handle}"),
            CheckLink(_) => ("post", "/api/v1/links/{slug}/check"),
            LastCheck(_) => ("get", "/api/v1/links/{slug}/check"),
            CheckLinks => ("post", "/api/v1/links:check"),
            ExportLinks => ("get", "/api/v1/export/links.csv"),
            ImportCsv => ("post", "/api/v1/import"),
            RefundConversion(_) => ("post", "/api/v1/conversions/{order_id}/refund"),
            Ltv => ("get", "/api/v1/reports/ltv"),
            Payouts => ("get", "/api/v1/payouts"),
            ClosePayout(_) => ("post", "/api/v1/payouts/{period}/close"),
            PatchInfluencer(_) => ("patch", "/api/v1/influencers/{handle}"),
            TrackEvent => ("post", "/api/v1/events"),
            EventsPreflight => ("options", "/api/v1/events"),
            Snippet => ("get", "/t.js"),
            CreateWebhookEndpoint => ("post", "/api/v1/webhook-endpoints"),
            ListWebhookEndpoints => ("get", "/api/v1/webhook-endpoints"),
            DeleteWebhookEndpoint(_) => ("delete", "/api/v1/webhook-endpoints/{id}"),
            ListDeliveries => ("get", "/api/v1/webhook-deliveries"),
            ReplayDelivery(_) => ("post", "/api/v1/webhook-deliveries/{id}/replay"),
            MethodNotAllowed | ApiNotFound | NotFound => return None,
        })
    }

    #[test]
    fn every_json_body_documents_its_errors() {
        // A JSON body is read by one function (edge::http::read_json), which
        // answers 413 beyond the cap and 415 for another content type; the
        // body's fields give 400s, and every such route needs a token.
        let doc: serde_json::Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
        let mut bodies = 0;
        for (template, ops) in doc["paths"].as_object().unwrap() {
            for (m, op) in ops.as_object().unwrap() {
                // The Shopify webhook reads its raw body itself (checked
                // below) and the dashboard login is a form.
                let own_reader = ["/api/v1/webhooks/shopify", "/dashboard/login"];
                if op.get("requestBody").is_none() || own_reader.contains(&template.as_str()) {
                    continue;
                }
                bodies += 1;
                // Public routes (an empty security list) need no token.
                let public = op["security"].as_array().is_some_and(|s| s.is_empty());
                for status in ["400", "401", "413", "415"] {
                    if public && status == "401" {
                        continue;
                    }
                    assert!(
                        op["responses"].get(status).is_some(),
                        "{m} {template} does not document {status}"
                    );
                }
            }
        }
        assert_eq!(bodies, 17);
        let webhook = &doc["paths"]["/api/v1/webhooks/shopify"]["post"]["responses"];
        for status in ["400", "401", "413"] {
            assert!(webhook.get(status).is_some(), "the webhook's {status}");
        }
    }

    fn method(m: &str) -> Method {
        Method::parse(&m.to_ascii_uppercase())
    }

    #[test]
    fn every_documented_operation_routes_and_every_route_is_documented() {
        let doc: serde_json::Value = serde_json::from_str(include_str!("../openapi.json")).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let mut operations = 0;
        for (template, ops) in paths {
            let sample = template
                .replace("{slug}", "sample-slug")
                .replace("{handle}", "sample-handle")
                .replace("{period}", "2026-10")
                .replace("{code}", "SAMPLE10")
                .replace("{order_id}", "1001")
                .replace("{id}", "7");
            for (m, _) in ops.as_object().unwrap() {
                operations += 1;
                let r = route(method(m), &sample);
                let expected = if m == "head" {
                    Some(("get", template.as_str()))
                } else {
                    Some((m.as_str(), template.as_str()))
                };
                assert_eq!(documented(r), expected, "{m} {template} routes to {r:?}");
            }
        }
        assert_eq!(operations, 61);
        // And the other way: each route's operation is in the document.
        let samples = [
            (Get, "/healthz"),
            (Get, "/x"),
            (Get, "/c/X10"),
            (Post, "/api/v1/codes"),
            (Get, "/api/v1/codes"),
            (Post, "/api/v1/conversions"),
            (Post, "/api/v1/conversions:batch"),
            (Get, "/api/v1/conversions/1"),
            (Post, "/api/v1/touchpoints"),
            (Post, "/api/v1/webhooks/shopify"),
            (Get, "/api/v1/journeys/1"),
            (Post, "/api/v1/attribution/run"),
            (Post, "/api/v1/attribution/rollups"),
            (Get, "/api/v1/attribution"),
            (Get, "/api/v1/quality"),
            (Post, "/api/v1/costs"),
            (Get, "/api/v1/costs"),
            (Delete, "/api/v1/costs/1"),
            (Put, "/api/v1/fx"),
            (Get, "/api/v1/fx"),
            (Patch, "/api/v1/campaigns/c"),
            (Get, "/api/v1/reports"),
            (Get, "/api/v1/reports/ranking"),
            (Get, "/dashboard"),
            (Post, "/dashboard/login"),
            (Get, "/openapi.json"),
            (Post, "/api/v1/influencers"),
            (Get, "/api/v1/influencers"),
            (Post, "/api/v1/campaigns"),
            (Get, "/api/v1/campaigns"),
            (Post, "/api/v1/links"),
            (Get, "/api/v1/links"),
            (Get, "/api/v1/links/x"),
            (Patch, "/api/v1/links/x"),
            (Delete, "/api/v1/links/x"),
            (Get, "/api/v1/links/x/stats"),
            (Post, "/api/v1/events"),
            (Options, "/api/v1/events"),
            (Get, "/t.js"),
            (Post, "/api/v1/webhook-endpoints"),
            (Get, "/api/v1/webhook-endpoints"),
            (Delete, "/api/v1/webhook-endpoints/1"),
            (Get, "/api/v1/webhook-deliveries"),
            (Post, "/api/v1/webhook-deliveries/1/replay"),
        ];
        for (m, path) in samples {
            let (op, template) =
                documented(route(m, path)).unwrap_or_else(|| panic!("{m:?} {path} is not a route"));
            assert!(
                paths.get(template).and_then(|o| o.get(op)).is_some(),
                "{op} {template} is not documented"
            );
        }
    }
}
