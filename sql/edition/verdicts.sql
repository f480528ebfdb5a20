-- The SQL edition's verdict maths: the sample-ratio count, the sequential test of each health
-- check, and the catalogues of checks and reasons, as src/stats/verdict.rs and
-- src/api/route_decision.rs have them (the module comment of verdict.rs says why the test is
-- what it is). Same operations in the same order as the Rust, so that finite inputs give the
-- same floats; held to the native edition's answers by tests/vectors/check.sh.
--
-- Where the Rust carries an infinity or a zero out of an overflow or underflow, PostgreSQL's
-- float8 operators raise 22003: the one place that happens for counts (a term of the binomial
-- mixture far below the largest) is written to give the Rust's 0 instead; counts beyond about
-- 1e150 or critical levels below 1e-300 can still raise where the native edition answers.

-- exp(v), 0 where it underflows (Rust's f64::exp; PostgreSQL's exp raises there).
CREATE FUNCTION @extschema@.webhook_routing_exp(v double precision)
RETURNS double precision
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF v OPERATOR(pg_catalog.<) -745.0 THEN
        RETURN 0;
    END IF;
    RETURN pg_catalog.exp(v);
END
$$;

-- √v, NULL where Rust's f64::sqrt gives NaN (v below 0; PostgreSQL's sqrt raises there). A
-- NULL is carried on as the Rust carries its NaN: every comparison with it is false, and
-- GREATEST(NULL, 0) is 0 as NaN.max(0.0) is.
CREATE FUNCTION @extschema@.webhook_routing_sqrt(v double precision)
RETURNS double precision
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF v OPERATOR(pg_catalog.<) 0 THEN
        RETURN NULL;
    END IF;
    RETURN pg_catalog.sqrt(v);
END
$$;

-- ln Λ of x events in n trials against a rate bar: the log of the mean of the binomial
-- likelihood ratios of the alternatives bar × ratio (those within (0, 0.999)); NULL when there
-- is nothing to test (binomial_mixture in verdict.rs).
CREATE FUNCTION @extschema@.webhook_routing_binomial_mixture(x double precision, n double precision, bar double precision, ratios double precision[])
RETURNS double precision
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    terms double precision[] := '{}';
    r double precision;
    p double precision;
    t double precision;
    top double precision := '-Infinity';
    total double precision := 0;
BEGIN
    IF NOT (bar OPERATOR(pg_catalog.>) 0 AND bar OPERATOR(pg_catalog.<) 1 AND n OPERATOR(pg_catalog.>) 0
            AND x OPERATOR(pg_catalog.>=) 0 AND x OPERATOR(pg_catalog.<=) n) IS TRUE THEN
        RETURN NULL;
    END IF;
    FOREACH r IN ARRAY ratios LOOP
        p := bar OPERATOR(pg_catalog.*) r;
        IF p OPERATOR(pg_catalog.>) 0 AND p OPERATOR(pg_catalog.<) 0.999::double precision THEN
            t := (x OPERATOR(pg_catalog.*) pg_catalog.ln(p OPERATOR(pg_catalog./) bar))
                 OPERATOR(pg_catalog.+) ((n OPERATOR(pg_catalog.-) x)
                 OPERATOR(pg_catalog.*) pg_catalog.ln((1 OPERATOR(pg_catalog.-) p) OPERATOR(pg_catalog./) (1 OPERATOR(pg_catalog.-) bar)));
            terms := terms OPERATOR(pg_catalog.||) t;
            top := GREATEST(top, t);
        END IF;
    END LOOP;
    IF top OPERATOR(pg_catalog.=) ANY (ARRAY['-Infinity', 'Infinity']::double precision[]) THEN
        RETURN NULL;
    END IF;
    FOREACH t IN ARRAY terms LOOP
        total := total OPERATOR(pg_catalog.+) @extschema@.webhook_routing_exp(t OPERATOR(pg_catalog.-) top);
    END LOOP;
    RETURN top OPERATOR(pg_catalog.+) pg_catalog.ln(total OPERATOR(pg_catalog./) pg_catalog.cardinality(terms));
END
$$;

-- 1 − 1/Λ on the verdict's side, from ln Λ (never below 0).
CREATE FUNCTION @extschema@.webhook_routing_confidence(log_lr double precision)
RETURNS double precision
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    RETURN 1 OPERATOR(pg_catalog.-) @extschema@.webhook_routing_exp(OPERATOR(pg_catalog.-) GREATEST(log_lr, 0));
END
$$;

