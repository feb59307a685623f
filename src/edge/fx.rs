//! Exchange rates from D1 (`fx_rates`), as [`crate::base::fx::Rates`]: read
//! by attribution (conversions in the reporting currency) and reporting.

use crate::base::error::ApiError;
use crate::base::fx::Rates;
use crate::base::money::Currency;
use crate::edge::d1::{all, query, row};
use worker::D1Database;

type Result<T> = std::result::Result<T, ApiError>;

pub async fn load_rates(db: &D1Database) -> Result<Rates> {
    let rows: Vec<RateRow> = all(
        Ok(query!(
            db,
            "SELECT currency, valid_day, rate_nano FROM fx_rates"
        )),
        "loading exchange rates",
    )
    .await?;
    let mut rates = Rates::default();
    for r in rows {
        if let Ok(c) = Currency::parse(&r.currency) {
            rates.insert(c, r.valid_day, r.rate_nano);
        }
    }
    Ok(rates)
}

row! {
    pub struct RateRow {
        pub currency: String,
        pub valid_day: i64,
        pub rate_nano: i64,
    }
}
