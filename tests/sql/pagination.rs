//! Keyset pagination as the list endpoints drive it: the core's `Page`
//! from `?limit=&cursor=`, the statement bound to `(after, limit[, tag])`,
//! and the core's `next_cursor`, followed until there is none. Pages
//! neither overlap nor skip, also while rows are added between requests.

use crate::links_sql::{list_links_sql, LIST_CODES_SQL};
use crate::test_db::{check, open, rows, world, T0};
use linkcredit::base::pagination::{next_cursor, Page};
use linkcredit::links::utm_names::Tag;
use rusqlite::{params, Connection};
use serde_json::{json, Value};

/// Links 3..=9 besides the world's 1 and 2, with tags: `drop` on 1, 4, 5
/// and 8, `ugc` on 5 and 2.
fn links(db: &Connection) {
    world(db);
    for id in 3..=9 {
        add_link(db, id);
    }
    db.execute_batch(
        "INSERT INTO link_tags (link_id, tag) VALUES (1, 'drop'), (4, 'drop'), (5, 'ugc'), (5, 'drop'),
           (8, 'drop'), (2, 'ugc');",
    )
    .expect("tags");
}

fn add_link(db: &Connection, id: i64) {
    db.execute(
        "INSERT INTO links (id, slug, destination, influencer_id, campaign_id, created_at, updated_at) \
         VALUES (?1, 'link-' || ?1, 'https://shop.example/p/' || ?1, 1 + ?1 % 2, 1, ?2, ?2)",
        params![id, T0 + id],
    )
    .expect("link");
}

/// One request: the page's ids and its `next_cursor`.
type Fetch<'a> = dyn FnMut(Page) -> Vec<i64> + 'a;

/// Follows the cursors from the first page: every page's ids.
fn pages(
    limit: u32,
    tag: Option<&str>,
    fetch: &mut Fetch<'_>,
    mut between: impl FnMut(usize),
) -> Vec<Vec<i64>> {
    let mut out = Vec::new();
    let mut query = format!("limit={limit}");
    loop {
        let page = Page::from_query(&query).expect("a valid query");
        let ids = fetch(page);
        let next = next_cursor(&ids, page);
        out.push(ids);
        between(out.len());
        let Some(cursor) = next else { break };
        assert!(out.len() < 50, "the cursor never ends");
        query = format!("limit={limit}&cursor={cursor}");
        if let Some(t) = tag {
            query.push_str(&format!("&tag={t}"));
        }
    }
    out
}

/// `list_links`, bound as it binds: `(page.after, page.limit, tag)`.
fn list_links<'a>(db: &'a Connection, tag: Option<&'a str>) -> impl FnMut(Page) -> Vec<i64> + 'a {
    let tag = tag.map(|t| Tag::parse(t).expect("a valid tag"));
    move |page: Page| {
        ids(&rows(
            db,
            &list_links_sql(),
            params![page.after, page.limit, tag.as_ref().map(Tag::as_str)],
        ))
    }
}

fn ids(rows: &Value) -> Vec<i64> {
    rows.as_array()
        .expect("rows")
        .iter()
        .map(|r| r[0].as_i64().expect("id first"))
        .collect()
}

#[test]
fn link_pages_neither_overlap_nor_skip() {
    let db = open();
    links(&db);
    // `(limit, tag, every page's ids)`
    type Case = (u32, Option<&'static str>, Vec<Vec<i64>>);
    let cases: Vec<Case> = vec![
        (
            3,
            None,
            vec![vec![1, 2, 3], vec![4, 5, 6], vec![7, 8, 9], vec![]],
        ),
        (4, None, vec![vec![1, 2, 3, 4], vec![5, 6, 7, 8], vec![9]]),
        (50, None, vec![(1..=9).collect()]),
        (1, Some("ugc"), vec![vec![2], vec![5], vec![]]),
        (3, Some("drop"), vec![vec![1, 4, 5], vec![8]]),
        (2, Some("none"), vec![vec![]]),
    ];
    for (limit, tag, expected) in cases {
        let got = pages(limit, tag, &mut list_links(&db, tag), |_| {});
        assert_eq!(got, expected, "limit {limit}, tag {tag:?}");
        let all: Vec<i64> = got.concat();
        let mut sorted = all.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(all, sorted, "strictly increasing across pages: no overlap");
    }
}

#[test]
fn rows_added_between_requests_appear_once_and_in_order() {
    let db = open();
    links(&db);
    // A link is added after every page (ids 10, 11, 12): those added
    // before the last page show up once, on a later page.
    let mut fetch = list_links(&db, None);
    let got = pages(4, None, &mut fetch, |n| add_link(&db, 9 + n as i64));
    assert_eq!(
        got,
        vec![vec![1, 2, 3, 4], vec![5, 6, 7, 8], vec![9, 10, 11]]
    );
}

#[test]
fn a_link_row_carries_its_joins_and_sorted_tags() {
    let db = open();
    links(&db);
    check(
        &db,
        "link 5",
        &format!(
            "SELECT id, slug, handle, campaign, tags FROM ({}) WHERE id = 5",
            list_links_sql()
        ),
        params![4, 1, None::<&str>],
        json!([[5, "link-5", "max", "spring", r#"["drop","ugc"]"#]]),
    );
    check(
        &db,
        "an untagged link",
        &format!("SELECT id, tags FROM ({})", list_links_sql()),
        params![2, 1, None::<&str>],
        json!([[3, "[]"]]),
    );
}

#[test]
fn code_pages_neither_overlap_nor_skip() {
    let db = open();
    world(&db);
    db.execute_batch(&format!(
        "INSERT INTO codes (id, code, influencer_id, campaign_id, link_id, description, created_at) VALUES
           (3, 'SARAH20', 1, NULL, NULL, 'VIP', {T0}), (4, 'MAXFREE', 2, 2, 2, NULL, {T0}),
           (5, 'SPRING5', 1, 1, NULL, NULL, {T0});"
    ))
    .expect("codes");
    let mut fetch = |page: Page| ids(&rows(&db, LIST_CODES_SQL, params![page.after, page.limit]));
    for (limit, expected) in [
        (2, vec![vec![1, 2], vec![3, 4], vec![5]]),
        (5, vec![vec![1, 2, 3, 4, 5], vec![]]),
        (1, vec![vec![1], vec![2], vec![3], vec![4], vec![5], vec![]]),
    ] {
        assert_eq!(
            pages(limit, None, &mut fetch, |_| {}),
            expected,
            "limit {limit}"
        );
    }
    check(
        &db,
        "the second page of two",
        LIST_CODES_SQL,
        params![2, 2],
        json!([
            [3, "SARAH20", "sarah", null, null, "VIP", T0],
            [4, "MAXFREE", "max", "summer", "max-mask", null, T0]
        ]),
    );
}
