//! The Postgres plumbing: how the extension reads and writes its tables (SPI, kept plans, reads
//! under the newest snapshot, the log's indexes probed directly), the per-backend cache of its
//! settings, the role and settings its own statements run under, durability, its GUCs, the
//! decisions counted in shared memory, and the errors it raises. Nothing here knows the routing policy.
pub mod call_memory;
pub mod clock;
pub mod config_cache;
pub mod config_load;
pub mod decision_counts;
pub mod durability;
pub mod error;
pub mod gucs;
pub mod index_probe;
pub mod jsonb;
pub mod kept_plans;
pub mod log_insert;
pub mod numeric;
pub mod read_newest;
pub mod relcache;
pub mod run_as;
pub mod standby;
pub mod tupdesc;
pub mod xact_end;
