//! Group commit of clicks inside the isolate, and the queue consumer.
//!
//! An isolate serves many requests at once. Each redirect hands its click
//! to [`record`], which appends it to the isolate's one open *group*:
//!
//! * the first click of a group makes its request the group's *leader*:
//!   its `wait_until` sleeps `CLICK_FLUSH_MS` (25 ms), then closes and
//!   writes the group if nobody has;
//! * the click that fills a group (`CLICK_BATCH_MAX`, 50) closes it, and
//!   its own request writes it at once;
//! * every other request's `wait_until` waits, on a timer of its own, until
//!   the group holding its click is settled.
//!
//! So every request's `wait_until` covers the write of its own click, and
//! the write always runs in the context of a request that is still alive
//! (the one that closed the group). Nothing waits on another request's I/O;
//! groups only share memory. The response is never delayed: the redirect
//! has returned before any of this runs.
//!
//! Writing a group: with a `CLICKS` queue binding, one `sendBatch` (the
//! consumer, [`consume`], inserts into D1); without, one D1 `batch()` of
//! multi-row `INSERT`s. A failed write is retried once; then the group goes
//! the other way (queue → D1, D1 → a KV spill that the cron drains, see
//! [`drain_spills`]), and if that fails too every click id is logged. A
//! click is acknowledged to nobody, but it is always either committed or
//! visible as a failure.

use crate::edge::{config, DB, LINKS_KV};
use crate::traffic::group_commit;
use crate::traffic::group_commit::{ClickRow, Param, ROWS_PER_STATEMENT};
use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::Duration;
#[cfg(full)]
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use worker::{console_error, console_warn, Context, D1Database, Delay, Env, Queue};
#[cfg(full)]
use worker::{console_log, MessageBatch, MessageExt};
#[cfg(full)]
use worker::{
    js_sys::{Array, Function, Object, Promise, Reflect},
    wasm_bindgen_futures::JsFuture,
};

/// The producer binding of the click queue (optional).
pub const CLICKS_QUEUE: &str = "CLICKS";

/// How often a waiting request looks at its group.
const SETTLE_POLL: Duration = Duration::from_millis(10);

/// The pause before the one retry of a failed write.
const RETRY_PAUSE: Duration = Duration::from_millis(50);

/// One group of clicks.
struct Group {
    rows: RefCell<Vec<ClickRow>>,
    /// No more clicks join; someone is writing it.
    closed: Cell<bool>,
    /// Written, or handed to the fallback, or logged.
    settled: Cell<bool>,
}

thread_local! {
    /// The isolate's open group, if any.
    static OPEN: RefCell<Option<Rc<Group>>> = const { RefCell::new(None) };
}

/// What a request does for its click's group.
enum Role {
    /// Started the group: waits for the timer, then writes it unless the
    /// group was filled and written meanwhile.
    Leader,
    /// Filled the group (or groups hold one click): writes it now.
    Closer,
    /// Joined the group: waits until it is settled.
    Member,
}

/// Where groups go: the bindings, or why they are missing.
struct Sink {
    db: Result<D1Database, String>,
    queue: Option<Queue>,
    env: Env,
}

impl Sink {
    fn new(env: &Env) -> Sink {
        thread_local! {
            /// Whether the `CLICKS` queue is bound (fixed per isolate), so
            /// an unbound queue costs one failed lookup per isolate, not per
            /// group.
            static HAS_QUEUE: Cell<Option<bool>> = const { Cell::new(None) };
        }
        let queue = match HAS_QUEUE.get() {
            Some(false) => None,
            _ => {
                let q = env.queue(CLICKS_QUEUE).ok();
                HAS_QUEUE.set(Some(q.is_some()));
                q
            }
        };
        Sink {
            db: env.d1(DB).map_err(|e| e.to_string()),
            queue,
            env: env.clone(),
        }
    }
}

