//! What the caller role may write to the log: checked by its row level security policies, and
//! by a trigger for the roles that bypass them.
//!
//! A caller logs what happens now: route_decision's rows take `created_at = now()`, and a plain
//! INSERT may name the time the request arrived. A row dated far from now would count in
//! every window it falls in (a row in the future counts in every window until then, and
//! outlives retention), or date a day partition that should not exist. So the caller's INSERT
//! policy accepts `created_at` within `SLACK` of now, and refuses anything else with a message
//! saying why; the owner (restores, backfills) is not subject to it.
use crate::error::Refusal;
use pgrx::prelude::*;

/// How far from now a caller's `created_at` may be: clocks of edge functions drift a little,
/// requests queue a little.
const SLACK_SECONDS: i64 = 300;
const SECOND_US: i64 = 1_000_000;

/// True when `created_at` is within five minutes of the transaction's start or of the clock
/// (or NULL, which the column's NOT NULL refuses); otherwise an error with SQLSTATE 23514.
#[pg_extern(stable, parallel_safe)]
fn webhook_routing_plausible_time(created_at: Option<pgrx::datum::TimestampWithTimeZone>) -> bool {
    let Some(at) = created_at else {
        return true;
    };
    let at: pg_sys::TimestampTz = at.into();
    let slack = SLACK_SECONDS * SECOND_US;
    // SAFETY: reads of the transaction's start and of the clock.
    let (start, clock) = unsafe {
        (
            pg_sys::GetCurrentTransactionStartTimestamp(),
            pg_sys::GetCurrentTimestamp(),
        )
    };
    if at >= start.saturating_sub(slack) && at <= clock.saturating_add(slack) {
        return true;
    }
    // SAFETY: timestamptz_to_str formats into a static buffer, copied at once.
    let shown = unsafe {
        std::ffi::CStr::from_ptr(pg_sys::timestamptz_to_str(at))
            .to_string_lossy()
            .into_owned()
    };
    Refusal::new(
        PgSqlErrorCode::ERRCODE_CHECK_VIOLATION,
        format!("created_at {shown} is not within 5 minutes of now"),
    )
    .detail(
        "A caller logs what happens now: a row dated elsewhere would count in health windows \
         it does not belong to, or outlive retention.",
    )
    .hint("Leave created_at out (it defaults to now()), or pass the time the request arrived.")
    .raise()
}

/// Row trigger on webhook_routing_logs (BEFORE INSERT OR UPDATE): the caller's limits, for
/// every role that is neither the table's owner nor a superuser. The row level security
/// policies say the same, but a role with BYPASSRLS (Supabase's `postgres` and `service_role`)
/// skips policies, never triggers: dated ahead, its rows would count when their minute came
/// and outlive retention; turned back to pending, reported outcomes could be counted again.
/// - An INSERT's `created_at` must be within five minutes of now.
/// - An UPDATE may only complete a pending decision: a reported outcome stays as it is.
///
/// The owner is exempt: route_decision writes its rows as the owner, and restores and
/// backfills run as the owner or a superuser.
#[pg_trigger]
fn webhook_routing_logs_caller_limits<'a>(
    trigger: &'a PgTrigger<'a>,
) -> Result<Option<PgHeapTuple<'a, AllocatedByPostgres>>, pgrx::datum::TryFromDatumError> {
    let new = trigger.new();
    if exempt(trigger) {
        return Ok(new);
    }
    match trigger.old() {
        None => {
            if let Some(row) = &new {
                webhook_routing_plausible_time(
                    row.get_by_name::<pgrx::datum::TimestampWithTimeZone>("created_at")?,
                );
            }
        }
        Some(old) => {
            let status = old.get_by_name::<String>("status")?;
            if matches!(status.as_deref(), Some("success" | "error")) {
                let id = old.get_by_name::<i64>("id")?.unwrap_or_default();
                Refusal::new(
                    PgSqlErrorCode::ERRCODE_CHECK_VIOLATION,
                    format!("decision {id} already has an outcome"),
                )
                .detail(format!(
                    "Its recorded status is \"{}\"; an outcome is reported once.",
                    status.unwrap_or_default()
                ))
                .hint("Report outcomes of pending decisions only (webhook_routing.record_routing_outcome).")
                .raise()
            }
        }
    }
    Ok(new)
}

/// The table's owner and superusers are not callers: the limits are not theirs.
fn exempt(trigger: &PgTrigger<'_>) -> bool {
    let Ok(relation) = trigger.relation() else {
        return false;
    };
    // SAFETY: the trigger's relation is open, with its pg_class row; GetUserId and superuser
    // read the current user.
    unsafe {
        let owner = relation
            .rd_rel
            .as_ref()
            .map_or(pg_sys::InvalidOid, |c| c.relowner);
        pg_sys::GetUserId() == owner || pg_sys::superuser()
    }
}
