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
//! The rule (`follow`, driven table by table by the tests below):
//! - No conversation in progress: the message is routed on its own cues, and opens one if it
//!   has a domain.
//! - A message opens a new conversation in another domain when detection finds that domain
//!   (not by weak rules alone) and either asks for it (a match after a word of intent, or an
//!   id or message type rule) with a score of `SWITCH_SCORE` (3) or more, or scores
//!   `CLEAR_SWITCH_SCORE` (6) or more without asking. So "I also need a ride tomorrow"
//!   (intent 2 × 2 = 4), a list pick whose id has another domain's prefix (8) or a catalog
//!   order (type, 4) switch; "taxi" or "Hamagara umukozi" (one word, 2) do not. Leaving a
//!   protected domain's conversation that way keeps legacy (reason `protected_conversation`)
//!   for the whole new conversation.
//! - Any other message continues the conversation: no cue, a weak cue only (a bare location),
//!   a cue for the conversation's own domain, or a weaker cue for another. Same domain, same
//!   handler, reason `conversation`.
//! - The handler of a conversation never moves to unified mid-conversation: a percentage raise
//!   applies to new conversations. It moves to legacy at once when the settings in force would
//!   not send it to unified (a decrease, a rollback, a domain switched off or made protected, the
//!   kill switch), with that reason: a deliberate break, which `routing_sessions` counts apart.
//!
//! Retries: a message id seen again from the same sender within `webhook_routing.retry_window`
//! (a day by default) gets its first decision back (reason `retry`), and no second row.
//!
//! Where the state is when things go wrong: a crash loses the log's last asynchronous commits
//! (`webhook_routing.log_synchronous_commit`), and with them the conversations they opened; their
//! next message opens one again, on the same sticky bucket. A promoted standby has the log as
//! replicated. A hot standby routes (`log => false`) on the conversations the primary logged,
//! and its own decisions, not being logged, continue or open none.
use crate::cache::select_kept;
use crate::config::{Bp, Config};
use crate::detect::Detection;
use crate::gucs::RETRY_WINDOW;
use crate::outcome::DAY_SECONDS;
use crate::session::SessionState;
use pgrx::datum::{DatumWithOid, TimestampWithTimeZone};
use pgrx::{pg_sys, AnyNumeric};
use siphasher::sip::SipHasher24;
use std::hash::Hasher;

/// The score a request for another domain (a match after a word of intent, an id, a message
/// type) needs to end the conversation in progress and open one there: more than one plain
/// word (2).
pub const SWITCH_SCORE: f32 = 3.0;

/// The score a request asked for by a word of wanting or asking needs to leave for a protected
/// domain: one word of it wanted (a ride, an account, a cover: "ok now I need a moto"). The
/// protected domain's traffic must never stay with the new handler, so the bar is lower
/// towards it, as detection's margin is (src/detect.rs, PROTECTED_CLEAR).
pub const PROTECTED_SWITCH_SCORE: f32 = 2.0;

/// The score that ends it without a request: three words or two phrases of the other domain.
/// Below it, an answer to the bot's question that holds other domains' words ("taxi", "inzu",
/// "kazi ya mhasibu") stays in the conversation.
pub const CLEAR_SWITCH_SCORE: f32 = 6.0;

/// The assistant's domain: in its conversation a question is for the assistant ("which papers
/// does a land sale need and what does building cost?"), however many of another domain's
/// words it holds, and whatever its question asks to know ("what does the seller need?"). It
/// leaves for another domain on a request (`Detection::requested`): a pick (an id or a message
/// type of that domain), or a match after a word of asking or of wanting that is not inside a
/// question ("can I buy chickens here?", "do you have houses for rent?", "I'd rather find a
/// job first"); a turn alone ("and the transport of the guests?", "et le loyer?") goes on
/// with its question.
pub const ASSISTANT_DOMAIN: &str = "ai_agents";

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
    message_key(crate::cache::snapshot().secret.as_ref(), Some(message_id))
}

