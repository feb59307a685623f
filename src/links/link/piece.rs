//! The content piece a link was posted in (format, posting time, product
//! category), and the product categories derived from destination paths.

use crate::base::error::ParseError;
use crate::base::time::Millis;
use crate::links::destination::Destination;
use crate::links::utm_names::UtmValue;
use serde::Serialize;

/// The content piece a link was posted in (the master spreadsheet's row).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContentPiece {
    pub format: Option<Format>,
    pub posted_at: Option<Millis>,
    /// Set explicitly; otherwise derived from the destination by
    /// [`CategoryRules`] whenever the link is saved.
    pub product_category: Option<UtmValue>,
}

/// What kind of content piece a link was posted in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    Story,
    Reel,
    Post,
    Carousel,
    Video,
    Short,
    Live,
    Bio,
    Other,
}

impl Format {
    const ALL: [Format; 9] = [
        Format::Story,
        Format::Reel,
        Format::Post,
        Format::Carousel,
        Format::Video,
        Format::Short,
        Format::Live,
        Format::Bio,
        Format::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Format::Story => "story",
            Format::Reel => "reel",
            Format::Post => "post",
            Format::Carousel => "carousel",
            Format::Video => "video",
            Format::Short => "short",
            Format::Live => "live",
            Format::Bio => "bio",
            Format::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Result<Format, ParseError> {
        let lower = s.trim().to_ascii_lowercase();
        Format::ALL
            .into_iter()
            .find(|f| f.as_str() == lower)
            .ok_or_else(|| {
                ParseError::new(
                    "invalid_value",
                    "format must be story, reel, post, carousel, video, short, live, bio or other",
                )
            })
    }
}

/// Product categories from destination paths (`PRODUCT_CATEGORIES`:
/// `/products/serum=skincare,/collections/hair=haircare`): the longest
/// matching path prefix wins.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CategoryRules(pub Vec<(String, UtmValue)>);

impl CategoryRules {
    pub fn parse(s: &str) -> Result<CategoryRules, ParseError> {
        let mut rules = Vec::new();
        for pair in s.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (prefix, category) = pair
                .split_once('=')
                .filter(|(p, _)| p.starts_with('/'))
                .ok_or_else(|| {
                    ParseError::new(
                        "invalid_config",
                        "must look like /products/serum=skincare,/collections/hair=haircare",
                    )
                })?;
            let category = UtmValue::parse(category)
                .map_err(|e| ParseError::new("invalid_config", e.message))?;
            rules.push((prefix.trim().to_owned(), category));
        }
        Ok(CategoryRules(rules))
    }

    /// The category of a destination, by the longest matching path prefix.
    pub fn category_of(&self, destination: &Destination) -> Option<UtmValue> {
        let path = destination.url().path();
        self.0
            .iter()
            .filter(|(prefix, _)| path.starts_with(prefix.as_str()))
            .max_by_key(|(prefix, _)| prefix.len())
            .map(|(_, c)| c.clone())
    }
}
