//! `route_decision`: one webhook routed (src/route/one_message.rs), its answer formed as a
//! `routing_decision` row without pgrx's copies.
use crate::pg::config_cache::{accept_invalidations, snapshot};
use crate::pg::error::{spi_failed, Refusal};
use crate::pg::jsonb::JsonbArg;
use crate::pg::numeric::percentage_datum;
use crate::route::one_message::{route_one, Routed};
use crate::route::policy::Reason;
use crate::route::whatsapp::parse;
use pgrx::callconv::{BoxRet, FcInfo};
use pgrx::pgrx_sql_entity_graph::metadata::{
    ArgumentError, ReturnsError, ReturnsRef, SqlMappingRef, SqlTranslatable, TypeOrigin,
};
use pgrx::prelude::*;
use pgrx::IntoDatum;

/// The column types of `routing_decision`, checked before a row is formed: a type altered by
/// hand must raise an error, never have a datum read as something it is not.
const RESULT_TYPES: [pg_sys::Oid; 7] = [
    pg_sys::INT8OID,
    pg_sys::TEXTOID,
    pg_sys::TEXTOID,
    pg_sys::TEXTOID,
    pg_sys::INT4OID,
    pg_sys::NUMERICOID,
    pg_sys::INT8OID,
];

/// Form the result row as a composite datum. Its descriptor comes from the type cache, by the
/// result type of the call expression: no catalog lookup. (Each execution of a statement has a
/// fresh FmgrInfo, so a descriptor kept in `fn_extra` was built again for every webhook:
/// get_call_result_type and a copy, 7% of route_decision's own time.)
///
/// # Safety
/// `fcinfo` is the call's own function call info; the datums stay valid until this returns.
unsafe fn form_result(
    fcinfo: pg_sys::FunctionCallInfo,
    values: &mut [pg_sys::Datum; 7],
    nulls: &mut [bool; 7],
) -> pg_sys::Datum {
    unsafe {
        let rettype = pg_sys::get_fn_expr_rettype((*fcinfo).flinfo);
        let (tupdesc, pinned) = if rettype != pg_sys::InvalidOid {
            (pg_sys::lookup_rowtype_tupdesc(rettype, -1), true)
        } else {
            // Called without an expression (not from SQL): ask the catalog.
            let mut tupdesc: pg_sys::TupleDesc = std::ptr::null_mut();
            let class = pg_sys::get_call_result_type(fcinfo, std::ptr::null_mut(), &mut tupdesc);
            if class != pg_sys::TypeFuncClass::TYPEFUNC_COMPOSITE || tupdesc.is_null() {
                spi_failed(
                    "describe its result",
                    "route_decision must return routing_decision",
                );
            }
            (tupdesc, false)
        };
        let natts = usize::try_from((*tupdesc).natts).unwrap_or(0);
        let matches = natts == RESULT_TYPES.len()
            && (0..natts)
                .map(|i| crate::pg::tupdesc::attr(tupdesc, i))
                .zip(RESULT_TYPES)
                .all(|(a, t)| a.atttypid == t && !a.attisdropped);
        if !matches {
            if pinned {
                pg_sys::DecrTupleDescRefCount(tupdesc);
            }
            Refusal::new(
                PgSqlErrorCode::ERRCODE_DATATYPE_MISMATCH,
                "the type routing_decision does not have the columns route_decision returns",
            )
            .hint(
                "It must be (decision_id bigint, domain text, routed_to text, reason text, \
                 bucket integer, percentage numeric, config_id bigint), as the extension \
                 created it. Recreate the extension, or restore the type.",
            )
            .raise();
        }
        let tuple = pg_sys::heap_form_tuple(tupdesc, values.as_mut_ptr(), nulls.as_mut_ptr());
        if pinned {
            pg_sys::DecrTupleDescRefCount(tupdesc);
        }
        // The header carries the datum length and the row type, and nothing in the row is
        // toasted: t_data is the composite datum (HeapTupleGetDatum).
        pg_sys::Datum::from((*tuple).t_data)
    }
}

