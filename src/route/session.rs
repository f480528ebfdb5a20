//! Session continuity, counted when the decision that makes it is logged.
//!
//! A session is a sender's run of logged decisions with no silence longer than
//! `webhook_routing.conversation_timeout` between two of them. It counts for the domain of its
//! first decision with a domain (a greeting before it went to the caller's default handler, as
//! before any rollout). Where the handler changes from one decision to the next, the change is
//!   deliberate  within one conversation, by the settings in force (`DELIBERATE`: a decrease, a
//!               rollback, a domain switched off or made protected, the kill switch, a sender
//!               denied);
//!   switched    a new conversation in another domain, opened by a strong cue;
//!   broken      anything else: a follow-up that left its conversation's handler.
//! A session with a break is broken; `deliberate` and `switched` count the sessions that had
//! one and no break.
//!
//! Reading that from the log meant reading every row of the window with window functions
//! (0.5.0 to 0.6.0: 0.48 s for 100,000 decisions). Instead a decision, which has just read its
//! sender's newest logged decision (src/route/history.rs), is classified against it when it is
//! logged (`step`), and carries its session's state forward in its own row (`SessionState`:
//! the session's domain where it is not the row's own, and the minute of its first break,
//! deliberate move and switch, NULL for nearly every row). What changes is added to per-minute
//! rows of `webhook_routing_session_minutes` (one per minute, domain and writing backend, as
//! the sketches are): a session in the minute its domain became known, its first break,
//! deliberate move and switch in their minutes. A break in a session already counted
//! deliberate (or switched) takes it back from that count, in the minute it was counted, so
//! the counts of any window of whole minutes are sums. The statement trigger that writes the
//! sketches writes these too (`flush`), once per minute and domain per statement; a decision
//! that changes no count writes nothing more than its row.
//!
//! Only route_decision and route_messages count, as the extension's owner: a row a caller
//! inserts has no sender, so it is in no session (src/route/log_policy.rs refuses the session
//! columns and the sender's key from every writer but the owner).
use crate::pg::config_cache::as_owner;
use crate::pg::error::spi_failed;
use crate::pg::kept_plans::run_kept;
use crate::pg::xact_end::forget_at_end;
use crate::route::row::{Prior, SessionState};
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use std::cell::RefCell;
use std::collections::HashMap;

/// Microseconds in a minute: per-minute rows are keyed by the minute's start.
pub const MINUTE_US: i64 = 60_000_000;

/// The reasons that move a conversation's handler on purpose: the settings in force.
pub const DELIBERATE: [&str; 8] = [
    "routing_disabled",
    "domain_disabled",
    "not_in_rollout",
    "not_in_rollout_random",
    "domain_not_routed",
    "protected_domain",
    "no_config",
    "denied",
];

/// The decision being logged, as the session rule reads it.
#[derive(Clone, Copy, Debug)]
pub struct Logged<'a> {
    pub id: i64,
    /// Its minute (its created_at, now(), to the minute).
    pub minute: i64,
    pub domain: Option<&'a str>,
    pub unified: bool,
    pub reason: &'a str,
    pub conversation_id: Option<i64>,
}

/// How a decision changes its session's handler.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Change {
    Deliberate,
    Switched,
    Broken,
}

/// What a change of handler from `prev` to `cur` is, if there is one: none when the handler is
/// the same or the previous decision had no domain (before the session's domain, a greeting
/// went to the caller's default handler).
pub fn change(prev: &Prior, cur: &Logged<'_>) -> Option<Change> {
    if prev.unified == cur.unified || prev.domain.is_none() {
        return None;
    }
    let same_conversation =
        cur.conversation_id.is_some() && cur.conversation_id == prev.conversation_id;
    if same_conversation && DELIBERATE.contains(&cur.reason) {
        return Some(Change::Deliberate);
    }
    let opens = cur.conversation_id == Some(cur.id);
    if opens && cur.domain.is_some() && cur.domain != prev.domain.as_deref() {
        return Some(Change::Switched);
    }
    Some(Change::Broken)
}

/// What one decision adds to (or takes from) a minute of a domain.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub sessions: i64,
    pub broken: i64,
    pub deliberate: i64,
    pub switched: i64,
}

