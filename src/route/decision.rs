//! `route_decision`: where one webhook goes, and why. The file to read for "why did this message
//! go to legacy".
//!
//! A message goes to the unified handler only when all of these hold, checked in this order:
//! it is a user message; a rule maps it to a domain; the domain is not protected; the domain is
//! routable (in `domains`); routing is enabled globally and for the domain; and the sender's
//! sticky bucket is below the domain's percentage × 100. Each failed check has its reason.
use crate::core::bucket::{bucket, in_rollout, random_bucket};
use crate::core::config::{Bp, Config};
use crate::pg::config_cache::{accept_invalidations, as_owner, snapshot, Location, Snapshot};
use crate::pg::durability::relax_for_log_write;
use crate::pg::error::{spi_failed, Refusal};
use crate::pg::gucs::CONVERSATION_TIMEOUT;
use crate::pg::jsonb::JsonbArg;
use crate::pg::kept_plans::{run_kept, run_kept_variant};
use crate::pg::standby::refuse_during_recovery;
use crate::route::conversation::{self, follow, message_key, sender_key, History, Known, Turn};
use crate::route::detect::Rules;
use crate::route::row::{Conversation, Prior, SessionState};
use crate::route::session::{self, Logged};
use crate::route::whatsapp::{parse, Payload};
use pgrx::callconv::{BoxRet, FcInfo};
use pgrx::datum::DatumWithOid;
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::prelude::*;
use pgrx::AnyNumeric;
use pgrx::IntoDatum;
use std::collections::HashMap;

/// Why a decision went the way it did; stored in `webhook_routing_logs.reason`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    /// Unified: the sender's (or routing key's) bucket is below the percentage.
    InRollout,
    /// Unified: no sender and no routing key, so the bucket was drawn at random.
    InRolloutRandom,
    NotInRollout,
    NotInRolloutRandom,
    /// Not a webhook body: NULL, a scalar, an array, or an object without `entry`.
    NotAWebhook,
    /// A webhook without a user message, e.g. delivery statuses.
    NoUserMessage,
    /// No rule maps the message to a domain.
    UnknownDomain,
    /// The domain is protected: never routed.
    ProtectedDomain,
    /// The domain is known but not in the routable `domains`.
    DomainNotRouted,
    /// The global kill switch is off.
    RoutingDisabled,
    /// The domain's own switch is off.
    DomainDisabled,
    /// The config history is empty: nothing is routed until a config row exists.
    NoConfig,
    /// A follow-up: the conversation in progress decided (src/conversation.rs).
    Conversation,
    /// A new conversation, opened from a protected domain's one: kept on legacy.
    ProtectedConversation,
    /// A re-delivery of a message already decided: its first decision.
    Retry,
    /// A delivery status, sent to the handler of its recipient's conversation (route_messages).
    Status,
    /// A delivery status whose recipient has no conversation in the retry window.
    NoConversation,
    /// Unified: one of the domain's testers (set_routing_testers), before the percentage.
    Tester,
    /// Legacy: the domain denies this routing key unified (set_routing_denied).
    Denied,
    /// Legacy: a message id longer than any WhatsApp sends (`MAX_MESSAGE_ID`); answered, not
    /// logged with its id, never a re-delivery of anything.
    InvalidMessageId,
}

/// The longest message id a decision keeps, in bytes. WhatsApp's ids (`wamid.` and a base64
/// payload) have under 100; the log's index on message ids holds at most 2,704 bytes a row, and
/// a longer id would make the whole body's call fail.
pub const MAX_MESSAGE_ID: usize = 256;

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::InRollout => "in_rollout",
            Reason::InRolloutRandom => "in_rollout_random",
            Reason::NotInRollout => "not_in_rollout",
            Reason::NotInRolloutRandom => "not_in_rollout_random",
            Reason::NotAWebhook => "not_a_webhook",
            Reason::NoUserMessage => "no_user_message",
            Reason::UnknownDomain => "unknown_domain",
            Reason::ProtectedDomain => "protected_domain",
            Reason::DomainNotRouted => "domain_not_routed",
            Reason::RoutingDisabled => "routing_disabled",
            Reason::DomainDisabled => "domain_disabled",
            Reason::NoConfig => "no_config",
            Reason::Conversation => "conversation",
            Reason::ProtectedConversation => "protected_conversation",
            Reason::Retry => "retry",
            Reason::Status => "status",
            Reason::NoConversation => "no_conversation",
            Reason::Tester => "tester",
            Reason::Denied => "denied",
            Reason::InvalidMessageId => "invalid_message_id",
        }
    }
}

/// A routing decision and what explains it.
#[derive(Debug, PartialEq, Eq)]
pub struct Decision {
    pub domain: Option<String>,
    pub unified: bool,
    pub reason: Reason,
    pub bucket: Option<i32>,
    /// The domain's percentage in force, for routable domains.
    pub percentage: Option<Bp>,
    pub config_id: Option<i64>,
    pub rule_id: Option<i64>,
    pub message_id: Option<String>,
    /// The conversation it continues; None when it opens one (or has no domain).
    pub follows: Option<i64>,
}

impl Decision {
    pub fn routed_to(&self) -> &'static str {
        target(self.unified)
    }

    /// The conversation this decision belongs to, given its own log row's id: the one it
    /// follows, else its own if it has a domain (it opens one). An unlogged decision passes 0
    /// (ids start at 1), which stands for itself within one route_messages call.
    pub fn conversation_id(&self, own_id: i64) -> Option<i64> {
        self.follows
            .filter(|&c| c > 0)
            .or(self.domain.as_ref().map(|_| own_id))
    }
}

/// The handler's name in the log and the results: unified or legacy.
pub fn target(unified: bool) -> &'static str {
    if unified {
        "unified"
    } else {
        "legacy"
    }
}

