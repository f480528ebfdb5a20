//! The admin functions as 0.1.0 to 0.6.0 declare them, kept frozen for the databases not yet
//! updated.
//!
//! Since 0.7.0 the admin functions are PL/pgSQL (sql/admin.sql), and the update creates them.
//! But a database runs the new library from its install on, and the update
//! (`ALTER EXTENSION webhook_routing UPDATE`) may come days later: until then its catalog still
//! declares these functions `LANGUAGE c`, with these symbols. They must go on doing what they
//! did, the kill switch first (docs/src/operations/upgrades.md). So this is the Rust they were
//! until 0.7.0 made them SQL, the same code, exported under the same symbols and declared by no
//! install or update script of 0.7.0 (`sql = false`): the updated schema never calls it. It
//! reads and writes the config history through helpers the routing shares (Config, the kept
//! plans, the newest snapshot); a change to those must keep it working on the schemas that
//! declare it (tests/pg_regress/sql/19_private_update.sql runs it on 0.6.0's). Change a
//! behaviour in sql/admin.sql, not here: this file changes only when what it calls does, and
//! goes when no supported version declares these symbols.
//!
//! What the Rust said of them: each change validates everything first (SQLSTATE 22023 or 22004 with
//! a hint on refusal, the history untouched), then appends one row with the full settings in force
//! to `webhook_routing_config` and raises a NOTICE saying what is now in force. Changes are
//! serialized by a SHARE ROW EXCLUSIVE lock on the config table, which readers do not wait for, so
//! two concurrent changes never lose one another. The row in force is read after the lock is taken,
//! under the newest snapshot whatever the caller's isolation level (src/pg/read_newest.rs). The old
//! scripts' declarations give them their attributes (SECURITY DEFINER, the search path, the
//! defaults, the grants).
use crate::core::config::{Bp, Config};
use crate::pg::config_cache::snapshot;
use crate::pg::durability::insist_for_config_change;
use crate::pg::error::{spi_failed, OrRaise, Refusal};
use crate::pg::kept_plans::run_kept;
use crate::pg::read_newest::{self, Snapshot as Read};
use crate::pg::standby::refuse_during_recovery;
use pgrx::datum::DatumWithOid;
use pgrx::pg_sys::panic::ErrorReport;
use pgrx::prelude::*;
use pgrx::AnyNumeric;

/// A NOTICE with an optional detail: what an admin function tells the operator it did.
fn notice(message: impl Into<String>, detail: Option<String>) {
    let mut report = ErrorReport::new(
        PgSqlErrorCode::ERRCODE_SUCCESSFUL_COMPLETION,
        message.into(),
        "webhook_routing",
    );
    if let Some(detail) = detail {
        report = report.set_detail(detail);
    }
    report.report(PgLogLevel::NOTICE);
}

/// Said when a domain is changed while the global kill switch is off.
const GLOBALLY_DISABLED: &str =
    "Routing is disabled globally: nothing is routed until set_routing_enabled(true).";

/// Longest reason kept in the history.
const MAX_REASON: usize = 1000;

/// Parse a percentage: a number from 0 to 100 with at most two decimals, in basis points.
fn parse_percentage(percentage: Option<&AnyNumeric>) -> Result<Bp, Refusal> {
    let hint = "Pass a number from 0 to 100 with at most two decimals, e.g. 10 or 12.5.";
    let Some(percentage) = percentage else {
        return Err(Refusal::null("percentage").hint(hint));
    };
    let text = percentage.to_string();
    let refuse = |why: &str| {
        Err(Refusal::invalid(format!("invalid percentage {text}"))
            .detail(why.to_owned())
            .hint(hint))
    };
    let (int_part, frac_part) = text.split_once('.').unwrap_or((&text, ""));
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    if !digits(int_part) || !(frac_part.is_empty() || digits(frac_part)) {
        // NaN, Infinity, negative numbers.
        return refuse("The percentage must be between 0 and 100.");
    }
    let frac = frac_part.trim_end_matches('0');
    if frac.len() > 2 {
        return refuse("The percentage has more than two decimals.");
    }
    let whole: u64 = match int_part.parse() {
        Ok(v) if v <= 100 => v,
        _ => return refuse("The percentage must be between 0 and 100."),
    };
    let hundredths: u64 = format!("{frac:0<2}").parse().unwrap_or(0);
    let bp = whole * 100 + hundredths;
    if bp > 10_000 {
        return refuse("The percentage must be between 0 and 100.");
    }
    Ok(bp as Bp)
}

