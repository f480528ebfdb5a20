//! The one piece of the admin functions (sql/admin.sql) that SQL cannot say: the settings in
//! force read under the newest committed snapshot, whatever the caller's isolation level
//! (src/pg/read_newest.rs); and the rollouts' check that their snapshot is current.
//!
//! The admin functions themselves are PL/pgSQL, one source for the native edition and the SQL
//! edition (docs/src/development/sql-edition.md). They lock the config history, then build the
//! next row from what this returns: under REPEATABLE READ the transaction's snapshot could
//! rebuild the row without a change committed since (a kill switch turned back on). With the
//! lock held, no other change can commit before theirs.
//!
//! The install scripts of 0.1.0 to 0.6.0 declare the admin functions `LANGUAGE c`: until a
//! database runs the update, its calls reach the Rust that did the work then, kept frozen under
//! the same symbols (src/api/admin_before_update.rs).
use crate::pg::config_cache::snapshot;
use crate::pg::error::Refusal;
use crate::pg::read_newest::{self, Snapshot as Read};
use pgrx::prelude::*;

/// The newest committed row of the config history (`config`, as `to_jsonb` writes a row, or
/// null when the history is empty) and the plans in progress (`plans`: `[domain, id, state]`
/// of the active and paused rollouts, by id), as jsonb text: a text, so that numbers keep
/// their scale. For sql/admin.sql, which the extension's owner runs.
#[pg_extern(volatile, parallel_unsafe)]
#[search_path(pg_catalog, pg_temp)]
fn webhook_routing_settings_in_force() -> Option<String> {
    let schema = snapshot().location.schema.clone();
    let query = format!(
        "SELECT pg_catalog.jsonb_build_object( \
            'config', (SELECT pg_catalog.to_jsonb(c) FROM {schema}.webhook_routing_config AS c \
                        ORDER BY c.created_at DESC, c.id DESC LIMIT 1), \
            'plans', (SELECT COALESCE(pg_catalog.jsonb_agg(pg_catalog.jsonb_build_array(r.domain, r.id, r.state) \
                                                           ORDER BY r.id), '[]') \
                        FROM {schema}.webhook_routing_rollouts AS r \
                       WHERE r.state OPERATOR(pg_catalog.=) ANY (ARRAY['active', 'paused'])))::pg_catalog.text"
    );
    // SAFETY: one text column.
    read_newest::select(&query, Read::Latest, |row| unsafe { row.get::<String>(1) })
        .pop()
        .flatten()
}

