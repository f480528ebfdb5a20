//! The WhatsApp Cloud API webhook, as typed structs read straight from the jsonb binary form.
//!
//! Only the fields routing needs are read; everything else in a payload is never visited.
//! A POST body can batch several entries, changes and messages: the first user message decides
//! where the whole body goes, since the body is forwarded as one request.
use crate::core::message::Inbound;
use crate::core::text::Field;
use crate::pg::jsonb::{JValue, JsonbArg, Text};
use serde::Deserialize;

#[derive(Deserialize, Default)]
#[serde(default)]
struct Contact<'a> {
    #[serde(borrow)]
    wa_id: Text<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Message<'a> {
    #[serde(borrow)]
    from: Text<'a>,
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(borrow, rename = "type")]
    kind: Text<'a>,
    #[serde(borrow)]
    text: Body<'a>,
    #[serde(borrow)]
    image: Media<'a>,
    #[serde(borrow)]
    video: Media<'a>,
    #[serde(borrow)]
    document: Media<'a>,
    #[serde(borrow)]
    interactive: Interactive<'a>,
    #[serde(borrow)]
    button: Button<'a>,
    #[serde(borrow)]
    referral: Referral<'a>,
    #[serde(borrow)]
    order: Order<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Body<'a> {
    #[serde(borrow)]
    body: Text<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Media<'a> {
    #[serde(borrow)]
    caption: Text<'a>,
    #[serde(borrow)]
    filename: Text<'a>,
}

/// The click-to-WhatsApp ad a conversation started from.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Referral<'a> {
    #[serde(borrow)]
    headline: Text<'a>,
    #[serde(borrow)]
    body: Text<'a>,
}

/// A catalog order: its note.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Order<'a> {
    #[serde(borrow)]
    text: Text<'a>,
}

/// A WhatsApp Flow's reply: what the user filled in, as a JSON string.
#[derive(Deserialize, Default)]
#[serde(default)]
struct FlowReply<'a> {
    #[serde(borrow)]
    response_json: Text<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Interactive<'a> {
    #[serde(borrow)]
    button_reply: Reply<'a>,
    #[serde(borrow)]
    list_reply: Reply<'a>,
    #[serde(borrow)]
    nfm_reply: FlowReply<'a>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct Reply<'a> {
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(borrow)]
    title: Text<'a>,
    #[serde(borrow)]
    description: Text<'a>,
}

/// Template quick-reply button: `payload` is the id the business set, `text` the label.
#[derive(Deserialize, Default)]
#[serde(default)]
struct Button<'a> {
    #[serde(borrow)]
    text: Text<'a>,
    #[serde(borrow)]
    payload: Text<'a>,
}

/// What a payload holds, as far as routing is concerned.
#[derive(Debug, PartialEq, Eq)]
pub enum Payload<'a> {
    /// Not a webhook body: SQL NULL, a scalar, an array, or an object without `entry`.
    NotAWebhook,
    /// A webhook with no user message (delivery statuses, errors, empty batches).
    NoUserMessage,
    Message(Inbound<'a>),
}

/// The elements of an array (nothing for anything else). Every 4,096 elements it answers a
/// cancel (statement_timeout): a body of a million empty entries or messages is walked to the
/// first user message, never past a cancel.
fn elements(value: Option<JValue<'_>>) -> impl Iterator<Item = JValue<'_>> {
    let array = match value {
        Some(JValue::Array(c)) => Some(c),
        _ => None,
    };
    (0..array.map_or(0, |c| c.len())).filter_map(move |i| {
        if i % 4096 == 4095 {
            pgrx::check_for_interrupts!();
        }
        array.and_then(|c| c.element(i))
    })
}

/// A field of an object (nothing for anything else).
fn field<'a>(value: Option<JValue<'a>>, key: &str) -> Option<JValue<'a>> {
    match value {
        Some(JValue::Object(c)) => c.get(key),
        _ => None,
    }
}

/// The user messages of a change's `value`, in order. A messages[] element that is not an
/// object, or has neither sender nor type, is junk and left out.
fn user_messages<'a>(value: Option<JValue<'a>>) -> impl Iterator<Item = Message<'a>> {
    elements(field(value, "messages"))
        .map(|m| Message::deserialize(m).unwrap_or_default())
        .filter(|m| m.from.get().is_some() || m.kind.get().is_some())
}