-- The verdict of one check from its counts (webhook_routing_judge in verdict.rs): see the
-- module comment there for each check's counts and bars.
CREATE FUNCTION @extschema@.webhook_routing_judge(
    check_name text,
    critical double precision,
    min_samples integer,
    samples bigint,
    x double precision,
    n double precision,
    x2 double precision,
    n2 double precision,
    above double precision
) RETURNS TABLE (verdict text, estimate double precision, statistic double precision, confidence double precision)
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    -- Λ to fail (99%) and to pass (95%); the sample ratio fails at p < 0.001 and passes within
    -- a fifth of the expected share.
    fail_at constant double precision := 100;
    pass_at constant double precision := 20;
    sample_ratio_fail_at constant double precision := 1000;
    tolerance_share constant double precision := 0.2;
    -- The alternatives of a fail (above the bar) and of a pass (below it), as multiples of it.
    above_bar constant double precision[] := '{1.25, 1.5, 2.0, 2.5, 3.0, 4.0, 6.0, 10.0, 20.0, 50.0, 100.0}';
    below_bar constant double precision[] := '{0.8, 0.6, 0.4, 0.25, 0.1, 0.02}';
    legacy_z constant double precision := 2.576;
    share double precision := critical OPERATOR(pg_catalog./) 100;
    counted double precision := CASE WHEN n OPERATOR(pg_catalog.>) 0 THEN n END;
    counted2 double precision := CASE WHEN n2 OPERATOR(pg_catalog.>) 0 THEN n2 END;
    kind text;
    -- The binomial test's count, bars, and centre; the normal test's terms.
    bx double precision;
    fail_bar double precision;
    pass_bar double precision;
    center double precision;
    legacy double precision;
    spread double precision;
    variance double precision;
    tau double precision;
    tolerance double precision;
    rate double precision;
    fail double precision;
    pass double precision;
    log_lr double precision;
    sound double precision;
    v double precision;
    t2 double precision;
