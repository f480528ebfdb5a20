//! A row descriptor's attributes, whichever major: 18 took them out of the descriptor's struct.
use pgrx::pg_sys;

/// The `i`th attribute of a row type's descriptor (0-based, `i < natts`).
/// SAFETY: `tupdesc` is a valid descriptor with more than `i` attributes.
#[cfg(not(feature = "pg18"))]
pub(crate) unsafe fn attr<'a>(
    tupdesc: pg_sys::TupleDesc,
    i: usize,
) -> &'a pg_sys::FormData_pg_attribute {
    &*(*tupdesc).attrs.as_ptr().add(i)
}

/// 18 took the attributes out of the descriptor's struct: `TupleDescAttr` finds them.
/// SAFETY: `tupdesc` is a valid descriptor with more than `i` attributes.
#[cfg(feature = "pg18")]
pub(crate) unsafe fn attr<'a>(
    tupdesc: pg_sys::TupleDesc,
    i: usize,
) -> &'a pg_sys::FormData_pg_attribute {
    // `i < natts`, which is an int.
    &*pg_sys::TupleDescAttr(tupdesc, i as core::ffi::c_int)
}
