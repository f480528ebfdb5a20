//! A sender's history in the log: its keyed hash (`sender_key`), its newest decision (the
//! conversation in progress) and the first decision of a re-delivered message, read by probing
//! the log's indexes. What that history says about where the next message goes is the policy's.
//!
//! Conversations: what a sender's earlier messages say about where the next one goes.
//!
//! A user talks to the bot in conversations: an opening with a cue ("I'm looking for a job"),
//! then replies to the bot's menus and questions that carry none ("2", "Kicukiro", a location,
//! a CV, a 👍). The conversation in progress is the sender's newest logged decision with a
//! domain, if it was made within `webhook_routing.conversation_timeout` (30 minutes by default).
//! Its state lives in the log itself: every decision row carries the sender's keyed hash
//! (`sender_key`) and the id of the decision that opened its conversation (`conversation_id`),
//! and each day partition has an index on (sender_key, created_at, id). No other table is
//! written per decision.
//!
//! The rule a message follows within a conversation is the policy's (`follow`,
//! src/route/policy.rs); this file reads what it needs from the log.
//!
//! Retries: a message id seen again from the same sender within `webhook_routing.retry_window`
//! (a day by default) gets its first decision back (reason `retry`), and no second row.
//!
//! Where the state is when things go wrong: a crash loses the log's last asynchronous commits
//! (`webhook_routing.log_synchronous_commit`), and with them the conversations they opened; their
//! next message opens one again, on the same sticky bucket. A promoted standby has the log as
//! replicated. A hot standby routes (`log => false`) on the conversations the primary logged,
//! and its own decisions, not being logged, continue or open none.
use crate::core::config::Bp;
use crate::pg::clock::{transaction_unix, DAY_SECONDS};
use crate::pg::gucs::RETRY_WINDOW;
use crate::pg::kept_plans::select_kept;
use crate::route::row::{Prior, SessionState};
use pgrx::datum::{DatumWithOid, TimestampWithTimeZone};
use pgrx::{pg_sys, AnyNumeric};
use siphasher::sip::SipHasher24;
use std::hash::Hasher;

/// The sender's key in the log: SipHash-2-4 of the webhook name and the routing key (the phone
/// number), keyed by the install's secret (`webhook_routing_secret`, readable by its owner
/// alone), so that the log holds no phone number a reader could recover by hashing them all.
/// None without a key, or without the secret (its row deleted): no conversation then.
pub fn sender_key(
    secret: Option<&[u8; 16]>,
    webhook_name: Option<&str>,
    key: Option<&str>,
) -> Option<i64> {
    let (secret, key) = (secret?, key?);
    let mut h = SipHasher24::new_with_key(secret);
    h.write(webhook_name.unwrap_or("").as_bytes());
    h.write_u8(0);
    h.write(key.as_bytes());
    Some(h.finish() as i64)
}

/// How the log keeps a message id: SipHash-2-4 (128 bits) of the id, keyed by the install's
/// secret, as 32 hex digits. A WhatsApp id (wamid) carries its sender's number in its base64,
/// so the log holds only this: enough to know a re-delivery, and `routing_message_key(id)`
/// finds a message's row. None without the secret (its row deleted), as for the sender's key.
pub fn message_key(secret: Option<&[u8; 16]>, id: Option<&str>) -> Option<String> {
    use siphasher::sip128::{Hasher128, SipHasher24};
    let (secret, id) = (secret?, id?);
    let mut h = SipHasher24::new_with_key(secret);
    h.write(b"message\0");
    h.write(id.as_bytes());
    Some(format!("{:032x}", h.finish128().as_u128()))
}

/// The key the log keeps for a message id (its `message_id` column), to find a message's row:
/// `WHERE message_id = webhook_routing.routing_message_key('wamid.…')`. NULL without the
/// install's secret. The key reveals nothing of the id without the secret, which only the
/// owner reads.
#[pgrx::pg_extern(stable, strict, parallel_restricted)]
fn routing_message_key(message_id: &str) -> Option<String> {
    message_key(
        crate::pg::config_cache::snapshot().secret.as_ref(),
        Some(message_id),
    )
}

/// What a sender's log says: the decision of this same message id, if it was seen within the
/// retry window, and the sender's newest decision within the conversation timeout.
#[derive(Debug, Default)]
pub struct History {
    pub retry_of: Option<Prior>,
    pub latest: Option<Prior>,
}