/// Route one webhook: returns the decision and, when `log` is true, the id of its log row to
/// pass to `record_routing_outcome`. Never raises on a payload: whatever it holds is answered.
#[pg_extern(volatile, parallel_unsafe)]
fn route_decision(
    fcinfo: pg_sys::FunctionCallInfo,
    message: Option<JsonbArg<'_>>,
    webhook_name: default!(Option<&str>, "'whatsapp'"),
    routing_key: default!(Option<&str>, "NULL"),
    log: default!(Option<bool>, "true"),
) -> DecisionRow {
    accept_invalidations();
    let payload = parse(message.as_ref());
    let snapshot = snapshot();
    // NULL means "not said": log, so that nothing is lost.
    let Routed {
        decision,
        decision_id,
        ..
    } = route_one(
        &payload,
        webhook_name,
        routing_key,
        log.unwrap_or(true),
        &snapshot,
        None,
    );
    // The three texts are laid out in a Rust buffer and the percentage comes from a per-backend
    // cache: heap_form_tuple copies them, so no call into Postgres is needed to build them.
    let texts = TextDatums::new([
        decision.domain.as_deref(),
        Some(decision.routed_to()),
        Some(decision.reason.as_str()),
    ]);
    let [domain, routed_to, reason] = texts.datums();
    let datums = [
        decision_id.into_datum(),
        domain,
        routed_to,
        reason,
        decision.bucket.into_datum(),
        decision.percentage.map(percentage_datum),
        decision.config_id.into_datum(),
    ];
    let mut values = [pg_sys::Datum::from(0usize); 7];
    let mut nulls = [false; 7];
    for ((value, null), datum) in values.iter_mut().zip(&mut nulls).zip(datums) {
        match datum {
            Some(d) => *value = d,
            None => *null = true,
        }
    }
    // SAFETY: the datums match RESULT_TYPES, which form_result checks against the type, and
    // `texts` outlives the call.
    DecisionRow(unsafe { form_result(fcinfo, &mut values, &mut nulls) })
}

/// The `routing_decision` row route_decision returns, already a composite datum. pgrx's
/// PgHeapTuple would form the tuple, copy it into a datum and free the first copy: three calls
/// into Postgres where one does.
pub struct DecisionRow(pg_sys::Datum);

// SAFETY: the datum is returned as the function's result, as box_into requires.
unsafe impl BoxRet for DecisionRow {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        unsafe { fcinfo.return_raw_datum(self.0) }
    }
}

// SAFETY: the SQL type is the composite routing_decision, created by bootstrap.sql before any
// function, and DecisionRow's datum is always one of its rows.
unsafe impl SqlTranslatable for DecisionRow {
    const TYPE_IDENT: &'static str = pgrx::pgrx_resolved_type!(DecisionRow);
    const TYPE_ORIGIN: TypeOrigin = TypeOrigin::External;
    const ARGUMENT_SQL: Result<SqlMappingRef, ArgumentError> =
        Err(ArgumentError::NotValidAsArgument("DecisionRow"));
    const RETURN_SQL: Result<ReturnsRef, ReturnsError> =
        Ok(ReturnsRef::One(SqlMappingRef::literal("routing_decision")));
}

/// Text datums (4-byte varlena headers, uncompressed) built in one aligned Rust buffer: on the
/// stack for the decision's texts (a domain has at most 63 bytes), on the heap past that.
struct TextDatums<const N: usize> {
    buf: Words,
    /// Offset of each text in `buf`, in u32 words; None for NULL.
    at: [Option<usize>; N],
}

enum Words {
    Stack([u32; 48]),
    Heap(Vec<u32>),
}

impl Words {
    fn as_slice(&self) -> &[u32] {
        match self {
            Words::Stack(a) => a,
            Words::Heap(v) => v,
        }
    }

    fn as_mut_slice(&mut self) -> &mut [u32] {
        match self {
            Words::Stack(a) => a,
            Words::Heap(v) => v,
        }
    }
}

