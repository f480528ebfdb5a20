//! `explain_route(message)`: why a message goes to the domain it goes to. Every rule that
//! matched, in which field, for how many points and whether they counted; each domain's score;
//! the decision. With `include_disabled => true` the disabled rules take part as if enabled,
//! so that an operator can add a rule disabled, see what it would change, then enable it.
use crate::pg::config_cache::{accept_invalidations, as_owner, snapshot};
use crate::pg::config_load::load_rules_where;
use crate::pg::jsonb::JsonbArg;
use crate::route::detect::Status;
use crate::route::whatsapp::{parse, Payload};
use pgrx::prelude::*;

type Row = (
    String,
    Option<String>,
    Option<f32>,
    Option<i64>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<String>,
    Option<bool>,
    Option<String>,
    Option<String>,
    Option<String>,
);

#[pg_extern(stable, parallel_safe)]
#[allow(clippy::type_complexity)]
fn explain_route(
    message: Option<JsonbArg<'_>>,
    include_disabled: default!(bool, "false"),
) -> TableIterator<
    'static,
    (
        name!(step, String),
        name!(domain, Option<String>),
        name!(points, Option<f32>),
        name!(rule_id, Option<i64>),
        name!(match_kind, Option<String>),
        name!(pattern, Option<String>),
        name!(effect, Option<String>),
        name!(language, Option<String>),
        name!(enabled, Option<bool>),
        name!(field, Option<String>),
        name!(matched, Option<String>),
        name!(note, Option<String>),
    ),
> {
    accept_invalidations();
    let snapshot = snapshot();
    let protected = |d: &str| snapshot.config.as_ref().is_some_and(|c| c.is_protected(d));
    let decision = |domain: Option<String>, note: &str| -> Row {
        (
            "decision".to_owned(),
            domain,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            Some(note.to_owned()),
        )
    };
    let payload = parse(message.as_ref());
    let message = match &payload {
        Payload::NotAWebhook => {
            return TableIterator::new(vec![decision(None, "not_a_webhook")]);
        }
        Payload::NoUserMessage => {
            return TableIterator::new(vec![decision(None, "no_user_message")]);
        }
        Payload::Message(m) => m,
    };
    let all;
    let rules = if include_disabled {
        all = as_owner(|| load_rules_where(&snapshot.location.schema, "true"));
        &all
    } else {
        &snapshot.rules
    };
    let explanation = rules.explain(message, &protected);
    let mut rows: Vec<Row> = Vec::new();
    for m in &explanation.matches {
        let status = match m.status {
            Status::Counted => "counted".to_owned(),
            Status::Repeat => "repeat: the rule counts once, at its best".to_owned(),
            Status::Covered => "covered: a better match of its domain holds these words".to_owned(),
            Status::Excluded(by) => format!("excluded by rule {by}"),
            Status::Excludes => "excludes its domain's matches here".to_owned(),
            Status::WeakIgnored => "weak: a match rule matched".to_owned(),
        };
        rows.push((
            "match".to_owned(),
            Some(m.rule.domain.clone()),
            Some(m.points),
            Some(m.rule.id),
            Some(m.rule.kind.name().to_owned()),
            Some(m.rule.pattern.clone()),
            Some(m.rule.effect.name().to_owned()),
            m.rule.language.clone(),
            Some(m.rule.enabled),
            Some(m.field.to_owned()),
            Some(m.matched.clone()),
            Some(status),
        ));
    }
    for (domain, score, weak) in &explanation.scores {
        let mut note = format!("match {score:.2}, weak {weak:.2}");
        if protected(domain) {
            note.push_str(", protected");
        }
        rows.push((
            "score".to_owned(),
            Some(domain.clone()),
            Some(if *score > 0.0 { *score } else { *weak }),
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            None,
            Some(note),
        ));
    }
    let mut note = match (&explanation.decision, &explanation.note) {
        (Some((_, true)), _) => "weak: only weak rules matched".to_owned(),
        (Some(_), Some(n)) => n.clone(),
        (Some(_), None) => "best score".to_owned(),
        (None, Some(n)) => format!("unknown_domain: {n}"),
        (None, None) => "unknown_domain: no rule matched".to_owned(),
    };
    if let Some(request) = explanation.request {
        note.push_str("; ");
        note.push_str(request);
    }
    rows.push(decision(
        explanation.decision.as_ref().map(|d| d.0.clone()),
        &note,
    ));
    TableIterator::new(rows)
}

/// The sticky bucket a sender (or routing key) has in a domain: the same hash route_decision uses.
#[pg_extern(immutable, strict, parallel_safe)]
fn routing_bucket(domain: &str, key: &str) -> i32 {
    crate::core::bucket::bucket(domain, key)
}
