//! `record_routing_outcome`: the caller reports how the handler did with a decision.
//!
//! Until then the decision's log row is `pending`; past `webhook_routing.pending_timeout` a
//! pending row counts as an error in stats and health, so a handler that never answers is seen.
use crate::pg::clock::{transaction_utc_day, DAY_SECONDS};
use crate::pg::config_cache::qualified;
use crate::pg::durability::relax_for_log_write;
use crate::pg::error::{spi_failed, OrRaise, Refusal};
use crate::pg::kept_plans::{run_kept, run_kept_variant};
use crate::pg::run_as::with_pinned_search_path;
use crate::pg::standby::refuse_during_recovery;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::AnyNumeric;

/// Longest error message kept; longer ones are refused so that nothing is silently cut.
pub const MAX_ERROR_MESSAGE: usize = 2000;

fn validate(
    decision_id: Option<i64>,
    status: Option<&str>,
    response_time_ms: Option<&AnyNumeric>,
    error_message: Option<&str>,
) -> Result<(i64, String), Refusal> {
    let id = decision_id.ok_or_else(|| {
        Refusal::null("decision_id")
            .hint("Pass the decision_id that webhook_routing.route_decision returned.")
    })?;
    let status =
        status.ok_or_else(|| Refusal::null("status").hint("status is 'success' or 'error'."))?;
    if status != "success" && status != "error" {
        return Err(Refusal::invalid(format!("invalid status \"{status}\""))
            .hint("status is 'success' or 'error'."));
    }
    if let Some(ms) = response_time_ms {
        let text = ms.to_string();
        if !crate::route::log_policy::latency_in_bounds(&text) {
            return Err(Refusal::invalid(format!("invalid response_time_ms {text}"))
                .detail("response_time_ms must be between 0 and 86400000 (one day).")
                .hint("Pass the handler's response time in milliseconds, or NULL if unknown."));
        }
    }
    if error_message.is_some_and(|m| m.chars().count() > MAX_ERROR_MESSAGE) {
        return Err(Refusal::invalid("error_message is too long")
            .detail(format!("At most {MAX_ERROR_MESSAGE} characters are kept."))
            .hint("Pass the first line or a summary of the error."));
    }
    Ok((id, status.to_owned()))
}

/// Record the outcome of a decision: `status` is 'success' or 'error', `response_time_ms` the
/// handler's time (NULL when unknown). Each decision takes one outcome: the first reported. A
/// re-delivered message gets its first decision back from route_decision; an outcome for it
/// completes that decision if it is still pending, and is ignored if it has one.
#[pg_extern(volatile, parallel_unsafe)]
fn record_routing_outcome(
    decision_id: Option<i64>,
    status: Option<&str>,
    response_time_ms: Option<AnyNumeric>,
    error_message: default!(Option<&str>, "NULL"),
) {
    let (id, status) = validate(
        decision_id,
        status,
        response_time_ms.as_ref(),
        error_message,
    )
    .or_raise();
    refuse_during_recovery(
        "record_routing_outcome cannot write on a hot standby",
        "Report outcomes to the primary, where route_decision logged the decision.",
    );
    relax_for_log_write();
    let args: [DatumWithOid; 4] = [
        id.into(),
        status.as_str().into(),
        response_time_ms.into(),
        error_message.into(),
    ];
    if complete(&args).is_none() {
        explain_nothing_completed(id);
    }
}

/// Complete the pending decision `args` name (id, status, time, error message): its row's id,
/// or None when no pending decision has that id.
fn complete(args: &[DatumWithOid]) -> Option<i64> {
    // "Not success and not error" is "pending" (the table's CHECK allows nothing else), said so
    // that the partial index of pending decisions never looks usable: the row is found by the
    // primary key, whatever the statistics say.
    //
    // The log is partitioned by UTC day: an outcome is looked for in today's partition first,
    // where nearly every decision it completes was made (a handler answers in seconds), then
    // in yesterday's, with the bounds written into each statement as constants so that its
    // plan touches (and locks) that partition alone, whatever the retention. A decision older
    // than that is looked for everywhere. (One statement over both days cost an outcome about
    // 40,000 instructions more: an Append over two index scans, started for every call.)
    let update = |schema: &str, bounds: &str| {
        format!(
            "UPDATE {schema}.webhook_routing_logs \
             SET status = $2, response_time_ms = $3, error_message = $4, \
                 completed_at = pg_catalog.clock_timestamp() \
             WHERE id OPERATOR(pg_catalog.=) $1 {bounds}\
               AND status OPERATOR(pg_catalog.<>) 'success' \
               AND status OPERATOR(pg_catalog.<>) 'error' RETURNING id"
        )
    };
    let day_of = |schema: &str, day: i64| {
        update(
            schema,
            &format!(
                "AND created_at OPERATOR(pg_catalog.>=) pg_catalog.to_timestamp({}) \
                 AND created_at OPERATOR(pg_catalog.<) pg_catalog.to_timestamp({}) ",
                day,
                day + DAY_SECONDS
            ),
        )
    };
    let today = transaction_utc_day();
    let failed = |e| spi_failed("record the outcome", e);
    let mut updated =
        run_kept_variant("record_outcome_today", today, day_of, args).unwrap_or_else(failed);
    if updated.is_none() {
        updated = run_kept_variant(
            "record_outcome_yesterday",
            today - DAY_SECONDS,
            day_of,
            args,
        )
        .unwrap_or_else(failed);
    }
    if updated.is_none() {
        updated =
            run_kept("record_outcome", |schema| update(schema, ""), args).unwrap_or_else(failed);
    }
    updated
}