impl<const N: usize> TextDatums<N> {
    fn new(texts: [Option<&str>; N]) -> Self {
        let words: usize = texts
            .iter()
            .flatten()
            .map(|t| 1 + t.len().div_ceil(4))
            .sum();
        let mut buf = if words <= 48 {
            Words::Stack([0; 48])
        } else {
            Words::Heap(vec![0; words])
        };
        let slice = buf.as_mut_slice();
        let mut at = [None; N];
        let mut next = 0;
        for (slot, text) in at.iter_mut().zip(texts) {
            let Some(text) = text else { continue };
            let body = text.len().div_ceil(4);
            // SET_VARSIZE for a 4-byte header: the total length, header included, shifted by 2
            // on little endian (Postgres' varatt.h is the reference).
            let total = (4 + text.len()) as u32;
            slice[next] = if cfg!(target_endian = "little") {
                total << 2
            } else {
                total & 0x3FFF_FFFF
            };
            bytes_of(&mut slice[next + 1..next + 1 + body])[..text.len()]
                .copy_from_slice(text.as_bytes());
            *slot = Some(next);
            next += 1 + body;
        }
        TextDatums { buf, at }
    }

    /// The datums; they point into `self`, so they are valid while it lives and is not moved.
    fn datums(&self) -> [Option<pg_sys::Datum>; N] {
        let words = self.buf.as_slice();
        self.at
            .map(|at| at.map(|i| pg_sys::Datum::from(words[i..].as_ptr())))
    }
}

/// The bytes of a run of u32 words.
fn bytes_of(words: &mut [u32]) -> &mut [u8] {
    // SAFETY: u8 has no alignment or validity requirement, and the length covers the same bytes.
    unsafe { std::slice::from_raw_parts_mut(words.as_mut_ptr().cast(), words.len() * 4) }
}

/// The reasons a decision can give (`webhook_routing_logs.reason`, route_decision's `reason`),
/// in the enum's order: the one list of them, as SQL and the docs read it.
#[pg_extern(immutable, parallel_safe)]
fn webhook_routing_reasons() -> SetOfIterator<'static, &'static str> {
    SetOfIterator::new(Reason::ALL.into_iter().map(Reason::as_str))
}

#[cfg(any(test, feature = "pg_test"))]
#[pg_schema]
mod tests {
    use super::*;
    use crate::pg::numeric::bp_to_numeric;
    use pgrx::AnyNumeric;

    /// The catalogue holds the reasons once each, in the enum's order (a variant added in the
    /// middle of the enum and not of `Reason::ALL` fails here), and SQL reads the same.
    #[pg_test]
    fn the_catalogue_of_reasons_is_the_enum() {
        for (i, r) in Reason::ALL.iter().enumerate() {
            assert_eq!(
                *r as usize,
                i,
                "{} is out of place in Reason::ALL",
                r.as_str()
            );
        }
        let sql = Spi::get_one::<Vec<String>>(
            "SELECT array_agg(r ORDER BY n) FROM webhook_routing_reasons() WITH ORDINALITY AS t(r, n)",
        )
        .unwrap()
        .unwrap();
        let rust: Vec<&str> = Reason::ALL.iter().map(|r| r.as_str()).collect();
        assert_eq!(sql, rust);
    }

    /// A result type altered by hand raises an error instead of having a datum read as another
    /// type (an integer read as a pointer).
    #[pg_test(error = "the type routing_decision does not have the columns route_decision returns")]
    fn an_altered_result_type_is_refused() {
        Spi::run("ALTER TYPE routing_decision ALTER ATTRIBUTE bucket TYPE text").unwrap();
        Spi::run("SELECT * FROM route_decision('{}'::jsonb, log => false)").unwrap();
    }

    /// The kept percentage datums are the numerics the log stores, for every step of the plan.
    #[pg_test]
    fn kept_percentages_read_back_as_written() {
        for bp in [0, 5, 500, 1000, 1025, 2500, 5000, 10_000] {
            let datum = percentage_datum(bp);
            let again = percentage_datum(bp);
            assert_eq!(datum, again, "the second call uses the kept datum");
            // SAFETY: a numeric datum.
            let n = unsafe { AnyNumeric::from_datum(datum, false) }.unwrap();
            assert_eq!(n.to_string(), bp_to_numeric(bp).to_string());
        }
    }

