//! The statements run on every decision or outcome, planned once per backend and kept, and run
//! through SPI with JIT off.
use crate::pg::config_cache::snapshot;
use crate::pg::error::spi_failed;
use crate::pg::run_as::without_jit;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::{OwnedPreparedStatement, SpiResult};
use pgrx::PgOid;
use std::cell::RefCell;
use std::collections::HashMap;

thread_local! {
    /// Statements run on every decision or outcome, planned once per backend (per schema) and
    /// kept: parsing and planning them on each call cost more than running them. Postgres
    /// re-plans a kept statement by itself when a table it uses changes.
    static PLANS: RefCell<HashMap<&'static str, (String, i64, OwnedPreparedStatement)>> =
        RefCell::new(HashMap::new());
}

/// The kept plan `name` for `schema` and `variant`, taken out of the map while it runs (a
/// trigger it fires can use another), or a new one made by `prepare` from `sql`'s text. The
/// caller puts it back once it ran.
fn take_plan(
    name: &'static str,
    schema: &str,
    variant: i64,
    args: &[DatumWithOid],
    prepare: impl FnOnce(&str, &[PgOid]) -> SpiResult<OwnedPreparedStatement>,
    sql: impl FnOnce(&str, i64) -> String,
) -> SpiResult<(String, OwnedPreparedStatement)> {
    match PLANS.with(|p| p.borrow_mut().remove(name)) {
        Some((for_schema, for_variant, plan)) if for_schema == schema && for_variant == variant => {
            Ok((for_schema, plan))
        }
        _ => {
            let oids: Vec<PgOid> = args.iter().map(|a| PgOid::from(a.oid())).collect();
            Ok((
                schema.to_owned(),
                prepare(sql(schema, variant).as_str(), &oids)?,
            ))
        }
    }
}

/// Run the kept statement `name` (built by `sql` from the extension's quoted schema) with
/// `args`, and return its first column if it returned a row. The plan is taken out while it
/// runs, so that a trigger it fires can use another.
///
/// Always to completion, never with a row limit: SPI stops the executor once the limit is
/// reached, before the statement-level AFTER triggers fire (the ones that invalidate the
/// backends' caches and write the sketches).
///
/// `sql` must name every function and operator with its schema (see `with_pinned_search_path`):
/// the statement is re-parsed under whatever search_path the caller has.
pub fn run_kept(
    name: &'static str,
    sql: impl FnOnce(&str) -> String,
    args: &[DatumWithOid],
) -> SpiResult<Option<i64>> {
    run_kept_variant(name, 0, |schema, _| sql(schema), args)
}

/// `run_kept` for a statement whose text depends on `variant` too (e.g. a day, written into it
/// as a constant so that the planner prunes partitions): re-planned when the variant changes.
pub fn run_kept_variant(
    name: &'static str,
    variant: i64,
    sql: impl FnOnce(&str, i64) -> String,
    args: &[DatumWithOid],
) -> SpiResult<Option<i64>> {
    let snapshot = snapshot();
    let schema = snapshot.location.schema.as_str();
    without_jit(|| {
        Spi::connect_mut(|client| {
            let (schema, plan) = take_plan(
                name,
                schema,
                variant,
                args,
                |text, oids| Ok(client.prepare_mut(text, oids)?.keep()),
                sql,
            )?;
            let table = client.update(&plan, None, args)?;
            // Without RETURNING there is no tuple table, only a row count.
            let first = match table.first().get_one::<i64>() {
                Ok(v) => v,
                Err(pgrx::spi::SpiError::NoTupleTable | pgrx::spi::SpiError::InvalidPosition) => {
                    None
                }
                Err(e) => return Err(e),
            };
            PLANS.with(|p| p.borrow_mut().insert(name, (schema, variant, plan)));
            Ok(first)
        })
    })
}

/// Run the kept SELECT `name` (built by `sql` from the extension's quoted schema and `variant`,
/// re-planned when the variant changes) with `args`, calling `each` on every row it returns.
/// The same rules as `run_kept` apply to its text.
pub fn select_kept(
    name: &'static str,
    variant: i64,
    sql: impl FnOnce(&str, i64) -> String,
    args: &[DatumWithOid],
    mut each: impl FnMut(&pgrx::spi::SpiHeapTupleData) -> SpiResult<()>,
) {
    let snapshot = snapshot();
    let schema = snapshot.location.schema.as_str();
    // Read-only (Spi::connect, a plan not prepared as mutating): SPI then assigns no
    // transaction id, which a hot standby cannot, and a dry run need not. Once this transaction
    // has written (a logged decision earlier in the same route_messages), pgrx runs it as a
    // read-write statement, which sees those rows.
    let result = without_jit(|| {
        Spi::connect(|client| {
            let (schema, plan) = take_plan(
                name,
                schema,
                variant,
                args,
                |text, oids| Ok(client.prepare(text, oids)?.keep()),
                sql,
            )?;
            let table = client.select(&plan, None, args)?;
            for row in table {
                each(&row)?;
            }
            PLANS.with(|p| p.borrow_mut().insert(name, (schema, variant, plan)));
            Ok::<(), pgrx::spi::SpiError>(())
        })
    });
    if let Err(e) = result {
        spi_failed("read the sender's conversation", e);
    }
}
