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
    /// `GET /api/v1/quality` (admin): data-quality findings.
    Quality,
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
            ["v1", "touchpoints"] => post_only(CreateTouchpoint),
            ["v1", "webhooks", "shopify"] => post_only(ShopifyWebhook),
            ["v1", "journeys", order] => get_only(GetJourney(order)),
            ["v1", "attribution", "run"] => post_only(RunAttribution),
            ["v1", "attribution"] => get_only(AttributionStatus),
            ["v1", "quality"] => get_only(Quality),
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
            _ => ApiNotFound,
        };
    }
    let rest = path.strip_prefix('/').unwrap_or(path);
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    match (method, rest) {
        (Get | Head, "healthz") => Health,
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

#[cfg(test)]
mod tests {
    use super::Method::*;
    use super::Route::*;
    use super::*;

    fn check(method: Method, path: &str, expected: Route<'_>) {
        assert_eq!(route(method, path), expected, "{method:?} {path}");
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
        check(Delete, "/api/v1/links", MethodNotAllowed);
        check(Get, "/api/v1/nothing", ApiNotFound);
        check(Get, "/api/v2/links", ApiNotFound);
    }
}
