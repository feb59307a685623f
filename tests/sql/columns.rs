//! Every tested read returns exactly the columns its `row!` type reads
//! (D1 rows are read by column name, so a renamed alias would only fail
//! at run time): the fields are read from the shell's source.

use crate::attribution_sql::{
    CANDIDATES_SQL, DATA_DAYS_SQL, LAST_CLICK_SQL, NEW_CLICK_DAYS_SQL, PERSON_KEYS_SQL,
    PICK_DIRTY_SQL, PICK_NEW_SQL,
};
use crate::ingest_sql::{
    CLICK_VISITOR_SQL, CONVERSION_IDENTITIES_SQL, ERASE_FIND_SQL, IDENTITIES_SQL,
};
use crate::links_sql::{list_links_sql, LINK_SELECT, LIST_CODES_SQL};
use crate::test_db::{columns, open, row_fields};
use std::collections::BTreeSet;

#[test]
fn reads_return_the_columns_their_rows_read() {
    let db = open();
    let list_links = list_links_sql();
    let cases: [(&str, &str, &str); 14] = [
        (
            "src/edge/attribution/journeys.rs",
            "PendingRow",
            PICK_DIRTY_SQL,
        ),
        (
            "src/edge/attribution/journeys.rs",
            "PendingRow",
            PICK_NEW_SQL,
        ),
        (
            "src/edge/attribution/journeys.rs",
            "KeyRow",
            PERSON_KEYS_SQL,
        ),
        (
            "src/edge/attribution/journeys.rs",
            "CandidateRow",
            CANDIDATES_SQL,
        ),
        ("src/edge/attribution/rollups.rs", "MaxRow", LAST_CLICK_SQL),
        ("src/edge/attribution/rollups.rs", "Range", DATA_DAYS_SQL),
        ("src/edge/attribution/run.rs", "DayRow", NEW_CLICK_DAYS_SQL),
        (
            "src/edge/ingest/identities.rs",
            "IdentityRow",
            IDENTITIES_SQL,
        ),
        (
            "src/edge/ingest/identities.rs",
            "IdentityRow",
            CONVERSION_IDENTITIES_SQL,
        ),
        (
            "src/edge/ingest/identities.rs",
            "VisitorRow",
            CLICK_VISITOR_SQL,
        ),
        ("src/edge/ingest/erasure.rs", "KeyRow", ERASE_FIND_SQL),
        ("src/edge/links/link_rows.rs", "LinkRow", LINK_SELECT),
        ("src/edge/links/link_rows.rs", "LinkRow", &list_links),
        ("src/edge/links/codes.rs", "CodeRow", LIST_CODES_SQL),
    ];
    for (file, row, sql) in cases {
        let fields: BTreeSet<String> = row_fields(file, row).into_iter().collect();
        let got: BTreeSet<String> = columns(&db, sql).into_iter().collect();
        assert!(!fields.is_empty(), "{file}: {row} has no fields");
        assert_eq!(got, fields, "{file}: {row}");
    }
}
