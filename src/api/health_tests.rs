//! Stats and health are SQL (sql/stats_health.sql) over `webhook_routing_logs`; these tests pin
//! what operators read from them: counts, percentiles, error rates with pending decisions and
//! timeouts, and the verdict of every check.

#[cfg(any(test, feature = "pg_test"))]
#[pgrx::pg_schema]
mod tests {
    use pgrx::prelude::*;
    use pgrx::AnyNumeric;

    /// Log `n` requests the way any client can: a plain INSERT, latencies start, start+step, …
    fn insert(domain: &str, target: &str, n: i32, errors: i32, start_ms: f64, step_ms: f64) {
        Spi::run(&format!(
            "INSERT INTO webhook_routing_logs(webhook_name, domain, routed_to, response_time_ms, status, created_at) \
             SELECT 'whatsapp', '{domain}', '{target}', {start_ms} + (g - 1) * {step_ms}, \
                    CASE WHEN g <= {errors} THEN 'error' ELSE 'success' END, now() \
             FROM generate_series(1, {n}) AS g"
        ))
        .unwrap();
    }

    /// No statement the extension runs is compiled by JIT, whatever the server's settings:
    /// with `jit = on` and every threshold at 0, the decision, the outcome, a batched body,
    /// stats, health, sessions, the report, a plan and its look, the admin functions and
    /// retention run, and pg_stat_statements (tracking nested statements) counts no JIT
    /// function in any statement below the test's own. A nested statement of the test's own
    /// is compiled, so the count is not zero for want of JIT.
    ///
    /// It needs a server with JIT and pg_stat_statements preloaded: Debian's 15 and 17, which
    /// scripts/test runs, always have them (the test fails there without them); the PyPI
    /// wheels of 16 and 18 lack one or both (18 has no JIT: nothing can be compiled there).
    #[pg_test]
    fn no_statement_of_the_extension_is_jit_compiled() {
        let ready = Spi::get_one::<bool>(
            "SELECT pg_jit_available() AND 'pg_stat_statements' = ANY \
             (string_to_array(current_setting('shared_preload_libraries'), ', '))",
        )
        .unwrap()
            == Some(true);
        if !ready && !cfg!(any(feature = "pg15", feature = "pg17")) {
            eprintln!("skipped: this server has no JIT or no pg_stat_statements to count with");
            return;
        }
        assert!(
            ready,
            "JIT and pg_stat_statements are needed to count JIT functions"
        );
        Spi::run("CREATE EXTENSION IF NOT EXISTS pg_stat_statements").unwrap();
        Spi::run(
            "SET jit = on; SET jit_above_cost = 0; SET jit_inline_above_cost = -1; \
             SET jit_optimize_above_cost = -1",
        )
        .unwrap();
        Spi::run("/* the test's */ SELECT pg_stat_statements_reset()").unwrap();
        let body = r#"{"entry":[{"changes":[{"value":{"messages":[{"from":"250788123456","id":"wamid.J1","type":"text","text":{"body":"any job in kigali?"}}]}}]}]}"#;
        for call in [
            "SELECT set_routing_enabled(true, 'jit')".to_owned(),
            "SELECT update_routing_percentage(50, 'jit')".to_owned(),
            "SELECT set_routing_testers('jobs', ARRAY['250788000001'], 'jit')".to_owned(),
            "SELECT create_routing_log_partitions(2)".to_owned(),
            format!("SELECT record_routing_outcome(decision_id, 'success', 120) FROM route_decision('{body}')"),
            format!("SELECT count(*) FROM route_messages('{body}', log => false)"),
            format!("SELECT count(*) FROM explain_route('{body}')"),
            "SELECT count(*) FROM routing_stats('1 hour')".to_owned(),
            "SELECT count(*) FROM check_routing_health('1 hour')".to_owned(),
            "SELECT count(*) FROM routing_sessions('1 hour')".to_owned(),
            "SELECT count(*) FROM routing_status".to_owned(),
            "SELECT routing_report('jobs', now() - interval '1 day')".to_owned(),
            "SELECT routing_report('jobs', now() - interval '1 day', 'markdown')".to_owned(),
            "SELECT routing_report('jobs', now() - interval '1 day', 'html')".to_owned(),
            "SELECT start_rollout('jobs', '{5,10}', '1 hour', 'jit')".to_owned(),
            "SELECT count(*) FROM advance_rollouts()".to_owned(),
            "SELECT prune_routing_logs('30 days')".to_owned(),
            "DO $$ BEGIN PERFORM count(*) FROM generate_series(1, 10); END $$".to_owned(),
        ] {
            // Marked, to tell the test's own statements (nested too: a test runs inside a
            // function) from the extension's.
            Spi::run(&format!("/* the test's */ {call}"))
                .unwrap_or_else(|e| panic!("{call}: {e}"));
        }
        Spi::run("RESET jit_above_cost").unwrap();
        let compiled = Spi::connect(|c| {
            c.select(
                "SELECT query FROM pg_stat_statements \
                 WHERE NOT toplevel AND jit_functions > 0 ORDER BY query",
                None,
                &[],
            )
            .unwrap()
            .map(|r| r.get::<String>(1).unwrap().unwrap_or_default())
            .collect::<Vec<_>>()
        });
        let control = "SELECT count(*) FROM generate_series($1, $2)";
        assert!(
            compiled.iter().any(|q| q == control),
            "the test's own nested statement was compiled: {compiled:?}"
        );
        let ours: Vec<_> = compiled
            .iter()
            .filter(|q| *q != control && !q.starts_with("/* the test's */"))
            .collect();
        assert!(ours.is_empty(), "compiled by JIT: {ours:#?}");
    }

