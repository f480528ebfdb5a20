//! Names of the extension's own tables, qualified with the schema it was created in, so the
//! extension's queries do not depend on the caller's search_path.
use crate::error::spi_failed;
use pgrx::prelude::*;
use std::cell::RefCell;

thread_local! {
    /// The extension's oid and quoted schema. The schema of a non-relocatable extension cannot
    /// change while it exists; keying by oid catches a DROP and CREATE in the same session.
    static SCHEMA: RefCell<Option<(pg_sys::Oid, String)>> = const { RefCell::new(None) };
}

fn extension_oid() -> pg_sys::Oid {
    // SAFETY: a catalog lookup by name; missing_ok returns InvalidOid instead of raising.
    unsafe { pg_sys::get_extension_oid(c"webhook_routing".as_ptr(), true) }
}

fn lookup() -> String {
    let schema = Spi::get_one::<String>(
        "SELECT quote_ident(n.nspname) FROM pg_catalog.pg_extension e \
         JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace \
         WHERE e.extname = 'webhook_routing'",
    );
    match schema {
        Ok(Some(schema)) => schema,
        Ok(None) => spi_failed(
            "find its schema",
            "extension webhook_routing is not installed",
        ),
        Err(e) => spi_failed("find its schema", e),
    }
}

/// The quoted schema of the extension.
pub fn schema() -> String {
    let oid = extension_oid();
    SCHEMA.with(|cell| {
        let mut cached = cell.borrow_mut();
        match cached.as_ref() {
            Some((cached_oid, schema)) if *cached_oid == oid => schema.clone(),
            _ => {
                let schema = lookup();
                *cached = Some((oid, schema.clone()));
                schema
            }
        }
    })
}

/// `schema.name`, quoted.
pub fn qualified(name: &str) -> String {
    format!("{}.{}", schema(), name)
}
