//! The spreadsheet import's pure part (`POST /api/v1/import`): a CSV of
//! links, one a row, each with its influencer's profile.
//!
//! [`parse_rows`] reads and validates the file and reports every error it
//! finds (up to [`MAX_ERRORS`]) by line and column. [`plan`] matches the rows
//! against a [`Snapshot`] of what is stored and says for every influencer,
//! campaign, code and link whether it is created, updated or unchanged; the
//! shell writes the plan in one D1 transaction, or answers
//! [`Plan::summary`] for a dry run.
//!
//! * Columns ([`COLUMNS`]) are matched by name, case-insensitively;
//!   `handle`, `campaign` and `destination` are required. The export's
//!   computed columns ([`EXTRA`]) are skipped, any other is refused.
//! * An absent column keeps what is stored; an empty cell clears it. Every
//!   cell is [`csv::unguard`](crate::base::csv::unguard)ed and trimmed
//!   first. Blank lines are skipped.
//! * Rows of one influencer must agree on every profile column.
//! * A link is matched by its `slug`, else by (handle, campaign,
//!   destination) among the stored links no slug of the file claims.
//!   Importing a file twice plans no creates and no updates.
//!
//! One job a file: `columns` (the column table and the header), `cells`
//! (one record into an [`ImportRow`]), `cross_check` (what no single row
//! shows), `parse` (the file: [`parse_rows`]), `lookup` (the keys rows and
//! stored links are matched by), `plan` (the [`Plan`] against a
//! [`Snapshot`]) and `row_error` (the errors, by line and column).

mod cells;
mod columns;
mod cross_check;
mod lookup;
mod parse;
mod plan;
mod row_error;

pub use cells::*;
pub use columns::*;
pub use parse::*;
pub use plan::*;
pub use row_error::*;

/// What the children's tests share: a file run through [`parse_rows`] and
/// [`plan`], compared with a summary or a list of errors.
#[cfg(test)]
mod harness {
    use super::*;
    use crate::base::money::Currency;
    use serde_json::{json, Value};

    pub(super) fn usd() -> Currency {
        Currency::parse("USD").unwrap()
    }

    pub(super) type Want<'a> = Result<Value, &'a [(usize, &'a str, &'a str)]>;

    /// `expected`: the plan's summary, or the errors as (line, column, code).
    pub(super) fn check(csv: &str, snapshot: &Snapshot, expected: Want) -> Option<Plan> {
        let got = parse_rows(csv, usd()).and_then(|rows| plan(&rows, snapshot));
        match (got, expected) {
            (Ok(p), Ok(want)) => {
                assert_eq!(p.summary(), want, "{csv}");
                return Some(p);
            }
            (Err(e), Err(want)) => {
                let got: Vec<_> = e
                    .iter()
                    .map(|e| (e.line, e.column.as_str(), e.code))
                    .collect();
                assert_eq!(got, want, "{e:#?}");
            }
            (got, want) => panic!("{csv}\ngot {got:#?}\nexpected {want:?}"),
        }
        None
    }

    /// Counts as `[creates, updates, unchanged]` for influencers,
    /// campaigns, codes and links.
    pub(super) fn summary(parts: [[usize; 3]; 4]) -> Value {
        let c = |[creates, updates, unchanged]: [usize; 3]| json!({"creates": creates, "updates": updates, "unchanged": unchanged});
        let t = |k: usize| parts.iter().map(|p| p[k]).sum::<usize>();
        json!({"creates": t(0), "updates": t(1), "unchanged": t(2),
            "influencers": c(parts[0]), "campaigns": c(parts[1]), "codes": c(parts[2]), "links": c(parts[3])})
    }
}