/// For the rollout functions (PL/pgSQL), once they hold their locks: refuse with 40001 when
/// this transaction reads through a snapshot (REPEATABLE READ, SERIALIZABLE) that is older
/// than the newest committed change to the config history or the plans. What they would build
/// from what it shows could undo that change (a plan's step from before a kill switch). At
/// READ COMMITTED every statement reads the newest, and this returns at once.
#[pg_extern(volatile, parallel_unsafe)]
fn webhook_routing_require_current_snapshot() {
    if !read_newest::transaction_snapshot_in_use() {
        return;
    }
    let schema = snapshot().location.schema.clone();
    let query = format!(
        "SELECT (SELECT pg_catalog.count(*)::pg_catalog.text OPERATOR(pg_catalog.||) '/' \
                        OPERATOR(pg_catalog.||) coalesce(pg_catalog.max(c.id)::pg_catalog.text, '') \
                   FROM {schema}.webhook_routing_config AS c) \
                OPERATOR(pg_catalog.||) ' ' OPERATOR(pg_catalog.||) \
                (SELECT coalesce(pg_catalog.string_agg(r.xmin::pg_catalog.text \
                            OPERATOR(pg_catalog.||) r.ctid::pg_catalog.text, ',' ORDER BY r.ctid), '') \
                   FROM {schema}.webhook_routing_rollouts AS r)"
    );
    let read = |which| {
        // SAFETY: one text column.
        read_newest::select(&query, which, |row| unsafe { row.get::<String>(1) })
            .pop()
            .flatten()
    };
    if read(Read::Transaction) != read(Read::Latest) {
        Refusal::new(
            PgSqlErrorCode::ERRCODE_T_R_SERIALIZATION_FAILURE,
            "the routing config or a rollout plan changed after this transaction's snapshot was taken",
        )
        .detail(
            "The transaction runs at REPEATABLE READ or SERIALIZABLE, and a change committed \
             since its snapshot; acting on what the snapshot shows could undo that change.",
        )
        .hint("Retry in a new transaction, or call the rollout functions at READ COMMITTED (the default).")
        .raise()
    }
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use pgrx::prelude::*;

    /// What `sql` raises, as `SQLSTATE|message|detail`, or "no error"; in a subtransaction, so
    /// that the test can go on after the ERROR. Every column is read: a column nothing reads
    /// is never computed (the planner drops it from the subquery).
    fn raised(sql: &str) -> String {
        Spi::run(&format!(
            "DO $$ DECLARE m text; d text; BEGIN PERFORM * FROM ({sql}) s; \
               PERFORM set_config('wr.test_state', 'no error', true); \
             EXCEPTION WHEN OTHERS THEN \
               GET STACKED DIAGNOSTICS m = MESSAGE_TEXT, d = PG_EXCEPTION_DETAIL; \
               PERFORM set_config('wr.test_state', SQLSTATE || '|' || m || '|' || d, true); END $$"
        ))
        .unwrap();
        Spi::get_one::<String>("SELECT current_setting('wr.test_state')")
            .unwrap()
            .unwrap()
    }

    /// The SQLSTATE `sql` raises, or "no error".
    fn outcome(sql: &str) -> String {
        let raised = raised(sql);
        raised.split('|').next().unwrap_or_default().to_owned()
    }

    #[pg_test]
    fn percentages_parse_exactly() {
        let ok = [
            ("0", 0),
            ("10", 1000),
            ("10.00", 1000),
            ("12.5", 1250),
            ("0.01", 1),
            ("99.99", 9999),
            ("100", 10_000),
            ("100.000", 10_000),
        ];
        for (text, bp) in ok {
            let got = Spi::get_one::<i32>(&format!(
                "SELECT webhook_routing_percentage_bp('{text}'::numeric)"
            ))
            .unwrap();
            assert_eq!(got, Some(bp), "{text}");
        }
        let refused = [
            ("-1", "-1", "between 0 and 100"),
            ("-0.01", "-0.01", "between 0 and 100"),
            ("100.01", "100.01", "between 0 and 100"),
            ("101", "101", "between 0 and 100"),
            ("1e10", "10000000000", "between 0 and 100"),
            ("NaN", "NaN", "between 0 and 100"),
            ("Infinity", "Infinity", "between 0 and 100"),
            ("-Infinity", "-Infinity", "between 0 and 100"),
            ("10.005", "10.005", "more than two decimals"),
        ];
        for (text, shown, why) in refused {
            let got = raised(&format!(
                "SELECT webhook_routing_percentage_bp('{text}'::numeric)"
            ));
            let parts: Vec<&str> = got.splitn(3, '|').collect();
            assert_eq!(parts.first(), Some(&"22023"), "{text}: {got}");
            assert_eq!(
                parts.get(1).copied(),
                Some(format!("invalid percentage {shown}").as_str())
            );
            assert!(parts.get(2).is_some_and(|d| d.contains(why)), "{got}");
        }
        assert_eq!(
            raised("SELECT webhook_routing_percentage_bp(NULL)"),
            "22004|percentage must not be NULL|"
        );
    }

    #[pg_test]
    fn percentages_format_for_people() {
        for (bp, text) in [
            (1000, "10%"),
            (1250, "12.5%"),
            (25, "0.25%"),
            (0, "0%"),
            (10_000, "100%"),
        ] {
            let got =
                Spi::get_one::<String>(&format!("SELECT webhook_routing_format_percentage({bp})"))
                    .unwrap();
            assert_eq!(got.as_deref(), Some(text), "{bp}");
        }
    }

    #[pg_test]
    fn domain_names() {
        for ok in ["jobs", "ai_agents", "d2", "a"] {
            let sql = format!("SELECT set_routing_domains(ARRAY['{ok}'])");
            assert_eq!(outcome(&sql), "no error", "{ok}");
        }
        let long = "a".repeat(64);
        for bad in ["", "Jobs", "2d", "_x", "a-b", "jobs ", long.as_str()] {
            let sql = format!("SELECT set_routing_domains(ARRAY['{bad}'])");
            assert_eq!(outcome(&sql), "22023", "{bad}");
        }
    }

    fn history() -> (i64, i64) {
        Spi::get_two::<i64, i64>("SELECT count(*), max(id) FROM webhook_routing_config")
            .map(|(c, m)| (c.unwrap_or(0), m.unwrap_or(0)))
            .unwrap()
    }

    /// Every refusal leaves the history as it was. Each call runs in a subtransaction so the
    /// test can go on after the ERROR.
    #[pg_test]
    fn refusals_leave_history_unchanged() {
        let before = history();
        let long_reason = format!("'{}'", "r".repeat(1001));
        let calls = [
            ("SELECT update_routing_percentage(NULL)", "22004"),
            ("SELECT update_routing_percentage(101)", "22023"),
            ("SELECT update_routing_percentage(-5)", "22023"),
            ("SELECT update_routing_percentage('NaN')", "22023"),
            ("SELECT update_routing_percentage(10.001)", "22023"),
            (
                "SELECT update_routing_percentage(10, NULL, 'mobility')",
                "22023",
            ),
            (
                "SELECT update_routing_percentage(10, NULL, 'nosuch')",
                "22023",
            ),
            (
                "SELECT update_routing_percentage(10, NULL, 'JOBS')",
                "22023",
            ),
            (
                &format!("SELECT update_routing_percentage(10, {long_reason})"),
                "22023",
            ),
            ("SELECT set_routing_enabled(NULL)", "22004"),
            (
                "SELECT set_routing_enabled(true, NULL, 'insurance')",
                "22023",
            ),
            ("SELECT set_routing_enabled(true, NULL, 'nosuch')", "22023"),
            ("SELECT set_routing_domains(NULL)", "22004"),
            ("SELECT set_routing_domains(ARRAY['jobs', NULL])", "22004"),
            (
                "SELECT set_routing_domains(ARRAY['jobs', 'profile'])",
                "22023",
            ),
            ("SELECT set_routing_domains(ARRAY['jobs', 'jobs'])", "22023"),
            ("SELECT set_routing_domains(ARRAY['Bad Name'])", "22023"),
        ];
        for (sql, sqlstate) in calls {
            assert_eq!(outcome(sql), sqlstate, "{sql}");
            assert_eq!(history(), before, "{sql} changed the history");
        }
    }

    #[pg_test]
    fn changes_append_full_rows() {
        let (count, _) = history();
        Spi::run("SELECT set_routing_enabled(true, 'start')").unwrap();
        Spi::run("SELECT update_routing_percentage(10, '10% test rollout')").unwrap();
        Spi::run("SELECT update_routing_percentage(25, 'jobs ahead', 'jobs')").unwrap();
        Spi::run("SELECT set_routing_enabled(false, 'pause property', 'property')").unwrap();
        Spi::run("SELECT set_routing_domains(ARRAY['jobs','marketplace','property','ai_agents'])")
            .unwrap();
        assert_eq!(history().0, count + 5);
        let cfg = crate::core::config::Config::load_from(
            &crate::pg::config_cache::snapshot().location.schema,
        )
        .unwrap();
        assert_eq!(cfg.percentage, 1000);
        assert!(cfg.enabled);
        assert_eq!(cfg.percentage_for("jobs"), 2500);
        assert_eq!(cfg.percentage_for("marketplace"), 1000);
        assert!(!cfg.domain_enabled("property"));
        assert!(cfg.is_routable("ai_agents"));
        let (action, reason, by) = Spi::get_three::<String, String, String>(
            "SELECT action, reason, changed_by FROM webhook_routing_config \
             ORDER BY created_at DESC, id DESC LIMIT 1 OFFSET 3",
        )
        .unwrap();
        assert_eq!(action.as_deref(), Some("set_percentage"));
        assert_eq!(reason.as_deref(), Some("10% test rollout"));
        assert_eq!(
            by,
            Spi::get_one::<String>("SELECT current_user::text").unwrap()
        );
        // The operators' runbook query still reads the row in force.
        let (pct, enabled) = Spi::get_two::<pgrx::AnyNumeric, bool>(
            "SELECT percentage, enabled FROM webhook_routing_config ORDER BY created_at DESC LIMIT 1",
        )
        .unwrap();
        assert_eq!(pct.unwrap().to_string(), "10.00");
        assert_eq!(enabled, Some(true));
    }
}