    fn num(sql: &str) -> Option<String> {
        Spi::get_one::<AnyNumeric>(sql)
            .unwrap()
            .map(|n| n.to_string())
    }

    #[pg_test]
    fn stats_count_what_plain_inserts_log() {
        insert("jobs", "unified", 100, 2, 1.0, 1.0);
        insert("jobs", "legacy", 900, 0, 500.0, 1.0);
        let row = |col: &str, target: &str| {
            num(&format!(
                "SELECT {col}::numeric FROM webhook_routing_stats WHERE domain = 'jobs' AND routed_to = '{target}'"
            ))
        };
        assert_eq!(row("requests", "unified").as_deref(), Some("100"));
        assert_eq!(row("avg_ms", "unified").as_deref(), Some("50.5"));
        // Percentiles come from sketches: within 0.3% of a sample next to the exact rank
        // (latencies here are 1, 2, …, 100 ms; percentile_cont would interpolate 50.5, 95.05, 99.01).
        for (col, lo, hi) in [
            ("p50_ms", 50.0, 51.0),
            ("p95_ms", 95.0, 96.0),
            ("p99_ms", 99.0, 100.0),
        ] {
            let v: f64 = row(col, "unified").unwrap().parse().unwrap();
            assert!(
                v >= lo * 0.997 - 0.05 && v <= hi * 1.003 + 0.05,
                "{col} = {v}"
            );
        }
        assert_eq!(row("errors", "unified").as_deref(), Some("2"));
        assert_eq!(row("error_pct", "unified").as_deref(), Some("2.00"));
        assert_eq!(row("traffic_pct", "unified").as_deref(), Some("10.00"));
        assert_eq!(row("traffic_pct", "legacy").as_deref(), Some("90.00"));
        assert_eq!(row("error_pct", "legacy").as_deref(), Some("0.00"));
        // Older rows are outside the hour but inside a wider window.
        Spi::run(
            "INSERT INTO webhook_routing_logs(webhook_name, domain, routed_to, response_time_ms, status, created_at) \
             VALUES ('whatsapp', 'jobs', 'unified', 10, 'success', now() - interval '3 hours')",
        )
        .unwrap();
        assert_eq!(row("requests", "unified").as_deref(), Some("100"));
        assert_eq!(
            num("SELECT requests::numeric FROM routing_stats('4 hours') WHERE domain = 'jobs' AND routed_to = 'unified'")
                .as_deref(),
            Some("101")
        );
    }

    #[pg_test]
    fn pending_decisions_wait_then_count_as_errors() {
        Spi::run("SET LOCAL webhook_routing.pending_timeout = '60s'").unwrap();
        insert("jobs", "unified", 8, 0, 100.0, 0.0);
        // Two decisions waiting within the timeout, three past it.
        Spi::run(
            "INSERT INTO webhook_routing_logs(webhook_name, domain, routed_to, status, created_at) \
             SELECT 'whatsapp', 'jobs', 'unified', 'pending', now() - make_interval(secs => s) \
             FROM unnest(ARRAY[5, 30, 120, 300, 1800]) AS s",
        )
        .unwrap();
        let get = |col: &str| {
            num(&format!(
                "SELECT {col}::numeric FROM webhook_routing_stats WHERE domain = 'jobs' AND routed_to = 'unified'"
            ))
        };
        assert_eq!(get("requests").as_deref(), Some("13"));
        assert_eq!(get("pending").as_deref(), Some("2"));
        assert_eq!(get("errors").as_deref(), Some("3"));
        // 3 errors out of the 11 decided or timed out.
        assert_eq!(get("error_pct").as_deref(), Some("27.27"));
        assert_eq!(
            Spi::get_one::<i32>("SELECT routing_pending_timeout_seconds()").unwrap(),
            Some(60)
        );
    }