/// A decision's session state, given its sender's newest logged decision within the
/// conversation timeout (`prev`, None when there is none: the decision starts a session), and
/// what it changes in the per-minute counts, by (minute, domain).
pub fn step(prev: Option<&Prior>, cur: &Logged<'_>) -> (SessionState, Vec<(i64, String, Counts)>) {
    let mut state = prev.map(|p| p.session.clone()).unwrap_or_default();
    let mut counts = Vec::new();
    if state.domain.is_none() {
        if let Some(domain) = cur.domain {
            state.domain = Some(domain.to_owned());
            let opened = Counts {
                sessions: 1,
                ..Counts::default()
            };
            counts.push((cur.minute, domain.to_owned(), opened));
        }
    }
    let change = prev.and_then(|p| change(p, cur));
    let (Some(change), Some(domain), None) = (change, state.domain.clone(), state.broken_at) else {
        return (state, counts);
    };
    let at = |minute: i64, counts: Counts| (minute, domain.clone(), counts);
    match change {
        Change::Broken => {
            state.broken_at = Some(cur.minute);
            counts.push(at(
                cur.minute,
                Counts {
                    broken: 1,
                    ..Counts::default()
                },
            ));
            if let Some(minute) = state.deliberate_at.take() {
                counts.push(at(
                    minute,
                    Counts {
                        deliberate: -1,
                        ..Counts::default()
                    },
                ));
            }
            if let Some(minute) = state.switched_at.take() {
                counts.push(at(
                    minute,
                    Counts {
                        switched: -1,
                        ..Counts::default()
                    },
                ));
            }
        }
        Change::Deliberate if state.deliberate_at.is_none() => {
            state.deliberate_at = Some(cur.minute);
            counts.push(at(
                cur.minute,
                Counts {
                    deliberate: 1,
                    ..Counts::default()
                },
            ));
        }
        Change::Switched if state.switched_at.is_none() => {
            state.switched_at = Some(cur.minute);
            counts.push(at(
                cur.minute,
                Counts {
                    switched: 1,
                    ..Counts::default()
                },
            ));
        }
        _ => {}
    }
    (state, counts)
}

/// The minute of the current transaction's start: the minute of `now()`, a logged decision's
/// created_at.
pub fn transaction_minute() -> i64 {
    // SAFETY: reads the start time of the transaction in progress.
    let start = unsafe { pg_sys::GetCurrentTransactionStartTimestamp() };
    start.div_euclid(MINUTE_US) * MINUTE_US
}

thread_local! {
    /// What the decisions of the current statement changed, by minute and domain, written by
    /// the log's statement trigger at its end (`flush`). Forgotten when the statement's
    /// (sub)transaction aborts (src/pg/xact_end.rs).
    static CHANGED: RefCell<HashMap<(i64, String), Counts>> = RefCell::new(HashMap::new());
}

/// Remember what a decision changes, for the statement that logs it to write.
pub fn add(counts: Vec<(i64, String, Counts)>) {
    if counts.is_empty() {
        return;
    }
    forget_at_end(forget);
    CHANGED.with(|changed| {
        let mut changed = changed.borrow_mut();
        for (minute, domain, c) in counts {
            let entry = changed.entry((minute, domain)).or_default();
            entry.sessions += c.sessions;
            entry.broken += c.broken;
            entry.deliberate += c.deliberate;
            entry.switched += c.switched;
        }
    });
}

/// This backend's shard: its PGPROC number, unique among live backends, so that concurrent
/// writers never update the same sketch row.
#[cfg(not(any(feature = "pg17", feature = "pg18")))]
pub fn shard() -> i32 {
    // SAFETY: MyProc is set for every backend that runs SQL.
    unsafe { (*pg_sys::MyProc).pgprocno }
}

/// 17 took the number out of PGPROC: it is MyProcNumber.
#[cfg(any(feature = "pg17", feature = "pg18"))]
pub fn shard() -> i32 {
    // SAFETY: set for every backend that runs SQL.
    unsafe { pg_sys::MyProcNumber }
}

/// Drop what was not written: its statement failed.
pub fn forget() {
    CHANGED.with(|c| c.borrow_mut().clear());
}