/// A decision already in the log for this sender.
#[derive(Clone, Debug, PartialEq)]
pub struct Prior {
    pub id: i64,
    /// Its created_at: the partition to count a re-delivery in.
    pub created_at: Option<TimestampWithTimeZone>,
    pub domain: Option<String>,
    pub unified: bool,
    pub bucket: Option<i32>,
    pub percentage: Option<Bp>,
    pub config_id: Option<i64>,
    pub conversation_id: Option<i64>,
    /// Its session so far (src/session.rs), which the next logged decision carries on.
    pub session: SessionState,
}

/// The conversation in progress: its opening decision, its domain and its handler.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Conversation {
    pub id: i64,
    pub domain: String,
    pub unified: bool,
}

impl Prior {
    /// The conversation this decision belongs to, if it had a domain.
    pub fn conversation(&self) -> Option<Conversation> {
        Some(Conversation {
            id: self.conversation_id?,
            domain: self.domain.clone()?,
            unified: self.unified,
        })
    }
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
/// The probes walk the partitions' indexes directly (src/probe.rs); a log laid out otherwise
/// than the extension makes it (a partition attached by hand without its indexes, row-level
/// security on the log) is read by the statement of `history_by_statement` instead.
pub fn history(sender_key: i64, message_id: Option<&str>, latest_within: i32) -> History {
    let snapshot = crate::cache::snapshot();
    // SAFETY: reads the start time of the transaction in progress: now().
    let now = unsafe { pg_sys::GetCurrentTransactionStartTimestamp() };
    let before = |seconds: i32| now.saturating_sub(i64::from(seconds) * 1_000_000);
    // Rows are dated at most minutes ahead (a caller's own rows): the end of the UTC day ten
    // minutes from now, as the statement reads.
    const DAY: i64 = DAY_SECONDS * 1_000_000;
    let until = (now.saturating_add(600 * 1_000_000)).div_euclid(DAY) * DAY + DAY;
    let probes = crate::probe::Probes {
        sender_key,
        message_id,
        retry_from: before(RETRY_WINDOW.get()),
        latest_from: before(latest_within),
        until,
    };
    let log = crate::probe::Log {
        relid: snapshot.location.logs,
        owner: snapshot.location.owner,
    };
    match crate::probe::read(&log, &probes, Prior::read) {
        Some((retry_of, latest)) => History { retry_of, latest },
        None => history_by_statement(sender_key, message_id, latest_within),
    }
}

impl Prior {
    /// A decision as the log holds it, its columns read by name.
    fn read(row: &crate::probe::Row) -> Prior {
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
    let now = crate::outcome::transaction_unix();
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
    let sessions = crate::cache::snapshot().location.sessions;
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
    // two when a re-delivery was decided again (src/decision.rs): either is its own.
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
    crate::cache::as_owner(|| {
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

/// Where a message goes within a conversation, before the target's own checks.
#[derive(Debug, PartialEq, Eq)]
pub enum Turn<'a> {
    /// No conversation in progress: the message's own cues decide.
    Open,
    /// The conversation continues in its domain.
    Follow(&'a Conversation),
    /// A strong cue for another domain: a new conversation there. `pinned` when the one left
    /// was in a protected domain, which keeps the new one on legacy.
    Switch { pinned: bool },
}

/// The turn a message takes, given its detection and the conversation in progress.
pub fn follow<'a>(
    detection: Option<&Detection>,
    conversation: Option<&'a Conversation>,
    config: Option<&Config>,
) -> Turn<'a> {
    let Some(conversation) = conversation else {
        return Turn::Open;
    };
    match detection {
        Some(d)
            if !d.weak
                && d.domain != conversation.domain
                && !(conversation.domain == ASSISTANT_DOMAIN && d.question && !d.asked)
                && (d.score >= CLEAR_SWITCH_SCORE
                    || d.decisive && d.score >= SWITCH_SCORE
                    || d.decisive
                        && d.asked
                        && d.score >= PROTECTED_SWITCH_SCORE
                        && config.is_some_and(|c| c.is_protected(d.domain))) =>
        {
            Turn::Switch {
                pinned: config.is_some_and(|c| c.is_protected(&conversation.domain)),
            }
        }
        _ => Turn::Follow(conversation),
    }
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
