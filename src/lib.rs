//! webhook_routing: gradual webhook traffic migration inside PostgreSQL.
//!
//! One call, `route_decision(payload)`, answers where a webhook goes (the unified handler or the
//! legacy one), why, and logs it; operators drive the rollout with the admin functions and read
//! `webhook_routing_stats` and `check_routing_health()`.
use pgrx::prelude::*;

mod api;
mod core;
mod pg;
#[cfg(any(test, feature = "pg_test"))]
mod proptests;
mod route;
mod stats;

::pgrx::pg_module_magic!(name, version);

extension_sql_file!("../sql/bootstrap.sql", name = "bootstrap", bootstrap);
extension_sql_file!(
    "../sql/seed_rules.sql",
    name = "seed_rules",
    requires = ["bootstrap"]
);
extension_sql_file!(
    "../sql/triggers.sql",
    name = "triggers",
    requires = [
        "seed_rules",
        pg::config_cache::webhook_routing_invalidate_cache,
        stats::sketch::webhook_routing_logs_to_sketch,
        stats::sketch::webhook_routing_logs_flush_sketches,
        route::log_policy::webhook_routing_logs_caller_limits
    ]
);
extension_sql_file!(
    "../sql/stats_health.sql",
    name = "stats_health",
    requires = [
        pg::gucs::routing_pending_timeout_seconds,
        pg::gucs::routing_conversation_timeout_seconds,
        stats::sketch::webhook_routing_sketch_summary,
        stats::sketch::webhook_routing_sketch_union,
        stats::sketch::webhook_routing_sketch_above,
        stats::verdict::webhook_routing_sample_ratio,
        stats::verdict::webhook_routing_judge,
        stats::verdict::webhook_routing_health_catalogue
    ]
);
extension_sql_file!(
    "../sql/retention.sql",
    name = "retention",
    requires = ["triggers"]
);
extension_sql_file!(
    "../sql/admin.sql",
    name = "admin",
    requires = ["triggers", api::admin::webhook_routing_settings_in_force]
);
extension_sql_file!(
    "../sql/rollouts.sql",
    name = "rollouts",
    requires = [
        "stats_health",
        "admin",
        api::admin::webhook_routing_require_current_snapshot
    ]
);
extension_sql_file!(
    "../sql/report.sql",
    name = "report",
    requires = ["rollouts"]
);
extension_sql_file!(
    "../sql/metrics.sql",
    name = "metrics",
    requires = [
        "rollouts",
        "retention",
        api::metrics::webhook_routing_sketch_totals,
        pg::decision_counts::webhook_routing_decision_counts,
        pg::decision_counts::webhook_routing_decisions_uncounted
    ]
);
extension_sql_file!("../sql/security.sql", name = "security", finalize);

#[pg_guard]
pub extern "C-unwind" fn _PG_init() {
    // A panic that becomes an ERROR must not carry a Rust backtrace to the client (pgrx's
    // panic hook captures one into the error's detail whenever the server runs with
    // RUST_BACKTRACE set): it says nothing a caller can act on, and shows the server's paths.
    // The backend loads this library before any panic of ours, and std reads the variables
    // once, at the first capture.
    // SAFETY: a backend is single-threaded; nothing reads the environment concurrently.
    unsafe {
        std::env::remove_var("RUST_BACKTRACE");
        std::env::remove_var("RUST_LIB_BACKTRACE");
    }
    pg::gucs::init();
    pg::decision_counts::init();
}

/// Required by `cargo pgrx test`.
#[cfg(test)]
pub mod pg_test {
    pub fn setup(_options: Vec<&str>) {}

    /// The tests name the extension's objects without their schema (webhook_routing, which
    /// the control file fixes): it comes first on every session's path. pg_stat_statements
    /// counts what JIT compiled, nested statements included (src/api/health_tests.rs), where the
    /// server has it: the PyPI wheels of 16 and 18 that scripts/test uses carry no contrib
    /// (PG_CONFIG names the server under test; without it, the module is taken to be there).
    #[must_use]
    pub fn postgresql_conf_options() -> Vec<&'static str> {
        let mut options = vec!["search_path = 'webhook_routing, public'"];
        // Preloaded, as a server that counts decisions in shared memory has it
        // (src/pg/decision_counts.rs); pg_regress's cluster does not preload it.
        if server_has_pg_stat_statements() {
            options.push("shared_preload_libraries = 'webhook_routing, pg_stat_statements'");
            options.push("pg_stat_statements.track = 'all'");
        } else {
            options.push("shared_preload_libraries = 'webhook_routing'");
        }
        options
    }

    fn server_has_pg_stat_statements() -> bool {
        let Ok(pg_config) = std::env::var("PG_CONFIG") else {
            return true;
        };
        std::process::Command::new(pg_config)
            .arg("--pkglibdir")
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .is_none_or(|dir| {
                std::path::Path::new(&dir)
                    .join("pg_stat_statements.so")
                    .exists()
            })
    }
}