/// Write what the statement's decisions changed, one upsert per minute and domain, as the
/// owner (no other role writes these rows). Called by the log's statement trigger.
pub fn flush(shard: i32) {
    let changed = CHANGED.with(|c| std::mem::take(&mut *c.borrow_mut()));
    for ((minute, domain), c) in changed {
        if c == Counts::default() {
            continue;
        }
        // SAFETY: an int8 microsecond count is the representation of a timestamptz.
        let minute = unsafe { DatumWithOid::new(minute, pg_sys::TIMESTAMPTZOID) };
        let args: [DatumWithOid; 7] = [
            minute,
            domain.as_str().into(),
            shard.into(),
            c.sessions.into(),
            c.broken.into(),
            c.deliberate.into(),
            c.switched.into(),
        ];
        let sql = |schema: &str| {
            format!(
                "INSERT INTO {schema}.webhook_routing_session_minutes AS s \
                     (minute, domain, shard, sessions, broken, deliberate, switched) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) \
                 ON CONFLICT (minute, domain, shard) DO UPDATE \
                 SET sessions = s.sessions OPERATOR(pg_catalog.+) excluded.sessions, \
                     broken = s.broken OPERATOR(pg_catalog.+) excluded.broken, \
                     deliberate = s.deliberate OPERATOR(pg_catalog.+) excluded.deliberate, \
                     switched = s.switched OPERATOR(pg_catalog.+) excluded.switched"
            )
        };
        if let Err(e) = as_owner(|| run_kept("session_flush", sql, &args)) {
            spi_failed("write the session counts", e);
        }
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use super::*;

    const M0: i64 = 1_000 * MINUTE_US;
    const M1: i64 = 1_001 * MINUTE_US;
    const M2: i64 = 1_002 * MINUTE_US;

    fn prior(
        domain: Option<&str>,
        unified: bool,
        conversation: Option<i64>,
        session: SessionState,
    ) -> Prior {
        Prior {
            id: 10,
            created_at: None,
            domain: domain.map(str::to_owned),
            unified,
            bucket: None,
            percentage: None,
            config_id: None,
            conversation_id: conversation,
            session,
        }
    }

    fn logged<'a>(
        domain: Option<&'a str>,
        unified: bool,
        reason: &'a str,
        conversation: Option<i64>,
        minute: i64,
    ) -> Logged<'a> {
        Logged {
            id: 20,
            minute,
            domain,
            unified,
            reason,
            conversation_id: conversation,
        }
    }

    fn state(
        domain: &str,
        broken: Option<i64>,
        deliberate: Option<i64>,
        switched: Option<i64>,
    ) -> SessionState {
        SessionState {
            domain: Some(domain.to_owned()),
            broken_at: broken,
            deliberate_at: deliberate,
            switched_at: switched,
        }
    }

    fn n(sessions: i64, broken: i64, deliberate: i64, switched: i64) -> Counts {
        Counts {
            sessions,
            broken,
            deliberate,
            switched,
        }
    }

    /// The rule, case by case: what the row carries and what the minutes gain.
    #[pg_test]
    fn each_change_counts_once_per_session() {
        let jobs = state("jobs", None, None, None);
        let greeted = SessionState::default();
        let on_unified = prior(Some("jobs"), true, Some(5), jobs.clone());
        #[rustfmt::skip]
        let cases: Vec<(&str, Option<Prior>, Logged, SessionState, Vec<(i64, &str, Counts)>)> = vec![
            ("no decision before: a session of its domain",
             None, logged(Some("jobs"), false, "not_in_rollout", Some(20), M1),
             jobs.clone(), vec![(M1, "jobs", n(1, 0, 0, 0))]),
            ("a greeting: a session without a domain yet, counted nowhere",
             None, logged(None, false, "unknown_domain", None, M1),
             greeted.clone(), vec![]),
            ("the first decision with a domain counts the session, no change from a greeting",
             Some(prior(None, false, None, greeted.clone())), logged(Some("jobs"), true, "in_rollout", Some(20), M1),
             jobs.clone(), vec![(M1, "jobs", n(1, 0, 0, 0))]),
            ("same handler: nothing",
             Some(on_unified.clone()), logged(Some("jobs"), true, "conversation", Some(5), M1),
             jobs.clone(), vec![]),
            ("a decrease in the conversation: deliberate",
             Some(on_unified.clone()), logged(Some("jobs"), false, "not_in_rollout", Some(5), M1),
             state("jobs", None, Some(M1), None), vec![(M1, "jobs", n(0, 0, 1, 0))]),
            ("a second deliberate move counts no more",
             Some(prior(Some("jobs"), true, Some(5), state("jobs", None, Some(M0), None))),
             logged(Some("jobs"), false, "routing_disabled", Some(5), M1),
             state("jobs", None, Some(M0), None), vec![]),
            ("a new conversation in another domain: switched, for the session's domain",
             Some(on_unified.clone()), logged(Some("marketplace"), false, "not_in_rollout", Some(20), M1),
             state("jobs", None, None, Some(M1)), vec![(M1, "jobs", n(0, 0, 0, 1))]),
            ("a follow-up that left its handler: broken",
             Some(on_unified.clone()), logged(Some("jobs"), false, "conversation", Some(5), M1),
             state("jobs", Some(M1), None, None), vec![(M1, "jobs", n(0, 1, 0, 0))]),
            ("a deliberate reason in another conversation: broken",
             Some(on_unified.clone()), logged(Some("jobs"), false, "routing_disabled", Some(3), M1),
             state("jobs", Some(M1), None, None), vec![(M1, "jobs", n(0, 1, 0, 0))]),
            ("a new conversation in the same domain: broken",
             Some(on_unified.clone()), logged(Some("jobs"), false, "not_in_rollout", Some(20), M1),
             state("jobs", Some(M1), None, None), vec![(M1, "jobs", n(0, 1, 0, 0))]),
            ("no domain after one: broken",
             Some(on_unified.clone()), logged(None, false, "unknown_domain", None, M1),
             state("jobs", Some(M1), None, None), vec![(M1, "jobs", n(0, 1, 0, 0))]),
            ("a break after deliberate and switched moves them to broken, where they were counted",
             Some(prior(Some("marketplace"), false, Some(7), state("jobs", None, Some(M0), Some(M1)))),
             logged(Some("marketplace"), true, "conversation", Some(7), M2),
             state("jobs", Some(M2), None, None),
             vec![(M2, "jobs", n(0, 1, 0, 0)), (M0, "jobs", n(0, 0, -1, 0)), (M1, "jobs", n(0, 0, 0, -1))]),
            ("a broken session counts nothing more",
             Some(prior(Some("jobs"), true, Some(5), state("jobs", Some(M0), None, None))),
             logged(Some("jobs"), false, "conversation", Some(5), M1),
             state("jobs", Some(M0), None, None), vec![]),
        ];
        for (name, prev, cur, want_state, want_counts) in cases {
            let (got_state, got_counts) = step(prev.as_ref(), &cur);
            let want_counts: Vec<(i64, String, Counts)> = want_counts
                .into_iter()
                .map(|(m, d, c)| (m, d.to_owned(), c))
                .collect();
            assert_eq!((got_state, got_counts), (want_state, want_counts), "{name}");
        }
    }

    /// 0.6.0's routing_sessions, which read every log row of the window: the oracle the
    /// per-minute counts must agree with.
    const ROW_SCAN: &str = "
        WITH steps AS (
            SELECT l.sender_key, l.id, l.created_at, l.domain, l.routed_to, l.reason, l.conversation_id,
                   lag(l.created_at) OVER w AS prev_at, lag(l.domain) OVER w AS prev_domain,
                   lag(l.routed_to) OVER w AS prev_to, lag(l.conversation_id) OVER w AS prev_conversation
            FROM webhook_routing_logs AS l
            WHERE l.sender_key IS NOT NULL AND l.created_at >= now() - interval '1 hour'
              AND l.created_at < now() + interval '5 minutes' AND l.routed_to <> 'error'
            WINDOW w AS (PARTITION BY l.sender_key ORDER BY l.created_at, l.id)
        ),
        marked AS (
            SELECT s.sender_key, s.id, s.created_at, s.domain,
                   (s.prev_at IS NULL OR s.created_at - s.prev_at > interval '30 minutes') AS starts,
                   CASE
                       WHEN s.prev_at IS NULL OR s.created_at - s.prev_at > interval '30 minutes'
                            OR s.routed_to = s.prev_to OR s.prev_domain IS NULL THEN NULL
                       WHEN s.conversation_id = s.prev_conversation
                            AND s.reason IN ('routing_disabled', 'domain_disabled', 'not_in_rollout',
                                             'not_in_rollout_random', 'domain_not_routed',
                                             'protected_domain', 'no_config', 'denied') THEN 'deliberate'
                       WHEN s.conversation_id = s.id AND s.domain <> s.prev_domain THEN 'switched'
                       ELSE 'broken'
                   END AS change
            FROM steps AS s
        ),
        numbered AS (
            SELECT m.*, sum(m.starts::integer) OVER (PARTITION BY m.sender_key ORDER BY m.created_at, m.id) AS session
            FROM marked AS m
        ),
        per_session AS (
            SELECT (array_agg(n.domain ORDER BY n.created_at, n.id) FILTER (WHERE n.domain IS NOT NULL))[1] AS domain,
                   coalesce(bool_or(n.change = 'broken'), false) AS broken,
                   coalesce(bool_or(n.change = 'deliberate'), false) AS deliberate,
                   coalesce(bool_or(n.change = 'switched'), false) AS switched
            FROM numbered AS n
            GROUP BY n.sender_key, n.session
        )
        SELECT p.domain, count(*) AS sessions, count(*) FILTER (WHERE p.broken) AS broken,
               count(*) FILTER (WHERE p.deliberate AND NOT p.broken) AS deliberate,
               count(*) FILTER (WHERE p.switched AND NOT p.broken) AS switched
        FROM per_session AS p
        WHERE p.domain IS NOT NULL
        GROUP BY p.domain";

    fn as_text(query: &str) -> String {
        Spi::get_one::<String>(&format!(
            "SELECT coalesce(string_agg(format('%s %s/%s/%s/%s', q.domain, q.sessions, q.broken, \
                 q.deliberate, q.switched), ', ' ORDER BY q.domain), '') FROM ({query}) AS q"
        ))
        .unwrap()
        .unwrap_or_default()
    }

    /// A message from `sender` (a number), with its own id, saying `body`.
    const MESSAGE: &str = "CREATE FUNCTION pg_temp.txt(sender bigint, id text, body text) RETURNS jsonb
        LANGUAGE sql AS $$
            SELECT jsonb_build_object('entry', jsonb_build_array(jsonb_build_object('changes', jsonb_build_array(
                jsonb_build_object('value', jsonb_build_object('messages', jsonb_build_array(
                    jsonb_build_object('from', (250788000000 + sender)::text, 'id', id, 'type', 'text',
                                       'text', jsonb_build_object('body', body)))))))))
        $$";

    /// Each of 300 senders sends 12 messages, in rounds between which the settings change:
    /// openings in four domains, greetings first, bare follow-ups, requests for another
    /// domain (routable and protected), re-deliveries (some decided again after the kill
    /// switch, in a conversation the sender has left), ids too long to keep, and batched
    /// bodies; the percentage goes down and up, the kill switch and a domain's switch go off
    /// and on, senders are denied, a domain stops being routable. The per-minute counts must
    /// say what the row scan says, domain by domain.
    #[pg_test]
    fn the_counts_agree_with_the_row_scan() {
        Spi::run(MESSAGE).unwrap();
        Spi::run(
            "SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'property', 'ai_agents']), \
                    set_routing_enabled(true), update_routing_percentage(50)",
        )
        .unwrap();
        let bodies = [
            "'I want a job as a driver'",
            "'I want to buy a used phone'",
            "'I want to rent a house in Kimihurura'",
            "'Hi assistant, explain to me how buying land works in Rwanda'",
            "'hello'",
            "'2'",
            "'yes please'",
            "'also I want to buy a fridge'",
            "'I need a ride to town now'",
            "'and do you have houses for rent?'",
        ];
        let round = |r: i64, settings: &str| {
            if !settings.is_empty() {
                Spi::run(settings).unwrap();
            }
            // Most rounds pick each sender's body by sender and round; every fourth sender
            // re-sends its message of two rounds ago, every ninth sends an id too long to keep.
            let cases: Vec<String> = bodies
                .iter()
                .enumerate()
                .map(|(i, b)| format!("WHEN {i} THEN {b}"))
                .collect();
            Spi::run(&format!(
                "SELECT count(*) FROM generate_series(1, 300) AS g, LATERAL (
                     SELECT CASE WHEN g % 4 = 0 AND {r} >= 2 THEN 'wamid.' || g || '.' || ({r} - 2)
                                 WHEN g % 9 = 0 AND {r} % 3 = 1 THEN 'wamid.' || repeat('x', 300)
                                 ELSE 'wamid.' || g || '.' || {r} END AS id,
                            CASE (g * 7 + {r} * (g % 5 + 1)) % {n} {cases} END AS body
                 ) AS m,
                 LATERAL route_decision(pg_temp.txt(g, m.id, m.body)) AS d",
                n = bodies.len(),
                cases = cases.join(" "),
            ))
            .unwrap();
        };
        round(0, "");
        round(1, "");
        round(2, "SELECT update_routing_percentage(10, 'down')");
        round(3, "SELECT update_routing_percentage(60, 'up')");
        round(4, "SELECT set_routing_enabled(false, 'kill switch')");
        round(5, "SELECT set_routing_enabled(true, 'back on')");
        round(
            6,
            "SELECT set_routing_denied('jobs', ARRAY(SELECT (250788000000 + g)::text \
             FROM generate_series(1, 300, 7) AS g), 'support')",
        );
        round(
            7,
            "SELECT set_routing_enabled(false, 'market paused', 'marketplace')",
        );
        round(
            8,
            "SELECT set_routing_domains(ARRAY['jobs', 'marketplace', 'ai_agents'], 'property out')",
        );
        round(9, "SELECT update_routing_percentage(100, 'all')");
        // Batched bodies: two senders' messages and a repeat, decided in one call.
        Spi::run(
            "SELECT count(*) FROM generate_series(1, 300, 2) AS g,
                 LATERAL route_messages(jsonb_build_object('entry', jsonb_build_array(jsonb_build_object(
                     'changes', jsonb_build_array(jsonb_build_object('value', jsonb_build_object('messages',
                         jsonb_build_array(
                             jsonb_build_object('from', (250788000000 + g)::text, 'id', 'wamid.b.' || g, 'type', 'text',
                                                'text', jsonb_build_object('body', 'I want to buy a phone')),
                             jsonb_build_object('from', (250788000001 + g)::text, 'id', 'wamid.b2.' || g, 'type', 'text',
                                                'text', jsonb_build_object('body', 'ok')),
                             jsonb_build_object('from', (250788000000 + g)::text, 'id', 'wamid.b.' || g, 'type', 'text',
                                                'text', jsonb_build_object('body', 'I want to buy a phone')))))))))) AS r",
        )
        .unwrap();
        round(10, "SELECT set_routing_enabled(false, 'kill switch again')");
        round(11, "SELECT update_routing_percentage(0, 'rollback')");
        let logged = Spi::get_one::<i64>(
            "SELECT count(*) FROM webhook_routing_logs WHERE sender_key IS NOT NULL",
        )
        .unwrap()
        .unwrap();
        let oracle = as_text(ROW_SCAN);
        let counted = as_text(
            "SELECT * FROM webhook_routing_sessions_between(now() - interval '1 hour', now() + interval '5 minutes')",
        );
        pgrx::notice!("{logged} decisions; row scan: {oracle}; per-minute counts: {counted}");
        assert!(logged > 3000, "{logged} decisions");
        assert_eq!(counted, oracle);
        // Every kind of change happened, so the agreement says something.
        let (broken, deliberate, switched) = Spi::get_three::<i64, i64, i64>(&format!(
            "SELECT sum(broken)::int8, sum(deliberate)::int8, sum(switched)::int8 FROM ({ROW_SCAN}) AS q"
        ))
        .unwrap();
        assert!(broken.unwrap() > 0, "no break");
        assert!(deliberate.unwrap() > 0, "no deliberate move");
        assert!(switched.unwrap() > 0, "no switch");
        // routing_sessions says the same, with the window's rounding.
        let shown = as_text(
            "SELECT domain, sessions, broken, deliberate, switched FROM routing_sessions('1 hour')",
        );
        assert_eq!(shown, oracle);
    }

    /// routing_sessions and the session counts never read the log: with the log renamed away,
    /// they answer as before (a statement that named it would fail to find it).
    #[pg_test]
    fn sessions_are_read_without_the_log() {
        Spi::run(MESSAGE).unwrap();
        Spi::run("SELECT set_routing_enabled(true), update_routing_percentage(100)").unwrap();
        Spi::run(
            "SELECT count(*) FROM generate_series(1, 50) AS g, \
                 LATERAL route_decision(pg_temp.txt(g, 'wamid.' || g, 'I want a job')) AS d",
        )
        .unwrap();
        Spi::run("SELECT update_routing_percentage(0, 'rollback')").unwrap();
        Spi::run(
            "SELECT count(*) FROM generate_series(1, 50) AS g, \
                 LATERAL route_decision(pg_temp.txt(g, 'wamid.next.' || g, '2')) AS d",
        )
        .unwrap();
        let read = || {
            as_text("SELECT domain, sessions, broken, deliberate, switched FROM routing_sessions('1 hour')")
        };
        let before = read();
        assert_eq!(before, "jobs 50/0/50/0");
        Spi::run("ALTER TABLE webhook_routing_logs RENAME TO webhook_routing_logs_away").unwrap();
        assert_eq!(read(), before);
        Spi::run("ALTER TABLE webhook_routing_logs_away RENAME TO webhook_routing_logs").unwrap();
    }
}
