//! D1 statements and rows without serde.
//!
//! `worker`'s `D1PreparedStatement::first` and `D1Result::results` decode
//! every row through `serde_wasm_bindgen`, which costs one large
//! `deserialize_struct` instantiation per row type in the wasm, and its
//! `query!` binds every argument through a serializer at each call site.
//! Here both are done by hand:
//!
//! * [`FromRow`] builds a value from one row object, and the [`row!`] macro
//!   defines `*Row` structs together with their `FromRow` impls, reading
//!   each field from the column of the same name with a [`Reader`] (one
//!   call per field, no early return: small code per row type).
//! * [`Cell`] is one column's value: `i64`, `u64`, `f64`, `String` and
//!   their `Option`s. D1 returns integers as JS numbers (exact up to
//!   2^53); an integer column must hold a safe integer, an unsigned one a
//!   non-negative one. `null` or a missing column is `None` for an
//!   `Option` and an error naming the column otherwise, as serde's derive
//!   did. Reports, whose columns depend on the grouping, read rows as
//!   JSON objects (`FromRow` for `serde_json::Map`).
//! * [`query!`] has `worker::query!`'s forms and binds arguments through
//!   [`Param`], with the same JS values.
//! * [`sys_all`], [`sys_first`] and [`sys_batch`] run statements through the sys
//!   bindings (`worker_sys`), awaiting the promises themselves, and
//!   [`D1Out`] wraps one statement's result: its [`rows`](D1Out::rows) and
//!   its [`meta`](D1Out::meta) (changes, last row id, rows read and
//!   written). Errors stay `worker::Error`s, which the callers map to a 503
//!   as before.
//!
//! On top of them, what every handler uses: [`first`], [`all`], [`run`],
//! [`batch`] and [`all_metered`] (failures become a 503 naming what was
//! being done), [`stmt`], [`json_text`], and the rows-read [`Meter`].

use crate::base::error::ApiError;
use crate::edge::http::unavailable;
use serde_json::{Map, Number, Value};
use wasm_bindgen::{JsCast, JsValue};
use worker::js_sys::{Array, Object, Promise, Reflect};
use worker::wasm_bindgen_futures::JsFuture;
use worker::{D1Database, D1PreparedStatement};

/// A value built from one D1 row (a JS object of column → value).
pub trait FromRow: Sized {
    fn from_row(row: &JsValue) -> Result<Self, String>;
}

/// One column's value.
pub trait Cell: Sized {
    /// The value, or `None` when `v` has the wrong type (`undefined` for a
    /// missing column).
    fn from_js(v: &JsValue) -> Option<Self>;
}

/// `Number.MAX_SAFE_INTEGER`.
const MAX_SAFE: f64 = 9_007_199_254_740_991.0;

/// A safe integer, as `Number.isSafeInteger` decides.
fn safe_integer(v: &JsValue) -> Option<i64> {
    let f = v.as_f64()?;
    (f.trunc() == f && f.abs() <= MAX_SAFE).then_some(f as i64)
}

impl Cell for i64 {
    fn from_js(v: &JsValue) -> Option<Self> {
        safe_integer(v)
    }
}

impl Cell for u64 {
    fn from_js(v: &JsValue) -> Option<Self> {
        safe_integer(v).and_then(|n| u64::try_from(n).ok())
    }
}

impl Cell for f64 {
    fn from_js(v: &JsValue) -> Option<Self> {
        v.as_f64()
    }
}

impl Cell for String {
    fn from_js(v: &JsValue) -> Option<Self> {
        v.as_string()
    }
}

impl<T: Cell> Cell for Option<T> {
    fn from_js(v: &JsValue) -> Option<Self> {
        if v.is_null() || v.is_undefined() {
            Some(None)
        } else {
            T::from_js(v).map(Some)
        }
    }
}

/// The column `name` of `row` (`undefined` when there is none).
fn column(row: &JsValue, name: &str) -> JsValue {
    Reflect::get(row, &JsValue::from_str(name)).unwrap_or(JsValue::UNDEFINED)
}

/// Why column `name` could not be read as the field's type.
fn bad_column(name: &str, v: &JsValue) -> String {
    let found = if v.is_undefined() {
        "missing".to_owned()
    } else if v.is_null() {
        "null".to_owned()
    } else {
        v.js_typeof().as_string().unwrap_or_default()
    };
    format!("column `{name}`: unexpected value ({found})")
}