/// "10%", "12.5%", "0.25%".
fn format_percentage(bp: Bp) -> String {
    let text = format!("{}.{:02}", bp / 100, bp % 100);
    let text = text.trim_end_matches('0').trim_end_matches('.');
    format!("{text}%")
}

fn validate_reason(reason: Option<&str>) -> Result<(), Refusal> {
    if reason.is_some_and(|r| r.chars().count() > MAX_REASON) {
        return Err(Refusal::invalid("reason is too long")
            .detail(format!("A reason has at most {MAX_REASON} characters."))
            .hint("Summarize the reason; link to a ticket for the details."));
    }
    Ok(())
}

/// A valid domain name: lowercase letters, digits and underscores, starting with a letter.
fn valid_domain_name(domain: &str) -> bool {
    let mut bytes = domain.bytes();
    domain.len() <= 63
        && bytes.next().is_some_and(|b| b.is_ascii_lowercase())
        && bytes.all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
}

/// The domain an admin call targets must be routable: known, and not protected.
fn validate_domain(config: &Config, domain: &str) -> Result<(), Refusal> {
    if config.is_protected(domain) {
        return Err(
            Refusal::invalid(format!("domain \"{domain}\" is protected"))
                .detail(format!(
                    "Protected domains are never routed: {}.",
                    config.protected.join(", ")
                ))
                .hint(
                    "Protected domains always go to their legacy handler; pick a routable domain.",
                ),
        );
    }
    if !config.is_routable(domain) {
        return Err(Refusal::invalid(format!("unknown domain \"{domain}\""))
            .detail(format!("Routable domains: {}.", config.domains.join(", ")))
            .hint("Check the spelling, or add the domain with webhook_routing.set_routing_domains() first."));
    }
    Ok(())
}

/// The role that called the admin function, as `current_user` says outside it (inside a
/// SECURITY DEFINER function, `current_user` is the extension's owner).
fn calling_role() -> String {
    // SAFETY: the outer user id is always a valid role of this session; the name is palloc'd
    // and copied out at once.
    unsafe {
        let name = pg_sys::GetUserNameFromId(pg_sys::GetOuterUserId(), false);
        core::ffi::CStr::from_ptr(name)
            .to_string_lossy()
            .into_owned()
    }
}

/// What a staged rollout adds to the history row it appends.
#[derive(Default)]
struct Origin<'a> {
    rollout_id: Option<i64>,
    /// jsonb text.
    detail: Option<&'a str>,
}

/// Lock the history, read the row in force, let `change` build the next one (or refuse), and
/// append it. Returns the new row.
fn append(
    action: &str,
    reason: Option<&str>,
    change: impl FnOnce(&Config) -> Result<Config, Refusal>,
) -> Config {
    append_from(action, reason, Origin::default(), change)
}

