//! Percentages as the log and the results hold them: numeric with two decimals, from basis
//! points, with the datums of the plan's steps kept per backend.
use crate::core::config::Bp;
use crate::pg::error::spi_failed;
use pgrx::prelude::*;
use pgrx::AnyNumeric;
use pgrx::IntoDatum;
use std::collections::HashMap;

/// A percentage in basis points as numeric with two decimals.
pub fn bp_to_numeric(bp: Bp) -> AnyNumeric {
    let text = format!("{}.{:02}", bp / 100, bp % 100);
    AnyNumeric::try_from(text.as_str()).unwrap_or_default()
}

thread_local! {
    /// Percentage (basis points) → its numeric datum, palloc'd in TopMemoryContext. Parsing the
    /// numeric per call cost a fifth of route_decision's own time. At most 10,001 entries, since
    /// a percentage is 0.00..100.00 (a dozen bytes each); values outside that are not kept.
    static PERCENTAGES: std::cell::RefCell<HashMap<Bp, pg_sys::Datum>> =
        std::cell::RefCell::new(HashMap::new());
}

/// The numeric datum of a percentage, from the per-backend cache.
pub fn percentage_datum(bp: Bp) -> pg_sys::Datum {
    if let Some(d) = PERCENTAGES.with_borrow(|m| m.get(&bp).copied()) {
        return d;
    }
    let numeric = bp_to_numeric(bp).into_datum().unwrap_or_else(|| {
        spi_failed(
            "build the decision row",
            "the percentage has no numeric value",
        )
    });
    if !(0..=10_000).contains(&bp) {
        return numeric;
    }
    // SAFETY: a copy of the numeric varlena (as datumCopy would make) into TopMemoryContext,
    // which lives as long as the backend.
    let kept = unsafe {
        let src = numeric.cast_mut_ptr::<pg_sys::varlena>();
        let size = pgrx::varlena::varsize_any(src);
        let dst = pg_sys::MemoryContextAlloc(pg_sys::TopMemoryContext, size);
        std::ptr::copy_nonoverlapping(src.cast::<u8>(), dst.cast::<u8>(), size);
        pg_sys::Datum::from(dst)
    };
    PERCENTAGES.with_borrow_mut(|m| m.insert(bp, kept));
    kept
}
