//! The rollout settings in force (the newest row of `webhook_routing_config`) and the detection
//! rules, read through SPI under the newest snapshot (src/pg/read_newest.rs).
use crate::core::config::{Bp, Config};
use crate::core::detect::{Effect, MatchKind, Rule, Rules};
use crate::pg::jsonb::JsonbArg;
use crate::pg::read_newest::{self, Snapshot};
use pgrx::FromDatum;
use std::collections::BTreeMap;

impl Config {
    /// The newest committed row of the history in the extension's (quoted) schema, or None
    /// when the history is empty. Read under the newest snapshot, whatever the caller's
    /// (src/pg/read_newest.rs): what a decision uses and what a change is built from is never older
    /// than a change already committed.
    pub fn load_from(schema: &str) -> Option<Config> {
        let query = format!(
            "SELECT id, (percentage OPERATOR(pg_catalog.*) 100)::int4, enabled, domains, protected_domains, \
                    domain_percentages, domain_enabled, testers, denied \
             FROM {schema}.webhook_routing_config ORDER BY created_at DESC, id DESC LIMIT 1"
        );
        read_newest::select(&query, Snapshot::Latest, |row| {
            // SAFETY: the types of the columns selected above.
            let (id, percentage, enabled, domains, protected) = unsafe {
                (
                    row.get::<i64>(1),
                    row.get::<i32>(2).unwrap_or(0),
                    row.get::<bool>(3).unwrap_or(false),
                    row.get::<Vec<Option<String>>>(4),
                    row.get::<Vec<Option<String>>>(5),
                )
            };
            // SAFETY: the columns are jsonb, and the row lives while the closure runs.
            let jsonb = |ordinal| {
                row.datum(ordinal)
                    .and_then(|d| unsafe { JsonbArg::from_datum(d, false) })
            };
            let domain_percentages = jsonb(6)
                .and_then(|j| j.read::<BTreeMap<&str, f64>>().ok())
                .unwrap_or_default()
                .into_iter()
                .map(|(d, p)| (d.to_owned(), (p * 100.0).round() as Bp))
                .collect();
            let domain_enabled = jsonb(7)
                .and_then(|j| j.read::<BTreeMap<&str, bool>>().ok())
                .unwrap_or_default()
                .into_iter()
                .map(|(d, e)| (d.to_owned(), e))
                .collect();
            let lists = |ordinal| -> BTreeMap<String, Vec<String>> {
                jsonb(ordinal)
                    .and_then(|j| j.read::<BTreeMap<&str, Vec<&str>>>().ok())
                    .unwrap_or_default()
                    .into_iter()
                    .map(|(d, keys)| (d.to_owned(), keys.into_iter().map(str::to_owned).collect()))
                    .collect()
            };
            let (testers, denied) = (lists(8), lists(9));
            let flatten = |v: Option<Vec<Option<String>>>| {
                v.unwrap_or_default().into_iter().flatten().collect()
            };
            Config {
                id,
                percentage,
                enabled,
                domains: flatten(domains),
                protected: flatten(protected),
                domain_percentages,
                domain_enabled,
                testers,
                denied,
            }
        })
        .pop()
    }
}

/// The enabled detection rules, given the extension's quoted schema, read as the config is.
pub fn load_rules(schema: &str) -> Rules {
    load_rules_where(schema, "enabled")
}

/// The detection rules that `condition` (SQL over the rules table) selects.
pub fn load_rules_where(schema: &str, condition: &str) -> Rules {
    let query = format!(
        "SELECT id, domain, match_kind, pattern, priority, effect, weight, language, enabled \
         FROM {schema}.webhook_routing_rules WHERE {condition}"
    );
    let rules = read_newest::select(&query, Snapshot::Latest, |row| {
        // SAFETY: the types of the columns selected above.
        let (id, domain, kind, pattern, priority, effect, weight, language, enabled) = unsafe {
            (
                row.get::<i64>(1).unwrap_or(0),
                row.get::<String>(2).unwrap_or_default(),
                row.get::<String>(3).unwrap_or_default(),
                row.get::<String>(4).unwrap_or_default(),
                row.get::<i32>(5).unwrap_or(i32::MAX),
                row.get::<String>(6).unwrap_or_default(),
                row.get::<f32>(7),
                row.get::<String>(8),
                row.get::<bool>(9).unwrap_or(false),
            )
        };
        let effect = Effect::parse(&effect)?;
        MatchKind::parse(&kind)
            .and_then(|kind| Rule::new(id, &domain, kind, &pattern, priority))
            .map(|rule| {
                let mut rule = rule.with(effect, weight, language);
                rule.enabled = enabled;
                rule
            })
    });
    Rules::new(rules.into_iter().flatten().collect()).with_interrupts(check_for_interrupts)
}

/// The server's check for a cancel (statement_timeout, pg_cancel_backend), which detection
/// makes during a long scan: given to the rules, since src/core/ names no pgrx.
fn check_for_interrupts() {
    pgrx::check_for_interrupts!();
}