    /// (value, status, recommendation, samples, verdict, action) of one check.
    fn verdict(domain: &str, target: &str, check: &str) -> Check {
        let sql = format!(
            "SELECT value::text, status, recommendation, samples, verdict, action FROM check_routing_health() \
             WHERE domain = '{domain}' AND routed_to = '{target}' AND check_name = '{check}'"
        );
        Spi::connect(|c| {
            let t = c.select(&sql, None, &[]).unwrap();
            assert_eq!(t.len(), 1, "{sql}");
            let row = t.first();
            Check {
                value: row.get::<String>(1).unwrap(),
                status: row.get::<String>(2).unwrap().unwrap(),
                recommendation: row.get::<String>(3).unwrap().unwrap(),
                samples: row.get::<i64>(4).unwrap().unwrap(),
                verdict: row.get::<String>(5).unwrap().unwrap(),
                action: row.get::<String>(6).unwrap().unwrap(),
            }
        })
    }

    #[derive(Debug)]
    struct Check {
        value: Option<String>,
        status: String,
        recommendation: String,
        samples: i64,
        verdict: String,
        action: String,
    }

    impl Check {
        fn is(&self, verdict: &str, status: &str, recommendation: &str) -> bool {
            self.verdict == verdict
                && self.status == status
                && self.recommendation == recommendation
        }
    }

    #[pg_test]
    fn health_verdicts_follow_the_sequential_tests() {
        // jobs: unified 2% errors and a p95 near 4.3 s over 2,000 requests; legacy healthy.
        insert("jobs", "unified", 2000, 40, 2375.0, 1.0);
        insert("jobs", "legacy", 20000, 0, 300.0, 0.05);
        for check in [
            "error_rate",
            "error_rate_vs_legacy",
            "p95_latency",
            "p95_vs_legacy",
        ] {
            let v = verdict("jobs", "unified", check);
            assert!(v.is("fail", "critical", "rollback"), "{check}: {v:?}");
            assert_eq!(
                (v.action.as_str(), v.samples),
                ("rollback", 2000),
                "{check}"
            );
        }
        assert_eq!(
            verdict("jobs", "unified", "error_rate").value.as_deref(),
            Some("2.00")
        );
        assert!(verdict("jobs", "legacy", "error_rate").is("pass", "ok", "proceed"));

        // marketplace: as good as legacy, with plenty of traffic: every gate passes.
        insert("marketplace", "unified", 3000, 0, 300.0, 0.2);
        insert("marketplace", "legacy", 30000, 0, 300.0, 0.02);
        for check in [
            "error_rate",
            "error_rate_vs_legacy",
            "p95_latency",
            "p95_vs_legacy",
        ] {
            let v = verdict("marketplace", "unified", check);
            assert!(v.is("pass", "ok", "proceed"), "{check}: {v:?}");
        }
        // A domain's own bar overrides the default: 500 ms is well below its p95 of 0.87 s.
        Spi::run(
            "INSERT INTO webhook_routing_thresholds (domain, check_name, warning, critical) \
             VALUES ('marketplace', 'p95_latency', 400, 500)",
        )
        .unwrap();
        let v = verdict("marketplace", "unified", "p95_latency");
        assert!(v.is("fail", "critical", "rollback"), "{v:?}");
        // What a fail does is the threshold's action; a dry run says what it would do and acts
        // on nothing.
        Spi::run(
            "UPDATE webhook_routing_thresholds SET action = 'hold' WHERE domain = 'marketplace'",
        )
        .unwrap();
        assert!(verdict("marketplace", "unified", "p95_latency").is("fail", "critical", "hold"));
        Spi::run(
            "UPDATE webhook_routing_thresholds SET action = 'warn' WHERE domain = 'marketplace'",
        )
        .unwrap();
        let v = verdict("marketplace", "unified", "p95_latency");
        assert!(v.is("fail", "critical", "proceed"), "{v:?}");
        assert_eq!(v.action, "warn");
        Spi::run(
            "UPDATE webhook_routing_thresholds SET action = 'rollback', dry_run = true \
             WHERE domain = 'marketplace'",
        )
        .unwrap();
        let v = verdict("marketplace", "unified", "p95_latency");
        assert!(v.is("fail", "critical", "proceed"), "{v:?}");
        assert_eq!(v.action, "rollback (dry run)");

        // property: 20 requests are evidence of nothing: inconclusive, below min_samples.
        insert("property", "unified", 20, 0, 100.0, 1.0);
        let v = verdict("property", "unified", "error_rate");
        assert!(v.is("inconclusive", "insufficient_data", "wait"), "{v:?}");
        assert_eq!(v.samples, 20);
        // ... and no traffic at all, still reported for both targets.
        let v = verdict("property", "unified", "p95_vs_legacy");
        assert_eq!(v.value, None);
        assert!(v.is("inconclusive", "insufficient_data", "wait"), "{v:?}");
        // Legacy without a verdict waits too: no proceed without samples.
        let v = verdict("property", "legacy", "error_rate");
        assert!(v.is("inconclusive", "insufficient_data", "wait"), "{v:?}");
        assert_eq!(v.action, "hold");
    }