fn append_from(
    action: &str,
    reason: Option<&str>,
    origin: Origin,
    change: impl FnOnce(&Config) -> Result<Config, Refusal>,
) -> Config {
    validate_reason(reason).or_raise();
    refuse_during_recovery(
        "the routing config cannot change on a hot standby",
        "Run the admin functions on the primary; standbys follow its config history.",
    );
    insist_for_config_change();
    let schema = snapshot().location.schema.clone();
    Spi::run(&format!(
        "LOCK TABLE {schema}.webhook_routing_config IN SHARE ROW EXCLUSIVE MODE"
    ))
    .unwrap_or_else(|e| spi_failed("lock webhook_routing_config", e));
    // The newest committed row, not the one the caller's snapshot shows: under REPEATABLE
    // READ an older snapshot would rebuild the row without a change committed since (a kill
    // switch turned back on). With the lock held, no other change can commit before ours.
    let current = Config::load_from(&schema).unwrap_or_default();
    let mut next = change(&current).or_raise();
    let (pct_domains, pct_values): (Vec<&str>, Vec<i32>) = next
        .domain_percentages
        .iter()
        .map(|(d, p)| (d.as_str(), *p))
        .unzip();
    let (en_domains, en_values): (Vec<&str>, Vec<bool>) = next
        .domain_enabled
        .iter()
        .map(|(d, e)| (d.as_str(), *e))
        .unzip();
    let sql = |schema: &str| {
        format!(
            "INSERT INTO {schema}.webhook_routing_config (percentage, enabled, domains, \
                 protected_domains, domain_percentages, domain_enabled, action, reason, \
                 changed_by, rollout_id, detail, testers, denied) \
             SELECT pg_catalog.round($1 OPERATOR(pg_catalog./) 100.0, 2), $2, $3, $4, \
                    (SELECT coalesce(pg_catalog.jsonb_object_agg(k, \
                                pg_catalog.round(v OPERATOR(pg_catalog./) 100.0, 2)), '{{}}') \
                       FROM unnest($5::text[], $6::int4[]) AS t(k, v)), \
                    (SELECT coalesce(pg_catalog.jsonb_object_agg(k, v), '{{}}') \
                       FROM unnest($7::text[], $8::bool[]) AS t(k, v)), \
                    $9, $10, $11, $12, $13::jsonb, $14::jsonb, $15::jsonb \
             RETURNING id"
        )
    };
    let changed_by = calling_role();
    let lists = |l: &std::collections::BTreeMap<String, Vec<String>>| {
        serde_json::to_string(l).unwrap_or_else(|_| "{}".to_owned())
    };
    let (testers, denied) = (lists(&next.testers), lists(&next.denied));
    let args: [DatumWithOid; 15] = [
        next.percentage.into(),
        next.enabled.into(),
        next.domains.clone().into(),
        next.protected.clone().into(),
        pct_domains.into(),
        pct_values.into(),
        en_domains.into(),
        en_values.into(),
        action.into(),
        reason.into(),
        changed_by.as_str().into(),
        origin.rollout_id.into(),
        origin.detail.into(),
        testers.as_str().into(),
        denied.as_str().into(),
    ];
    next.id = run_kept("append_config", sql, &args)
        .unwrap_or_else(|e| spi_failed("append to webhook_routing_config", e));
    next
}

/// Each routable domain's percentage in force, in the order of `domains`, and which are off:
/// a global switch says what it applies to, not the global percentage that some domains
/// override ("jobs 0%, marketplace 5%, property 25% (off)").
fn in_force(c: &Config) -> String {
    let list: Vec<String> = c
        .domains
        .iter()
        .filter(|d| c.is_routable(d))
        .map(|d| {
            format!(
                "{d} {}{}",
                format_percentage(c.percentage_for(d)),
                if c.domain_enabled(d) { "" } else { " (off)" }
            )
        })
        .collect();
    if list.is_empty() {
        "no routable domain".to_owned()
    } else {
        list.join(", ")
    }
}

/// Which domains follow the global percentage or switch, said after a global change.
fn overrides_detail<T: std::fmt::Display>(
    what: &str,
    overrides: impl Iterator<Item = (String, T)>,
) -> Option<String> {
    let list: Vec<String> = overrides.map(|(d, v)| format!("{d} ({v})")).collect();
    (!list.is_empty()).then(|| format!("These domains keep their own {what}: {}.", list.join(", ")))
}

