//! The log's write: a decision's row with its id and session state, and a re-delivery counted
//! on its first decision's row. Both as the owner of the log (sql/security.sql).
use crate::pg::config_cache::{as_owner, Location};
use crate::pg::durability::relax_for_log_write;
use crate::pg::error::spi_failed;
use crate::pg::kept_plans::{run_kept, run_kept_variant};
use crate::pg::log_insert::{self, Column};
use crate::pg::numeric::percentage_datum;
use crate::route::policy::Decision;
use crate::route::row::{Prior, SessionState};
use crate::route::session::{self, Logged};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::IntoDatum;

mod ffi {
    extern "C-unwind" {
        /// commands/sequence.h: the next value of a sequence, as nextval() gives it.
        pub fn nextval_internal(relid: pgrx::pg_sys::Oid, check_permissions: bool) -> i64;
    }
}

/// The next decision id. Ids never repeat, across a crash either: a late outcome for a decision
/// lost in a crash must find nothing, never complete a decision made after it. The sequence
/// hands each backend a block of ids (CACHE 1000) and WAL-logs the block's end when it does;
/// with the log's asynchronous commit that record could be lost with the rows, and the block
/// handed out again after recovery. So when taking an id wrote WAL (a new block), that WAL is
/// flushed before the id is used: one flush per 1,000 decisions of a backend.
fn next_decision_id(sequence: pg_sys::Oid) -> i64 {
    // SAFETY: XactLastRecEnd is this backend's end of WAL written; nextval_internal raises as a
    // Postgres error, which the guard turns into a Rust panic and back.
    unsafe {
        let before = pg_sys::XactLastRecEnd;
        let id = pg_sys::ffi::pg_guard_ffi_boundary(|| ffi::nextval_internal(sequence, true));
        let after = pg_sys::XactLastRecEnd;
        if after != before {
            pg_sys::XLogFlush(after);
        }
        id
    }
}

/// Log a decision: its row, with its session's state (src/route/session.rs) when it has a sender,
/// classified against the sender's newest logged decision (`prev`). Returns its id and that
/// state.
pub fn log_decision(
    webhook_name: Option<&str>,
    decision: &Decision,
    sender_key: Option<i64>,
    prev: Option<&Prior>,
    location: &Location,
) -> (i64, SessionState) {
    relax_for_log_write();
    let id = next_decision_id(location.decision_ids);
    let conversation_id = decision.conversation_id(id);
    // A log without the session columns (0.6.0's, until its update) gets neither them nor counts.
    let sessions = location.sessions;
    let state = if sender_key.is_some() && sessions {
        carry_session(id, decision, conversation_id, prev)
    } else {
        SessionState::default()
    };
    // SAFETY: an int8 microsecond count is the representation of a timestamptz.
    let minute = |m: Option<i64>| match m {
        Some(m) => unsafe { DatumWithOid::new(m, pg_sys::TIMESTAMPTZOID) },
        None => DatumWithOid::null_oid(pg_sys::TIMESTAMPTZOID),
    };
    // The session's domain is kept only where it is not the row's own.
    let session_domain = state
        .domain
        .as_deref()
        .filter(|d| Some(*d) != decision.domain.as_deref());
    // Straight into the day's partition and its indexes when the log is as the extension made
    // it (src/pg/log_insert.rs); otherwise the statement.
    if let Some(flush) = write_directly(
        webhook_name,
        decision,
        id,
        sender_key,
        conversation_id,
        session_domain,
        &state,
        location,
    ) {
        // What the log's statement trigger would flush after this row: the session counts
        // its decision changed (a pending row adds nothing to the sketches).
        if flush {
            session::flush(session::shard());
        }
        return (id, state);
    }
    let args: [DatumWithOid; 16] = [
        webhook_name.into(),
        decision.domain.as_deref().into(),
        decision.routed_to().into(),
        decision.reason.as_str().into(),
        decision.bucket.into(),
        match decision.percentage {
            // SAFETY: a numeric datum, kept for the backend's life.
            Some(bp) => unsafe { DatumWithOid::new(percentage_datum(bp), pg_sys::NUMERICOID) },
            None => DatumWithOid::null_oid(pg_sys::NUMERICOID),
        },
        decision.config_id.into(),
        decision.rule_id.into(),
        decision.message_id.as_deref().into(),
        id.into(),
        sender_key.into(),
        conversation_id.into(),
        session_domain.into(),
        minute(state.broken_at),
        minute(state.deliberate_at),
        minute(state.switched_at),
    ];
    let sql = |schema: &str, with_sessions: i64| {
        let (columns, values) = if with_sessions == 1 {
            (
                ", session_domain, session_broken_at, session_deliberate_at, session_switched_at",
                ", $13, $14, $15, $16",
            )
        } else {
            ("", "")
        };
        format!(
            "INSERT INTO {schema}.webhook_routing_logs (id, webhook_name, domain, routed_to, status, \
                 reason, bucket, percentage, config_id, rule_id, message_id, sender_key, \
                 conversation_id{columns}) \
             VALUES ($10, $1, $2, $3, 'pending', $4, $5, $6, $7, $8, $9, $11, $12{values})"
        )
    };
    let args = if sessions { &args[..] } else { &args[..12] };
    // As the owner: a caller may log a request by a plain INSERT, but never write a sender's
    // key, conversation or session, which session health is read from (sql/security.sql).
    if let Err(e) = as_owner(|| run_kept_variant("log_decision", i64::from(sessions), sql, args)) {
        spi_failed("log the decision", e);
    }
    (id, state)
}

