//! What the caller role may write to the log: checked by its row level security policies, and
//! by a trigger for the roles that bypass them.
//!
//! A caller logs what happens now: route_decision's rows take `created_at = now()`, and a plain
//! INSERT may name the time the request arrived. A row dated far from now would count in
//! every window it falls in (a row in the future counts in every window until then, and
//! outlives retention), or date a day partition that should not exist. So the caller's INSERT
//! policy accepts `created_at` within `SLACK` of now, and refuses anything else with a message
//! saying why; the owner (restores, backfills) is not subject to it.
use crate::core::ddsketch::MAX_MS;
use crate::pg::error::Refusal;
use pgrx::prelude::*;
use pgrx::{AnyNumeric, IntoDatum, WhoAllocated};

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

/// Latencies are kept to the microsecond: more decimals are rounded.
const LATENCY_SCALE: i32 = 3;

/// Whether a numeric's text is a latency: milliseconds from 0 to one day (`MAX_MS`, the range
/// the sketches' bins cover, src/core/ddsketch.rs), NaN and infinities not. Exact at the edges,
/// where a double rounds: numeric prints no "-0", and a day and a fraction may read as a day.
pub(crate) fn latency_in_bounds(text: &str) -> bool {
    let value = text.parse::<f64>().unwrap_or(f64::NAN);
    let fraction = text.split_once('.').map_or("", |(_, f)| f);
    let beyond = value > MAX_MS || value == MAX_MS && fraction.bytes().any(|b| b != b'0');
    value.is_finite() && !text.starts_with('-') && !beyond
}

/// The row's latency, checked and kept to the microsecond: NaN, infinities, negative and
/// longer times are refused (23514, with the reason); more decimals are rounded. None when the
/// row is to be written as it is.
fn bounded_latency(
    row: &PgHeapTuple<'_, impl WhoAllocated>,
    attno: Option<std::num::NonZeroUsize>,
) -> Result<Option<AnyNumeric>, pgrx::datum::TryFromDatumError> {
    let Some(attno) = attno else {
        return Ok(None);
    };
    let Some(ms) = row.get_by_index::<AnyNumeric>(attno)? else {
        return Ok(None);
    };
    let text = ms.to_string();
    if !latency_in_bounds(&text) {
        let shown = if text.len() > 20 {
            scientific(&text)
        } else {
            text
        };
        Refusal::new(
            PgSqlErrorCode::ERRCODE_CHECK_VIOLATION,
            format!("invalid response_time_ms {shown}"),
        )
        .detail(
            "A latency is a number of milliseconds from 0 to 86400000 (one day); NaN and \
             infinities are not latencies.",
        )
        .hint("Log the handler's response time in milliseconds, or NULL if it is not known.")
        .raise()
    }
    let fraction = text.split_once('.').map_or("", |(_, f)| f);
    if fraction.len() <= LATENCY_SCALE as usize {
        return Ok(None);
    }
    // SAFETY: numeric_round(numeric, int4) with a numeric and an int4.
    let rounded = unsafe {
        pgrx::direct_function_call::<AnyNumeric>(
            pg_sys::numeric_round,
            &[ms.into_datum(), LATENCY_SCALE.into_datum()],
        )
    };
    Ok(rounded)
}

/// A long numeric's text as 1.234e+308, for a message (its first four digits, cut).
fn scientific(text: &str) -> String {
    let (sign, digits) = text.strip_prefix('-').map_or(("", text), |d| ("-", d));
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let int = int.trim_start_matches('0');
    let (exponent, significant) = if int.is_empty() {
        let zeros = frac.len() - frac.trim_start_matches('0').len();
        (-(zeros as i64) - 1, &frac[zeros..])
    } else {
        (
            int.len() as i64 - 1,
            &digits[digits.len() - int.len() - frac.len() - usize::from(!frac.is_empty())..],
        )
    };
    let significant: String = significant.chars().filter(char::is_ascii_digit).collect();
    let padded = format!("{significant:0<4}");
    format!(
        "{sign}{}.{}e{}{:02}",
        &padded[..1],
        &padded[1..4],
        if exponent < 0 { '-' } else { '+' },
        exponent.abs()
    )
}

/// The columns whose values are a closed set or a range, and what they may hold.
const ROUTED_TO: [&str; 3] = ["unified", "legacy", "error"];
const STATUS: [&str; 3] = ["pending", "success", "error"];
const BUCKETS: std::ops::RangeInclusive<i32> = 0..=crate::core::bucket::BUCKETS as i32 - 1;