/// Set the rollout percentage, globally or for one domain (which then overrides the global one).
#[pg_extern(sql = false)]
fn update_routing_percentage(
    percentage: Option<AnyNumeric>,
    reason: Option<&str>,
    domain: Option<&str>,
) -> i64 {
    let bp = parse_percentage(percentage.as_ref()).or_raise();
    let next = append("set_percentage", reason, |current| {
        let mut next = current.clone();
        match domain {
            None => next.percentage = bp,
            Some(d) => {
                validate_domain(current, d)?;
                next.domain_percentages.insert(d.to_owned(), bp);
            }
        }
        Ok(next)
    });
    match domain {
        None => notice(
            format!(
                "Routing percentage updated to {}. Enabled: {}",
                format_percentage(bp),
                next.enabled
            ),
            overrides_detail(
                "percentage",
                next.domain_percentages
                    .iter()
                    .filter(|(d, _)| next.is_routable(d))
                    .map(|(d, p)| (d.clone(), format_percentage(*p))),
            ),
        ),
        Some(d) => notice(
            format!(
                "Routing percentage for {d} updated to {}. Enabled: {}",
                format_percentage(bp),
                next.enabled && next.domain_enabled(d)
            ),
            (!next.enabled).then(|| GLOBALLY_DISABLED.to_owned()),
        ),
    }
    next.id.unwrap_or_default()
}

/// Turn routing on or off, globally (the kill switch) or for one domain.
#[pg_extern(sql = false)]
fn set_routing_enabled(enabled: Option<bool>, reason: Option<&str>, domain: Option<&str>) -> i64 {
    let Some(enabled) = enabled else {
        Refusal::null("enabled")
            .hint("Pass true to route, false to send everything to legacy.")
            .raise()
    };
    let next = append("set_enabled", reason, |current| {
        let mut next = current.clone();
        match domain {
            None => next.enabled = enabled,
            Some(d) => {
                validate_domain(current, d)?;
                next.domain_enabled.insert(d.to_owned(), enabled);
            }
        }
        Ok(next)
    });
    let state = |on: bool| if on { "enabled" } else { "disabled" };
    match domain {
        None => notice(
            if enabled {
                format!("Routing enabled: {}.", in_force(&next))
            } else {
                format!(
                    "Routing disabled: nothing is routed ({} once enabled again).",
                    in_force(&next)
                )
            },
            overrides_detail(
                "switch",
                next.domain_enabled
                    .iter()
                    .filter(|(d, e)| next.is_routable(d) && !**e)
                    .map(|(d, e)| (d.clone(), state(*e))),
            ),
        ),
        Some(d) => notice(
            format!(
                "Routing for {d} {}. Percentage: {}",
                state(enabled),
                format_percentage(next.percentage_for(d))
            ),
            (enabled && !next.enabled).then(|| GLOBALLY_DISABLED.to_owned()),
        ),
    }
    next.id.unwrap_or_default()
}

/// The most routing keys a domain's list of testers or of denied keys holds.
const MAX_LIST: usize = 1000;

/// A list of routing keys as stored: each trimmed, a phone number as WhatsApp's `from` writes
/// it (digits only: "+250 788-123-456" is "250788123456"), each 1 to 200 characters, sorted,
/// once each; or the refusal.
fn routing_keys(keys: Option<Vec<Option<String>>>, what: &str) -> Result<Vec<String>, Refusal> {
    let Some(keys) = keys else {
        return Err(Refusal::null(what)
            .hint("Pass the routing keys, e.g. ARRAY['250788123456'], or '{}' for none."));
    };
    if keys.len() > MAX_LIST {
        return Err(Refusal::invalid(format!("too many {what}: {}", keys.len()))
            .detail(format!("A domain's list holds at most {MAX_LIST} routing keys."))
            .hint("List the people who test the unified handler; a share of everyone is the percentage."));
    }
    let mut out: Vec<String> = Vec::with_capacity(keys.len());
    for (i, key) in keys.into_iter().enumerate() {
        let Some(key) = key else {
            return Err(Refusal::null(&format!("{what} element {}", i + 1))
                .hint("Leave NULLs out of the list."));
        };
        let key = key.trim();
        let phone = key.starts_with('+')
            || key
                .chars()
                .all(|c| c.is_ascii_digit() || c == ' ' || c == '-');
        let key: String = if phone && key.chars().any(|c| c.is_ascii_digit()) {
            key.chars().filter(char::is_ascii_digit).collect()
        } else {
            key.to_owned()
        };
        if key.is_empty() || key.chars().count() > 200 {
            return Err(Refusal::invalid(format!("invalid routing key in {what}: \"{key}\""))
                .detail("A routing key has 1 to 200 characters.")
                .hint("Use the sender's number as WhatsApp sends it in `from` (e.g. 250788123456), or the routing key the caller passes."));
        }
        // WhatsApp's `from` is the full international number, which never starts with 0 (a
        // national trunk prefix, as in 0788 123 456) and has at most 15 digits: a number
        // written otherwise would be stored, said to be listed, and match no sender.
        if phone && (key.starts_with('0') || key.len() > 15) {
            return Err(Refusal::invalid(format!(
                "routing key in {what} is not a full international number: \"{key}\""
            ))
            .detail("A sender's number is listed as WhatsApp sends it in `from`: the country code, then the number, at most 15 digits, never a leading 0.")
            .hint("Write the number with its country code, e.g. 250788123456 for 0788 123 456 in Rwanda."));
        }
        out.push(key);
    }
    out.sort();
    out.dedup();
    Ok(out)
}