/// A message's routing view; its sender from the change's contacts when it has no `from`.
fn inbound<'a>(message: &Message<'a>, value: Option<JValue<'a>>) -> Inbound<'a> {
    let sender = message.from.get().or_else(|| {
        elements(field(value, "contacts"))
            .find_map(|c| Contact::deserialize(c).ok().and_then(|c| c.wa_id.get()))
    });
    Inbound {
        sender,
        message_id: message.id.get(),
        kind: message.kind.get(),
        ids: [
            message.interactive.button_reply.id,
            message.interactive.list_reply.id,
            message.button.payload,
        ]
        .iter()
        .filter_map(Text::get)
        .collect(),
        texts: [
            (Field::Body, message.text.body),
            (Field::Caption, message.image.caption),
            (Field::Caption, message.video.caption),
            (Field::Caption, message.document.caption),
            (Field::Filename, message.document.filename),
            (Field::Title, message.interactive.button_reply.title),
            (Field::Title, message.interactive.list_reply.title),
            (
                Field::Description,
                message.interactive.list_reply.description,
            ),
            (
                Field::FlowReply,
                message.interactive.nfm_reply.response_json,
            ),
            (Field::ButtonText, message.button.text),
            (Field::AdHeadline, message.referral.headline),
            (Field::AdBody, message.referral.body),
            (Field::OrderText, message.order.text),
        ]
        .iter()
        .filter_map(|(field, text)| text.get().map(|t| (*field, t)))
        .collect(),
    }
}

/// A delivery status of one of the business's own messages: `sent`, `delivered`, `read` or
/// `failed`, with the user in `recipient_id`.
#[derive(Deserialize, Default)]
#[serde(default)]
struct StatusObject<'a> {
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(borrow)]
    recipient_id: Text<'a>,
    #[serde(borrow)]
    status: Text<'a>,
}

/// One element of a body, in body order: a user message or a status.
#[derive(Debug, PartialEq, Eq)]
pub enum Item<'a> {
    Message(Inbound<'a>),
    Status {
        id: Option<&'a str>,
        recipient: Option<&'a str>,
        status: Option<&'a str>,
    },
}

/// Every user message and status of a body, in order (None: not a webhook body), but at most
/// `limit + 1`: the walk stops there, so that a body over the caller's bound costs no more than
/// one at it. Junk elements (not objects, or without what makes them a message or a status) are
/// left out.
pub fn parse_all<'a>(payload: Option<&JsonbArg<'a>>, limit: usize) -> Option<Vec<Item<'a>>> {
    let root = payload.map(JsonbArg::value);
    let entries = match field(root, "entry") {
        None | Some(JValue::Null) => return None,
        entries => entries,
    };
    let mut items = Vec::new();
    for change in elements(entries).flat_map(|e| elements(field(Some(e), "changes"))) {
        if items.len() > limit {
            break;
        }
        let value = field(Some(change), "value");
        for message in user_messages(value) {
            if items.len() > limit {
                break;
            }
            items.push(Item::Message(inbound(&message, value)));
        }
        for st in elements(field(value, "statuses")) {
            if items.len() > limit {
                break;
            }
            let status = StatusObject::deserialize(st).unwrap_or_default();
            if status.id.get().is_some() || status.recipient_id.get().is_some() {
                items.push(Item::Status {
                    id: status.id.get(),
                    recipient: status.recipient_id.get(),
                    status: status.status.get(),
                });
            }
        }
    }
    Some(items)
}

