//! `route_decision`: where one webhook goes, and why. The file to read for "why did this message
//! go to legacy".
//!
//! A message goes to the unified handler only when all of these hold, checked in this order:
//! it is a user message; a rule maps it to a domain; the domain is not protected; the domain is
//! routable (in `domains`); routing is enabled globally and for the domain; and the sender's
//! sticky bucket is below the domain's percentage × 100. Each failed check has its reason.
use crate::bucket::{bucket, in_rollout, random_bucket};
use crate::cache::{accept_invalidations, run_kept, snapshot};
use crate::commit::relax_for_log_write;
use crate::config::{Bp, Config};
use crate::detect::Rules;
use crate::error::spi_failed;
use crate::jsonb::JsonbArg;
use crate::whatsapp::{parse, Payload};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::AnyNumeric;
use pgrx::{IntoDatum, PgTupleDesc};

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
}

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
}

impl Decision {
    pub fn routed_to(&self) -> &'static str {
        if self.unified {
            "unified"
        } else {
            "legacy"
        }
    }
}

/// Decide, without touching the database: the whole routing policy.
pub fn decide(
    payload: &Payload,
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
    };
    let message = match payload {
        Payload::NotAWebhook => return decision,
        Payload::NoUserMessage => {
            decision.reason = Reason::NoUserMessage;
            return decision;
        }
        Payload::Message(message) => message,
    };
    decision.message_id = message.message_id.map(str::to_owned);
    let Some(detection) = rules.detect(message) else {
        decision.reason = Reason::UnknownDomain;
        return decision;
    };
    let domain = detection.domain;
    decision.domain = Some(domain.to_owned());
    decision.rule_id = Some(detection.rule_id);
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
    } else {
        decision.unified = in_rollout(bucket, percentage);
        match (decision.unified, sticky) {
            (true, true) => Reason::InRollout,
            (true, false) => Reason::InRolloutRandom,
            (false, true) => Reason::NotInRollout,
            (false, false) => Reason::NotInRolloutRandom,
        }
    };
    decision
}

/// A percentage in basis points as numeric with two decimals.
pub fn bp_to_numeric(bp: Bp) -> AnyNumeric {
    let text = format!("{}.{:02}", bp / 100, bp % 100);
    AnyNumeric::try_from(text.as_str()).unwrap_or_default()
}

fn log_decision(webhook_name: Option<&str>, decision: &Decision) -> i64 {
    relax_for_log_write();
    let args: [DatumWithOid; 9] = [
        webhook_name.into(),
        decision.domain.as_deref().into(),
        decision.routed_to().into(),
        decision.reason.as_str().into(),
        decision.bucket.into(),
        decision.percentage.into(),
        decision.config_id.into(),
        decision.rule_id.into(),
        decision.message_id.as_deref().into(),
    ];
    let sql = |schema: &str| {
        format!(
            "INSERT INTO {schema}.webhook_routing_logs (webhook_name, domain, routed_to, status, \
                 reason, bucket, percentage, config_id, rule_id, message_id) \
             VALUES ($1, $2, $3, 'pending', $4, $5, pg_catalog.round($6 OPERATOR(pg_catalog./) 100.0, 2), $7, $8, $9) \
             RETURNING id"
        )
    };
    match run_kept("log_decision", sql, &args) {
        Ok(Some(id)) => id,
        Ok(None) => spi_failed("log the decision", "INSERT returned no id"),
        Err(e) => spi_failed("log the decision", e),
    }
}