BEGIN
    IF check_name IS NULL THEN
        RAISE EXCEPTION 'check_name must not be NULL'
            USING ERRCODE = 'null_value_not_allowed', HINT = 'Name the check, e.g. ''error_rate_vs_legacy''.';
    END IF;
    IF check_name OPERATOR(pg_catalog.<>) ALL (ARRAY['error_rate', 'p95_latency', 'error_rate_vs_legacy', 'p95_vs_legacy', 'sample_ratio', 'session_breaks']) THEN
        RAISE EXCEPTION 'unknown health check "%"', check_name
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'check_name is error_rate, p95_latency, error_rate_vs_legacy, p95_vs_legacy, sample_ratio or session_breaks.';
    END IF;
    min_samples := COALESCE(min_samples, 1);
    samples := COALESCE(samples, 0);
    kind := 'nothing';
    IF check_name OPERATOR(pg_catalog.=) ANY (ARRAY['error_rate', 'session_breaks', 'p95_latency']) THEN
        bx := CASE WHEN check_name OPERATOR(pg_catalog.=) 'p95_latency' THEN above ELSE x END;
        IF counted IS NOT NULL AND bx IS NOT NULL THEN
            kind := 'binomial';
            fail_bar := CASE WHEN check_name OPERATOR(pg_catalog.=) 'p95_latency' THEN 0.05 ELSE share END;
            pass_bar := fail_bar;
            center := fail_bar;
            estimate := bx OPERATOR(pg_catalog./) counted;
        END IF;
    ELSIF check_name OPERATOR(pg_catalog.=) 'error_rate_vs_legacy' THEN
        IF counted IS NOT NULL AND x IS NOT NULL AND counted2 IS NOT NULL AND x2 IS NOT NULL THEN
            kind := 'binomial';
            bx := x;
            -- Legacy's rate, half an error added so that none is not taken for certainty.
            legacy := (x2 OPERATOR(pg_catalog.+) 0.5) OPERATOR(pg_catalog./) (counted2 OPERATOR(pg_catalog.+) 1);
            spread := legacy_z OPERATOR(pg_catalog.*) @extschema@.webhook_routing_sqrt(legacy OPERATOR(pg_catalog.*) (1 OPERATOR(pg_catalog.-) legacy) OPERATOR(pg_catalog./) counted2);
            fail_bar := legacy OPERATOR(pg_catalog.+) spread OPERATOR(pg_catalog.+) share;
            pass_bar := GREATEST(legacy OPERATOR(pg_catalog.-) spread, 0) OPERATOR(pg_catalog.+) share;
            estimate := (x OPERATOR(pg_catalog./) counted) OPERATOR(pg_catalog.-) (x2 OPERATOR(pg_catalog./) counted2);
            center := legacy OPERATOR(pg_catalog.+) share;
        END IF;
    ELSIF check_name OPERATOR(pg_catalog.=) 'p95_vs_legacy' THEN
        IF counted IS NOT NULL AND above IS NOT NULL AND counted2 IS NOT NULL THEN
            kind := 'binomial';
            bx := above;
            -- Legacy's p95 is itself estimated: its coverage spreads by √(0.05·0.95/n2).
            spread := legacy_z OPERATOR(pg_catalog.*) @extschema@.webhook_routing_sqrt(0.05::double precision OPERATOR(pg_catalog.*) 0.95::double precision OPERATOR(pg_catalog./) counted2);
            fail_bar := 0.05::double precision OPERATOR(pg_catalog.+) spread;
            pass_bar := GREATEST(0.05::double precision OPERATOR(pg_catalog.-) spread, 0.005::double precision);
            estimate := above OPERATOR(pg_catalog./) counted;
            center := 0.05;
        END IF;
    ELSE
        -- sample_ratio: x unified buckets of n, x2 expected, n2 the variance of the unified count.
        IF counted IS NOT NULL AND x IS NOT NULL AND x2 IS NOT NULL AND n2 OPERATOR(pg_catalog.>) 0 THEN
            kind := 'normal';
            estimate := pg_catalog.abs(x OPERATOR(pg_catalog.-) x2) OPERATOR(pg_catalog./) counted;
            variance := n2 OPERATOR(pg_catalog./) (counted OPERATOR(pg_catalog.*) counted);
            tau := 0.1::double precision OPERATOR(pg_catalog.*) @extschema@.webhook_routing_sqrt(n2 OPERATOR(pg_catalog./) counted);
            tolerance := tolerance_share OPERATOR(pg_catalog.*) x2 OPERATOR(pg_catalog./) counted;
        END IF;
    END IF;

    IF kind OPERATOR(pg_catalog.=) 'nothing' THEN
        verdict := 'inconclusive';
    ELSIF kind OPERATOR(pg_catalog.=) 'normal' THEN
        -- Robbins' normal mixture (prior spread tau) of the distance, two-sided: evidence of a
        -- skew; and the evidence that the distance is within the tolerance.
        v := variance;
        t2 := tau OPERATOR(pg_catalog.*) tau;
        IF v OPERATOR(pg_catalog.>) 0 AND v OPERATOR(pg_catalog.<) 'Infinity'::double precision
           AND estimate OPERATOR(pg_catalog.<) 'Infinity'::double precision
           AND tau OPERATOR(pg_catalog.>) 0 AND tau OPERATOR(pg_catalog.<) 'Infinity'::double precision THEN
            log_lr := (0.5::double precision OPERATOR(pg_catalog.*) pg_catalog.ln(v OPERATOR(pg_catalog./) (v OPERATOR(pg_catalog.+) t2)))
                      OPERATOR(pg_catalog.+) (t2 OPERATOR(pg_catalog.*) estimate OPERATOR(pg_catalog.*) estimate
                      OPERATOR(pg_catalog./) (2::double precision OPERATOR(pg_catalog.*) v OPERATOR(pg_catalog.*) (v OPERATOR(pg_catalog.+) t2)));
        END IF;
        IF variance OPERATOR(pg_catalog.>) 0 AND variance OPERATOR(pg_catalog.<) 'Infinity'::double precision
           AND tolerance OPERATOR(pg_catalog.>) 0 AND estimate OPERATOR(pg_catalog.<) 'Infinity'::double precision THEN
            sound := ((tolerance OPERATOR(pg_catalog.*) tolerance)
                      OPERATOR(pg_catalog.-) (2::double precision OPERATOR(pg_catalog.*) estimate OPERATOR(pg_catalog.*) tolerance))
                     OPERATOR(pg_catalog./) (2::double precision OPERATOR(pg_catalog.*) variance);
        END IF;
        IF estimate OPERATOR(pg_catalog.>) 0 AND log_lr OPERATOR(pg_catalog.>=) pg_catalog.ln(sample_ratio_fail_at) THEN
            verdict := 'fail';
        ELSIF sound OPERATOR(pg_catalog.>=) pg_catalog.ln(pass_at) THEN
            verdict := 'pass';
        ELSE
            verdict := 'inconclusive';
        END IF;
        IF log_lr IS NOT NULL THEN
            statistic := estimate OPERATOR(pg_catalog./) @extschema@.webhook_routing_sqrt(variance);
        END IF;
        confidence := @extschema@.webhook_routing_confidence(CASE WHEN verdict OPERATOR(pg_catalog.=) 'pass' THEN sound ELSE log_lr END);
    ELSE
        rate := bx OPERATOR(pg_catalog./) counted;
        IF rate OPERATOR(pg_catalog.>) fail_bar THEN
            fail := @extschema@.webhook_routing_binomial_mixture(bx, counted, fail_bar, above_bar);
        END IF;
        IF rate OPERATOR(pg_catalog.<) pass_bar THEN
            pass := @extschema@.webhook_routing_binomial_mixture(bx, counted, pass_bar, below_bar);
        END IF;
        IF fail OPERATOR(pg_catalog.>=) pg_catalog.ln(fail_at) THEN
            verdict := 'fail';
        ELSIF pass OPERATOR(pg_catalog.>=) pg_catalog.ln(pass_at) THEN
            verdict := 'pass';
        ELSE
            verdict := 'inconclusive';
        END IF;
        log_lr := CASE WHEN rate OPERATOR(pg_catalog.>) center THEN fail ELSE pass END;
        spread := @extschema@.webhook_routing_sqrt(center OPERATOR(pg_catalog.*) (1 OPERATOR(pg_catalog.-) center) OPERATOR(pg_catalog./) counted);
        IF spread OPERATOR(pg_catalog.>) 0 THEN
            statistic := (rate OPERATOR(pg_catalog.-) center) OPERATOR(pg_catalog./) spread;
        END IF;
        confidence := COALESCE(@extschema@.webhook_routing_confidence(log_lr), 0);
    END IF;
    -- Below min_samples nothing passes, and the sample ratio says nothing.
    IF samples OPERATOR(pg_catalog.<) min_samples
       AND (check_name OPERATOR(pg_catalog.=) 'sample_ratio' OR verdict OPERATOR(pg_catalog.=) 'pass') THEN
        verdict := 'inconclusive';
    END IF;
    RETURN NEXT;