/// Decide, without touching the database: the whole routing policy, given the sender's
/// conversation in progress (src/conversation.rs).
pub fn decide(
    payload: &Payload,
    conversation: Option<&Conversation>,
    routing_key: Option<&str>,
    config: Option<&Config>,
    rules: &Rules,
) -> Decision {
    let mut decision = Decision {
        domain: None,
        unified: false,
        reason: Reason::NotAWebhook,
        bucket: None,
        percentage: None,
        config_id: config.and_then(|c| c.id),
        rule_id: None,
        message_id: None,
        follows: None,
    };
    let message = match payload {
        Payload::NotAWebhook => return decision,
        Payload::NoUserMessage => {
            decision.reason = Reason::NoUserMessage;
            return decision;
        }
        Payload::Message(message) => message,
    };
    if message
        .message_id
        .is_some_and(|id| id.len() > MAX_MESSAGE_ID)
    {
        decision.reason = Reason::InvalidMessageId;
        return decision;
    }
    decision.message_id = message.message_id.map(str::to_owned);
    let protected = |d: &str| config.is_some_and(|c| c.is_protected(d));
    let detection = rules.detect(message, &protected);
    let turn = follow(detection.as_ref(), conversation, config);
    let domain = match (&turn, &detection) {
        (Turn::Follow(c), _) => {
            decision.follows = Some(c.id);
            decision.rule_id = detection
                .as_ref()
                .filter(|d| d.domain == c.domain)
                .map(|d| d.rule_id);
            c.domain.as_str()
        }
        (_, Some(d)) => {
            decision.rule_id = Some(d.rule_id);
            d.domain
        }
        (_, None) => {
            decision.reason = Reason::UnknownDomain;
            return decision;
        }
    };
    decision.domain = Some(domain.to_owned());
    let Some(config) = config else {
        decision.reason = Reason::NoConfig;
        return decision;
    };
    if config.is_protected(domain) {
        decision.reason = Reason::ProtectedDomain;
        return decision;
    }
    if !config.is_routable(domain) {
        decision.reason = Reason::DomainNotRouted;
        return decision;
    }
    let percentage = config.percentage_for(domain);
    decision.percentage = Some(percentage);
    let key = routing_key.filter(|k| !k.is_empty()).or(message.sender);
    let sticky = key.is_some();
    let bucket = key.map_or_else(random_bucket, |k| bucket(domain, k));
    decision.bucket = Some(bucket);
    decision.reason = if !config.enabled {
        Reason::RoutingDisabled
    } else if !config.domain_enabled(domain) {
        Reason::DomainDisabled
    } else if key.is_some_and(|k| config.is_denied(domain, k)) {
        Reason::Denied
    } else if key.is_some_and(|k| config.is_tester(domain, k)) {
        decision.unified = true;
        Reason::Tester
    } else {
        decision.unified = in_rollout(bucket, percentage);
        match (decision.unified, sticky) {
            (true, true) => Reason::InRollout,
            (true, false) => Reason::InRolloutRandom,
            (false, true) => Reason::NotInRollout,
            (false, false) => Reason::NotInRolloutRandom,
        }
    };
    match turn {
        // A switch that is off says so, whatever the conversation.
        Turn::Follow(_)
            if matches!(
                decision.reason,
                Reason::RoutingDisabled | Reason::DomainDisabled
            ) => {}
        // The conversation keeps its handler, but never holds unified against the settings
        // in force: a decrease or a rollback moves it, with that reason.
        Turn::Follow(c) if c.unified == decision.unified || !c.unified => {
            decision.unified = c.unified;
            decision.reason = Reason::Conversation;
        }
        Turn::Switch { pinned: true } if decision.unified => {
            decision.unified = false;
            decision.reason = Reason::ProtectedConversation;
        }
        _ => {}
    }
    decision
}

/// A percentage in basis points as numeric with two decimals.
pub fn bp_to_numeric(bp: Bp) -> AnyNumeric {
    let text = format!("{}.{:02}", bp / 100, bp % 100);
    AnyNumeric::try_from(text.as_str()).unwrap_or_default()
}

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

