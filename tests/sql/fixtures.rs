//! The traffic and credits the rollup tests share: a day of clicks around
//! day `D` that exercises the 30-minute rule (across midnight, at exactly
//! 30 minutes, per link and visitor), bots, apps, QR scans and a targeting
//! rule; and credit rows as the job writes them (the core's `CreditRow`,
//! inserted with `INSERT_CREDITS_SQL`), with exact weights.

use crate::attribution_sql::INSERT_CREDITS_SQL;
use crate::test_db::{
    bot, click, conversion, exec, insert_clicks, json_text, Order, HOUR, MINUTE, T0,
};
use linkcredit::attribution::batch::CreditRow;
use linkcredit::attribution::journey::TouchKind;
use linkcredit::base::time::DAY;
use rusqlite::Connection;

/// The clicks (the shell's `ClickRow`s, written by group commit). Link 1
/// is sarah's, link 2 max's. Human clicks per day: D-1 1, D 11, D+1 1;
/// bots on D: 2.
pub fn clicks(db: &Connection) {
    let mut rows = vec![
        click("c01", 1, T0 - 10 * MINUTE, "v1"), // D-1, 23:50: unique
        click("c02", 1, T0 + 10 * MINUTE, "v1"), // 20 min after c01: repeat
        click("c03", 1, T0 + 45 * MINUTE, "v1"), // 35 min after c02: unique
        click("c04", 1, T0 + 50 * MINUTE, "v1"), // repeat
        click("c05", 1, T0 + HOUR, "v2"),        // unique
        bot("b06", 1, T0 + HOUR),                // bot
        bot("b07", 1, T0 + HOUR + 5 * MINUTE),   // bot
        click("c08", 1, T0 + 2 * HOUR, "v3"),    // in Instagram's browser
        click("c09", 1, T0 + 3 * HOUR, "v2"),    // a QR scan, 2 h after c05: unique
        click("c10", 2, T0 + 4 * HOUR, "v4"),    // rule ios, variant b
        click("c11", 2, T0 + 5 * HOUR, "v5"),    // unique
        click("c12", 2, T0 + 5 * HOUR + 30 * MINUTE, "v5"), // exactly 30 min: unique
        click("c13", 2, T0 + 5 * HOUR + 59 * MINUTE, "v5"), // 29 min: repeat
        click("c14", 1, T0 + DAY + 5 * MINUTE, "v1"), // D+1: 5 min after c15, repeat
        click("c15", 1, T0 + DAY - 1, "v1"),     // D's last ms: unique
    ];
    rows[7].app = Some("instagram".into());
    rows[8].trigger = "qr".into();
    rows[9].rule = Some("ios".into());
    rows[9].variant = Some("b".into());
    insert_clicks(db, &rows);
}

/// The click rollup of day `D` from [`clicks`], in key order: `[day,
/// link_id, app, trigger, rule, variant, clicks, unique_clicks,
/// bot_clicks]`.
pub const CLICK_ROLLUP_COLUMNS: &str =
    "SELECT day, link_id, app, trigger, rule, variant, clicks, unique_clicks, bot_clicks FROM click_rollup \
     ORDER BY day, link_id, app, trigger, rule, variant";

/// One touch of a credited journey: key, kind, time, and the link's
/// dimensions (influencer, campaign, link, content, platform, app, code).
pub struct Touch {
    pub key: &'static str,
    pub kind: TouchKind,
    pub at: i64,
    pub channel: &'static str,
    pub influencer: Option<&'static str>,
    pub campaign: Option<&'static str>,
    pub link: Option<&'static str>,
    pub content: Option<&'static str>,
    pub platform: Option<&'static str>,
    pub app: Option<&'static str>,
    pub code: Option<&'static str>,
}

/// A click on link 1 (sarah) or 2 (max).
pub fn link_touch(key: &'static str, at: i64, link: i64) -> Touch {
    let sarah = link == 1;
    Touch {
        key,
        kind: TouchKind::Click,
        at,
        channel: "influencer",
        influencer: Some(if sarah { "sarah" } else { "max" }),
        campaign: Some(if sarah { "spring" } else { "summer" }),
        link: Some(if sarah { "sarah-serum" } else { "max-mask" }),
        content: sarah.then_some("reel-1"),
        platform: Some(if sarah { "instagram" } else { "tiktok" }),
        app: None,
        code: None,
    }
}

/// One credit row: touch `t` at `position` of conversion `id` (converted
/// at `at`, in EUR) with `(micros, revenue, reporting, assist)`.
pub fn credit(
    id: i64,
    model: &'static str,
    (position, t): (usize, &Touch),
    at: i64,
    (micros, revenue, reporting, assist): (i64, i64, Option<i64>, bool),
) -> CreditRow {
    let channel_key = t.influencer.unwrap_or(t.channel).to_owned();
    CreditRow {
        conversion_id: id,
        model,
        position,
        touchpoint_key: t.key.to_owned(),
        touch_kind: t.kind,
        touched_at: t.at,
        converted_at: at,
        channel: t.channel.to_owned(),
        channel_key,
        influencer: t.influencer.map(str::to_owned),
        campaign: t.campaign.map(str::to_owned),
        link: t.link.map(str::to_owned),
        content: t.content.map(str::to_owned),
        platform: t.platform.map(str::to_owned),
        app: t.app.map(str::to_owned),
        code: t.code.map(str::to_owned),
        revenue_minor: revenue,
        currency: "EUR".into(),
        reporting_minor: reporting,
        conversion_micros: micros,
        is_assist: assist,
    }
}