/// Read the sender's history: two index probes, each an exact lookup (the sender's newest
/// decision by (sender_key, created_at, id), a decision of the message id by (sender_key,
/// message_id, created_at, id)), so that its cost never grows with what a sender sends or with
/// the retention. The newest decision is looked for within `latest_within` seconds (the
/// conversation timeout for a message), the message id within the retry window.
///
/// The probes walk the partitions' indexes directly (src/pg/index_probe.rs); a log laid out otherwise
/// than the extension makes it (a partition attached by hand without its indexes, row-level
/// security on the log) is read by the statement of `history_by_statement` instead.
pub fn history(sender_key: i64, message_id: Option<&str>, latest_within: i32) -> History {
    let snapshot = crate::pg::config_cache::snapshot();
    // SAFETY: reads the start time of the transaction in progress: now().
    let now = unsafe { pg_sys::GetCurrentTransactionStartTimestamp() };
    let before = |seconds: i32| now.saturating_sub(i64::from(seconds) * 1_000_000);
    // Rows are dated at most minutes ahead (a caller's own rows): the end of the UTC day ten
    // minutes from now, as the statement reads.
    const DAY: i64 = DAY_SECONDS * 1_000_000;
    let until = (now.saturating_add(600 * 1_000_000)).div_euclid(DAY) * DAY + DAY;
    let probes = crate::pg::index_probe::Probes {
        sender_key,
        message_id,
        retry_from: before(RETRY_WINDOW.get()),
        latest_from: before(latest_within),
        until,
    };
    let log = crate::pg::index_probe::Log {
        relid: snapshot.location.logs,
        owner: snapshot.location.owner,
    };
    match crate::pg::index_probe::read(&log, &probes, Prior::read) {
        Some((retry_of, latest)) => History { retry_of, latest },
        None => history_by_statement(sender_key, message_id, latest_within),
    }
}

impl Prior {
    /// A decision as the log holds it, its columns read by name.
    fn read(row: &crate::pg::index_probe::Row) -> Prior {
        let domain = row.get::<String>(c"domain");
        // A log without the session columns (0.6.0's, until its update) reads as NULLs there.
        let minute = |column| {
            row.get::<TimestampWithTimeZone>(column)
                .map(pg_sys::TimestampTz::from)
        };
        // A row carries its session's domain only where it is not its own.
        let session = SessionState {
            domain: row
                .get::<String>(c"session_domain")
                .or_else(|| domain.clone()),
            broken_at: minute(c"session_broken_at"),
            deliberate_at: minute(c"session_deliberate_at"),
            switched_at: minute(c"session_switched_at"),
        };
        Prior {
            id: row.get::<i64>(c"id").unwrap_or_default(),
            created_at: row.get::<TimestampWithTimeZone>(c"created_at"),
            domain,
            unified: row.get::<&str>(c"routed_to") == Some("unified"),
            bucket: row.get::<i32>(c"bucket"),
            // numeric(5,2), as basis points: exact in a float8 at this scale.
            percentage: row
                .get::<AnyNumeric>(c"percentage")
                .and_then(|p| f64::try_from(p).ok())
                .map(|p| (p * 100.0).round() as Bp),
            config_id: row.get::<i64>(c"config_id"),
            conversation_id: row.get::<i64>(c"conversation_id"),
            session,
        }
    }
}