/// Which of a domain's lists of routing keys.
#[derive(Clone, Copy, PartialEq)]
enum List {
    Testers,
    Denied,
}

impl List {
    fn name(self) -> &'static str {
        match self {
            List::Testers => "testers",
            List::Denied => "denied",
        }
    }

    fn of(self, config: &mut Config) -> &mut std::collections::BTreeMap<String, Vec<String>> {
        match self {
            List::Testers => &mut config.testers,
            List::Denied => &mut config.denied,
        }
    }
}

/// Set a domain's testers or denied keys; an empty list removes it.
fn set_list(
    list: List,
    domain: Option<&str>,
    keys: Option<Vec<Option<String>>>,
    reason: Option<&str>,
) -> i64 {
    let Some(domain) = domain else {
        Refusal::null("domain")
            .hint("Name the domain, e.g. 'jobs'.")
            .raise()
    };
    let keys = routing_keys(keys, list.name()).or_raise();
    let action = format!("set_{}", list.name());
    let next = append(&action, reason, |current| {
        validate_domain(current, domain)?;
        let mut next = current.clone();
        if keys.is_empty() {
            list.of(&mut next).remove(domain);
        } else {
            list.of(&mut next).insert(domain.to_owned(), keys.clone());
        }
        Ok(next)
    });
    let both: Vec<&str> = keys
        .iter()
        .filter(|k| next.is_tester(domain, k) && next.is_denied(domain, k))
        .map(String::as_str)
        .collect();
    let detail = (!both.is_empty()).then(|| {
        format!(
            "Both a tester and denied, so never on unified: {}.",
            both.join(", ")
        )
    });
    let message = match (list, keys.len()) {
        (List::Testers, 0) => {
            format!("{domain} has no testers: every sender follows the percentage.")
        }
        (List::Testers, 1) => format!(
            "1 tester of {domain} goes to unified before the percentage applies (while routing is enabled)."
        ),
        (List::Testers, n) => format!(
            "{n} testers of {domain} go to unified before the percentage applies (while routing is enabled)."
        ),
        (List::Denied, 0) => format!("{domain} denies no one: every sender follows the percentage."),
        (List::Denied, 1) => format!("1 routing key of {domain} never goes to unified."),
        (List::Denied, n) => format!("{n} routing keys of {domain} never go to unified."),
    };
    notice(message, detail);
    next.id.unwrap_or_default()
}

/// A domain's testers: routing keys (a sender's `from`, or the routing key a caller passes)
/// that go to unified before the percentage applies, while routing is enabled. An empty list
/// removes them. One row of the config history.
#[pg_extern(sql = false)]
fn set_routing_testers(
    domain: Option<&str>,
    testers: Option<Vec<Option<String>>>,
    reason: Option<&str>,
) -> i64 {
    set_list(List::Testers, domain, testers, reason)
}

/// A domain's deny list: routing keys that never go to unified, testers or not. An empty list
/// removes it. One row of the config history.
#[pg_extern(sql = false)]
fn set_routing_denied(
    domain: Option<&str>,
    denied: Option<Vec<Option<String>>>,
    reason: Option<&str>,
) -> i64 {
    set_list(List::Denied, domain, denied, reason)
}

