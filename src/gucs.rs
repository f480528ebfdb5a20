//! Settings (`webhook_routing.*`). Defined when the library loads, which happens at the first
//! call of any of its functions in a session: no `shared_preload_libraries` needed.
use pgrx::prelude::*;
use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// Seconds after which a decision still waiting for its outcome counts as an error.
pub static PENDING_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(300);

pub fn init() {
    GucRegistry::define_int_guc(
        c"webhook_routing.pending_timeout",
        c"Time after which a decision without an outcome counts as an error.",
        c"A decision logged by route_decision stays 'pending' until record_routing_outcome \
          reports it. Stats and health count a pending decision older than this as an error \
          (the handler never answered), and leave younger ones out of error rates.",
        &PENDING_TIMEOUT,
        1,
        86_400,
        GucContext::Userset,
        GucFlags::UNIT_S,
    );
}

/// The pending timeout in seconds, for the SQL views (calling it also loads the library, so the
/// setting is defined with its unit before it is read).
#[pg_extern(stable, parallel_safe)]
fn routing_pending_timeout_seconds() -> i32 {
    PENDING_TIMEOUT.get()
}
