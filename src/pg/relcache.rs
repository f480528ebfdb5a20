//! The per-backend caches of relations (the config's location, the log's partitions and their
//! indexes, the direct write's layouts) learn of a change through PostgreSQL's relcache
//! invalidation callbacks, each registered once per backend.
use pgrx::pg_sys;
use std::cell::Cell;
use std::thread::LocalKey;

/// Register `callback` for relcache invalidations, once per backend: `registered` remembers
/// that it was (PostgreSQL keeps a callback until the backend exits and has no way to remove
/// one).
pub(crate) fn register_once(
    registered: &'static LocalKey<Cell<bool>>,
    callback: pg_sys::RelcacheCallbackFunction,
) {
    if !registered.with(|r| r.replace(true)) {
        // SAFETY: registered once per backend; each callback only marks or clears its own
        // module's cache.
        unsafe { pg_sys::CacheRegisterRelcacheCallback(callback, pg_sys::Datum::from(0)) };
    }
}