/// Log a decision: its row, with its session's state (src/session.rs) when it has a sender,
/// classified against the sender's newest logged decision (`prev`). Returns its id and that
/// state.
fn log_decision(
    webhook_name: Option<&str>,
    decision: &Decision,
    sender_key: Option<i64>,
    prev: Option<&Prior>,
    location: &Location,
) -> (i64, SessionState) {
    relax_for_log_write();
    let id = next_decision_id(location.decision_ids);
    let conversation_id = decision.conversation_id(id);
    let mut state = SessionState::default();
    // A log without the session columns (0.6.0's, until its update) gets neither them nor counts.
    let sessions = location.sessions;
    if sender_key.is_some() && sessions {
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
        state = carried;
    }
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

/// Count a re-delivery on its first decision's row (as the owner: callers may only report
/// outcomes), so that an outcome reported for the retry is known to be one (src/outcome.rs).
fn count_retry(prior: &Prior) {
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

/// One message, decided: the decision and its log row's id, or the first decision of a retry.
pub struct Routed {
    pub decision: Decision,
    pub decision_id: Option<i64>,
    pub conversation_id: Option<i64>,
}

/// Decide `payload` for its sender (with the conversation given, or read from the log), log it
/// when `log` is true, or answer a re-delivery with its first decision.
pub fn route_one(
    payload: &Payload,
    webhook_name: Option<&str>,
    routing_key: Option<&str>,
    log: bool,
    snapshot: &Snapshot,
    known: Option<&mut Known>,
) -> Routed {
    let message = match payload {
        Payload::Message(m) => Some(m),
        _ => None,
    };
    let key = message.and_then(|m| routing_key.filter(|k| !k.is_empty()).or(m.sender));
    let sender_key = sender_key(snapshot.secret.as_ref(), webhook_name, key);
    // An id too long to be WhatsApp's is nobody's re-delivery (decide answers it). The log
    // keeps the id's keyed hash, never the id (a wamid holds its sender's number).
    let message_key = message_key(
        snapshot.secret.as_ref(),
        message
            .and_then(|m| m.message_id)
            .filter(|id| id.len() <= MAX_MESSAGE_ID),
    );
    let message_id = message_key.as_deref();
    let mut history = History::default();
    if let Some(sk) = sender_key {
        history = conversation::history(sk, message_id, CONVERSATION_TIMEOUT.get());
        if let Some(k) = known.as_deref() {
            k.overlay(sk, message_id, &mut history);
        }
    }
    // A re-delivery gets its first decision back, unless the settings in force would move it
    // (a decrease, a rollback, the kill switch: a unified handler may be why WhatsApp retries);
    // then it is decided again, in the first one's conversation, and logged as a new decision.
    let mut decided_again = None;
    if let Some(first) = history.retry_of {
        let again = decide(
            payload,
            first.conversation().as_ref(),
            routing_key,
            snapshot.config.as_ref(),
            &snapshot.rules,
        );
        if again.unified == first.unified {
            // A retry seen within this call (a body carrying the same message twice) is
            // counted once its row exists: a first decision of this call has no created_at.
            if log && first.created_at.is_some() && !crate::pg::standby::in_recovery() {
                count_retry(&first);
            }
            return Routed {
                decision: Decision {
                    domain: first.domain.clone(),
                    unified: first.unified,
                    reason: Reason::Retry,
                    bucket: first.bucket,
                    percentage: first.percentage,
                    config_id: first.config_id,
                    rule_id: None,
                    message_id: message_id.map(str::to_owned),
                    follows: first.conversation_id,
                },
                decision_id: Some(first.id).filter(|&i| i > 0),
                conversation_id: first.conversation_id.filter(|&c| c > 0),
            };
        }
        decided_again = Some(again);
    }
    let mut decision = decided_again.unwrap_or_else(|| {
        let conversation = history.latest.as_ref().and_then(Prior::conversation);
        decide(
            payload,
            conversation.as_ref(),
            routing_key,
            snapshot.config.as_ref(),
            &snapshot.rules,
        )
    });
    if decision.message_id.is_some() {
        decision.message_id = message_key.clone();
    }
    let logged = log.then(|| {
        refuse_during_recovery(
            "route_decision cannot log a decision on a hot standby",
            "On a read replica call route_decision(..., log => false); decisions are logged on the primary.",
        );
        log_decision(
            webhook_name,
            &decision,
            sender_key,
            history.latest.as_ref(),
            &snapshot.location,
        )
    });
    let (decision_id, session) = match logged {
        Some((id, state)) => (Some(id), state),
        None => (None, SessionState::default()),
    };
    let own_id = decision_id.unwrap_or(0);
    if let (Some(known), Some(sk)) = (known, sender_key) {
        let prior = Prior {
            id: own_id,
            created_at: None,
            domain: decision.domain.clone(),
            unified: decision.unified,
            bucket: decision.bucket,
            percentage: decision.percentage,
            config_id: decision.config_id,
            conversation_id: decision.conversation_id(own_id),
            session,
        };
        known.record(sk, prior, message_id);
    }
    let conversation_id = decision.conversation_id(own_id).filter(|&c| c > 0);
    Routed {
        decision,
        decision_id,
        conversation_id,
    }
}

/// The column types of `routing_decision`, checked before a row is formed: a type altered by
/// hand must raise an error, never have a datum read as something it is not.
const RESULT_TYPES: [pg_sys::Oid; 7] = [
    pg_sys::INT8OID,
    pg_sys::TEXTOID,
    pg_sys::TEXTOID,
    pg_sys::TEXTOID,
    pg_sys::INT4OID,
    pg_sys::NUMERICOID,
    pg_sys::INT8OID,
];

/// The `i`th attribute of a row type's descriptor (0-based, `i < natts`).
/// SAFETY: `tupdesc` is a valid descriptor with more than `i` attributes.
#[cfg(not(feature = "pg18"))]
unsafe fn tupdesc_attr<'a>(
    tupdesc: pg_sys::TupleDesc,
    i: usize,
) -> &'a pg_sys::FormData_pg_attribute {
    &*(*tupdesc).attrs.as_ptr().add(i)
}

/// 18 took the attributes out of the descriptor's struct: `TupleDescAttr` finds them.
#[cfg(feature = "pg18")]
unsafe fn tupdesc_attr<'a>(
    tupdesc: pg_sys::TupleDesc,
    i: usize,
) -> &'a pg_sys::FormData_pg_attribute {
    // `i < natts`, which is an int.
    &*pg_sys::TupleDescAttr(tupdesc, i as core::ffi::c_int)
}

