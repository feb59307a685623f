//! Identity stitching in D1: the keys an event carries, the core's plan
//! as statements, and dirty marking (a person's attributed conversions
//! after a late touchpoint or a merge).

use crate::base::error::ApiError;
use crate::base::time::Millis;
use crate::edge::d1::{json_text, query, row, stmt};
use crate::edge::ingest::sql::{identity_insert_sql, identity_merge_sql, mark_dirty_sql};
use crate::ingest::identity;
use crate::ingest::identity::{IdKind, LinkPlan};
use worker::{D1Database, D1PreparedStatement};

type Result<T> = std::result::Result<T, ApiError>;

row! {
    pub struct VisitorRow {
        pub visitor_id: String,
    }

    pub struct IdentityRow {
        pub key: String,
        pub person_id: String,
    }
}

/// The identity keys an event carries.
pub fn keys_of(visitor: Option<&str>, customer: Option<&str>, email: Option<&str>) -> Vec<String> {
    let mut keys = Vec::new();
    if let Some(v) = visitor {
        keys.push(identity::key(IdKind::Visitor, v));
    }
    if let Some(c) = customer {
        keys.push(identity::key(IdKind::Customer, c));
    }
    if let Some(e) = email {
        keys.push(identity::key(IdKind::Email, e));
    }
    keys
}

/// Statements that apply a link plan, each guarded by `guard` (an SQL
/// boolean over `?1`/`?2`, bound to `guard_args`).
pub fn plan_statements(
    db: &D1Database,
    plan: &LinkPlan,
    now: Millis,
    guard: &str,
    guard_args: (&str, &str),
) -> Result<Vec<D1PreparedStatement>> {
    let mut out = Vec::new();
    for key in &plan.insert {
        out.push(stmt(
            query!(
                db,
                &identity_insert_sql(guard),
                guard_args.0,
                guard_args.1,
                key,
                plan.person,
                now
            ),
            "binding identity insert",
        )?);
    }
    if !plan.merge.is_empty() {
        let merge = json_text(&plan.merge);
        out.push(stmt(
            query!(
                db,
                &identity_merge_sql(guard),
                guard_args.0,
                guard_args.1,
                plan.person,
                merge,
                now
            ),
            "binding identity merge",
        )?);
    }
    Ok(out)
}

/// Marks the attributed conversions of the person behind `keys` that
/// occurred between `from` and `to` for reprocessing: a late touchpoint or a
/// new identity link may change their journeys. It runs after the identity
/// writes of its batch, so the person includes the new links.
pub fn mark_dirty(
    db: &D1Database,
    keys: &[String],
    from: Millis,
    to: Millis,
    guard: &str,
    guard_args: (&str, &str),
) -> Result<D1PreparedStatement> {
    stmt(
        query!(
            db,
            &mark_dirty_sql(guard),
            guard_args.0,
            guard_args.1,
            json_text(keys),
            from,
            to
        ),
        "binding reprocess mark",
    )
}