/// Hands a click to the isolate's open group. Never fails and never
/// delays the response: all work happens in `ctx.wait_until`.
pub fn record(env: &Env, ctx: &Context, click: ClickRow) {
    let policy = config(env).clicks;
    let (group, role) = OPEN.with(|open| {
        let mut open = open.borrow_mut();
        let (group, leader) = match open.as_ref() {
            Some(g) => {
                g.rows.borrow_mut().push(click);
                (g.clone(), false)
            }
            None => {
                let g = Rc::new(Group {
                    rows: RefCell::new(vec![click]),
                    closed: Cell::new(false),
                    settled: Cell::new(false),
                });
                *open = Some(g.clone());
                (g, true)
            }
        };
        if group.rows.borrow().len() >= policy.max_clicks {
            group.closed.set(true);
            *open = None;
            (group, Role::Closer)
        } else if leader {
            (group, Role::Leader)
        } else {
            (group, Role::Member)
        }
    });
    // Only the request that writes the group needs the bindings.
    match role {
        Role::Member => ctx.wait_until(async move { settled(&group).await }),
        Role::Closer => {
            let sink = Sink::new(env);
            ctx.wait_until(async move { write(&group, &sink).await })
        }
        Role::Leader => {
            let sink = Sink::new(env);
            ctx.wait_until(async move {
                Delay::from(Duration::from_millis(u64::from(policy.max_wait_ms))).await;
                let close = OPEN.with(|open| {
                    let mut open = open.borrow_mut();
                    if open.as_ref().is_some_and(|g| Rc::ptr_eq(g, &group)) {
                        *open = None;
                    }
                    !group.closed.replace(true)
                });
                if close {
                    write(&group, &sink).await;
                } else {
                    settled(&group).await;
                }
            })
        }
    }
}

/// Waits, on this request's own timer, until `group` is settled.
async fn settled(group: &Group) {
    while !group.settled.get() {
        Delay::from(SETTLE_POLL).await;
    }
}

/// Writes a closed group: the primary path, one retry, the fallback, and
/// at worst a log line with every click id.
async fn write(group: &Group, sink: &Sink) {
    let rows = group.rows.take();
    let db = match &sink.db {
        Ok(db) => db,
        Err(e) => {
            console_error!(
                "clicks: NOT RECORDED, no D1 binding ({e}); click ids: {}",
                group_commit::ids(&rows)
            );
            group.settled.set(true);
            return;
        }
    };
    let outcome = match primary(sink, db, &rows).await {
        Ok(()) => Ok(()),
        Err(first) => {
            console_warn!(
                "clicks: writing a group of {} failed ({first}); retrying once",
                rows.len()
            );
            Delay::from(RETRY_PAUSE).await;
            primary(sink, db, &rows).await
        }
    };
    if let Err(second) = outcome {
        fallback(sink, db, &rows, &second).await;
    }
    group.settled.set(true);
}

/// One `sendBatch` with a queue, else one D1 batch.
async fn primary(sink: &Sink, db: &D1Database, rows: &[ClickRow]) -> worker::Result<()> {
    match &sink.queue {
        Some(q) => q.send_batch(rows.to_vec()).await,
        None => crate::edge::traffic::group_commit::insert_click_rows(db, rows).await,
    }
}

/// After the retry failed: queue → D1, D1 → a KV spill; else the log.
async fn fallback(sink: &Sink, db: &D1Database, rows: &[ClickRow], cause: &worker::Error) {
    let result = if sink.queue.is_some() {
        crate::edge::traffic::group_commit::insert_click_rows(db, rows)
            .await
            .map(|()| "written to D1 directly".to_owned())
    } else {
        spill(&sink.env, rows)
            .await
            .map(|key| format!("spilled to KV {key}"))
    };
    match result {
        Ok(how) => console_warn!(
            "clicks: retry failed ({cause}); {} clicks {how}: {}",
            rows.len(),
            group_commit::ids(rows)
        ),
        Err(e) => console_error!(
            "clicks: NOT RECORDED after retry ({cause}) and fallback ({e}); click ids: {}",
            group_commit::ids(rows)
        ),
    }
}

/// Puts a group that D1 refused into KV, for [`drain_spills`].
async fn spill(env: &Env, rows: &[ClickRow]) -> worker::Result<String> {
    let key = group_commit::spill_key(rows);
    let body = serde_json::to_string(rows).map_err(|e| worker::Error::RustError(e.to_string()))?;
    env.kv(LINKS_KV)?.put(&key, body)?.execute().await?;
    Ok(key)
}

/// Writes spilled groups into D1 and deletes them (run by the cron before
/// attribution). A group is deleted only after its insert committed; a
/// group drained twice is harmless (`ON CONFLICT DO NOTHING`). Returns the
/// clicks written.
#[cfg(full)]
pub async fn drain_spills(env: &Env, db: &D1Database) -> worker::Result<usize> {
    let kv = env.kv(LINKS_KV)?;
    let mut written = 0;
    for name in spill_names(env).await? {
        let Some(text) = kv.get(&name).text().await? else {
            continue;
        };
        let rows: Vec<ClickRow> = match serde_json::from_str(&text) {
            Ok(rows) => rows,
            Err(e) => {
                console_error!("clicks: spilled group {name} is unreadable ({e}); kept");
                continue;
            }
        };
        crate::edge::traffic::group_commit::insert_click_rows(db, &rows).await?;
        kv.delete(&name).await?;
        written += rows.len();
        console_log!("clicks: drained {} spilled clicks from {name}", rows.len());
    }
    Ok(written)
}