/// Form the result row as a composite datum. Its descriptor comes from the type cache, by the
/// result type of the call expression: no catalog lookup. (Each execution of a statement has a
/// fresh FmgrInfo, so a descriptor kept in `fn_extra` was built again for every webhook:
/// get_call_result_type and a copy, 7% of route_decision's own time.)
///
/// # Safety
/// `fcinfo` is the call's own function call info; the datums stay valid until this returns.
unsafe fn form_result(
    fcinfo: pg_sys::FunctionCallInfo,
    values: &mut [pg_sys::Datum; 7],
    nulls: &mut [bool; 7],
) -> pg_sys::Datum {
    unsafe {
        let rettype = pg_sys::get_fn_expr_rettype((*fcinfo).flinfo);
        let (tupdesc, pinned) = if rettype != pg_sys::InvalidOid {
            (pg_sys::lookup_rowtype_tupdesc(rettype, -1), true)
        } else {
            // Called without an expression (not from SQL): ask the catalog.
            let mut tupdesc: pg_sys::TupleDesc = std::ptr::null_mut();
            let class = pg_sys::get_call_result_type(fcinfo, std::ptr::null_mut(), &mut tupdesc);
            if class != pg_sys::TypeFuncClass::TYPEFUNC_COMPOSITE || tupdesc.is_null() {
                spi_failed(
                    "describe its result",
                    "route_decision must return routing_decision",
                );
            }
            (tupdesc, false)
        };
        let natts = usize::try_from((*tupdesc).natts).unwrap_or(0);
        let matches = natts == RESULT_TYPES.len()
            && (0..natts)
                .map(|i| tupdesc_attr(tupdesc, i))
                .zip(RESULT_TYPES)
                .all(|(a, t)| a.atttypid == t && !a.attisdropped);
        if !matches {
            if pinned {
                pg_sys::DecrTupleDescRefCount(tupdesc);
            }
            Refusal::new(
                PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                "the type routing_decision does not have the columns route_decision returns",
            )
            .hint(
                "It must be (decision_id bigint, domain text, routed_to text, reason text, \
                 bucket integer, percentage numeric, config_id bigint), as the extension \
                 created it. Recreate the extension, or restore the type.",
            )
            .raise();
        }
        let tuple = pg_sys::heap_form_tuple(tupdesc, values.as_mut_ptr(), nulls.as_mut_ptr());
        if pinned {
            pg_sys::DecrTupleDescRefCount(tupdesc);
        }
        // The header carries the datum length and the row type, and nothing in the row is
        // toasted: t_data is the composite datum (HeapTupleGetDatum).
        pg_sys::Datum::from((*tuple).t_data)
    }
}

/// Route one webhook: returns the decision and, when `log` is true, the id of its log row to
/// pass to `record_routing_outcome`. Never raises on a payload: whatever it holds is answered.
#[pg_extern(volatile, parallel_unsafe)]
fn route_decision(
    fcinfo: pg_sys::FunctionCallInfo,
    message: Option<JsonbArg<'_>>,
    webhook_name: default!(Option<&str>, "'whatsapp'"),
    routing_key: default!(Option<&str>, "NULL"),
    log: default!(Option<bool>, "true"),
) -> DecisionRow {
    accept_invalidations();
    let payload = parse(message.as_ref());
    let snapshot = snapshot();
    // NULL means "not said": log, so that nothing is lost.
    let Routed {
        decision,
        decision_id,
        ..
    } = route_one(
        &payload,
        webhook_name,
        routing_key,
        log.unwrap_or(true),
        &snapshot,
        None,
    );
    // The three texts are laid out in a Rust buffer and the percentage comes from a per-backend
    // cache: heap_form_tuple copies them, so no call into Postgres is needed to build them.
    let texts = TextDatums::new([
        decision.domain.as_deref(),
        Some(decision.routed_to()),
        Some(decision.reason.as_str()),
    ]);
    let [domain, routed_to, reason] = texts.datums();
    let datums = [
        decision_id.into_datum(),
        domain,
        routed_to,
        reason,
        decision.bucket.into_datum(),
        decision.percentage.map(percentage_datum),
        decision.config_id.into_datum(),
    ];
    let mut values = [pg_sys::Datum::from(0usize); 7];
    let mut nulls = [false; 7];
    for ((value, null), datum) in values.iter_mut().zip(&mut nulls).zip(datums) {
        match datum {
            Some(d) => *value = d,
            None => *null = true,
        }
    }
    // SAFETY: the datums match RESULT_TYPES, which form_result checks against the type, and
    // `texts` outlives the call.
    DecisionRow(unsafe { form_result(fcinfo, &mut values, &mut nulls) })
}

/// The `routing_decision` row route_decision returns, already a composite datum. pgrx's
/// PgHeapTuple would form the tuple, copy it into a datum and free the first copy: three calls
/// into Postgres where one does.
pub struct DecisionRow(pg_sys::Datum);

// SAFETY: the datum is returned as the function's result, as box_into requires.
unsafe impl BoxRet for DecisionRow {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        unsafe { fcinfo.return_raw_datum(self.0) }
    }
}

// SAFETY: the SQL type is the composite routing_decision, created by bootstrap.sql before any
// function, and DecisionRow's datum is always one of its rows.
unsafe impl SqlTranslatable for DecisionRow {
    const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!(DecisionRow);
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> =
        Err(ArgumentError::NotValidAsArgument("DecisionRow"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal("routing_decision")));
}

/// Text datums (4-byte varlena headers, uncompressed) built in one aligned Rust buffer: on the
/// stack for the decision's texts (a domain has at most 63 bytes), on the heap past that.
struct TextDatums<const N: usize> {
    buf: Words,
    /// Offset of each text in `buf`, in u32 words; None for NULL.
    at: [Option<usize>; N],
}

enum Words {
    Stack([u32; 48]),
    Heap(Vec<u32>),
}

