//! `route_messages`: one decision per message of a webhook body, and statuses by conversation.
//!
//! WhatsApp batches: one body can carry several messages, from several senders, and the
//! delivery statuses of the business's own messages. route_decision answers a body with its
//! first message's decision; route_messages answers each element, in body order, so that a
//! router can split the body per handler (examples/edge-router).
//! - A user message is decided as route_decision decides it, for its own sender, with the
//!   conversation the body's earlier messages left (logged or not), and logged when `log`.
//! - A status goes to the handler of its recipient's newest conversation within
//!   `webhook_routing.retry_window` (reason `status`), or to legacy (`no_conversation`). It is
//!   no decision: nothing is logged, decision_id is NULL.
//! - A body that is not a webhook, or has neither messages nor statuses, is answered by one
//!   row (kind `body`), decided and logged as route_decision would.
//! - A body of more than MAX_BODY_ITEMS elements is refused; the work per element does not
//!   grow with the body (a sender's earlier messages are looked up by id, not scanned).
use crate::pg::config_cache::{accept_invalidations, snapshot};
use crate::pg::decision_counts;
use crate::pg::error::Refusal;
use crate::pg::gucs::RETRY_WINDOW;
use crate::pg::jsonb::JsonbArg;
use crate::route::history::{self, sender_key, Known};
use crate::route::one_message::route_one;
use crate::route::policy::{target, Reason};
use crate::route::whatsapp::{parse_all, Item, Payload};
use pgrx::prelude::*;

/// The most elements (user messages and statuses) one body may hold. WhatsApp batches a few;
/// a body beyond this is refused (54000), so that one call's work and memory stay bounded
/// whoever sends it.
pub const MAX_BODY_ITEMS: usize = 1_000;

type Row = (
    i32,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<i64>,
    Option<i64>,
    bool,
);

/// One element's answer, by name; `row` lays it out in the result's column order.
struct Answer {
    position: i32,
    kind: &'static str,
    message_id: Option<String>,
    sender: Option<String>,
    domain: Option<String>,
    routed_to: &'static str,
    reason: Reason,
    decision_id: Option<i64>,
    conversation_id: Option<i64>,
    retry: bool,
}

impl Answer {
    fn row(self) -> Row {
        (
            self.position,
            self.kind.into(),
            self.message_id,
            self.sender,
            self.domain,
            self.routed_to.into(),
            self.reason.as_str().into(),
            self.decision_id,
            self.conversation_id,
            self.retry,
        )
    }
}

/// Route every message of a webhook body, and its statuses: one row per element, in order.
/// (Over 80 lines with its signature, a quarter of which is the result's ten columns; the body
/// is the whole body's answer, then one short arm per kind of element.)
#[allow(clippy::type_complexity)]
#[pg_extern(volatile, parallel_unsafe)]
fn route_messages(
    body: Option<JsonbArg<'_>>,
    webhook_name: default!(Option<&str>, "'whatsapp'"),
    log: default!(Option<bool>, "true"),
) -> TableIterator<
    'static,
    (
        name!(position, i32),
        name!(kind, String),
        name!(message_id, Option<String>),
        name!(sender, Option<String>),
        name!(domain, Option<String>),
        name!(routed_to, String),
        name!(reason, String),
        name!(decision_id, Option<i64>),
        name!(conversation_id, Option<i64>),
        name!(retry, bool),
    ),
> {
    accept_invalidations();
    let snapshot = snapshot();
    let log = log.unwrap_or(true);
    let items = parse_all(body.as_ref(), MAX_BODY_ITEMS);
    if items
        .as_ref()
        .is_some_and(|items| items.len() > MAX_BODY_ITEMS)
    {
        refuse_too_many();
    }
    let whole = match &items {
        None => Some(Payload::NotAWebhook),
        Some(items) if items.is_empty() => Some(Payload::NoUserMessage),
        Some(_) => None,
    };
    if let Some(payload) = whole {
        let routed = route_one(&payload, webhook_name, None, log, &snapshot, None);
        let d = routed.decision;
        let answer = Answer {
            position: 1,
            kind: "body",
            message_id: None,
            sender: None,
            routed_to: d.routed_to(),
            domain: d.domain,
            reason: d.reason,
            decision_id: routed.decision_id,
            conversation_id: None,
            retry: false,
        };
        return TableIterator::new(vec![answer.row()]);
    }
    let mut known = Known::default();
    let mut rows: Vec<Row> = Vec::new();
    for (i, item) in items.into_iter().flatten().enumerate() {
        let position = i32::try_from(i + 1).unwrap_or(i32::MAX);
        let answer = match item {
            Item::Message(inbound) => {
                let message_id = inbound.message_id.map(str::to_owned);
                let sender = inbound.sender.map(str::to_owned);
                let routed = route_one(
                    &Payload::Message(inbound),
                    webhook_name,
                    None,
                    log,
                    &snapshot,
                    Some(&mut known),
                );
                let d = routed.decision;
                Answer {
                    position,
                    kind: "message",
                    message_id,
                    sender,
                    routed_to: d.routed_to(),
                    domain: d.domain,
                    retry: d.reason == Reason::Retry,
                    reason: d.reason,
                    decision_id: routed.decision_id,
                    conversation_id: routed.conversation_id,
                }
            }
            Item::Status { id, recipient, .. } => {
                let key = sender_key(snapshot.secret.as_ref(), webhook_name, recipient);
                Answer {
                    position,
                    message_id: id.map(str::to_owned),
                    sender: recipient.map(str::to_owned),
                    ..answer_status(key, &known)
                }
            }
        };
        rows.push(answer.row());
    }
    TableIterator::new(rows)
}

/// A status: the handler of its recipient's newest conversation within the retry window (its
/// key `key`), with what this call decided laid over the log, else legacy. Its position, id
/// and recipient are the caller's to fill in.
fn answer_status(key: Option<i64>, known: &Known) -> Answer {
    let mut history = history::History::default();
    if let Some(k) = key {
        history = history::history(k, None, RETRY_WINDOW.get());
        known.overlay(k, None, &mut history);
    }
    let latest = history.latest.filter(|p| p.domain.is_some());
    let (domain, unified, reason, conversation_id) = match latest {
        Some(p) => (
            p.domain,
            p.unified,
            Reason::Status,
            p.conversation_id.filter(|&c| c > 0),
        ),
        None => (None, false, Reason::NoConversation, None),
    };
    decision_counts::count(domain.as_deref(), target(unified), reason.as_str());
    Answer {
        position: 0,
        kind: "status",
        message_id: None,
        sender: None,
        domain,
        routed_to: target(unified),
        reason,
        decision_id: None,
        conversation_id,
        retry: false,
    }
}

/// A body of more than MAX_BODY_ITEMS elements: refused (54000) before anything is decided.
fn refuse_too_many() -> ! {
    Refusal::new(
        PgSqlErrorCode::ERRCODE_PROGRAM_LIMIT_EXCEEDED,
        format!("webhook body holds more than {MAX_BODY_ITEMS} messages and statuses"),
    )
    .detail(format!(
        "route_messages answers at most {MAX_BODY_ITEMS} elements of one body, and reads \
         no further."
    ))
    .hint(
        "WhatsApp's bodies hold a few. Check the webhook's signature before routing, or \
         answer the body with webhook_routing.route_decision, which reads its first \
         message only.",
    )
    .raise()
}
