//! What a statement buffers for its end (the outcomes the log's row trigger adds to the latency
//! sketches, the session counts its decisions change) is written by the log's statement
//! trigger. A statement that fails takes its (sub)transaction down before that: what it had
//! buffered must be forgotten, never written by the next statement. Each buffer registers the
//! function that forgets it; the transaction callbacks, registered once per backend, call them
//! all when a transaction ends (any event but its pre-commit) or a subtransaction aborts.
use pgrx::prelude::*;
use std::cell::RefCell;

thread_local! {
    static FORGETS: RefCell<Vec<fn()>> = const { RefCell::new(Vec::new()) };
}

/// Have `forget` called whenever the transaction ends or a subtransaction aborts. Cheap after
/// the first call for the same function (a scan of one or two entries).
pub fn forget_at_end(forget: fn()) {
    let first = FORGETS.with(|f| f.borrow().is_empty());
    let known = FORGETS.with(|f| f.borrow().iter().any(|&g| std::ptr::fn_addr_eq(g, forget)));
    if known {
        return;
    }
    FORGETS.with(|f| f.borrow_mut().push(forget));
    if first {
        // SAFETY: registered once per backend; they only clear maps.
        unsafe {
            pg_sys::RegisterXactCallback(Some(on_xact), std::ptr::null_mut());
            pg_sys::RegisterSubXactCallback(Some(on_subxact), std::ptr::null_mut());
        }
    }
}

fn forget_all() {
    let forgets = FORGETS.with(|f| f.borrow().clone());
    for forget in forgets {
        forget();
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn on_xact(event: pg_sys::XactEvent::Type, _arg: *mut core::ffi::c_void) {
    if event != pg_sys::XactEvent::XACT_EVENT_PRE_COMMIT
        && event != pg_sys::XactEvent::XACT_EVENT_PARALLEL_PRE_COMMIT
    {
        forget_all();
    }
}

#[pg_guard]
unsafe extern "C-unwind" fn on_subxact(
    event: pg_sys::SubXactEvent::Type,
    _sub: pg_sys::SubTransactionId,
    _parent: pg_sys::SubTransactionId,
    _arg: *mut core::ffi::c_void,
) {
    if event == pg_sys::SubXactEvent::SUBXACT_EVENT_ABORT_SUB {
        forget_all();
    }
}