/// The row's target, status, bucket and retries, each within what it may be, for every writer:
/// the log's CHECK constraints of 0.6.0, held here instead (23514, with what is wrong and how to
/// fix it). A CHECK is read back from its stored text and prepared again by Postgres for every
/// statement that writes the table: the log's five cost a logged decision 151,000 instructions,
/// half of its INSERT; here they cost a pass over the row's attributes. NULL is the NOT NULL
/// constraints' to refuse, or allowed, as it was. Returns the latency's attribute number, found
/// in the same pass.
fn refuse_out_of_domain(
    row: &PgHeapTuple<'_, impl WhoAllocated>,
) -> Result<Option<std::num::NonZeroUsize>, pgrx::datum::TryFromDatumError> {
    // One pass over the partition's attributes (a partition attached by hand may order its
    // columns differently).
    let (mut routed_to, mut status, mut bucket, mut retries) = (None, None, None, None);
    let mut latency = None;
    for (attno, attribute) in row.attributes() {
        // SAFETY: an attribute's name is NUL-terminated.
        let name = unsafe { std::ffi::CStr::from_ptr(attribute.attname.data.as_ptr()) };
        match name.to_bytes() {
            b"routed_to" => routed_to = Some(attno),
            b"status" => status = Some(attno),
            b"bucket" => bucket = Some(attno),
            b"retries" => retries = Some(attno),
            b"response_time_ms" => latency = Some(attno),
            _ => {}
        }
    }
    let text = |attno: Option<std::num::NonZeroUsize>| match attno {
        Some(a) => row.get_by_index::<&str>(a),
        None => Ok(None),
    };
    let int = |attno: Option<std::num::NonZeroUsize>| match attno {
        Some(a) => row.get_by_index::<i32>(a),
        None => Ok(None),
    };
    if let Some(target) = text(routed_to)?.filter(|t| !ROUTED_TO.contains(t)) {
        out_of_domain(
            format!("invalid routed_to \"{target}\""),
            "A decision goes to unified, legacy or error.",
            "routed_to is unified, legacy or error.",
        )
    }
    if let Some(state) = text(status)?.filter(|s| !STATUS.contains(s)) {
        out_of_domain(
            format!("invalid status \"{state}\""),
            "A decision is pending until its outcome, success or error, is reported.",
            "status is pending, success or error.",
        )
    }
    if let Some(b) = int(bucket)?.filter(|b| !BUCKETS.contains(b)) {
        out_of_domain(
            format!("invalid bucket {b}"),
            "A bucket is one of 10,000 (0 to 9999), which the percentage split hashes to.",
            "Leave bucket out (NULL): route_decision writes it.",
        )
    }
    if let Some(r) = int(retries)?.filter(|r| *r < 0) {
        out_of_domain(
            format!("invalid retries {r}"),
            "retries counts WhatsApp's re-deliveries of a decision's message.",
            "Leave retries out (0): route_decision counts re-deliveries.",
        )
    }
    Ok(latency)
}

fn out_of_domain(message: String, detail: &str, hint: &str) -> ! {
    Refusal::new(PgSqlErrorCode::ERRCODE_CHECK_VIOLATION, message)
        .detail(detail)
        .hint(hint)
        .raise()
}

/// Row trigger on webhook_routing_logs (BEFORE INSERT OR UPDATE), enabled ALWAYS, so that it
/// runs under `session_replication_role = replica` too (a logical replica's apply, a restore
/// that set it), where the CHECK constraints it replaces held.
/// - For every writer, the owner included: target, status, bucket and retries within what they
///   may be (`refuse_out_of_domain`); a latency is milliseconds from 0 to one day, kept to
///   the microsecond (`bounded_latency`). (Checked here rather than by a trigger of its own
///   with a WHEN clause, or by CHECKs: Postgres reads and prepares each of those again for
///   every statement that writes the log, 30,000 instructions each per decision.)
/// - The caller's limits, for every role that is neither the table's owner nor a superuser. The row level security
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
) -> Result<Option<PgHeapTuple<'a, AllocatedByRust>>, pgrx::datum::TryFromDatumError> {
    let Some(row) = trigger.new() else {
        return Ok(None);
    };
    let mut new = row.into_owned();
    let latency = refuse_out_of_domain(&new)?;
    if let Some(rounded) = bounded_latency(&new, latency)? {
        new.set_by_name("response_time_ms", rounded)?;
    }
    if exempt(trigger) {
        return Ok(Some(new));
    }
    if trigger.old().is_none() || updates_session_columns(trigger) {
        refuse_session_columns(&new, trigger.old().as_ref())?;
    }
    let new = Some(new);
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