/// The descriptor of the result row, built on the first call at each call site and kept in
/// `fn_extra` for the next ones (building it per call cost about as much as the routing).
///
/// # Safety
/// `fcinfo` is the call's own function call info.
unsafe fn result_tupdesc(fcinfo: pg_sys::FunctionCallInfo) -> pg_sys::TupleDesc {
    unsafe {
        let flinfo = (*fcinfo).flinfo;
        if (*flinfo).fn_extra.is_null() {
            let mut tupdesc: pg_sys::TupleDesc = std::ptr::null_mut();
            let class = pg_sys::get_call_result_type(fcinfo, std::ptr::null_mut(), &mut tupdesc);
            if class != pg_sys::TypeFuncClass::TYPEFUNC_COMPOSITE || tupdesc.is_null() {
                spi_failed(
                    "describe its result",
                    "route_decision must return routing_decision",
                );
            }
            let old = pg_sys::MemoryContextSwitchTo((*flinfo).fn_mcxt);
            let kept = pg_sys::BlessTupleDesc(pg_sys::CreateTupleDescCopy(tupdesc));
            pg_sys::MemoryContextSwitchTo(old);
            (*flinfo).fn_extra = kept.cast();
        }
        (*flinfo).fn_extra.cast()
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
) -> pgrx::composite_type!('static, "routing_decision") {
    accept_invalidations();
    let payload = parse(message.as_ref());
    let snapshot = snapshot();
    let decision = decide(
        &payload,
        routing_key,
        snapshot.config.as_ref(),
        &snapshot.rules,
    );
    // NULL means "not said": log, so that nothing is lost.
    let decision_id = log
        .unwrap_or(true)
        .then(|| log_decision(webhook_name, &decision));
    let datums = [
        decision_id.into_datum(),
        decision.domain.as_deref().into_datum(),
        decision.routed_to().into_datum(),
        decision.reason.as_str().into_datum(),
        decision.bucket.into_datum(),
        decision.percentage.map(bp_to_numeric).into_datum(),
        decision.config_id.into_datum(),
    ];
    // SAFETY: the datums match routing_decision's columns, in order and type.
    unsafe {
        let tupdesc = PgTupleDesc::from_pg_unchecked(result_tupdesc(fcinfo));
        PgHeapTuple::from_datums(tupdesc, datums)
            .unwrap_or_else(|e| spi_failed("build the decision row", e))
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::*;
    use crate::detect::{MatchKind, Rule};
    use crate::whatsapp::Inbound;

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
            texts: vec![text],
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
            let d = decide(&payload, None, config, &rules);
            assert_eq!((d.unified, d.reason), (unified, reason), "case {name}");
            assert_eq!(d.routed_to(), if unified { "unified" } else { "legacy" });
        }
    }

    #[pg_test]
    fn routing_key_overrides_the_sender() {
        let rules = rules();
        let cfg = config(5_000, true);
        let by_sender = decide(
            &msg("a job", Some("250788123456")),
            None,
            Some(&cfg),
            &rules,
        );
        assert_eq!(by_sender.bucket, Some(bucket("jobs", "250788123456")));
        let by_key = decide(
            &msg("a job", Some("250788123456")),
            Some("tenant-42"),
            Some(&cfg),
            &rules,
        );
        assert_eq!(by_key.bucket, Some(bucket("jobs", "tenant-42")));
        // An empty key is no key.
        let empty = decide(
            &msg("a job", Some("250788123456")),
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
                include_str!("../tests/fixtures/text_jobs.json"),
                Some("jobs"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../tests/fixtures/text_property.json"),
                Some("property"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../tests/fixtures/button_reply_marketplace.json"),
                Some("marketplace"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../tests/fixtures/list_reply_jobs.json"),
                Some("jobs"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../tests/fixtures/image_caption_marketplace.json"),
                Some("marketplace"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../tests/fixtures/template_button_insurance.json"),
                Some("insurance"),
                "protected_domain",
                "protected_domain",
            ),
            (
                include_str!("../tests/fixtures/location_mobility.json"),
                Some("mobility"),
                "protected_domain",
                "protected_domain",
            ),
            (
                include_str!("../tests/fixtures/status_delivered.json"),
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
        let (bucket, message_id) = Spi::get_two::<i32, String>(
            "SELECT bucket, message_id FROM webhook_routing_logs \
             WHERE message_id = 'wamid.A1' AND routed_to = 'unified'",
        )
        .unwrap();
        assert_eq!(bucket, Some(super::bucket("jobs", "250788123456")));
        assert_eq!(message_id.as_deref(), Some("wamid.A1"));
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
        let template = fixture(include_str!("../tests/fixtures/text_jobs.json"));
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