/// The history read by one kept statement: the probes' answer for any layout of the log.
///
/// The statement names the UTC days it may read as constants, so that the planner keeps only
/// those partitions: a generic plan over the whole log would lock every day partition, and
/// their indexes, at every decision (PostgreSQL 15 locks them all before pruning at run time).
/// Its length (about 100 lines) is that statement's text, the day bounds written into it and
/// the row read back, kept together so that what is planned can be read in one place.
fn history_by_statement(sender_key: i64, message_id: Option<&str>, latest_within: i32) -> History {
    let retry_window = RETRY_WINDOW.get();
    let args: [DatumWithOid; 4] = [
        sender_key.into(),
        message_id.into(),
        f64::from(retry_window).into(),
        f64::from(latest_within).into(),
    ];
    // Each probe names only the days its window reaches: usually today's partition for the
    // conversation, yesterday's and today's for a re-delivery. Rows are dated at most minutes
    // ahead (a caller's own rows): near midnight, tomorrow's partition is read too.
    let now = transaction_unix();
    let today = now.div_euclid(DAY_SECONDS) * DAY_SECONDS;
    let first_day = |reach: i32| (now - i64::from(reach)).div_euclid(DAY_SECONDS) * DAY_SECONDS;
    let last_day = (now + 600).div_euclid(DAY_SECONDS) * DAY_SECONDS + DAY_SECONDS;
    let (retry_from, latest_from) = (first_day(retry_window), first_day(latest_within));
    let bounds = |from: i64| {
        format!(
            "AND l.created_at OPERATOR(pg_catalog.>=) pg_catalog.to_timestamp({from}) \
             AND l.created_at OPERATOR(pg_catalog.<) pg_catalog.to_timestamp({last_day})"
        )
    };
    let (retry_bounds, latest_bounds) = (bounds(retry_from), bounds(latest_from));
    // A log without the session columns (0.6.0's, until its update) reads as NULLs there.
    let sessions = crate::pg::config_cache::snapshot().location.sessions;
    let columns = format!(
        "l.id, l.created_at, l.domain, l.routed_to OPERATOR(pg_catalog.=) 'unified', \
         l.bucket, (l.percentage OPERATOR(pg_catalog.*) 100)::integer, \
         l.config_id, l.conversation_id, {}",
        if sessions {
            "l.session_domain, l.session_broken_at, l.session_deliberate_at, l.session_switched_at"
        } else {
            "NULL::text, NULL::timestamptz, NULL::timestamptz, NULL::timestamptz"
        }
    );
    // Each probe's conditions imply the predicate of its own index only (sql/bootstrap.sql):
    // `routed_to <> 'error'` the sender index's, `message_id = $2` the message index's. A
    // generic plan made while the log was empty otherwise took the sender index for the retry
    // probe and filtered every row of the sender by message id. A message has one decision, or
    // two when a re-delivery was decided again (src/route/one_message.rs): either is its own.
    let sql = |schema: &str, _: i64| {
        format!(
            "(SELECT 1, {columns} FROM {schema}.webhook_routing_logs AS l \
              WHERE l.sender_key OPERATOR(pg_catalog.=) $1 \
                AND l.message_id OPERATOR(pg_catalog.=) $2 {retry_bounds} \
                AND l.created_at OPERATOR(pg_catalog.>=) \
                    (pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => $3)) \
              LIMIT 1) \
             UNION ALL \
             (SELECT 2, {columns} FROM {schema}.webhook_routing_logs AS l \
              WHERE l.sender_key OPERATOR(pg_catalog.=) $1 {latest_bounds} \
                AND l.created_at OPERATOR(pg_catalog.>=) \
                    (pg_catalog.now() OPERATOR(pg_catalog.-) pg_catalog.make_interval(secs => $4)) \
                AND l.routed_to OPERATOR(pg_catalog.<>) 'error' \
              ORDER BY l.created_at DESC, l.id DESC LIMIT 1)"
        )
    };
    let mut found = History::default();
    // One plan per set of days: made again when the day or a window's reach changes.
    let days = |from: i64| (today - from).div_euclid(DAY_SECONDS);
    let variant = ((today.div_euclid(DAY_SECONDS) * 16 + days(retry_from)) * 16 * 2
        + days(latest_from) * 2
        + i64::from(last_day > today + DAY_SECONDS))
        * 2
        + i64::from(sessions);
    // As the owner: no role but the owner reads a sender's key or bucket (sql/security.sql).
    crate::pg::config_cache::as_owner(|| {
        select_kept("conversation_history", variant, sql, &args, |row| {
            let domain = row.get::<String>(4)?;
            let minute = |i: usize| {
                row.get::<TimestampWithTimeZone>(i)
                    .map(|t| t.map(pgrx::pg_sys::TimestampTz::from))
            };
            // A row carries its session's domain only where it is not its own.
            let session = SessionState {
                domain: row.get::<String>(10)?.or_else(|| domain.clone()),
                broken_at: minute(11)?,
                deliberate_at: minute(12)?,
                switched_at: minute(13)?,
            };
            let prior = Prior {
                id: row.get::<i64>(2)?.unwrap_or_default(),
                created_at: row.get::<TimestampWithTimeZone>(3)?,
                domain,
                unified: row.get::<bool>(5)?.unwrap_or(false),
                bucket: row.get::<i32>(6)?,
                percentage: row.get::<i32>(7)?,
                config_id: row.get::<i64>(8)?,
                conversation_id: row.get::<i64>(9)?,
                session,
            };
            match row.get::<i32>(1)? {
                Some(1) => found.retry_of = Some(prior),
                _ => found.latest = Some(prior),
            }
            Ok(())
        })
    });
    found
}

/// What one call of route_messages decided so far, per sender: a body's later messages see its
/// earlier ones even when nothing is logged (`log => false`), where the log cannot tell.
#[derive(Default)]
pub struct Known {
    senders: std::collections::HashMap<i64, Seen>,
}

#[derive(Default)]
struct Seen {
    latest: Option<Prior>,
    /// Each message id's first decision in this call.
    messages: std::collections::HashMap<String, Prior>,
}

impl Known {
    /// Put what this call decided over what the log says.
    pub fn overlay(&self, sender_key: i64, message_id: Option<&str>, history: &mut History) {
        let Some(seen) = self.senders.get(&sender_key) else {
            return;
        };
        if let Some(id) = message_id {
            if let Some(first) = seen.messages.get(id) {
                history.retry_of.get_or_insert_with(|| first.clone());
            }
        }
        if let Some(latest) = &seen.latest {
            history.latest = Some(latest.clone());
        }
    }

    /// Remember a decision of this call. Unlogged decisions have no id: 0 stands for it (ids
    /// start at 1), and is never returned as a conversation id.
    pub fn record(&mut self, sender_key: i64, prior: Prior, message_id: Option<&str>) {
        let seen = self.senders.entry(sender_key).or_default();
        if let Some(id) = message_id {
            seen.messages
                .entry(id.to_owned())
                .or_insert_with(|| prior.clone());
        }
        seen.latest = Some(prior);
    }
}
