//! What a healthy chain keeps, read from the first Location the worker
//! itself produced: the `utm_*` tags, the `lc_cid`, the Shopify discount
//! path and the code.

use crate::links::landing::parse_landing;
use url::Url;

/// What a healthy chain keeps, read from the first Location.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Expectation {
    /// The `utm_*` pairs the link sets (decoded).
    pub utm: Vec<(String, String)>,
    /// The `lc_cid` sent; empty when the Location had no valid one.
    pub click_id: String,
    pub code: Option<String>,
    /// The Location is a Shopify `/discount/CODE` URL.
    pub discount_path: bool,
}

/// The code of a Shopify `/discount/CODE` URL.
pub(super) fn discount_code(url: &Url) -> Option<&str> {
    let mut segments = url.path_segments()?;
    let code = (segments.next()? == "discount").then(|| segments.next())??;
    (!code.is_empty()).then_some(code)
}

/// Reads the expectation from the first Location the worker produced,
/// inside a Shopify `redirect=` as well. `code` is the link's code; without
/// one, a discount path's code is used.
pub fn expectation(location: &str, code: Option<&str>) -> Expectation {
    let landing = parse_landing(location);
    let discount = Url::parse(location)
        .ok()
        .and_then(|u| discount_code(&u).map(str::to_owned));
    Expectation {
        utm: landing.utm,
        click_id: landing
            .click_id
            .map_or_else(String::new, |c| c.as_str().to_owned()),
        discount_path: discount.is_some(),
        code: code.map(str::to_owned).or(discount),
    }
}

#[cfg(test)]
pub(super) mod tests {
    use super::*;

    const CID: &str = "q1w2e3r4t5y6u7i8o9p0aA";
    // The shop, the tags of a link and its Shopify discount URL (also used
    // by `verdict`'s tests).
    pub(in crate::links::check) const SHOP: &str = "https://shop.example";
    pub(in crate::links::check) const TAGS: &str =
        "utm_source=sarah&utm_medium=influencer&lc_cid=q1w2e3r4t5y6u7i8o9p0aA";
    pub(in crate::links::check) const SHOPIFY: &str = "https://shop.example/discount/SARAH20?redirect=%2Fproducts%2Fserum%3Futm_source%3Dsarah%26utm_medium%3Dinfluencer%26lc_cid%3Dq1w2e3r4t5y6u7i8o9p0aA";

    #[test]
    fn expectations() {
        let want = |code: Option<&str>, discount_path| Expectation {
            utm: vec![
                ("utm_source".into(), "sarah".into()),
                ("utm_medium".into(), "influencer".into()),
            ],
            click_id: CID.into(),
            code: code.map(str::to_owned),
            discount_path,
        };
        assert_eq!(expectation(SHOPIFY, None), want(Some("SARAH20"), true));
        assert_eq!(
            expectation(SHOPIFY, Some("sarah20")),
            want(Some("sarah20"), true)
        );
        let direct = format!("{SHOP}/products/serum?{TAGS}#reviews");
        assert_eq!(expectation(&direct, None), want(None, false));
        assert_eq!(expectation(&direct, Some("X1")), want(Some("X1"), false));
        assert_eq!(expectation("not a url", None), Expectation::default());
        assert!(!expectation(&format!("{SHOP}/discount/"), None).discount_path);
    }
}