    #[pg_test]
    fn legacy_trouble_holds_but_never_rolls_back() {
        insert("jobs", "unified", 2000, 0, 100.0, 0.1);
        insert("jobs", "legacy", 2000, 40, 100.0, 0.1);
        let v = verdict("jobs", "legacy", "error_rate");
        assert!(v.is("fail", "critical", "hold"), "{v:?}");
        let v = verdict("jobs", "unified", "error_rate_vs_legacy");
        assert_eq!(v.value.as_deref(), Some("-2.00"));
        assert!(v.is("pass", "ok", "proceed"), "{v:?}");
    }

    fn requests(domain: &str) -> Option<String> {
        num(&format!(
            "SELECT sum(requests)::numeric FROM webhook_routing_stats WHERE domain = '{domain}'"
        ))
    }

    /// Whatever way a log row gets its outcome, it reaches the sketches once, in its transaction.
    #[pg_test]
    fn sketches_follow_every_way_of_writing() {
        // One statement, many rows.
        insert("jobs", "legacy", 1000, 0, 100.0, 1.0);
        assert_eq!(requests("jobs").as_deref(), Some("1000"));
        // Decisions, then their outcomes one statement at a time, in one transaction.
        let payload = "'{\"entry\":[{\"changes\":[{\"value\":{\"messages\":[{\"from\":\"1\",\"type\":\"text\",\"text\":{\"body\":\"a job\"}}]}}]}]}'";
        for i in 0..50 {
            let id = Spi::get_one::<i64>(&format!(
                "SELECT decision_id FROM route_decision({payload})"
            ))
            .unwrap()
            .unwrap();
            Spi::run(&format!(
                "SELECT record_routing_outcome({id}, 'success', {})",
                200 + i
            ))
            .unwrap();
        }
        assert_eq!(requests("jobs").as_deref(), Some("1050"));
        // A statement undone by its subtransaction adds nothing.
        Spi::run(
            "DO $$ BEGIN \
               BEGIN \
                 INSERT INTO webhook_routing_logs(webhook_name, domain, routed_to, response_time_ms, status) \
                 SELECT 'whatsapp', 'jobs', 'legacy', 10, 'success' FROM generate_series(1, 10); \
                 RAISE EXCEPTION 'undo'; \
               EXCEPTION WHEN raise_exception THEN NULL; \
               END; \
             END $$",
        )
        .unwrap();
        assert_eq!(requests("jobs").as_deref(), Some("1050"));
        // A second outcome update of a row is not counted again.
        Spi::run("UPDATE webhook_routing_logs SET status = 'error' WHERE status = 'success' AND response_time_ms = 200").unwrap();
        assert_eq!(requests("jobs").as_deref(), Some("1050"));
        // TRUNCATE empties both.
        Spi::run("TRUNCATE webhook_routing_logs").unwrap();
        assert_eq!(requests("jobs"), None);
        assert_eq!(
            Spi::get_one::<i64>("SELECT count(*) FROM webhook_routing_sketches").unwrap(),
            Some(0)
        );
    }
}