/// The row of `log_decision`, written by `src/pg/log_insert.rs`: the statement's columns and
/// values. None when that path leaves the row to the statement.
#[allow(clippy::too_many_arguments)]
fn write_directly(
    webhook_name: Option<&str>,
    decision: &Decision,
    id: i64,
    sender_key: Option<i64>,
    conversation_id: Option<i64>,
    session_domain: Option<&str>,
    state: &SessionState,
    location: &Location,
) -> Option<bool> {
    let text = |t: Option<&str>| t.and_then(|t| t.into_datum());
    let minute = |m: Option<i64>| m.map(pg_sys::Datum::from);
    let mut columns: Vec<Column> = vec![
        (c"id", id.into_datum()),
        (c"webhook_name", text(webhook_name)),
        (c"domain", text(decision.domain.as_deref())),
        (c"routed_to", text(Some(decision.routed_to()))),
        (c"status", text(Some("pending"))),
        (c"reason", text(Some(decision.reason.as_str()))),
        (c"bucket", decision.bucket.into_datum()),
        (c"percentage", decision.percentage.map(percentage_datum)),
        (c"config_id", decision.config_id.into_datum()),
        (c"rule_id", decision.rule_id.into_datum()),
        (c"message_id", text(decision.message_id.as_deref())),
        (c"sender_key", sender_key.into_datum()),
        (c"conversation_id", conversation_id.into_datum()),
    ];
    if location.sessions {
        columns.extend([
            (c"session_domain", text(session_domain)),
            (c"session_broken_at", minute(state.broken_at)),
            (c"session_deliberate_at", minute(state.deliberate_at)),
            (c"session_switched_at", minute(state.switched_at)),
        ]);
    }
    log_insert::insert(location.logs, location.owner, &columns)
}

/// The session state decision `id` carries, classified against the sender's newest logged
/// decision (`prev`); what it changes in the session counts is added for the statement to write.
fn carry_session(
    id: i64,
    decision: &Decision,
    conversation_id: Option<i64>,
    prev: Option<&Prior>,
) -> SessionState {
    let (carried, counts) = session::step(
        prev,
        &Logged {
            id,
            minute: session::transaction_minute(),
            domain: decision.domain.as_deref(),
            unified: decision.unified,
            reason: decision.reason.as_str(),
            conversation_id,
        },
    );
    session::add(counts);
    carried
}

/// Count a re-delivery on its first decision's row (as the owner: callers may only report
/// outcomes), so that an outcome reported for the retry is known to be one (src/api/outcome.rs).
pub fn count_retry(prior: &Prior) {
    relax_for_log_write();
    let args: [DatumWithOid; 2] = [prior.id.into(), prior.created_at.into()];
    let sql = |schema: &str| {
        format!(
            "UPDATE {schema}.webhook_routing_logs SET retries = retries OPERATOR(pg_catalog.+) 1 \
             WHERE id OPERATOR(pg_catalog.=) $1 AND created_at OPERATOR(pg_catalog.=) $2"
        )
    };
    if let Err(e) = as_owner(|| run_kept("count_retry", sql, &args)) {
        spi_failed("count the re-delivery", e);
    }
}