/// Nothing completed: a re-delivery's outcome is no error; otherwise say whether the decision
/// is unknown or already has its outcome.
fn explain_nothing_completed(id: i64) {
    let logs = qualified("webhook_routing_logs");
    // Nothing updated: say whether the decision is unknown or already has its outcome.
    let existing = with_pinned_search_path(|| {
        Spi::get_two_with_args::<String, i32>(
            &format!("SELECT status, retries FROM {logs} WHERE id = $1"),
            &[id.into()],
        )
    });
    match existing {
        // WhatsApp re-delivered the message and got its first decision back: the outcome
        // of a re-delivery leaves the first one's as it was (the failure that made WhatsApp
        // retry stays counted), and is no error.
        Ok((Some(_), Some(retries))) if retries > 0 => {}
        Ok((Some(previous), _)) => Refusal::new(
            PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
            format!("decision {id} already has an outcome"),
        )
        .detail(format!("Its recorded status is \"{previous}\"."))
        .hint("Report each decision's outcome once.")
        .raise(),
        Ok((None, _)) | Err(pgrx::spi::SpiError::InvalidPosition) => Refusal::new(
            PgSqlErrorCode::ERRCODE_NO_DATA_FOUND,
            format!("decision {id} not found"),
        )
        .hint("Pass a decision_id returned by webhook_routing.route_decision(..., log => true).")
        .raise(),
        Err(e) => spi_failed("read the decision", e),
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::*;

    #[pg_test]
    fn refusals_are_table_driven() {
        let big = "x".repeat(MAX_ERROR_MESSAGE + 1);
        let n = |s: &str| AnyNumeric::try_from(s).unwrap();
        let cases: Vec<(
            Option<i64>,
            Option<&str>,
            Option<AnyNumeric>,
            Option<&str>,
            &str,
        )> = vec![
            (
                None,
                Some("success"),
                None,
                None,
                "decision_id must not be NULL",
            ),
            (Some(1), None, None, None, "status must not be NULL"),
            (Some(1), Some("ok"), None, None, "invalid status \"ok\""),
            (
                Some(1),
                Some("success"),
                Some(n("-1")),
                None,
                "invalid response_time_ms -1",
            ),
            (
                Some(1),
                Some("success"),
                Some(n("NaN")),
                None,
                "invalid response_time_ms NaN",
            ),
            (
                Some(1),
                Some("error"),
                Some(n("1e12")),
                None,
                "invalid response_time_ms",
            ),
            (
                Some(1),
                Some("error"),
                None,
                Some(big.as_str()),
                "error_message is too long",
            ),
        ];
        for (id, status, ms, err, expected) in cases {
            match validate(id, status, ms.as_ref(), err) {
                Ok(_) => panic!("expected a refusal: {expected}"),
                Err(r) => assert!(
                    r.message().starts_with(expected),
                    "{:?} should start with {expected:?}",
                    r.message()
                ),
            }
        }
        assert!(validate(Some(1), Some("success"), Some(&n("812.5")), None).is_ok());
        assert!(validate(Some(1), Some("error"), None, Some("timeout")).is_ok());
    }

    #[pg_test]
    fn outcome_completes_a_pending_decision() {
        let id =
            Spi::get_one::<i64>("SELECT decision_id FROM route_decision('{\"entry\":[]}'::jsonb)")
                .unwrap()
                .unwrap();
        Spi::run(&format!(
            "SELECT record_routing_outcome({id}, 'success', 120.5)"
        ))
        .unwrap();
        let (status, ms) = Spi::get_two::<String, AnyNumeric>(&format!(
            "SELECT status, response_time_ms FROM webhook_routing_logs WHERE id = {id}"
        ))
        .unwrap();
        assert_eq!(status.as_deref(), Some("success"));
        assert_eq!(ms.unwrap().to_string(), "120.5");
    }

    #[pg_test(error = "decision 1 already has an outcome")]
    fn second_outcome_is_refused() {
        Spi::run(
            "INSERT INTO webhook_routing_logs(id, webhook_name, domain, routed_to, status) \
             OVERRIDING SYSTEM VALUE VALUES (1, 'whatsapp', 'jobs', 'unified', 'success')",
        )
        .unwrap();
        Spi::run("SELECT record_routing_outcome(1, 'error', 5)").unwrap();
    }

    #[pg_test(error = "decision 987654321 not found")]
    fn unknown_decision_is_refused() {
        Spi::run("SELECT record_routing_outcome(987654321, 'error', 5)").unwrap();
    }
}