/// The plans in progress (active or paused): domain, id, state; read as the config is.
fn plans_in_progress() -> Vec<(String, i64, String)> {
    let schema = snapshot().location.schema.clone();
    let query = format!(
        "SELECT domain, id, state FROM {schema}.webhook_routing_rollouts \
         WHERE state OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'paused']) ORDER BY id"
    );
    read_newest::select(&query, Read::Latest, |row| {
        // SAFETY: the types of the columns selected above.
        unsafe {
            (
                row.get::<String>(1).unwrap_or_default(),
                row.get::<i64>(2).unwrap_or_default(),
                row.get::<String>(3).unwrap_or_default(),
            )
        }
    })
}

/// Set which domains may be routed. Protected domains can never be among them.
#[pg_extern(sql = false)]
fn set_routing_domains(domains: Option<Vec<Option<String>>>, reason: Option<&str>) -> i64 {
    let Some(domains) = domains else {
        Refusal::null("domains")
            .hint("Pass an array of domain names, e.g. ARRAY['jobs','marketplace'].")
            .raise()
    };
    let names = domain_names(domains);
    let mut dropped: Vec<String> = Vec::new();
    let next = append("set_domains", reason, |current| {
        refuse_domains_change(&names, current)?;
        let next = without_removed(current, &names, &mut dropped);
        Ok(next)
    });
    notice(
        format!(
            "Routable domains set to {}.",
            if next.domains.is_empty() {
                "none".to_owned()
            } else {
                next.domains.join(", ")
            }
        ),
        (!dropped.is_empty()).then(|| {
            format!(
                "The own percentage, switch, testers and denied keys of {} were dropped with them: added back, they follow the global settings.",
                dropped.join(", ")
            )
        }),
    );
    next.id.unwrap_or_default()
}

/// The routable domains given, checked: no NULL, valid names, each once.
fn domain_names(domains: Vec<Option<String>>) -> Vec<String> {
    let mut names: Vec<String> = Vec::with_capacity(domains.len());
    for d in domains {
        let Some(d) = d else {
            Refusal::null("a domain name")
                .hint("Remove the NULL from the array.")
                .raise()
        };
        if !valid_domain_name(&d) {
            Refusal::invalid(format!("invalid domain name \"{d}\""))
                .detail("A domain name has lowercase letters, digits and underscores, starts with a letter, and has at most 63 characters.")
                .hint("Use the names the rules map to, e.g. jobs or ai_agents.")
                .raise()
        }
        if names.contains(&d) {
            Refusal::invalid(format!("domain \"{d}\" is listed twice"))
                .hint("List each domain once.")
                .raise()
        }
        names.push(d);
    }
    names
}

/// Why the routable domains may not become `names`: a protected domain among them, or a
/// removed domain with a rollout in progress.
fn refuse_domains_change(names: &[String], current: &Config) -> Result<(), Refusal> {
    if let Some(p) = names.iter().find(|d| current.is_protected(d)) {
        return Err(Refusal::invalid(format!("domain \"{p}\" is protected"))
            .detail(format!(
                "Protected domains are never routed: {}.",
                current.protected.join(", ")
            ))
            .hint("Leave protected domains out of the routable domains."));
    }
    // A plan walking a domain that is no longer routable could neither advance nor roll
    // back: the domain stays until its plan ends.
    let removed = removed(current, names);
    if let Some((domain, plan, state)) = plans_in_progress()
        .into_iter()
        .find(|(d, _, _)| removed.contains(&d))
    {
        return Err(Refusal::new(
                PgSqlErrorCode::ERRCODE_OBJECT_NOT_IN_PREREQUISITE_STATE,
                format!("domain \"{domain}\" has a rollout in progress"),
            )
            .detail(format!("Rollout {plan} is {state}."))
            .hint(format!(
                "End it first with webhook_routing.abort_rollout('{domain}', reason), or keep {domain} among the routable domains."
            )));
    }
    Ok(())
}