/// The names of up to 100 spilled groups, through KV's `list()` called
/// directly: `worker`'s `list()` decodes its answer with
/// `serde_wasm_bindgen` (key metadata as JSON values), several KB of wasm
/// for this one cron-time call.
#[cfg(full)]
async fn spill_names(env: &Env) -> worker::Result<Vec<String>> {
    let kv = Reflect::get(env, &JsValue::from_str(LINKS_KV))?;
    let list: Function = Reflect::get(&kv, &JsValue::from_str("list"))?.dyn_into()?;
    let options = Object::new();
    Reflect::set(
        &options,
        &JsValue::from_str("prefix"),
        &JsValue::from_str(group_commit::SPILL_PREFIX),
    )?;
    Reflect::set(
        &options,
        &JsValue::from_str("limit"),
        &JsValue::from_f64(100.0),
    )?;
    let listed = JsFuture::from(Promise::from(list.call1(&kv, &options)?)).await?;
    let keys: Array = Reflect::get(&listed, &JsValue::from_str("keys"))?.dyn_into()?;
    Ok(keys
        .iter()
        .filter_map(|k| {
            Reflect::get(&k, &JsValue::from_str("name"))
                .ok()?
                .as_string()
        })
        .collect())
}

/// The queue consumers. For the click queue: one D1 batch per message
/// batch; ack all on success, retry all on failure (the queue's
/// `max_retries`, then its dead-letter queue, as configured in
/// wrangler.toml). For the dead-letter queue (a name ending in `-dlq`): the
/// clicks are spilled to KV, for the cron to write once D1 is back. A
/// message that is not a click can never succeed: it is logged and acked.
#[cfg(full)]
pub async fn consume(batch: MessageBatch<ClickRow>, env: &Env) -> worker::Result<()> {
    let mut rows = Vec::new();
    let mut messages = Vec::new();
    for raw in batch.raw_iter() {
        // Through JSON text: serde_json already decodes `ClickRow`s (spilled
        // groups), so this adds no second decoder to the wasm.
        let text = worker::js_sys::JSON::stringify(&raw.body())
            .ok()
            .and_then(|t| t.as_string())
            .unwrap_or_default();
        match serde_json::from_str::<ClickRow>(&text) {
            Ok(row) => {
                rows.push(row);
                messages.push(raw);
            }
            Err(e) => {
                console_error!(
                    "clicks: dropping a queue message that is not a click ({e}): {}",
                    raw.body()
                        .as_string()
                        .unwrap_or_else(|| "(not text)".into())
                );
                raw.ack();
            }
        }
    }
    let dead_letters = batch.queue().ends_with("-dlq");
    let outcome = if dead_letters {
        spill(env, &rows).await.map(|key| {
            console_warn!(
                "clicks: {} dead-lettered clicks spilled to KV {key}: {}",
                rows.len(),
                group_commit::ids(&rows)
            )
        })
    } else {
        crate::edge::traffic::group_commit::insert_click_rows(&env.d1(DB)?, &rows).await
    };
    match outcome {
        Ok(()) => messages.iter().for_each(MessageExt::ack),
        Err(e) => {
            console_warn!(
                "clicks: queue batch of {} failed ({e}); retrying later",
                rows.len()
            );
            messages.iter().for_each(MessageExt::retry);
        }
    }
    Ok(())
}

/// Inserts click rows as one D1 batch (one transaction) of multi-row
/// `INSERT`s ([`group_commit::insert_sql`], within the bound-parameter limit);
/// a click id already stored is skipped.
pub async fn insert_click_rows(db: &D1Database, rows: &[ClickRow]) -> worker::Result<()> {
    let statements = rows
        .chunks(ROWS_PER_STATEMENT)
        .map(|chunk| {
            let values: Vec<JsValue> = chunk
                .iter()
                .flat_map(ClickRow::params)
                .map(|p| match p {
                    Param::Text(s) => JsValue::from_str(s),
                    // Ids and millisecond timestamps are far below 2^53.
                    Param::Int(n) => JsValue::from_f64(n as f64),
                    Param::Null => JsValue::NULL,
                })
                .collect();
            db.prepare(group_commit::insert_sql(chunk.len()))
                .bind(&values)
        })
        .collect::<worker::Result<Vec<_>>>()?;
    if !statements.is_empty() {
        crate::edge::d1::sys_batch(db, &crate::edge::d1::statements(&statements)).await?;
    }
    Ok(())
}