    #[pg_test]
    fn percentage_formats_with_two_decimals() {
        assert_eq!(bp_to_numeric(1000).to_string(), "10.00");
        assert_eq!(bp_to_numeric(1025).to_string(), "10.25");
        assert_eq!(bp_to_numeric(5).to_string(), "0.05");
        assert_eq!(bp_to_numeric(10_000).to_string(), "100.00");
    }

    fn route(payload_sql: &str) -> (Option<String>, String, String) {
        Spi::get_three::<String, String, String>(&format!(
            "SELECT domain, routed_to, reason FROM route_decision({payload_sql})"
        ))
        .map(|(d, t, r)| (d, t.unwrap(), r.unwrap()))
        .unwrap()
    }

    fn fixture(json: &str) -> String {
        format!("'{}'::jsonb", json.replace('\'', "''"))
    }

    /// Every shared payload, through the SQL function, as installed and then at 100%.
    #[pg_test]
    fn fixtures_route_end_to_end() {
        let cases = [
            (
                include_str!("../../tests/fixtures/text_jobs.json"),
                Some("jobs"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../../tests/fixtures/text_property.json"),
                Some("property"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../../tests/fixtures/button_reply_marketplace.json"),
                Some("marketplace"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../../tests/fixtures/list_reply_jobs.json"),
                Some("jobs"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../../tests/fixtures/image_caption_marketplace.json"),
                Some("marketplace"),
                "routing_disabled",
                "in_rollout",
            ),
            (
                include_str!("../../tests/fixtures/template_button_insurance.json"),
                Some("insurance"),
                "protected_domain",
                "protected_domain",
            ),
            (
                include_str!("../../tests/fixtures/location_mobility.json"),
                Some("mobility"),
                "protected_domain",
                "protected_domain",
            ),
            (
                include_str!("../../tests/fixtures/status_delivered.json"),
                None,
                "no_user_message",
                "no_user_message",
            ),
        ];
        for (json, domain, installed, _) in &cases {
            let (d, target, reason) = route(&fixture(json));
            assert_eq!(d.as_deref(), *domain);
            assert_eq!(target, "legacy", "installed config is 0%, disabled");
            assert_eq!(reason, *installed);
        }
        Spi::run("SELECT set_routing_enabled(true, 'test')").unwrap();
        Spi::run("SELECT update_routing_percentage(100, 'test')").unwrap();
        // The same bodies again, as new messages of senders without a conversation: otherwise
        // they would be re-deliveries, or follow-ups kept on the handler of their first round
        // (tests/pg_regress/sql/16_conversations.sql covers both).
        Spi::run("UPDATE webhook_routing_logs SET sender_key = NULL, message_id = message_id || '.before'")
            .unwrap();
        for (json, domain, _, at_100) in &cases {
            let (d, target, reason) = route(&fixture(json));
            assert_eq!(d.as_deref(), *domain);
            assert_eq!(reason, *at_100);
            assert_eq!(
                target,
                if *at_100 == "in_rollout" {
                    "unified"
                } else {
                    "legacy"
                }
            );
        }
        // Every call above logged one pending row, with what explains it.
        let (logged, explained) = Spi::get_two::<i64, i64>(
            "SELECT count(*), count(*) FILTER (WHERE status = 'pending' AND reason IS NOT NULL \
                AND config_id IS NOT NULL AND (domain IS NULL OR rule_id IS NOT NULL)) \
             FROM webhook_routing_logs",
        )
        .unwrap();
        assert_eq!(logged, Some(16));
        assert_eq!(explained, Some(16));
        // The log keeps the message id's keyed hash, never the id (a wamid holds the number).
        let (bucket, message_id) = Spi::get_two::<i32, String>(
            "SELECT bucket, message_id FROM webhook_routing_logs \
             WHERE message_id = routing_message_key('wamid.A1') AND routed_to = 'unified' \
               AND sender_key IS NOT NULL",
        )
        .unwrap();
        assert_eq!(
            bucket,
            Some(crate::core::bucket::bucket("jobs", "250788123456"))
        );
        let key = message_id.unwrap();
        assert_eq!(key.len(), 32);
        assert!(key.bytes().all(|b| b.is_ascii_hexdigit()));
        let raw = Spi::get_one::<i64>(
            "SELECT count(*) FROM webhook_routing_logs WHERE message_id LIKE 'wamid.%'",
        )
        .unwrap();
        assert_eq!(raw, Some(0));
    }

    #[pg_test]
    fn dry_runs_log_nothing_and_never_raise() {
        let before = Spi::get_one::<i64>("SELECT count(*) FROM webhook_routing_logs").unwrap();
        let odd = [
            "NULL",
            "'null'::jsonb",
            "'[1,2]'::jsonb",
            "'\"x\"'::jsonb",
            "'{}'::jsonb",
            "'{\"entry\": [{\"changes\": [{\"value\": {\"messages\": [{\"from\": 1}]}}]}]}'::jsonb",
        ];
        for payload in odd {
            let (id, target) = Spi::get_two::<i64, String>(&format!(
                "SELECT decision_id, routed_to FROM route_decision({payload}, log => false)"
            ))
            .unwrap();
            assert_eq!((id, target.as_deref()), (None, Some("legacy")), "{payload}");
        }
        let after = Spi::get_one::<i64>("SELECT count(*) FROM webhook_routing_logs").unwrap();
        assert_eq!(before, after);
        // NULL webhook name and NULL log flag: still answered, and logged.
        let id = Spi::get_one::<i64>(
            "SELECT decision_id FROM route_decision('{}'::jsonb, NULL, NULL, NULL)",
        )
        .unwrap();
        assert!(id.is_some());
    }

    /// 20,000 distinct senders at 10% then 25%: the unified share matches the percentage, and no
    /// sender changes target when the percentage rises (or when it is asked twice).
    #[pg_test]
    fn stickiness_over_twenty_thousand_senders() {
        let template = fixture(include_str!("../../tests/fixtures/text_jobs.json"));
        let run = |table: &str| {
            Spi::run(&format!(
                "CREATE TEMP TABLE {table} AS \
                 SELECT g, (route_decision(jsonb_set({template}, \
                     '{{entry,0,changes,0,value,messages,0,from}}', \
                     to_jsonb('2507' || lpad(g::text, 8, '0'))), log => false)).routed_to \
                 FROM generate_series(1, 20000) AS g"
            ))
            .unwrap();
        };
        Spi::run("SELECT set_routing_enabled(true)").unwrap();
        Spi::run("SELECT update_routing_percentage(10)").unwrap();
        run("at10");
        run("at10_again");
        Spi::run("SELECT update_routing_percentage(25)").unwrap();
        run("at25");
        let share = |table: &str| {
            Spi::get_one::<f64>(&format!(
                "SELECT avg((routed_to = 'unified')::int)::float8 FROM {table}"
            ))
            .unwrap()
            .unwrap()
        };
        let (s10, s25) = (share("at10"), share("at25"));
        assert!((0.09..0.11).contains(&s10), "share at 10%: {s10}");
        assert!((0.235..0.265).contains(&s25), "share at 25%: {s25}");
        let flips = |a: &str, b: &str, cond: &str| {
            Spi::get_one::<i64>(&format!(
                "SELECT count(*) FROM {a} JOIN {b} USING (g) WHERE {cond}"
            ))
            .unwrap()
            .unwrap()
        };
        let left = flips(
            "at10",
            "at25",
            "at10.routed_to = 'unified' AND at25.routed_to <> 'unified'",
        );
        let bounced = flips(
            "at10",
            "at10_again",
            "at10.routed_to <> at10_again.routed_to",
        );
        assert_eq!(
            left, 0,
            "senders that left unified when the percentage rose"
        );
        assert_eq!(
            bounced, 0,
            "senders that changed target at the same percentage"
        );
        pgrx::notice!(
            "20000 senders: unified share {:.2}% at 10%, {:.2}% at 25%; {} left unified on the raise; {} changed at a held percentage",
            s10 * 100.0,
            s25 * 100.0,
            left,
            bounced
        );
    }
}