/// Five conversions and their credits under `last_touch` and `linear`:
///
/// * A (D 10:00, 100.00): clicks c03 (sarah) then c10 (max, rule ios);
/// * B (D 12:00, 30.00, 29.00 in the reporting currency): an email
///   touchpoint, then sarah's code SARAH10;
/// * C (D 13:00, 50.00, no exchange rate): c05; left out of rollups;
/// * E (D+1 01:00, 20.00): the QR scan c09;
/// * F (D 20:00, 40.00): c02 and c04 (sarah, browser), then c08 (sarah, in
///   Instagram).
///
/// Returns the number of credit rows written.
pub fn credits(db: &Connection) -> usize {
    let order = |id, at, revenue| Order {
        order_id: id,
        at,
        revenue_minor: revenue,
        ..Order::default()
    };
    let a = conversion(db, &order("A", T0 + 10 * HOUR, 10_000));
    let b = conversion(db, &order("B", T0 + 12 * HOUR, 3_000));
    let c = conversion(db, &order("C", T0 + 13 * HOUR, 5_000));
    let e = conversion(db, &order("E", T0 + DAY + HOUR, 2_000));
    let f = conversion(db, &order("F", T0 + 20 * HOUR, 4_000));
    let c03 = link_touch("click:c03", T0 + 45 * MINUTE, 1);
    let c10 = link_touch("click:c10", T0 + 4 * HOUR, 2);
    let email = Touch {
        key: "tp:1",
        kind: TouchKind::Channel,
        at: T0 + 11 * HOUR,
        channel: "email",
        influencer: None,
        campaign: None,
        link: None,
        content: None,
        platform: None,
        app: None,
        code: None,
    };
    let code = Touch {
        key: "code:2",
        kind: TouchKind::Code,
        at: T0 + 12 * HOUR,
        campaign: Some("spring"),
        code: Some("SARAH10"),
        link: None,
        content: None,
        platform: None,
        ..link_touch("", 0, 1)
    };
    let c05 = link_touch("click:c05", T0 + HOUR, 1);
    let c09 = link_touch("click:c09", T0 + 3 * HOUR, 1);
    let c02 = link_touch("click:c02", T0 + 10 * MINUTE, 1);
    let c04 = link_touch("click:c04", T0 + 50 * MINUTE, 1);
    let c08 = Touch {
        app: Some("instagram"),
        ..link_touch("click:c08", T0 + 2 * HOUR, 1)
    };
    let (at_a, at_b, at_c) = (T0 + 10 * HOUR, T0 + 12 * HOUR, T0 + 13 * HOUR);
    let (at_e, at_f) = (T0 + DAY + HOUR, T0 + 20 * HOUR);
    let rows = vec![
        credit(a, "last_touch", (0, &c03), at_a, (0, 0, Some(0), true)),
        credit(
            a,
            "last_touch",
            (1, &c10),
            at_a,
            (1_000_000, 10_000, Some(10_000), false),
        ),
        credit(
            a,
            "linear",
            (0, &c03),
            at_a,
            (500_000, 5_000, Some(5_000), true),
        ),
        credit(
            a,
            "linear",
            (1, &c10),
            at_a,
            (500_000, 5_000, Some(5_000), false),
        ),
        credit(b, "last_touch", (0, &email), at_b, (0, 0, Some(0), false)),
        credit(
            b,
            "last_touch",
            (1, &code),
            at_b,
            (1_000_000, 3_000, Some(2_900), false),
        ),
        credit(
            b,
            "linear",
            (0, &email),
            at_b,
            (500_000, 1_500, Some(1_450), false),
        ),
        credit(
            b,
            "linear",
            (1, &code),
            at_b,
            (500_000, 1_500, Some(1_450), false),
        ),
        credit(
            c,
            "last_touch",
            (0, &c05),
            at_c,
            (1_000_000, 5_000, None, false),
        ),
        credit(
            c,
            "linear",
            (0, &c05),
            at_c,
            (1_000_000, 5_000, None, false),
        ),
        credit(
            e,
            "last_touch",
            (0, &c09),
            at_e,
            (1_000_000, 2_000, Some(2_000), false),
        ),
        credit(
            e,
            "linear",
            (0, &c09),
            at_e,
            (1_000_000, 2_000, Some(2_000), false),
        ),
        credit(f, "last_touch", (0, &c02), at_f, (0, 0, Some(0), true)),
        credit(f, "last_touch", (1, &c04), at_f, (0, 0, Some(0), true)),
        credit(
            f,
            "last_touch",
            (2, &c08),
            at_f,
            (1_000_000, 4_000, Some(4_000), false),
        ),
        credit(
            f,
            "linear",
            (0, &c02),
            at_f,
            (333_334, 1_334, Some(1_334), true),
        ),
        credit(
            f,
            "linear",
            (1, &c04),
            at_f,
            (333_333, 1_333, Some(1_333), true),
        ),
        credit(
            f,
            "linear",
            (2, &c08),
            at_f,
            (333_333, 1_333, Some(1_333), false),
        ),
    ];
    insert_credits(db, &rows)
}

/// Writes credit rows as the job does: `INSERT_CREDITS_SQL` with a JSON
/// array of up to 300 rows per statement. The rows written.
pub fn insert_credits(db: &Connection, rows: &[CreditRow]) -> usize {
    rows.chunks(300)
        .map(|chunk| exec(db, INSERT_CREDITS_SQL, rusqlite::params![json_text(&chunk)]))
        .sum()
}
