//! Settings (`webhook_routing.*`). Defined when the library loads, which happens at the first
//! call of any of its functions in a session: no `shared_preload_libraries` needed.
use pgrx::prelude::*;
use pgrx::{GucContext, GucFlags, GucRegistry, GucSetting};

/// Seconds after which a decision still waiting for its outcome counts as an error.
pub static PENDING_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(300);

/// Whether log writes wait for the WAL flush (see commit.rs). Off by default.
pub static LOG_SYNCHRONOUS_COMMIT: GucSetting<bool> = GucSetting::<bool>::new(false);

/// Seconds of silence after which a sender's conversation is over (src/route/history.rs).
pub static CONVERSATION_TIMEOUT: GucSetting<i32> = GucSetting::<i32>::new(1800);

/// Seconds within which a message id seen again is a re-delivery of the first.
pub static RETRY_WINDOW: GucSetting<i32> = GucSetting::<i32>::new(86_400);

pub fn init() {
    GucRegistry::define_int_guc(
        c"webhook_routing.conversation_timeout",
        c"Time without a message after which a sender's conversation is over.",
        c"A message with no cue of its own (a reply to a menu, a location, a photo) continues \
          the sender's conversation, on its domain and handler, if the sender's previous \
          decision is younger than this. Set it for the database (ALTER DATABASE ... SET, as a \
          superuser), so that the callers and routing_sessions read the same value. A caller \
          cannot change it: a short timeout would turn its bare replies into broken sessions, \
          which the session check judges.",
        &CONVERSATION_TIMEOUT,
        1,
        86_400,
        GucContext::Suset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_int_guc(
        c"webhook_routing.retry_window",
        c"Time within which a message id seen again is WhatsApp re-delivering it.",
        c"route_decision and route_messages answer a re-delivered message with its first \
          decision (reason retry) and log nothing new. WhatsApp retries for up to 7 days. Set \
          by a superuser: a caller's own value would log re-deliveries as decisions of their own.",
        &RETRY_WINDOW,
        1,
        604_800,
        GucContext::Suset,
        GucFlags::UNIT_S,
    );
    GucRegistry::define_bool_guc(
        c"webhook_routing.log_synchronous_commit",
        c"Whether the transactions that write decision log rows wait for the WAL flush.",
        c"Off (the default): route_decision and record_routing_outcome set synchronous_commit \
          to off for their transaction, so a crash can lose the log rows of the last \
          3 x wal_writer_delay. On: they commit as the session's synchronous_commit says. \
          Config changes always commit synchronously.",
        &LOG_SYNCHRONOUS_COMMIT,
        GucContext::Userset,
        GucFlags::default(),
    );
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

/// The conversation timeout in seconds, for routing_sessions.
#[pg_extern(stable, parallel_safe)]
fn routing_conversation_timeout_seconds() -> i32 {
    CONVERSATION_TIMEOUT.get()
}