impl Words {
    fn as_slice(&self) -> &[u32] {
        match self {
            Words::Stack(a) => a,
            Words::Heap(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u32] {
        match self {
            Words::Stack(a) => a,
            Words::Heap(v) => v,
        }
    }
}

impl<const N: usize> TextDatums<N> {
    fn new(texts: [Option<&str>; N]) -> Self {
        let words: usize = texts
            .iter()
            .flatten()
            .map(|t| 1 + t.len().div_ceil(4))
            .sum();
        let mut buf = if words <= 48 {
            Words::Stack([0; 48])
        } else {
            Words::Heap(vec![0; words])
        };
        let slice = buf.as_mut_slice();
        let mut at = [None; N];
        let mut next = 0;
        for (slot, text) in at.iter_mut().zip(texts) {
            let Some(text) = text else { continue };
            let body = text.len().div_ceil(4);
            // SET_VARSIZE for a 4-byte header: the total length, header included, shifted by 2
            // on little endian (Postgres' varatt.h is the reference).
            let total = (4 + text.len()) as u32;
            slice[next] = if cfg!(target_endian = "little") {
                total << 2
            } else {
                total & 0x3FFF_FFFF
            };
            bytes_of(&mut slice[next + 1..next + 1 + body])[..text.len()]
                .copy_from_slice(text.as_bytes());
            *slot = Some(next);
            next += 1 + body;
        }
        TextDatums { buf, at }
    }

    /// The datums; they point into `self`, so they are valid while it lives and is not moved.
    fn datums(&self) -> [Option<pg_sys::Datum>; N] {
        let words = self.buf.as_slice();
        self.at
            .map(|at| at.map(|i| pg_sys::Datum::from(words[i..].as_ptr())))
    }
}

/// The bytes of a run of u32 words.
fn bytes_of(words: &mut [u32]) -> &mut [u8] {
    // SAFETY: u8 has no alignment or validity requirement, and the length covers the same bytes.
    unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast(), words.len() * 4) }
}

thread_local! {
    /// Percentage (basis points) → its numeric datum, palloc'd in TopMemoryContext. Parsing the
    /// numeric per call cost a fifth of route_decision's own time. At most 10,001 entries, since
    /// a percentage is 0.00..100.00 (a dozen bytes each); values outside that are not kept.
    static PERCENTAGES: std::cell::RefCell<HashMap<Bp, pg_sys::Datum>> =
        std::cell::RefCell::new(HashMap::new());
}

