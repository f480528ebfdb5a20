//! Property test of the payload parser: for any JSON value, near-WhatsApp or not, reading it
//! from the jsonb binary form in place (src/route/whatsapp.rs over src/pg/jsonb.rs) finds exactly what a
//! plain walk of the same value as a serde_json tree finds. The values are made by proptest
//! (shrunk to a minimal case on failure), turned into jsonb by Postgres itself.
use crate::core::text::Field;
use crate::pg::jsonb::JsonbArg;
use crate::route::whatsapp::{parse, Payload};
use pgrx::prelude::*;
use pgrx::FromDatum;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};
use serde_json::{Map, Value};

/// What the parser should report, computed from the serde_json tree.
#[derive(Debug, PartialEq, Eq)]
enum Expected {
    NotAWebhook,
    NoUserMessage,
    Message {
        sender: Option<String>,
        message_id: Option<String>,
        kind: Option<String>,
        ids: Vec<String>,
        texts: Vec<(Field, String)>,
    },
}

fn get<'v>(v: Option<&'v Value>, key: &str) -> Option<&'v Value> {
    v.and_then(Value::as_object).and_then(|o| o.get(key))
}

fn path<'v>(v: Option<&'v Value>, keys: &[&str]) -> Option<&'v Value> {
    keys.iter().fold(v, |v, k| get(v, k))
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
}

fn items(v: Option<&Value>) -> impl Iterator<Item = &Value> {
    v.and_then(Value::as_array).into_iter().flatten()
}

/// The reference reading: the documented rules, written the obvious way.
fn reference(root: &Value) -> Expected {
    match get(Some(root), "entry") {
        None | Some(Value::Null) => return Expected::NotAWebhook,
        Some(_) => {}
    }
    for entry in items(get(Some(root), "entry")) {
        for change in items(get(Some(entry), "changes")) {
            let value = get(Some(change), "value");
            let Some(m) = items(get(value, "messages")).find(|m| {
                text(get(Some(m), "from")).is_some() || text(get(Some(m), "type")).is_some()
            }) else {
                continue;
            };
            let m = Some(m);
            let sender = text(get(m, "from")).or_else(|| {
                items(get(value, "contacts")).find_map(|c| text(get(Some(c), "wa_id")))
            });
            let pick = |paths: &[&[&str]]| -> Vec<String> {
                paths.iter().filter_map(|p| text(path(m, p))).collect()
            };
            let fields = |paths: &[(Field, &[&str])]| -> Vec<(Field, String)> {
                paths
                    .iter()
                    .filter_map(|(f, p)| text(path(m, p)).map(|t| (*f, t)))
                    .collect()
            };
            return Expected::Message {
                sender,
                message_id: text(get(m, "id")),
                kind: text(get(m, "type")),
                ids: pick(&[
                    &["interactive", "button_reply", "id"],
                    &["interactive", "list_reply", "id"],
                    &["button", "payload"],
                ]),
                texts: fields(&[
                    (Field::Body, &["text", "body"]),
                    (Field::Caption, &["image", "caption"]),
                    (Field::Caption, &["video", "caption"]),
                    (Field::Caption, &["document", "caption"]),
                    (Field::Filename, &["document", "filename"]),
                    (Field::Title, &["interactive", "button_reply", "title"]),
                    (Field::Title, &["interactive", "list_reply", "title"]),
                    (
                        Field::Description,
                        &["interactive", "list_reply", "description"],
                    ),
                    (
                        Field::FlowReply,
                        &["interactive", "nfm_reply", "response_json"],
                    ),
                    (Field::ButtonText, &["button", "text"]),
                    (Field::AdHeadline, &["referral", "headline"]),
                    (Field::AdBody, &["referral", "body"]),
                    (Field::OrderText, &["order", "text"]),
                ]),
            };
        }
    }
    Expected::NoUserMessage
}

fn observed(payload: &Payload) -> Expected {
    let owned = |s: &Option<&str>| s.map(str::to_owned);
    match payload {
        Payload::NotAWebhook => Expected::NotAWebhook,
        Payload::NoUserMessage => Expected::NoUserMessage,
        Payload::Message(m) => Expected::Message {
            sender: owned(&m.sender),
            message_id: owned(&m.message_id),
            kind: owned(&m.kind),
            ids: m.ids.iter().map(|s| (*s).to_owned()).collect(),
            texts: m.texts.iter().map(|(f, s)| (*f, (*s).to_owned())).collect(),
        },
    }
}

/// Any JSON: scalars of every type (numbers far beyond f64 too), nested arrays and objects.
fn junk() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON has no NaN or infinity", |f| f.is_finite())
            .prop_map(Value::from),
        Just(serde_json::from_str::<Value>("1e400").unwrap_or(Value::Null)),
        "[a-z_ ]{0,12}".prop_map(Value::String),
        "\\PC{0,10}".prop_map(Value::String),
    ];
    leaf.prop_recursive(4, 40, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_]{1,8}", inner, 0..5)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// Mostly the right kind of value, sometimes junk, sometimes absent.
fn or_junk(good: BoxedStrategy<Value>) -> BoxedStrategy<Option<Value>> {
    prop_oneof![5 => good.prop_map(Some), 1 => junk().prop_map(Some), 1 => Just(None)].boxed()
}

