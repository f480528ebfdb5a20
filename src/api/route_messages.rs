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
use crate::pg::error::Refusal;
use crate::pg::gucs::RETRY_WINDOW;
use crate::pg::jsonb::JsonbArg;
use crate::route::conversation::{self, sender_key, Known};
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

/// Route every message of a webhook body, and its statuses: one row per element, in order.
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
    let mut rows: Vec<Row> = Vec::new();
    let items = parse_all(body.as_ref(), MAX_BODY_ITEMS);
    if items
        .as_ref()
        .is_some_and(|items| items.len() > MAX_BODY_ITEMS)
    {
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
        .raise();
    }
    let whole = match &items {
        None => Some(Payload::NotAWebhook),
        Some(items) if items.is_empty() => Some(Payload::NoUserMessage),
        Some(_) => None,
    };
    if let Some(payload) = whole {
        let routed = route_one(&payload, webhook_name, None, log, &snapshot, None);
        let d = routed.decision;
        rows.push((
            1,
            "body".into(),
            None,
            None,
            d.domain.clone(),
            d.routed_to().into(),
            d.reason.as_str().into(),
            routed.decision_id,
            None,
            false,
        ));
        return TableIterator::new(rows);
    }
    let mut known = Known::default();
    for (i, item) in items.into_iter().flatten().enumerate() {
        let position = i32::try_from(i + 1).unwrap_or(i32::MAX);
        match item {
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
                rows.push((
                    position,
                    "message".into(),
                    message_id,
                    sender,
                    d.domain.clone(),
                    d.routed_to().into(),
                    d.reason.as_str().into(),
                    routed.decision_id,
                    routed.conversation_id,
                    d.reason == Reason::Retry,
                ));
            }
            Item::Status { id, recipient, .. } => {
                let key = sender_key(snapshot.secret.as_ref(), webhook_name, recipient);
                let mut history = conversation::History::default();
                if let Some(k) = key {
                    history = conversation::history(k, None, RETRY_WINDOW.get());
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
                rows.push((
                    position,
                    "status".into(),
                    id.map(str::to_owned),
                    recipient.map(str::to_owned),
                    domain,
                    target(unified).into(),
                    reason.as_str().into(),
                    None,
                    conversation_id,
                    false,
                ));
            }
        }
    }
    TableIterator::new(rows)
}