/// Read a webhook payload. Never fails: anything that does not fit is answered by the variant.
///
/// The envelope (`entry[].changes[].value`) is walked in place, stopping at the first user
/// message, so that a batch costs nothing beyond what it takes to find that message; the
/// message and its contact are read into the typed structs above.
pub fn parse<'a>(payload: Option<&JsonbArg<'a>>) -> Payload<'a> {
    let root = payload.map(JsonbArg::value);
    let entries = match field(root, "entry") {
        None | Some(JValue::Null) => return Payload::NotAWebhook,
        entries => entries,
    };
    for change in elements(entries).flat_map(|e| elements(field(Some(e), "changes"))) {
        let value = field(Some(change), "value");
        let Some(message) = user_messages(value).next() else {
            continue;
        };
        return Payload::Message(inbound(&message, value));
    }
    Payload::NoUserMessage
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;
    use pgrx::prelude::*;
    use pgrx::FromDatum;

    /// Parse a jsonb built by SQL (so the binary form is the one Postgres makes) and check it.
    fn with_parsed(sql_jsonb: &str, check: impl FnOnce(Payload)) {
        Spi::connect(|client| {
            let table = client
                .select(&format!("SELECT ({sql_jsonb})::jsonb"), Some(1), &[])
                .unwrap();
            let datum = table.first().get_datum_by_ordinal(1).unwrap();
            // SAFETY: a jsonb column of a live SPI tuple.
            let arg = datum.and_then(|d| unsafe { JsonbArg::from_datum(d, false) });
            check(parse(arg.as_ref()));
        });
    }

    /// SQL for a webhook whose single change has the given `value` (SQL expression).
    fn value_sql(value: &str) -> String {
        format!(
            "jsonb_build_object('entry', jsonb_build_array(jsonb_build_object('changes', \
             jsonb_build_array(jsonb_build_object('value', {value})))))"
        )
    }

    fn strs<'a>(m: &Inbound<'a>) -> Vec<&'a str> {
        m.texts.iter().map(|t| t.1).collect()
    }

    fn literal(json: &str) -> String {
        format!("'{}'", json.replace('\'', "''"))
    }

    #[pg_test]
    fn fixtures_parse_as_whatsapp_sends_them() {
        let cases: [(&str, Option<&str>, Option<&str>, Option<&str>, &[&str]); 7] = [
            (
                include_str!("../../tests/fixtures/text_jobs.json"),
                Some("250788123456"),
                Some("wamid.A1"),
                Some("text"),
                &[],
            ),
            (
                include_str!("../../tests/fixtures/text_property.json"),
                Some("250788555001"),
                Some("wamid.A2"),
                Some("text"),
                &[],
            ),
            (
                include_str!("../../tests/fixtures/button_reply_marketplace.json"),
                Some("250788555002"),
                Some("wamid.A3"),
                Some("interactive"),
                &["marketplace_sell"],
            ),
            (
                include_str!("../../tests/fixtures/list_reply_jobs.json"),
                Some("250788555003"),
                Some("wamid.A4"),
                Some("interactive"),
                &["jobs_post_vacancy"],
            ),
            (
                include_str!("../../tests/fixtures/template_button_insurance.json"),
                Some("250788555004"),
                Some("wamid.A5"),
                Some("button"),
                &["insurance_renew"],
            ),
            (
                include_str!("../../tests/fixtures/location_mobility.json"),
                Some("250788555005"),
                Some("wamid.A6"),
                Some("location"),
                &[],
            ),
            (
                include_str!("../../tests/fixtures/image_caption_marketplace.json"),
                Some("250788555007"),
                Some("wamid.A8"),
                Some("image"),
                &[],
            ),
        ];
        for (json, sender, id, kind, ids) in cases {
            with_parsed(&literal(json), |p| match p {
                Payload::Message(m) => {
                    assert_eq!(m.sender, sender);
                    assert_eq!(m.message_id, id);
                    assert_eq!(m.kind, kind);
                    assert_eq!(m.ids, ids);
                }
                other => panic!("{json}: {other:?}"),
            });
        }
        with_parsed(
            &literal(include_str!("../../tests/fixtures/text_jobs.json")),
            |p| {
                let Payload::Message(m) = p else { panic!() };
                assert_eq!(
                    strs(&m),
                    ["Hello, are there any job openings for accountants?"]
                );
            },
        );
        with_parsed(
            &literal(include_str!("../../tests/fixtures/list_reply_jobs.json")),
            |p| {
                let Payload::Message(m) = p else { panic!() };
                assert_eq!(strs(&m), ["Post a vacancy", "Employers"]);
            },
        );
        with_parsed(
            &literal(include_str!("../../tests/fixtures/status_delivered.json")),
            |p| assert_eq!(p, Payload::NoUserMessage),
        );
    }

    /// Whatever the jsonb, parse answers: table of shapes a router meets.
    #[pg_test]
    fn any_jsonb_is_answered() {
        let not_webhook = [
            "NULL",
            "'null'",
            "'1'",
            "'\"text\"'",
            "'true'",
            "'[]'",
            "'[1, {\"entry\": []}]'",
            "'{}'",
            "'{\"object\": \"page\"}'",
            "'{\"entry\": null}'",
        ];
        for sql in not_webhook {
            with_parsed(sql, |p| assert_eq!(p, Payload::NotAWebhook, "{sql}"));
        }
        let no_message = [
            "'{\"entry\": []}'",
            "'{\"entry\": 5}'",
            "'{\"entry\": [5, \"x\", null, []]}'",
            "'{\"entry\": [{\"changes\": \"x\"}]}'",
            "'{\"entry\": [{\"changes\": [{\"value\": []}]}]}'",
            "'{\"entry\": [{\"changes\": [{\"value\": {\"messages\": [1, null, \"x\", [], {}]}}]}]}'",
            "'{\"entry\": [{\"changes\": [{\"value\": {\"messages\": [{\"from\": 12, \"type\": [\"x\"]}]}}]}]}'",
            "'{\"entry\": [{\"changes\": [{\"value\": {\"messages\": [{\"from\": \"\", \"type\": \"\"}]}}]}]}'",
        ];
        for sql in no_message {
            with_parsed(sql, |p| assert_eq!(p, Payload::NoUserMessage, "{sql}"));
        }
    }

    #[pg_test]
    fn wrong_types_deep_nesting_and_big_bodies_read_as_absent() {
        // text is a string, caption a number, ids are objects: only the strings that fit are kept.
        let odd = r#"{"entry":[{"changes":[{"value":{"messages":[{"from":"1","type":"text",
            "text":"not an object","image":{"caption":1e400},"interactive":{"button_reply":{"id":{"x":1},"title":"Sell"}},
            "button":[1,2]}]}}]}]}"#;
        with_parsed(&literal(odd), |p| {
            let Payload::Message(m) = p else {
                panic!("{p:?}")
            };
            assert_eq!(m.sender, Some("1"));
            assert!(m.ids.is_empty());
            assert_eq!(strs(&m), ["Sell"]);
        });
        // 2,000 levels of nesting (far past serde_json's 128) in the body, and in a field nobody reads.
        let deep = value_sql(
            "jsonb_build_object('messages', jsonb_build_array(jsonb_build_object(\
               'from', '7', 'type', 'text', \
               'junk', (repeat('[', 2000) || repeat(']', 2000))::jsonb, \
               'text', jsonb_build_object('body', (repeat('[', 2000) || '\"job\"' || repeat(']', 2000))::jsonb))))",
        );
        with_parsed(&deep, |p| {
            let Payload::Message(m) = p else {
                panic!("{p:?}")
            };
            assert_eq!(m.sender, Some("7"));
            assert!(m.texts.is_empty());
        });
        // An 8 MB body: 200,000 junk keys beside the message, and a 4 MB text.
        let big = format!(
            "(SELECT jsonb_object_agg('k' || g, repeat('x', 20)) FROM generate_series(1, 200000) g) || {}",
            value_sql(
                "jsonb_build_object(\
                   'contacts', jsonb_build_array(jsonb_build_object('wa_id', '250700000001')), \
                   'messages', jsonb_build_array(jsonb_build_object('type', 'text', 'id', 'wamid.big', \
                      'text', jsonb_build_object('body', 'job ' || repeat('y', 4000000)))))"
            )
        );
        with_parsed(&big, |p| {
            let Payload::Message(m) = p else {
                panic!("{p:?}")
            };
            // No `from`: the sender comes from contacts[].wa_id.
            assert_eq!(m.sender, Some("250700000001"));
            assert_eq!(m.message_id, Some("wamid.big"));
            assert_eq!(m.texts.len(), 1);
            assert_eq!(m.texts[0].1.len(), 4 + 4_000_000);
        });
    }

    #[pg_test]
    fn the_first_user_message_of_a_batch_decides() {
        let batch = r#"{"entry":[
            {"changes":[{"value":{"statuses":[{"id":"wamid.OUT1","status":"read"}]}}]},
            {"changes":[{"value":{"messages":[{"junk":true},{"from":"2","id":"wamid.B1","type":"text","text":{"body":"first"}}]}},
                        {"value":{"messages":[{"from":"3","id":"wamid.B2","type":"text","text":{"body":"second"}}]}}]}]}"#;
        with_parsed(&literal(batch), |p| {
            let Payload::Message(m) = p else {
                panic!("{p:?}")
            };
            assert_eq!((m.sender, m.message_id), (Some("2"), Some("wamid.B1")));
            assert_eq!(strs(&m), ["first"]);
        });
        // Keys with escapes and non-ASCII text survive the binary read.
        let unicode = r#"{"entry":[{"changes":[{"value":{"messages":[{"from":"4","type":"text","text":{"body":"Ndashaka akazi \u00e9t\u00e9 \"job\""}}]}}]}]}"#;
        with_parsed(&literal(unicode), |p| {
            let Payload::Message(m) = p else {
                panic!("{p:?}")
            };
            assert_eq!(strs(&m), ["Ndashaka akazi été \"job\""]);
        });
    }
}