fn string(pattern: &'static str) -> BoxedStrategy<Value> {
    pattern.prop_map(Value::String).boxed()
}

/// An object with the given fields, each present or not, right or junk.
fn object(fields: Vec<(&'static str, BoxedStrategy<Value>)>) -> BoxedStrategy<Value> {
    let parts: Vec<BoxedStrategy<Option<(&'static str, Value)>>> = fields
        .into_iter()
        .map(|(k, s)| or_junk(s).prop_map(move |v| v.map(|v| (k, v))).boxed())
        .collect();
    parts
        .prop_map(|kv| {
            Value::Object(
                kv.into_iter()
                    .flatten()
                    .map(|(k, v)| (k.to_owned(), v))
                    .collect::<Map<String, Value>>(),
            )
        })
        .boxed()
}

fn array_of(item: BoxedStrategy<Value>, max: usize) -> BoxedStrategy<Value> {
    prop::collection::vec(prop_oneof![4 => item, 1 => junk().boxed()], 0..max)
        .prop_map(Value::Array)
        .boxed()
}

/// Near-WhatsApp webhook bodies: the real shape, with any part missing, empty or junk.
fn webhook() -> impl Strategy<Value = Value> {
    let words =
        "(|job|jobs|taxi|house for rent|sell|my account|hello|[a-z]{1,8})( [a-z]{1,6}){0,3}";
    let reply = || {
        object(vec![
            (
                "id",
                string("(jobs_|marketplace_|property_|mobility_)?[a-z_]{0,10}"),
            ),
            ("title", string(words)),
            ("description", string(words)),
        ])
    };
    let message = object(vec![
        ("from", string("(|2507[0-9]{8})")),
        ("id", string("(|wamid\\.[A-Z0-9]{4})")),
        (
            "type",
            string("(|text|interactive|button|location|image|order|reaction)"),
        ),
        ("text", object(vec![("body", string(words))])),
        ("image", object(vec![("caption", string(words))])),
        ("video", object(vec![("caption", string(words))])),
        (
            "document",
            object(vec![
                ("caption", string(words)),
                ("filename", string(words)),
            ]),
        ),
        (
            "interactive",
            object(vec![
                ("button_reply", reply()),
                ("list_reply", reply()),
                ("nfm_reply", object(vec![("response_json", string(words))])),
            ]),
        ),
        (
            "referral",
            object(vec![("headline", string(words)), ("body", string(words))]),
        ),
        ("order", object(vec![("text", string(words))])),
        (
            "button",
            object(vec![
                ("text", string(words)),
                ("payload", string("[a-z_]{0,12}")),
            ]),
        ),
    ]);
    let contact = object(vec![("wa_id", string("(|2507[0-9]{8})"))]);
    let value = object(vec![
        ("messaging_product", string("whatsapp")),
        ("contacts", array_of(contact, 3)),
        ("messages", array_of(message, 3)),
        ("statuses", array_of(junk().boxed(), 2)),
    ]);
    let change = object(vec![("field", string("messages")), ("value", value)]);
    let entry = object(vec![
        ("id", string("[0-9]{4}")),
        ("changes", array_of(change, 3)),
    ]);
    let body = object(vec![
        ("object", string("whatsapp_business_account")),
        ("entry", array_of(entry, 3)),
    ]);
    prop_oneof![9 => body, 1 => junk().boxed()]
}

/// The parser's reading of `json`, made jsonb by Postgres.
fn parse_via_postgres(json: &str) -> Result<Expected, TestCaseError> {
    Spi::connect(|client| {
        let table = client
            .select("SELECT $1::jsonb", Some(1), &[json.into()])
            .map_err(|e| TestCaseError::fail(format!("jsonb input: {e}")))?;
        let datum = table
            .first()
            .get_datum_by_ordinal(1)
            .map_err(|e| TestCaseError::fail(format!("jsonb datum: {e}")))?;
        // SAFETY: a jsonb column of a live SPI tuple, read before the SPI connection closes.
        let arg = datum.and_then(|d| unsafe { JsonbArg::from_datum(d, false) });
        Ok(observed(&parse(arg.as_ref())))
    })
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;

    #[pg_test]
    fn the_jsonb_reader_agrees_with_a_plain_walk_of_the_same_json() {
        let mut runner = TestRunner::new(Config {
            cases: 4000,
            failure_persistence: None,
            ..Config::default()
        });
        let kinds = std::cell::Cell::new([0usize; 3]);
        let result = runner.run(&webhook(), |value| {
            let json = serde_json::to_string(&value).expect("a serde_json value serializes");
            let expected = reference(&value);
            let got = parse_via_postgres(&json)?;
            prop_assert_eq!(&got, &expected, "payload: {}", json);
            let mut counted = kinds.get();
            counted[match expected {
                Expected::NotAWebhook => 0,
                Expected::NoUserMessage => 1,
                Expected::Message { .. } => 2,
            }] += 1;
            kinds.set(counted);
            Ok(())
        });
        if let Err(e) = result {
            panic!("{e}");
        }
        // The generator must reach every outcome, or the property says little.
        let kinds = kinds.get();
        assert!(
            kinds.iter().all(|&n| n >= 100),
            "cases per outcome (not a webhook, no user message, message): {kinds:?}"
        );
    }
}
