//! `explain_route(message)`: why a message goes to the domain it goes to. Every rule that
//! matched, in which field, for how many points and whether they counted; each domain's score;
//! the decision. With `include_disabled => true` the disabled rules take part as if enabled,
//! so that an operator can add a rule disabled, see what it would change, then enable it.
use crate::core::detect::{Explained, Explanation, Status};
use crate::pg::config_cache::{accept_invalidations, as_owner, snapshot};
use crate::pg::config_load::load_rules_where;
use crate::pg::jsonb::JsonbArg;
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

/// One row of the explanation, by name; `row` lays it out in the result's column order.
#[derive(Default)]
struct Step {
    step: &'static str,
    domain: Option<String>,
    points: Option<f32>,
    rule_id: Option<i64>,
    match_kind: Option<String>,
    pattern: Option<String>,
    effect: Option<String>,
    language: Option<String>,
    enabled: Option<bool>,
    field: Option<String>,
    matched: Option<String>,
    note: Option<String>,
}

impl Step {
    fn row(self) -> Row {
        (
            self.step.to_owned(),
            self.domain,
            self.points,
            self.rule_id,
            self.match_kind,
            self.pattern,
            self.effect,
            self.language,
            self.enabled,
            self.field,
            self.matched,
            self.note,
        )
    }

    /// The last row: the domain decided, and why.
    fn decision(domain: Option<String>, note: String) -> Step {
        Step {
            step: "decision",
            domain,
            note: Some(note),
            ..Step::default()
        }
    }
}

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
    let payload = parse(message.as_ref());
    let message = match &payload {
        Payload::NotAWebhook => {
            let step = Step::decision(None, "not_a_webhook".to_owned());
            return TableIterator::new(vec![step.row()]);
        }
        Payload::NoUserMessage => {
            let step = Step::decision(None, "no_user_message".to_owned());
            return TableIterator::new(vec![step.row()]);
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
    let mut rows: Vec<Row> = explanation
        .matches
        .iter()
        .map(|m| matched(m).row())
        .collect();
    for (domain, score, weak) in &explanation.scores {
        let mut note = format!("match {score:.2}, weak {weak:.2}");
        if protected(domain) {
            note.push_str(", protected");
        }
        let step = Step {
            step: "score",
            domain: Some(domain.clone()),
            points: Some(if *score > 0.0 { *score } else { *weak }),
            note: Some(note),
            ..Step::default()
        };
        rows.push(step.row());
    }
    let domain = explanation.decision.as_ref().map(|d| d.0.clone());
    rows.push(Step::decision(domain, decision_note(&explanation)).row());
    TableIterator::new(rows)
}

/// A rule that matched: where, for how many points, and whether they counted.
fn matched(m: &Explained) -> Step {
    let status = match m.status {
        Status::Counted => "counted".to_owned(),
        Status::Repeat => "repeat: the rule counts once, at its best".to_owned(),
        Status::Covered => "covered: a better match of its domain holds these words".to_owned(),
        Status::Excluded(by) => format!("excluded by rule {by}"),
        Status::Excludes => "excludes its domain's matches here".to_owned(),
        Status::WeakIgnored => "weak: a match rule matched".to_owned(),
    };
    Step {
        step: "match",
        domain: Some(m.rule.domain.clone()),
        points: Some(m.points),
        rule_id: Some(m.rule.id),
        match_kind: Some(m.rule.kind.name().to_owned()),
        pattern: Some(m.rule.pattern.clone()),
        effect: Some(m.rule.effect.name().to_owned()),
        language: m.rule.language.clone(),
        enabled: Some(m.rule.enabled),
        field: Some(m.field.to_owned()),
        matched: Some(m.matched.clone()),
        note: Some(status),
    }
}

/// Why the decision is what it is: the best score, weak rules only, or no domain.
fn decision_note(explanation: &Explanation) -> String {
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
    note
}

/// The sticky bucket a sender (or routing key) has in a domain: the same hash route_decision uses.
#[pg_extern(immutable, strict, parallel_safe)]
fn routing_bucket(domain: &str, key: &str) -> i32 {
    crate::core::bucket::bucket(domain, key)
}
