//! One message's path: the sender's history read from the log, the policy decided, the
//! decision logged, or a re-delivery answered with its first decision. Both entry points,
//! route_decision and route_messages (src/api/), call it.
use crate::pg::config_cache::Snapshot;
use crate::pg::decision_counts;
use crate::pg::gucs::CONVERSATION_TIMEOUT;
use crate::pg::standby::{in_recovery, refuse_during_recovery};
use crate::route::history::{self, message_key, sender_key, History, Known};
use crate::route::log::{count_retry, log_decision};
use crate::route::policy::{decide, Decision, Reason, Sticky, MAX_MESSAGE_ID};
use crate::route::row::{Prior, SessionState};
use crate::route::whatsapp::Payload;

/// One message, decided: the decision and its log row's id, or the first decision of a retry.
pub struct Routed {
    pub decision: Decision,
    pub decision_id: Option<i64>,
    pub conversation_id: Option<i64>,
}

/// Decide `payload` for its sender (with the conversation given, or read from the log), log it
/// when `log` is true, or answer a re-delivery with its first decision; and count the answer
/// for routing_metrics() (src/pg/decision_counts.rs).
pub fn route_one(
    payload: &Payload,
    webhook_name: Option<&str>,
    routing_key: Option<&str>,
    log: bool,
    snapshot: &Snapshot,
    known: Option<&mut Known>,
) -> Routed {
    let routed = answer(payload, webhook_name, routing_key, log, snapshot, known);
    let d = &routed.decision;
    decision_counts::count(d.domain.as_deref(), d.routed_to(), d.reason.as_str());
    routed
}

/// `route_one`'s answer, before it is counted.
fn answer(
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
    // Drawn once: a re-delivery decided again keeps the draw of its first decision here.
    let sticky = Sticky::of_payload(payload, routing_key);
    let sender_key = sender_key(snapshot.secret.as_ref(), webhook_name, sticky.key());
    // An id too long to be WhatsApp's is nobody's re-delivery (decide answers it). The log
    // keeps the id's keyed hash, never the id (a wamid holds its sender's number).
    let message_key = message_key(
        snapshot.secret.as_ref(),
        message
            .and_then(|m| m.message_id)
            .filter(|id| id.len() <= MAX_MESSAGE_ID),
    );
    let message_id = message_key.as_deref();
    let history = read_history(sender_key, message_id, known.as_deref());
    // A re-delivery gets its first decision back, unless the settings in force would move it
    // (a decrease, a rollback, the kill switch: a unified handler may be why WhatsApp retries);
    // then it is decided again, in the first one's conversation, and logged as a new decision.
    let conversation = match &history.retry_of {
        Some(first) => first.conversation(),
        None => history.latest.as_ref().and_then(Prior::conversation),
    };
    let mut decision = decide(
        payload,
        conversation.as_ref(),
        sticky,
        snapshot.config.as_ref(),
        &snapshot.rules,
    );
    if let Some(first) = history.retry_of.as_ref() {
        if decision.unified == first.unified {
            // A retry seen within this call (a body carrying the same message twice) is
            // counted once its row exists: a first decision of this call has no created_at.
            if log && first.created_at.is_some() && !in_recovery() {
                count_retry(first);
            }
            return first_decision_back(first, message_id);
        }
    }
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
        known.record(sk, as_prior(&decision, own_id, session), message_id);
    }
    let conversation_id = decision.conversation_id(own_id).filter(|&c| c > 0);
    Routed {
        decision,
        decision_id,
        conversation_id,
    }
}

/// The sender's history in the log, with what this call decided before for the same sender
/// (`known`, route_messages) laid over it. Empty without a sender key.
fn read_history(
    sender_key: Option<i64>,
    message_id: Option<&str>,
    known: Option<&Known>,
) -> History {
    let mut history = History::default();
    if let Some(sk) = sender_key {
        history = history::history(sk, message_id, CONVERSATION_TIMEOUT.get());
        if let Some(k) = known {
            k.overlay(sk, message_id, &mut history);
        }
    }
    history
}

/// A re-delivery's answer: its first decision, with reason `retry`.
fn first_decision_back(first: &Prior, message_id: Option<&str>) -> Routed {
    Routed {
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
    }
}

/// A decision of this call as the sender's next message will read it back (`own_id` 0 when it
/// was not logged), for route_messages' later messages of the same sender.
fn as_prior(decision: &Decision, own_id: i64, session: SessionState) -> Prior {
    Prior {
        id: own_id,
        created_at: None,
        domain: decision.domain.clone(),
        unified: decision.unified,
        bucket: decision.bucket,
        percentage: decision.percentage,
        config_id: decision.config_id,
        conversation_id: decision.conversation_id(own_id),
        session,
    }
}
