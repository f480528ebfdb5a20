//! What the extension's own statements run under: a pinned search_path, the owner's role, JIT
//! off. Each is a switch made around a closure and undone after it, on error too.
use pgrx::prelude::*;

/// Run `f` with `search_path = pg_catalog, pg_temp`, restored afterwards (and by Postgres on
/// error). The statements the extension runs once in a while (cache loads, error paths) run
/// inside: names are then resolved in pg_catalog and the extension's own schema (which every
/// statement names), never in a schema a caller put on its search_path, where a look-alike
/// function or operator could run with the caller's rights.
///
/// Kept plans cannot rely on it: Postgres re-parses a kept statement under the caller's
/// search_path whenever that differs from the one it was parsed under. Their text names every
/// function and operator with its schema (`pg_catalog.round`, `OPERATOR(pg_catalog.=)`), so a
/// re-parse under any path resolves the same objects. It costs a GUC change, too much for
/// every decision.
pub fn with_pinned_search_path<R>(f: impl FnOnce() -> R) -> R {
    // SAFETY: the same calls a function's `SET search_path` clause makes (fmgr_security_definer):
    // a GUC nest level, a SAVE-action setting in it, and AtEOXact_GUC to pop it. An error
    // inside `f` aborts the (sub)transaction, which pops the level too.
    unsafe {
        let level = pg_sys::NewGUCNestLevel();
        pg_sys::set_config_option(
            c"search_path".as_ptr(),
            c"pg_catalog, pg_temp".as_ptr(),
            pg_sys::GucContext::PGC_USERSET,
            pg_sys::GucSource::PGC_S_SESSION,
            pg_sys::GucAction::GUC_ACTION_SAVE,
            true,
            pg_sys::PGERROR as i32,
            false,
        );
        let result = f();
        pg_sys::AtEOXact_GUC(true, level);
        result
    }
}

/// Run `f` as `role`: the user id switch of `as_owner`, for a role already known (the snapshot
/// being loaded cannot be asked for its owner).
pub fn as_role<R>(role: pg_sys::Oid, f: impl FnOnce() -> R) -> R {
    let mut user = pg_sys::InvalidOid;
    let mut context = 0;
    // SAFETY: the calls fmgr_security_definer makes around a definer function's body.
    unsafe {
        pg_sys::GetUserIdAndSecContext(&mut user, &mut context);
        pg_sys::SetUserIdAndSecContext(role, context | pg_sys::SECURITY_LOCAL_USERID_CHANGE as i32);
    }
    let result = f();
    // SAFETY: restores what was saved above.
    unsafe { pg_sys::SetUserIdAndSecContext(user, context) };
    result
}

/// Run `f`, which plans and runs the extension's own statements, with JIT off. They are a few
/// index probes and small writes, run at every webhook: compiling them with LLVM, which
/// `jit = on` does to any statement whose estimate passes `jit_above_cost` (0 included), costs
/// milliseconds every time and never pays. The planner reads `jit_enabled` when it makes a
/// plan, and a plan carries its decision to the executor, so the flag is off while `f` plans and
/// runs, and is restored after it, on error too (the unwind drops the guard). No setting is
/// changed through the GUC machinery: that would cost every webhook a settings change. (The
/// extension's SQL and PL/pgSQL functions say `SET jit = off`, sql/security.sql.)
pub fn without_jit<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            // SAFETY: a plain global of the backend, restored to what it was.
            unsafe { pg_sys::jit_enabled = self.0 };
        }
    }
    // SAFETY: reads and writes a plain global of the backend.
    let _restore = Restore(unsafe { pg_sys::jit_enabled });
    unsafe { pg_sys::jit_enabled = false };
    f()
}
