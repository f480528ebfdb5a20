//! A memory context of a backend's own for what one call of a native path allocates (the
//! direct probes of the log's indexes, the direct write of its row): made once, switched to for
//! the call, and reset when the call's scope ends, so that nothing a call allocates outlives it
//! and no context is made per call.
use pgrx::pg_sys;
use std::cell::Cell;
use std::ffi::CStr;
use std::thread::LocalKey;

/// The call's context, current until this is dropped; the drop switches back and frees what
/// the call allocated there.
pub(crate) struct CallMemory {
    previous: pg_sys::MemoryContext,
    context: pg_sys::MemoryContext,
}

impl CallMemory {
    /// Switch to the context `slot` keeps (made under TopMemoryContext, named `name`, the first
    /// time).
    /// SAFETY: in a backend, inside a transaction; the scope is dropped before the call returns.
    pub(crate) unsafe fn enter(
        slot: &'static LocalKey<Cell<pg_sys::MemoryContext>>,
        name: &'static CStr,
    ) -> CallMemory {
        let context = slot.with(|c| {
            if c.get().is_null() {
                c.set(pg_sys::AllocSetContextCreateInternal(
                    pg_sys::TopMemoryContext,
                    name.as_ptr(),
                    0,
                    8 * 1024,
                    8 * 1024 * 1024,
                ));
            }
            c.get()
        });
        CallMemory {
            previous: pg_sys::MemoryContextSwitchTo(context),
            context,
        }
    }
}

impl Drop for CallMemory {
    fn drop(&mut self) {
        // SAFETY: undoes `enter`; the reset frees only this call's allocations.
        unsafe {
            pg_sys::MemoryContextSwitchTo(self.previous);
            pg_sys::MemoryContextReset(self.context);
        }
    }
}