/// The routable domains of `current` that `names` leaves out.
fn removed<'a>(current: &'a Config, names: &[String]) -> Vec<&'a String> {
    current
        .domains
        .iter()
        .filter(|d| !names.contains(d))
        .collect()
}

/// `current` with the routable domains `names`. A removed domain's own percentage and switch
/// go with it, so that adding it back later starts from the global settings rather than from
/// what it had then; the domains that had any are added to `dropped`.
fn without_removed(current: &Config, names: &[String], dropped: &mut Vec<String>) -> Config {
    let mut next = current.clone();
    next.domains = names.to_vec();
    for domain in removed(current, names) {
        let percentage = next.domain_percentages.remove(domain.as_str());
        let switch = next.domain_enabled.remove(domain.as_str());
        let testers = next.testers.remove(domain.as_str());
        let denied = next.denied.remove(domain.as_str());
        if percentage.is_some() || switch.is_some() || testers.is_some() || denied.is_some() {
            dropped.push(domain.clone());
        }
    }
    next
}

/// For the staged rollouts (sql/rollouts.sql): set a domain's percentage, recording the
/// transition (`action`), its rollout and what it saw. Validated like update_routing_percentage;
/// silent (the rollout functions say what happened). Not granted to anyone: the rollout
/// functions call it as the extension's owner.
#[pg_extern(sql = false)]
fn webhook_routing_set_step(
    domain: Option<&str>,
    percentage: Option<AnyNumeric>,
    action: Option<&str>,
    reason: Option<&str>,
    rollout_id: Option<i64>,
    detail: Option<pgrx::JsonB>,
) -> i64 {
    let bp = parse_percentage(percentage.as_ref()).or_raise();
    let Some(domain) = domain else {
        Refusal::null("domain")
            .hint("Name the domain the rollout is for, e.g. 'jobs'.")
            .raise()
    };
    let detail = detail.map(|d| d.0.to_string());
    let origin = Origin {
        rollout_id,
        detail: detail.as_deref(),
    };
    let next = append_from(action.unwrap_or("rollout"), reason, origin, |current| {
        // 0% is always safe to record, for a domain no longer routable too: a plan must be
        // able to end (abort, roll back) whatever became of its domain.
        if bp != 0 || current.is_protected(domain) {
            validate_domain(current, domain)?;
        }
        let mut next = current.clone();
        next.domain_percentages.insert(domain.to_owned(), bp);
        Ok(next)
    });
    next.id.unwrap_or_default()
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::*;

    fn n(s: &str) -> AnyNumeric {
        AnyNumeric::try_from(s).unwrap()
    }

    #[pg_test]
    fn frozen_percentages_parse_exactly() {
        for (text, bp) in [
            ("0", 0),
            ("10.00", 1000),
            ("12.5", 1250),
            ("0.01", 1),
            ("100.000", 10_000),
        ] {
            assert_eq!(parse_percentage(Some(&n(text))).ok(), Some(bp), "{text}");
        }
        for (text, why) in [
            ("-0.01", "between 0 and 100"),
            ("100.01", "between 0 and 100"),
            ("1e10", "between 0 and 100"),
            ("NaN", "between 0 and 100"),
            ("10.005", "more than two decimals"),
        ] {
            let refusal = parse_percentage(Some(&n(text))).expect_err(text);
            assert_eq!(refusal.message(), format!("invalid percentage {}", n(text)));
            assert!(refusal.detail_text().unwrap().contains(why), "{text}");
        }
    }

    /// The six functions as 0.6.0's install script declares them (LANGUAGE c, these symbols),
    /// in a schema of their own.
    const DECLARED_BEFORE_UPDATE: &str = "
        CREATE SCHEMA wr_before_update;
        CREATE FUNCTION wr_before_update.update_routing_percentage(numeric, text DEFAULT NULL, text DEFAULT NULL)
            RETURNS bigint SECURITY DEFINER SET search_path TO pg_catalog, pg_temp
            LANGUAGE c AS '$libdir/webhook_routing', 'update_routing_percentage_wrapper';
        CREATE FUNCTION wr_before_update.set_routing_enabled(bool, text DEFAULT NULL, text DEFAULT NULL)
            RETURNS bigint SECURITY DEFINER SET search_path TO pg_catalog, pg_temp
            LANGUAGE c AS '$libdir/webhook_routing', 'set_routing_enabled_wrapper';
        CREATE FUNCTION wr_before_update.set_routing_testers(text, text[], text DEFAULT NULL)
            RETURNS bigint SECURITY DEFINER SET search_path TO pg_catalog, pg_temp
            LANGUAGE c AS '$libdir/webhook_routing', 'set_routing_testers_wrapper';
        CREATE FUNCTION wr_before_update.set_routing_denied(text, text[], text DEFAULT NULL)
            RETURNS bigint SECURITY DEFINER SET search_path TO pg_catalog, pg_temp
            LANGUAGE c AS '$libdir/webhook_routing', 'set_routing_denied_wrapper';
        CREATE FUNCTION wr_before_update.set_routing_domains(text[], text DEFAULT NULL)
            RETURNS bigint SECURITY DEFINER SET search_path TO pg_catalog, pg_temp
            LANGUAGE c AS '$libdir/webhook_routing', 'set_routing_domains_wrapper';
        CREATE FUNCTION wr_before_update.webhook_routing_set_step(text, numeric, text, text, bigint, jsonb)
            RETURNS bigint SET search_path TO pg_catalog, pg_temp
            LANGUAGE c AS '$libdir/webhook_routing', 'webhook_routing_set_step_wrapper';";

    /// The settings of the newest row of the history, without what differs between two rows
    /// made by the same call (id, time).
    fn newest_settings() -> String {
        Spi::get_one::<String>(
            "SELECT (to_jsonb(c) - 'id' - 'created_at')::text FROM webhook_routing_config AS c \
             ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .unwrap()
        .unwrap()
    }

    /// Before the update, each call reaches the frozen Rust; after it, sql/admin.sql's function
    /// of the same name. Made in turn, each call of one appends the row the other's made: the
    /// window between a library's install and the update changes the config as before and after.
    #[pg_test]
    fn the_frozen_functions_append_what_the_sql_ones_do() {
        Spi::run(DECLARED_BEFORE_UPDATE).unwrap();
        let calls = [
            "set_routing_enabled(true, 'start')",
            "update_routing_percentage(10, '10%')",
            "update_routing_percentage(25, 'jobs ahead', 'jobs')",
            "set_routing_testers('jobs', ARRAY['+250 788-123-456', 'qa-1'], 'testers')",
            "set_routing_denied('jobs', ARRAY['qa-1'])",
            "set_routing_enabled(false, 'pause property', 'property')",
            "set_routing_domains(ARRAY['jobs', 'marketplace', 'ai_agents'], 'no property')",
            "webhook_routing_set_step('jobs', 5, 'rollout_step', 'a step', NULL, '{\"p\": 0.5}')",
            "set_routing_enabled(false, 'the kill switch')",
        ];
        for call in calls {
            let frozen = Spi::get_one::<i64>(&format!("SELECT wr_before_update.{call}"))
                .unwrap()
                .unwrap();
            let frozen_row = newest_settings();
            let sql = Spi::get_one::<i64>(&format!("SELECT webhook_routing.{call}"))
                .unwrap()
                .unwrap();
            assert!(sql > frozen, "{call}");
            assert_eq!(newest_settings(), frozen_row, "{call}");
        }
        let enabled = Spi::get_one::<bool>(
            "SELECT enabled FROM webhook_routing_config ORDER BY created_at DESC, id DESC LIMIT 1",
        )
        .unwrap();
        assert_eq!(enabled, Some(false));
    }

    #[pg_test(error = "percentage must not be NULL")]
    fn the_frozen_functions_refuse_as_before() {
        Spi::run(DECLARED_BEFORE_UPDATE).unwrap();
        Spi::run("SELECT wr_before_update.update_routing_percentage(NULL)").unwrap();
    }
}