/// The columns a sender's sessions are counted from (src/route/session.rs): route_decision writes
/// them, as the owner, and counts what they say when it does.
const SESSION_COLUMNS: [&str; 5] = [
    "sender_key",
    "session_domain",
    "session_broken_at",
    "session_deliberate_at",
    "session_switched_at",
];

/// A writer that is not the owner may not set the columns sessions are counted from (the
/// caller role has no privilege on them; a role granted the whole table, or one that bypasses
/// row level security, is refused here): an INSERT leaves them NULL, an UPDATE as they were.
/// Its rows then are in no session, and the next decision of a sender never reads one of them.
fn refuse_session_columns(
    new: &PgHeapTuple<'_, impl WhoAllocated>,
    old: Option<&PgHeapTuple<'_, impl WhoAllocated>>,
) -> Result<(), pgrx::datum::TryFromDatumError> {
    for column in SESSION_COLUMNS {
        let given = column_text(new, column)?;
        let before = match old {
            Some(row) => column_text(row, column)?,
            None => None,
        };
        if given != before {
            Refusal::new(
                PgSqlErrorCode::ERRCODE_INSUFFICIENT_PRIVILEGE,
                format!("only route_decision writes {column}"),
            )
            .detail(
                "Sessions and their health are counted from a sender's key and session, which \
                 the extension writes when it logs a decision.",
            )
            .hint(format!(
                "Leave {column} out of the INSERT or UPDATE; route_decision logs decisions with it."
            ))
            .raise()
        }
    }
    Ok(())
}

/// Whether an UPDATE sets one of the session columns (its SET list, `tg_updatedcols`): an
/// outcome's UPDATE does not, and then no column is read.
fn updates_session_columns(trigger: &PgTrigger<'_>) -> bool {
    let Ok(relation) = trigger.relation() else {
        return true;
    };
    let tupdesc = relation.tuple_desc();
    let updated = trigger.trigger_data().tg_updatedcols;
    let mut member = -1;
    loop {
        // SAFETY: the UPDATE's set of updated columns (NULL: none), offset by
        // FirstLowInvalidHeapAttributeNumber, in the trigger's relation's attribute numbers.
        member = unsafe { pg_sys::bms_next_member(updated, member) };
        if member < 0 {
            return false;
        }
        let attnum = member + pg_sys::FirstLowInvalidHeapAttributeNumber;
        let Some(attribute) = usize::try_from(attnum - 1)
            .ok()
            .and_then(|i| tupdesc.get(i))
        else {
            continue;
        };
        // SAFETY: an attribute's name is NUL-terminated.
        let name = unsafe { std::ffi::CStr::from_ptr(attribute.attname.data.as_ptr()) };
        if SESSION_COLUMNS
            .iter()
            .any(|c| name.to_bytes() == c.as_bytes())
        {
            return true;
        }
    }
}

/// One of the session columns, as text to compare.
fn column_text(
    row: &PgHeapTuple<'_, impl WhoAllocated>,
    column: &str,
) -> Result<Option<String>, pgrx::datum::TryFromDatumError> {
    Ok(match column {
        "sender_key" => row.get_by_name::<i64>(column)?.map(|v| v.to_string()),
        "session_domain" => row.get_by_name::<String>(column)?,
        _ => row
            .get_by_name::<pgrx::datum::TimestampWithTimeZone>(column)?
            .map(|t| i64::from(t).to_string()),
    })
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

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::scientific;
    use pgrx::prelude::*;

    #[pg_test]
    fn long_latencies_are_shown_short() {
        assert_eq!(scientific(&format!("1{}", "0".repeat(400))), "1.000e+400");
        assert_eq!(scientific("123456789012345678901234"), "1.234e+23");
        assert_eq!(scientific("-98765432109876543210.5"), "-9.876e+19");
        assert_eq!(scientific("-0.000000000000000000000123"), "-1.230e-22");
        assert_eq!(scientific("7"), "7.000e+00");
    }
}