/// The numeric datum of a percentage, from the per-backend cache.
fn percentage_datum(bp: Bp) -> pg_sys::Datum {
    if let Some(d) = PERCENTAGES.with_borrow(|m| m.get(&bp).copied()) {
        return d;
    }
    let numeric = bp_to_numeric(bp).into_datum().unwrap_or_else(|| {
        spi_failed(
            "build the decision row",
            "the percentage has no numeric value",
        )
    });
    if !(0..=10_000).contains(&bp) {
        return numeric;
    }
    // SAFETY: a copy of the numeric varlena (as datumCopy would make) into TopMemoryContext,
    // which lives as long as the backend.
    let kept = unsafe {
        let src = numeric.cast_mut_ptr::<pg_sys::varlena>();
        let size = pgrx::varlena::varsize_any(src);
        let dst = pg_sys::MemoryContextAlloc(pg_sys::TopMemoryContext, size);
        std::ptr::copy_nonoverlapping(src.cast::<u8>(), dst.cast::<u8>(), size);
        pg_sys::Datum::from(dst)
    };
    PERCENTAGES.with_borrow_mut(|m| m.insert(bp, kept));
    kept
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::*;
    use crate::core::text::Field;
    use crate::route::detect::{MatchKind, Rule};
    use crate::route::whatsapp::Inbound;

    fn rules() -> Rules {
        Rules::new(vec![
            Rule::new(1, "jobs", MatchKind::Keyword, "job*", 90).unwrap(),
            Rule::new(2, "mobility", MatchKind::MessageType, "location", 20).unwrap(),
            Rule::new(3, "ai_agents", MatchKind::Keyword, "agent", 90).unwrap(),
        ])
    }

    fn msg<'a>(text: &'a str, sender: Option<&'a str>) -> Payload<'a> {
        Payload::Message(Inbound {
            sender,
            message_id: Some("wamid.X"),
            kind: Some("text"),
            ids: vec![],
            texts: vec![(Field::Body, text)],
        })
    }

    fn config(percentage: Bp, enabled: bool) -> Config {
        Config {
            id: Some(7),
            percentage,
            enabled,
            ..Config::default()
        }
    }

    /// Table-driven: each check of the policy, and its reason.
    #[pg_test]
    fn policy_checks_in_order() {
        let rules = rules();
        let on_100 = config(10_000, true);
        let off = config(10_000, false);
        let on_0 = config(0, true);
        let mut jobs_off = config(10_000, true);
        jobs_off.domain_enabled.insert("jobs".into(), false);
        let mut jobs_zero = config(10_000, true);
        jobs_zero.domain_percentages.insert("jobs".into(), 0);
        let location = Payload::Message(Inbound {
            sender: Some("250788555005"),
            kind: Some("location"),
            ..Default::default()
        });
        let cases: Vec<(&str, Payload, Option<&Config>, bool, Reason)> = vec![
            (
                "not a webhook",
                Payload::NotAWebhook,
                Some(&on_100),
                false,
                Reason::NotAWebhook,
            ),
            (
                "statuses",
                Payload::NoUserMessage,
                Some(&on_100),
                false,
                Reason::NoUserMessage,
            ),
            (
                "no rule",
                msg("hello there", Some("1")),
                Some(&on_100),
                false,
                Reason::UnknownDomain,
            ),
            (
                "protected",
                location,
                Some(&on_100),
                false,
                Reason::ProtectedDomain,
            ),
            (
                "not routable",
                msg("talk to an agent", Some("1")),
                Some(&on_100),
                false,
                Reason::DomainNotRouted,
            ),
            (
                "no config",
                msg("a job", Some("1")),
                None,
                false,
                Reason::NoConfig,
            ),
            (
                "kill switch",
                msg("a job", Some("1")),
                Some(&off),
                false,
                Reason::RoutingDisabled,
            ),
            (
                "domain off",
                msg("a job", Some("1")),
                Some(&jobs_off),
                false,
                Reason::DomainDisabled,
            ),
            (
                "domain at 0%",
                msg("a job", Some("1")),
                Some(&jobs_zero),
                false,
                Reason::NotInRollout,
            ),
            (
                "100%",
                msg("a job", Some("1")),
                Some(&on_100),
                true,
                Reason::InRollout,
            ),
            (
                "0%",
                msg("a job", Some("1")),
                Some(&on_0),
                false,
                Reason::NotInRollout,
            ),
            (
                "random 100%",
                msg("a job", None),
                Some(&on_100),
                true,
                Reason::InRolloutRandom,
            ),
            (
                "random 0%",
                msg("a job", None),
                Some(&on_0),
                false,
                Reason::NotInRolloutRandom,
            ),
        ];
        for (name, payload, config, unified, reason) in cases {
            let d = decide(&payload, None, None, config, &rules);
            assert_eq!((d.unified, d.reason), (unified, reason), "case {name}");
            assert_eq!(d.routed_to(), if unified { "unified" } else { "legacy" });
        }
    }

    fn ids_msg<'a>(id: &'a str, title: &'a str) -> Payload<'a> {
        Payload::Message(Inbound {
            sender: Some("250788000001"),
            message_id: Some("wamid.Y"),
            kind: Some("interactive"),
            ids: vec![id],
            texts: vec![(Field::Title, title)],
        })
    }

    /// Table-driven: every rule of src/conversation.rs, a message at a time, against a
    /// conversation in progress (its opening decision 41, its domain, its handler).
    #[pg_test]
    fn conversations_keep_their_handler() {
        use crate::route::detect::Effect;
        let rules = Rules::new(vec![
            Rule::new(1, "jobs", MatchKind::Keyword, "job*", 90).unwrap(),
            Rule::new(2, "mobility", MatchKind::MessageType, "location", 20)
                .unwrap()
                .with(Effect::Weak, None, None),
            Rule::new(3, "marketplace", MatchKind::Keyword, "phone", 90).unwrap(),
            Rule::new(4, "marketplace", MatchKind::IdPrefix, "market_", 90).unwrap(),
            Rule::new(5, "mobility", MatchKind::Keyword, "ride", 90).unwrap(),
            Rule::new(6, "marketplace", MatchKind::Keyword, "sell", 90).unwrap(),
            Rule::new(7, "marketplace", MatchKind::Keyword, "buy", 90).unwrap(),
        ]);
        let conv = |domain: &str, unified: bool| Conversation {
            id: 41,
            domain: domain.into(),
            unified,
        };
        let jobs_on = conv("jobs", true);
        let jobs_off = conv("jobs", false);
        let mobility = conv("mobility", false);
        let mut routable = config(10_000, true);
        routable.domains = vec!["jobs".into(), "marketplace".into()];
        let at_0 = Config {
            percentage: 0,
            ..routable.clone()
        };
        let killed = Config {
            enabled: false,
            ..routable.clone()
        };
        let mut jobs_switched_off = routable.clone();
        jobs_switched_off
            .domain_enabled
            .insert("jobs".into(), false);
        let mut jobs_protected = routable.clone();
        jobs_protected.domains = vec!["marketplace".into()];
        jobs_protected.protected.push("jobs".into());
        let location = Payload::Message(Inbound {
            sender: Some("250788000001"),
            kind: Some("location"),
            ..Default::default()
        });
        let s = Some("250788000001");
        #[rustfmt::skip]
        let cases: Vec<(&str, Payload, Option<&Conversation>, &Config, Option<&str>, bool, Reason, Option<i64>)> = vec![
            ("no conversation: its own cues", msg("a job", s), None, &routable, Some("jobs"), true, Reason::InRollout, None),
            ("no conversation, no cue", msg("2", s), None, &routable, None, false, Reason::UnknownDomain, None),
            ("a bare reply follows", msg("2", s), Some(&jobs_on), &routable, Some("jobs"), true, Reason::Conversation, Some(41)),
            ("a weak cue follows", location, Some(&jobs_on), &routable, Some("jobs"), true, Reason::Conversation, Some(41)),
            ("its own domain's cue follows", msg("another job", s), Some(&jobs_on), &routable, Some("jobs"), true, Reason::Conversation, Some(41)),
            ("another domain's word follows", msg("phone", s), Some(&jobs_on), &routable, Some("jobs"), true, Reason::Conversation, Some(41)),
            ("two other words, no request, follow", msg("phone sell", s), Some(&jobs_on), &routable, Some("jobs"), true, Reason::Conversation, Some(41)),
            ("three other words switch", msg("buy phone sell", s), Some(&jobs_on), &routable, Some("marketplace"), true, Reason::InRollout, None),
            ("a request for another domain switches", msg("I want a phone", s), Some(&jobs_on), &routable, Some("marketplace"), true, Reason::InRollout, None),
            ("another domain's id switches", ids_msg("market_sell", "Sell"), Some(&jobs_on), &routable, Some("marketplace"), true, Reason::InRollout, None),
            ("a raise never moves it", msg("2", s), Some(&jobs_off), &routable, Some("jobs"), false, Reason::Conversation, Some(41)),
            ("a decrease moves it", msg("2", s), Some(&jobs_on), &at_0, Some("jobs"), false, Reason::NotInRollout, Some(41)),
            ("the kill switch moves it", msg("2", s), Some(&jobs_on), &killed, Some("jobs"), false, Reason::RoutingDisabled, Some(41)),
            ("the kill switch says so on legacy too", msg("2", s), Some(&jobs_off), &killed, Some("jobs"), false, Reason::RoutingDisabled, Some(41)),
            ("a domain switched off moves it", msg("2", s), Some(&jobs_on), &jobs_switched_off, Some("jobs"), false, Reason::DomainDisabled, Some(41)),
            ("a domain made protected moves it", msg("2", s), Some(&jobs_on), &jobs_protected, Some("jobs"), false, Reason::ProtectedDomain, Some(41)),
            ("a protected conversation's replies", msg("a job", s), Some(&mobility), &routable, Some("mobility"), false, Reason::ProtectedDomain, Some(41)),
            ("leaving a protected one keeps legacy", msg("I need a job", s), Some(&mobility), &routable, Some("jobs"), false, Reason::ProtectedConversation, None),
            ("a request for a protected domain", msg("I need a ride", s), Some(&jobs_on), &routable, Some("mobility"), false, Reason::ProtectedDomain, None),
            ("statuses are no message", Payload::NoUserMessage, Some(&jobs_on), &routable, None, false, Reason::NoUserMessage, None),
        ];
        for (name, payload, conversation, config, domain, unified, reason, follows) in cases {
            let d = decide(&payload, conversation, None, Some(config), &rules);
            assert_eq!(
                (d.domain.as_deref(), d.unified, d.reason, d.follows),
                (domain, unified, reason, follows),
                "case {name}"
            );
        }
    }

    #[pg_test]
    fn routing_key_overrides_the_sender() {
        let rules = rules();
        let cfg = config(5_000, true);
        let by_sender = decide(
            &msg("a job", Some("250788123456")),
            None,
            None,
            Some(&cfg),
            &rules,
        );
        assert_eq!(by_sender.bucket, Some(bucket("jobs", "250788123456")));
        let by_key = decide(
            &msg("a job", Some("250788123456")),
            None,
            Some("tenant-42"),
            Some(&cfg),
            &rules,
        );
        assert_eq!(by_key.bucket, Some(bucket("jobs", "tenant-42")));
        // An empty key is no key.
        let empty = decide(
            &msg("a job", Some("250788123456")),
            None,
            Some(""),
            Some(&cfg),
            &rules,
        );
        assert_eq!(empty.bucket, by_sender.bucket);
        assert_eq!(by_sender.percentage, Some(5_000));
        assert_eq!(by_sender.config_id, Some(7));
        assert_eq!(by_sender.rule_id, Some(1));
        assert_eq!(by_sender.message_id.as_deref(), Some("wamid.X"));
    }

    /// A result type altered by hand raises an error instead of having a datum read as another
    /// type (an integer read as a pointer).
    #[pg_test(error = "the type routing_decision does not have the columns route_decision returns")]
    fn an_altered_result_type_is_refused() {
        Spi::run("ALTER TYPE routing_decision ALTER ATTRIBUTE bucket TYPE text").unwrap();
        Spi::run("SELECT * FROM route_decision('{}'::jsonb, log => false)").unwrap();
    }

    /// The kept percentage datums are the numerics the log stores, for every step of the plan.
    #[pg_test]
    fn kept_percentages_read_back_as_written() {
        for bp in [0, 5, 500, 1000, 1025, 2500, 5000, 10_000] {
            let datum = percentage_datum(bp);
            let again = percentage_datum(bp);
            assert_eq!(datum, again, "the second call uses the kept datum");
            // SAFETY: a numeric datum.
            let n = unsafe { AnyNumeric::from_datum(datum, false) }.unwrap();
            assert_eq!(n.to_string(), bp_to_numeric(bp).to_string());
        }
    }

    #[pg_test]
    fn percentage_formats_with_two_decimals() {
        assert_eq!(bp_to_numeric(1000).to_string(), "10.00");
        assert_eq!(bp_to_numeric(1025).to_string(), "10.25");
        assert_eq!(bp_to_numeric(5).to_string(), "0.05");
        assert_eq!(bp_to_numeric(10_000).to_string(), "100.00");
    }

    fn route(payload_sql: &str) -> (Option<String>, String, String) {
        Spi::get_three::<String, String, String>(&format!(
            "SELECT domain, routed_to, reason FROM route_decision({payload_sql})"
        ))
        .map(|(d, t, r)| (d, t.unwrap(), r.unwrap()))
        .unwrap()
    }

    fn fixture(json: &str) -> String {
        format!("'{}'::jsonb", json.replace('\'', "''"))
    }

    /// Every shared payload, through the SQL function, as installed and then at 100%.
    #[pg_test]
    fn fixtures_route_end_to_end() {
        let cases = [
            (
                include_str!("../../tests/fixtures/text_jobs.json"),
                Some("jobs"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../../tests/fixtures/text_property.json"),
                Some("property"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../../tests/fixtures/button_reply_marketplace.json"),
                Some("marketplace"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../../tests/fixtures/list_reply_jobs.json"),
                Some("jobs"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../../tests/fixtures/image_caption_marketplace.json"),
                Some("marketplace"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../../tests/fixtures/template_button_insurance.json"),
                Some("insurance"),
                "protected_domain",
                "protected_domain",
            ),
            (
                include_str!("../../tests/fixtures/location_mobility.json"),
                Some("mobility"),
                "protected_domain",
                "protected_domain",
            ),
            (
                include_str!("../../tests/fixtures/status_delivered.json"),
                None,
                "no_user_message",
                "no_user_message",
            ),
        ];
        for (json, domain, installed, _) in &cases {
            let (d, target, reason) = route(&fixture(json));
            assert_eq!(d.as_deref(), *domain);
            assert_eq!(target, "legacy", "installed config is 0%, disabled");
            assert_eq!(reason, *installed);
        }
        Spi::run("SELECT set_routing_enabled(true, 'test')").unwrap();
        Spi::run("SELECT update_routing_percentage(100, 'test')").unwrap();
        // The same bodies again, as new messages of senders without a conversation: otherwise
        // they would be re-deliveries, or follow-ups kept on the handler of their first round
        // (tests/pg_regress/sql/16_conversations.sql covers both).
        Spi::run("UPDATE webhook_routing_logs SET sender_key = NULL, message_id = message_id || '.before'")
            .unwrap();
        for (json, domain, _, at_100) in &cases {
            let (d, target, reason) = route(&fixture(json));
            assert_eq!(d.as_deref(), *domain);
            assert_eq!(reason, *at_100);
            assert_eq!(
                target,
                if *at_100 == "in_rollout" {
                    "unified"
                } else {
                    "legacy"
                }
            );
        }
        // Every call above logged one pending row, with what explains it.
        let (logged, explained) = Spi::get_two::<i64, i64>(
            "SELECT count(*), count(*) FILTER (WHERE status = 'pending' AND reason IS NOT NULL \
                AND config_id IS NOT NULL AND (domain IS NULL OR rule_id IS NOT NULL)) \
             FROM webhook_routing_logs",
        )
        .unwrap();
        assert_eq!(logged, Some(16));
        assert_eq!(explained, Some(16));
        // The log keeps the message id's keyed hash, never the id (a wamid holds the number).
        let (bucket, message_id) = Spi::get_two::<i32, String>(
            "SELECT bucket, message_id FROM webhook_routing_logs \
             WHERE message_id = routing_message_key('wamid.A1') AND routed_to = 'unified' \
               AND sender_key IS NOT NULL",
        )
        .unwrap();
        assert_eq!(bucket, Some(super::bucket("jobs", "250788123456")));
        let key = message_id.unwrap();
        assert_eq!(key.len(), 32);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
        let raw = Spi::get_one::<i64>(
            "SELECT count(*) FROM webhook_routing_logs WHERE message_id LIKE 'wamid.%'",
        )
        .unwrap();
        assert_eq!(raw, Some(0));
    }

    #[pg_test]
    fn dry_runs_log_nothing_and_never_raise() {
        let before = Spi::get_one::<i64>("SELECT count(*) FROM webhook_routing_logs").unwrap();
        let odd = [
            "NULL",
            "'null'::jsonb",
            "'[1,2]'::jsonb",
            "'\"x\"'::jsonb",
            "'{}'::jsonb",
            "'{\"entry\": [{\"changes\": [{\"value\": {\"messages\": [{\"from\": 1}]}}]}]}'::jsonb",
        ];
        for payload in odd {
            let (id, target) = Spi::get_two::<i64, String>(&format!(
                "SELECT decision_id, routed_to FROM route_decision({payload}, log => false)"
            ))
            .unwrap();
            assert_eq!((id, target.as_deref()), (None, Some("legacy")), "{payload}");
        }
        let after = Spi::get_one::<i64>("SELECT count(*) FROM webhook_routing_logs").unwrap();
        assert_eq!(before, after);
        // NULL webhook name and NULL log flag: still answered, and logged.
        let id = Spi::get_one::<i64>(
            "SELECT decision_id FROM route_decision('{}'::jsonb, NULL, NULL, NULL)",
        )
        .unwrap();
        assert!(id.is_some());
    }

    /// 20,000 distinct senders at 10% then 25%: the unified share matches the percentage, and no
    /// sender changes target when the percentage rises (or when it is asked twice).
    #[pg_test]
    fn stickiness_over_twenty_thousand_senders() {
        let template = fixture(include_str!("../../tests/fixtures/text_jobs.json"));
        let run = |table: &str| {
            Spi::run(&format!(
                "CREATE TEMP TABLE {table} AS \
                 SELECT g, (route_decision(jsonb_set({template}, \
                     '{{entry,0,changes,0,value,messages,0,from}}', \
                     to_jsonb('2507' || lpad(g::text, 8, '0'))), log => false)).routed_to \
                 FROM generate_series(1, 20000) AS g"
            ))
            .unwrap();
        };
        Spi::run("SELECT set_routing_enabled(true)").unwrap();
        Spi::run("SELECT update_routing_percentage(10)").unwrap();
        run("at10");
        run("at10_again");
        Spi::run("SELECT update_routing_percentage(25)").unwrap();
        run("at25");
        let share = |table: &str| {
            Spi::get_one::<f64>(&format!(
                "SELECT avg((routed_to = 'unified')::int)::float8 FROM {table}"
            ))
            .unwrap()
            .unwrap()
        };
        let (s10, s25) = (share("at10"), share("at25"));
        assert!((0.09..0.11).contains(&s10), "share at 10%: {s10}");
        assert!((0.235..0.265).contains(&s25), "share at 25%: {s25}");
        let flips = |a: &str, b: &str, cond: &str| {
            Spi::get_one::<i64>(&format!(
                "SELECT count(*) FROM {a} JOIN {b} USING (g) WHERE {cond}"
            ))
            .unwrap()
            .unwrap()
        };
        let left = flips(
            "at10",
            "at25",
            "at10.routed_to = 'unified' AND at25.routed_to <> 'unified'",
        );
        let bounced = flips(
            "at10",
            "at10_again",
            "at10.routed_to <> at10_again.routed_to",
        );
        assert_eq!(
            left, 0,
            "senders that left unified when the percentage rose"
        );
        assert_eq!(
            bounced, 0,
            "senders that changed target at the same percentage"
        );
        pgrx::notice!(
            "20000 senders: unified share {:.2}% at 10%, {:.2}% at 25%; {} left unified on the raise; {} changed at a held percentage",
            s10 * 100.0,
            s25 * 100.0,
            left,
            bounced
        );
    }
}