/// Reads the columns of one row (used by [`row!`]). A column that cannot
/// be read yields the type's default and is remembered: [`Reader::finish`]
/// reports the first. (One call per field and no early return keeps each
/// row type's `from_row` small in the wasm.)
pub struct Reader<'a> {
    row: &'a JsValue,
    error: Option<String>,
}

impl<'a> Reader<'a> {
    pub fn new(row: &'a JsValue) -> Self {
        Reader { row, error: None }
    }

    /// Column `name` as a `T`.
    #[inline(never)]
    pub fn get<T: Cell + Default>(&mut self, name: &str) -> T {
        let v = column(self.row, name);
        T::from_js(&v).unwrap_or_else(|| {
            if self.error.is_none() {
                self.error = Some(bad_column(name, &v));
            }
            T::default()
        })
    }

    /// `value`, unless a column could not be read.
    pub fn finish<T>(self, value: T) -> Result<T, String> {
        match self.error {
            None => Ok(value),
            Some(e) => Err(e),
        }
    }
}

/// Defines row structs and their [`FromRow`] impls: each field is read
/// from the column named like it.
///
/// ```ignore
/// row! {
///     /// A campaign's goals.
///     struct GoalRow {
///         slug: String,
///         target_cpa_minor: Option<i64>,
///     }
/// }
/// ```
macro_rules! row {
    ($(
        $(#[$meta:meta])*
        $vis:vis struct $name:ident {
            $($(#[$fmeta:meta])* $fvis:vis $field:ident : $ty:ty),* $(,)?
        }
    )*) => {$(
        $(#[$meta])*
        $vis struct $name {
            $($(#[$fmeta])* $fvis $field: $ty,)*
        }

        impl $crate::edge::d1::FromRow for $name {
            fn from_row(
                row: &::wasm_bindgen::JsValue,
            ) -> ::std::result::Result<Self, ::std::string::String> {
                let mut r = $crate::edge::d1::Reader::new(row);
                let value = Self {
                    $($field: r.get(stringify!($field)),)*
                };
                r.finish(value)
            }
        }
    )*};
}

pub(crate) use row;

/// A value bound to a statement parameter by [`query!`], as `worker`'s
/// `query!` bound it through `serde_wasm_bindgen` (`None` is `NULL`, an
/// integer beyond 2^53 a `BigInt`), without a serializer per call site.
pub trait Param {
    fn js(&self) -> JsValue;
}

impl Param for i64 {
    fn js(&self) -> JsValue {
        if self.unsigned_abs() <= MAX_SAFE as u64 {
            JsValue::from_f64(*self as f64)
        } else {
            JsValue::from(*self)
        }
    }
}

impl Param for u32 {
    fn js(&self) -> JsValue {
        JsValue::from_f64(f64::from(*self))
    }
}

impl Param for str {
    fn js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl Param for String {
    fn js(&self) -> JsValue {
        JsValue::from_str(self)
    }
}

impl<T: Param + ?Sized> Param for &T {
    fn js(&self) -> JsValue {
        (**self).js()
    }
}

impl<T: Param> Param for Option<T> {
    fn js(&self) -> JsValue {
        self.as_ref().map_or(JsValue::NULL, T::js)
    }
}

/// `worker::query!` with the same forms: `query!(db, sql)` prepares a
/// statement; `query!(db, sql, args..)` prepares and binds it, a
/// `worker::Result`. Arguments are bound through [`Param`].
macro_rules! query {
    ($db:expr, $sql:expr) => {
        ::worker::D1Database::prepare($db, $sql)
    };
    ($db:expr, $sql:expr, $($arg:expr),+ $(,)?) => {
        ::worker::D1Database::prepare($db, $sql)
            .bind(&[$($crate::edge::d1::Param::js(&$arg)),+])
    };
}

pub(crate) use query;

/// A row as a JSON object (for reports, whose columns depend on the
/// grouping): numbers that are safe integers become JSON integers, others
/// floats, as `serde_wasm_bindgen` decoded them.
impl FromRow for Map<String, Value> {
    fn from_row(row: &JsValue) -> Result<Self, String> {
        let mut out = Map::new();
        let Some(obj) = row.dyn_ref::<Object>() else {
            return Err("a row is not an object".into());
        };
        for key in Object::keys(obj).iter() {
            let name = key.as_string().unwrap_or_default();
            let v = column(row, &name);
            let value = if v.is_null() || v.is_undefined() {
                Value::Null
            } else if let Some(b) = v.as_bool() {
                Value::Bool(b)
            } else if let Some(n) = safe_integer(&v) {
                Value::from(n)
            } else if let Some(f) = v.as_f64() {
                Number::from_f64(f).map_or(Value::Null, Value::Number)
            } else if let Some(s) = v.as_string() {
                Value::String(s)
            } else {
                return Err(bad_column(&name, &v));
            };
            out.insert(name, value);
        }
        Ok(out)
    }
}

/// The metadata of a statement's result; a field D1 did not report (or
/// reported as something else than a number) is `None`.
#[derive(Debug, Clone, Copy, Default)]
#[cfg(full)]
pub struct Meta {
    pub changes: Option<usize>,
    pub last_row_id: Option<i64>,
    pub rows_read: Option<usize>,
    pub rows_written: Option<usize>,
}

/// One statement's result: `{results, meta, success}` from `all()` or from
/// one entry of a batch.
pub struct D1Out(JsValue);

impl D1Out {
    /// Every row of the result (none when it carries no `results`).
    pub fn rows<T: FromRow>(&self) -> Result<Vec<T>, String> {
        let results = column(&self.0, "results");
        if results.is_null() || results.is_undefined() {
            return Ok(Vec::new());
        }
        let Some(results) = results.dyn_ref::<Array>() else {
            return Err("D1 results are not an array".into());
        };
        let mut rows = Vec::with_capacity(results.length() as usize);
        for r in results.iter() {
            rows.push(T::from_row(&r)?);
        }
        Ok(rows)
    }

    /// The result's metadata.
    #[cfg(full)]
    pub fn meta(&self) -> Meta {
        let meta = column(&self.0, "meta");
        let count = |name| safe_integer(&column(&meta, name)).and_then(|n| usize::try_from(n).ok());
        Meta {
            changes: count("changes"),
            last_row_id: safe_integer(&column(&meta, "last_row_id")),
            rows_read: count("rows_read"),
            rows_written: count("rows_written"),
        }
    }
}

/// Awaits a D1 promise; a JS exception (a D1 error) becomes a
/// `worker::Error` for the log.
async fn settle(p: Result<Promise, JsValue>) -> worker::Result<JsValue> {
    Ok(JsFuture::from(p?).await?)
}

/// Runs a statement and returns its rows and metadata.
#[cfg(full)]
pub async fn sys_all(s: &D1PreparedStatement) -> worker::Result<D1Out> {
    settle(s.inner().all()).await.map(D1Out)
}

/// Runs a statement and returns its first row object, if any (decode it
/// with [`FromRow`]).
pub async fn sys_first(s: &D1PreparedStatement) -> worker::Result<Option<JsValue>> {
    let row = settle(s.inner().first(None)).await?;
    Ok((!row.is_null() && !row.is_undefined()).then_some(row))
}

/// Runs statements as one D1 batch (a transaction); one result each, in
/// order.
pub async fn sys_batch(db: &D1Database, statements: &Array) -> worker::Result<Vec<D1Out>> {
    let js: &JsValue = db.as_ref();
    let sys: &worker::worker_sys::D1Database = js.unchecked_ref();
    let results = settle(sys.batch(statements.clone())).await?;
    let results: Array = results.dyn_into()?;
    Ok(results.iter().map(D1Out).collect())
}

/// The statements of a batch, as the JS array `batch()` takes.
pub fn statements(statements: &[D1PreparedStatement]) -> Array {
    let array = Array::new();
    for s in statements {
        array.push(s.inner());
    }
    array
}

/// A bound statement, or a 503 logged as `what` when binding failed.
pub(super) fn stmt(
    s: worker::Result<D1PreparedStatement>,
    what: &'static str,
) -> Result<D1PreparedStatement, ApiError> {
    s.map_err(unavailable(what))
}

/// A value as one JSON text parameter (for `json_each(?n)`).
#[cfg(full)]
pub(super) fn json_text<T: serde::Serialize + ?Sized>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_else(|_| "[]".into())
}

/// The first row of a statement, if any; failures are logged as `what`.
pub(super) async fn first<T: FromRow>(
    stmt: worker::Result<D1PreparedStatement>,
    what: &'static str,
) -> Result<Option<T>, ApiError> {
    let row = crate::edge::d1::sys_first(&stmt.map_err(unavailable(what))?)
        .await
        .map_err(unavailable(what))?;
    row.map(|r| T::from_row(&r))
        .transpose()
        .map_err(unavailable(what))
}

/// A statement's rows and metadata; failures are logged as `what`.
#[cfg(full)]
pub(super) async fn out(
    stmt: worker::Result<D1PreparedStatement>,
    what: &'static str,
) -> Result<D1Out, ApiError> {
    crate::edge::d1::sys_all(&stmt.map_err(unavailable(what))?)
        .await
        .map_err(unavailable(what))
}

/// Like [`out`], with [`retrying`], as [`batch`] does: for the reads
/// of [`all`] and [`all_metered`], and the claims (`UPDATE … RETURNING` of
/// rows whose lease has expired), which a repeat cannot double.
#[cfg(full)]
async fn out_retrying(
    stmt: worker::Result<D1PreparedStatement>,
    what: &'static str,
) -> Result<D1Out, ApiError> {
    let stmt = stmt.map_err(unavailable(what))?;
    retrying(what, || sys_all(&stmt)).await
}

/// All rows of a statement; failures are retried, then logged as `what`.
#[cfg(full)]
pub(super) async fn all<T: FromRow>(
    stmt: worker::Result<D1PreparedStatement>,
    what: &'static str,
) -> Result<Vec<T>, ApiError> {
    out_retrying(stmt, what)
        .await?
        .rows()
        .map_err(unavailable(what))
}

/// Runs a statement for its effect; failures are logged as `what`.
#[cfg(full)]
pub(super) async fn run(
    stmt: worker::Result<D1PreparedStatement>,
    what: &'static str,
) -> Result<(), ApiError> {
    stmt.map_err(unavailable(what))?
        .run()
        .await
        .map_err(unavailable(what))?;
    Ok(())
}

/// Runs a D1 batch (one transaction), retrying transient failures (a busy
/// database, a dropped connection) three times, after 0.1, 0.4 and 1.6 s. Only for
/// batches that are safe to repeat: every batch in this crate is, because
/// inserts are `ON CONFLICT`-guarded and replacements are delete-then-insert.
pub(super) async fn batch(
    db: &D1Database,
    statements: Vec<D1PreparedStatement>,
    what: &'static str,
) -> Result<Vec<D1Out>, ApiError> {
    let statements = crate::edge::d1::statements(&statements);
    retrying(what, || sys_batch(db, &statements)).await
}

/// Runs `attempt` until it succeeds, retrying a failure (a busy database, a
/// dropped connection) three times, after 0.1, 0.4 and 1.6 s; the last
/// failure is logged as `what` and becomes a 503.
async fn retrying<T, F: std::future::Future<Output = worker::Result<T>>>(
    what: &'static str,
    mut attempt: impl FnMut() -> F,
) -> Result<T, ApiError> {
    let mut tries = 0;
    loop {
        match attempt().await {
            Ok(v) => return Ok(v),
            Err(e) if tries < 3 => {
                tries += 1;
                worker::console_warn!("{what}: attempt {tries} failed ({e}); retrying");
                worker::Delay::from(std::time::Duration::from_millis(25 * 4u64.pow(tries))).await;
            }
            Err(e) => return Err(unavailable(what)(e)),
        }
    }
}

/// Like [`all`], and adds the rows D1 read to `rows_read`.
#[cfg(full)]
pub(super) async fn all_metered<T: FromRow>(
    stmt: worker::Result<D1PreparedStatement>,
    what: &'static str,
    rows_read: &mut usize,
) -> Result<Vec<T>, ApiError> {
    let r = out_retrying(stmt, what).await?;
    *rows_read += r.meta().rows_read.unwrap_or(0);
    r.rows().map_err(unavailable(what))
}

#[cfg(full)]
row! {
    pub struct IdRow {
        pub id: i64,
    }
}

/// Counts rows read and written across the run's statements.
#[derive(Default)]
#[cfg(full)]
pub struct Meter {
    pub read: usize,
    pub written: usize,
}

#[cfg(full)]
impl Meter {
    pub fn add(&mut self, r: &D1Out) {
        let m = r.meta();
        self.read += m.rows_read.unwrap_or(0);
        self.written += m.rows_written.unwrap_or(0);
    }
}

/// All rows of a statement, counting the rows read in `meter`.
#[cfg(full)]
pub async fn read<T: FromRow>(
    meter: &mut Meter,
    s: worker::Result<D1PreparedStatement>,
    what: &'static str,
) -> Result<Vec<T>, ApiError> {
    all_metered(s, what, &mut meter.read).await
}

#[cfg(full)]
pub fn rows<T: FromRow>(r: Option<&D1Out>, what: &'static str) -> Result<Vec<T>, ApiError> {
    match r {
        Some(r) => r.rows().map_err(unavailable(what)),
        None => Ok(Vec::new()),
    }
}