END
$$;

-- {buckets, unified, expected, variance} of the split decisions of one domain
-- (webhook_routing_sample_ratio in verdict.rs): per percentage, in the order the rows meet
-- them, the buckets not seen at an earlier one, those seen on both sides at one percentage
-- left out. A bucket set is 10,000 bits; a shorter one is read as zeros after its end, a
-- longer one to its 10,000th bit. Arrays of unequal lengths are read up to the shortest.
CREATE FUNCTION @extschema@.webhook_routing_sample_ratio(shares double precision[], unified boolean[], buckets bytea[])
RETURNS double precision[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    bucket_bytes constant integer := 1250;
    zero constant bit varying := pg_catalog.repeat('0', 10000)::bit varying;
    level_share double precision[] := '{}';
    level_unified bit varying[] := '{}';
    level_legacy bit varying[] := '{}';
    seen bit varying := zero;
    how_many integer := LEAST(pg_catalog.cardinality(shares), pg_catalog.cardinality(unified), pg_catalog.cardinality(buckets));
    i integer;
    at integer;
    share double precision;
    bits bit varying;
    on_both bit varying;
    fresh bit varying;
    u bigint;
    l bigint;
    total bigint := 0;
    total_unified bigint := 0;
    expected double precision := 0;
    variance double precision := 0;
BEGIN
    FOR i IN 1 .. how_many LOOP
        share := shares[i];
        CONTINUE WHEN share IS NULL OR unified[i] IS NULL OR buckets[i] IS NULL;
        CONTINUE WHEN NOT (share OPERATOR(pg_catalog.>=) 0 AND share OPERATOR(pg_catalog.<=) 1);
        -- Shares are percentages with two decimals: equal within a millionth is the same one.
        at := NULL;
        FOR j IN 1 .. pg_catalog.cardinality(level_share) LOOP
            IF pg_catalog.abs(level_share[j] OPERATOR(pg_catalog.-) share) OPERATOR(pg_catalog.<) 1e-6::double precision THEN
                at := j;
                EXIT;
            END IF;
        END LOOP;
        IF at IS NULL THEN
            level_share := level_share OPERATOR(pg_catalog.||) share;
            level_unified := level_unified OPERATOR(pg_catalog.||) zero;
            level_legacy := level_legacy OPERATOR(pg_catalog.||) zero;
            at := pg_catalog.cardinality(level_share);
        END IF;
        bits := ('x' OPERATOR(pg_catalog.||) pg_catalog.rpad(pg_catalog.encode(pg_catalog.substr(buckets[i], 1, bucket_bytes), 'hex'), 2 OPERATOR(pg_catalog.*) bucket_bytes, '0'))::bit varying;
        IF unified[i] THEN
            level_unified[at] := level_unified[at] OPERATOR(pg_catalog.|) bits;
        ELSE
            level_legacy[at] := level_legacy[at] OPERATOR(pg_catalog.|) bits;
        END IF;
    END LOOP;
    FOR i IN 1 .. pg_catalog.cardinality(level_share) LOOP
        -- A bucket on both sides at one percentage says nothing about the split: seen, not counted.
        on_both := level_unified[i] OPERATOR(pg_catalog.&) level_legacy[i];
        fresh := OPERATOR(pg_catalog.~) (seen OPERATOR(pg_catalog.|) on_both);
        u := pg_catalog.bit_count(level_unified[i] OPERATOR(pg_catalog.&) fresh);
        l := pg_catalog.bit_count(level_legacy[i] OPERATOR(pg_catalog.&) fresh);
        seen := seen OPERATOR(pg_catalog.|) level_unified[i] OPERATOR(pg_catalog.|) level_legacy[i];
        total := total OPERATOR(pg_catalog.+) u OPERATOR(pg_catalog.+) l;
        total_unified := total_unified OPERATOR(pg_catalog.+) u;
        expected := expected OPERATOR(pg_catalog.+) (level_share[i] OPERATOR(pg_catalog.*) (u OPERATOR(pg_catalog.+) l)::double precision);
        variance := variance OPERATOR(pg_catalog.+) (level_share[i] OPERATOR(pg_catalog.*) (1 OPERATOR(pg_catalog.-) level_share[i])
                    OPERATOR(pg_catalog.*) (u OPERATOR(pg_catalog.+) l)::double precision);
    END LOOP;
    RETURN ARRAY[total::double precision, total_unified::double precision, expected, variance];
END
$$;

-- Bitwise OR of two bucket sets (webhook_routing_bits_or in src/stats/sketch.rs): either may be
-- NULL (the other is the answer) or of another length (the longer's bytes past the shorter's
-- are kept).
CREATE FUNCTION @extschema@.webhook_routing_bits_or(a bytea, b bytea)
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    long bytea;
    short bytea;
    common integer;
BEGIN
    IF a IS NULL OR b IS NULL THEN
        RETURN COALESCE(a, b);
    END IF;
    IF pg_catalog.length(a) OPERATOR(pg_catalog.>=) pg_catalog.length(b) THEN
        long := a;
        short := b;
    ELSE
        long := b;
        short := a;
    END IF;
    common := pg_catalog.length(short);
    IF common OPERATOR(pg_catalog.=) 0 THEN
        RETURN long;
    END IF;
    RETURN pg_catalog.decode((
               SELECT pg_catalog.string_agg(pg_catalog.lpad(pg_catalog.to_hex(
                          pg_catalog.get_byte(long, i.i) OPERATOR(pg_catalog.|) pg_catalog.get_byte(short, i.i)), 2, '0'), '' ORDER BY i.i)
               FROM pg_catalog.generate_series(0, common OPERATOR(pg_catalog.-) 1) AS i (i)), 'hex')
           OPERATOR(pg_catalog.||) pg_catalog.substr(long, common OPERATOR(pg_catalog.+) 1);
END
$$;
