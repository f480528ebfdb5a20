-- The SQL edition's latency sketches: src/core/ddsketch.rs, src/stats/sketch.rs and
-- src/api/metrics.rs in PL/pgSQL, over the same bytes. A sketch one edition writes, the other
-- reads: DataDog's binary encoding, byte for byte as the native edition writes it (flags, then
-- count, min, max, sum, the mapping, the zero count and the positive bins as index deltas and
-- counts), decoded with the native checks (what this mapping cannot have written is skipped,
-- with the native WARNING where the native function gives one). Held to the native answers by
-- tests/vectors/check.sh (tests/vectors/sketches.py makes the sketches).
--
-- The mapping: gamma = (1 + 0.003) / (1 - 0.003), a bin per key floor(ln v / ln gamma) of the
-- latencies the log accepts, 0.001 ms (key -1152) to a day (key 3045); a key k reads back as
-- exp(k ln gamma) × 2 gamma / (1 + gamma). The constants below are those doubles written so that
-- float8in reads them back exactly (the shortest round-trip text): gamma's bits are
-- 0x3ff018a6631d03da, ln gamma is 0.006000018000097201 and 2 gamma / (1 + gamma) is 1.003.
-- The keys a stored sketch may hold run from that of 1e-9 (-3454) to that of the largest double
-- (118296), what the sketches-ddsketch crate of 0.6.0 could write.
--
-- Words of 64 bits are bigints holding their two's complement, as in hashes.sql: << drops what
-- it pushes out, >> copies the sign bit (masked off where a logical shift is meant). Counts are
-- encoded as doubles (count + 1, its bits less those of 1.0, rotated): for the whole numbers a
-- count can be (below 2^53) that is integer arithmetic on the exponent and the fraction, no
-- float. Sums, minima and maxima are float8, read from their bits and written with float8send,
-- so they travel bit for bit. Rust's f64::min and max give their first argument when the two
-- compare equal (0.0 and -0.0): so do webhook_routing_f64_min and webhook_routing_f64_max.
-- Counts add without saturating: the native edition saturates at 2^64, far beyond what a
-- bigint holds, and no sketch that decodes holds more than 2^40.

-- Rust's f64::min and f64::max over numbers (never NaN here): the first when they compare equal.
CREATE FUNCTION @extschema@.webhook_routing_f64_min(a double precision, b double precision)
RETURNS double precision
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF b OPERATOR(pg_catalog.<) a THEN
        RETURN b;
    END IF;
    RETURN a;
END
$$;

CREATE FUNCTION @extschema@.webhook_routing_f64_max(a double precision, b double precision)
RETURNS double precision
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF b OPERATOR(pg_catalog.>) a THEN
        RETURN b;
    END IF;
    RETURN a;
END
$$;

-- The double of a word's bits (IEEE 754 binary64): NaN and the infinities included. A normal
-- number is its significand in [1, 2) times 2^(exponent), a subnormal one its fraction times
-- 2^-1022: each product exact, and each power of two a normal double, which pow gives exactly.
CREATE FUNCTION @extschema@.webhook_routing_f64_from_bits(bits bigint)
RETURNS double precision
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    exponent integer := ((bits OPERATOR(pg_catalog.>>) 52) OPERATOR(pg_catalog.&) 2047)::integer;
    fraction bigint := bits OPERATOR(pg_catalog.&) 4503599627370495;
    magnitude double precision;
BEGIN
    IF exponent OPERATOR(pg_catalog.=) 2047 THEN
        IF fraction OPERATOR(pg_catalog.<>) 0 THEN
            RETURN 'NaN';
        END IF;
        magnitude := 'Infinity';
    ELSIF exponent OPERATOR(pg_catalog.=) 0 THEN
        magnitude := (fraction::double precision OPERATOR(pg_catalog./) 4503599627370496)
                     OPERATOR(pg_catalog.*) pg_catalog.power(2::double precision, -1022);
    ELSE
        magnitude := ((fraction OPERATOR(pg_catalog.+) 4503599627370496)::double precision OPERATOR(pg_catalog./) 4503599627370496)
                     OPERATOR(pg_catalog.*) pg_catalog.power(2::double precision, (exponent OPERATOR(pg_catalog.-) 1023)::double precision);
    END IF;
    IF bits OPERATOR(pg_catalog.<) 0 THEN
        RETURN OPERATOR(pg_catalog.-) magnitude;
    END IF;
    RETURN magnitude;
END
$$;

-- The 8 bytes of a double, little-endian, as hex (float8send writes them big-endian).
CREATE FUNCTION @extschema@.webhook_routing_f64_hex(v double precision)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    big text := pg_catalog.encode(pg_catalog.float8send(v), 'hex');
BEGIN
    RETURN pg_catalog.substr(big, 15, 2) OPERATOR(pg_catalog.||) pg_catalog.substr(big, 13, 2)
           OPERATOR(pg_catalog.||) pg_catalog.substr(big, 11, 2) OPERATOR(pg_catalog.||) pg_catalog.substr(big, 9, 2)
           OPERATOR(pg_catalog.||) pg_catalog.substr(big, 7, 2) OPERATOR(pg_catalog.||) pg_catalog.substr(big, 5, 2)
           OPERATOR(pg_catalog.||) pg_catalog.substr(big, 3, 2) OPERATOR(pg_catalog.||) pg_catalog.substr(big, 1, 2);
END
$$;

-- A count as DataDog's var-double encodes it (encode_var_double of count as f64), as hex: the
-- bits of count + 1 less those of 1.0, rotated left by 6, written 7 bits at a time from the top
-- until what is left is 0 (the ninth byte, if any, takes 8). For 0 <= count < 2^53 - 1.
CREATE FUNCTION @extschema@.webhook_routing_sketch_count_hex(count bigint)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    v bigint := count OPERATOR(pg_catalog.+) 1;
    e integer := 0;
    word bigint;
    next bigint;
    out text := '';
BEGIN
    WHILE (v OPERATOR(pg_catalog.>>) (e OPERATOR(pg_catalog.+) 1)) OPERATOR(pg_catalog.>) 0 LOOP
        e := e OPERATOR(pg_catalog.+) 1;
    END LOOP;
    -- v = 2^e + r: the double's exponent field less 1.0's is e, its fraction r << (52 - e);
    -- below 2^58, so the rotation by 6 is a shift.
    word := ((e::bigint OPERATOR(pg_catalog.<<) 52)
             OPERATOR(pg_catalog.|) ((v OPERATOR(pg_catalog.-) (1::bigint OPERATOR(pg_catalog.<<) e)) OPERATOR(pg_catalog.<<) (52 OPERATOR(pg_catalog.-) e)))
            OPERATOR(pg_catalog.<<) 6;
    FOR i IN 1..8 LOOP
        next := (word OPERATOR(pg_catalog.>>) 57) OPERATOR(pg_catalog.&) 127;
        word := word OPERATOR(pg_catalog.<<) 7;
        IF word OPERATOR(pg_catalog.=) 0 THEN
            RETURN out OPERATOR(pg_catalog.||) pg_catalog.lpad(pg_catalog.to_hex(next), 2, '0');
        END IF;
        out := out OPERATOR(pg_catalog.||) pg_catalog.to_hex(next OPERATOR(pg_catalog.|) 128);
    END LOOP;
    RETURN out OPERATOR(pg_catalog.||) pg_catalog.lpad(pg_catalog.to_hex((word OPERATOR(pg_catalog.>>) 56) OPERATOR(pg_catalog.&) 255), 2, '0');
END
$$;

-- The whole number n that var-double bits stand for (the double n + 1 with these bits, as
-- decode_var_double reads them after its rotation), or -1 when they stand for no whole number
-- in [0, limit] (limit below 2^53).
CREATE FUNCTION @extschema@.webhook_routing_sketch_whole(bits bigint, limit_ bigint)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    e integer;
    n bigint;
BEGIN
    IF bits OPERATOR(pg_catalog.<) 0 THEN
        RETURN -1;
    END IF;
    e := (bits OPERATOR(pg_catalog.>>) 52)::integer OPERATOR(pg_catalog.-) 1023;
    IF e OPERATOR(pg_catalog.<) 0 OR e OPERATOR(pg_catalog.>) 52
       OR (bits OPERATOR(pg_catalog.&) ((1::bigint OPERATOR(pg_catalog.<<) (52 OPERATOR(pg_catalog.-) e)) OPERATOR(pg_catalog.-) 1)) OPERATOR(pg_catalog.<>) 0 THEN
        RETURN -1;
    END IF;
    n := (((bits OPERATOR(pg_catalog.&) 4503599627370495) OPERATOR(pg_catalog.|) 4503599627370496) OPERATOR(pg_catalog.>>) (52 OPERATOR(pg_catalog.-) e))
         OPERATOR(pg_catalog.-) 1;
    IF n OPERATOR(pg_catalog.>) limit_ THEN
        RETURN -1;
    END IF;
    RETURN n;
END
$$;

-- Whether a byte is one of the encoding's flags (is_valid_flag_byte): a sketch that starts with
-- 0x02 and then a flag has a version byte first, which is skipped.
CREATE FUNCTION @extschema@.webhook_routing_sketch_is_flag(b integer)
RETURNS boolean
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF b OPERATOR(pg_catalog.=) ANY ('{4,160,132,136,140,2}'::integer[]) THEN
        RETURN true;
    END IF;
    RETURN CASE b OPERATOR(pg_catalog.&) 3
        WHEN 1 THEN (b OPERATOR(pg_catalog.>>) 2) OPERATOR(pg_catalog.>=) 1 AND (b OPERATOR(pg_catalog.>>) 2) OPERATOR(pg_catalog.<=) 3
        WHEN 3 THEN (b OPERATOR(pg_catalog.>>) 2) OPERATOR(pg_catalog.>=) 1 AND (b OPERATOR(pg_catalog.>>) 2) OPERATOR(pg_catalog.<=) 3
        WHEN 2 THEN (b OPERATOR(pg_catalog.>>) 2) OPERATOR(pg_catalog.<=) 4
        ELSE false
    END;
END
$$;

-- Decode stored sketches and merge them, as merge_stored does: NULLs are left out, and so is
-- (counted in skipped) whatever from_java_bytes refuses: no mapping or another one, a negative
-- store or a second one, an unknown flag or bin encoding, a truncated field, a count that is no
-- whole number up to 2^40 or a stated count the bins do not add up to, a key out of what the
-- crate could write, a sum that is not finite and positive, a minimum or maximum missing, not
-- finite, negative or out of order. A bin below 0.001 ms counts as zero, one above a day at a
-- day (as 0.6.0's sketches may hold them); a maximum above a day is a day, and the sum at most
-- the count's days. The first sketch decoded is taken as it is and the others are added to it,
-- an empty one adding nothing. bins holds the count of key k at bins[k], from -1152 to 3045
-- (NULL while no bin is counted); low and high are the lowest and highest keys counted.
CREATE FUNCTION @extschema@.webhook_routing_sketch_fold(sketches bytea[],
    OUT count bigint, OUT zero bigint, OUT sum double precision, OUT min double precision,
    OUT max double precision, OUT bins bigint[], OUT low integer, OUT high integer, OUT skipped integer)
RETURNS record
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    max_count CONSTANT bigint := 1099511627776;
    one_bits CONSTANT bigint := 4607182418800017408;
    gamma_bits CONSTANT bigint := 4607209521706501082;
    sign_bit CONSTANT bigint := '-9223372036854775808';
    max_ms CONSTANT double precision := 86400000;
    s bytea;
    len integer;
    pos integer;
    b integer;
    flag integer;
    word bigint;
    shift integer;
    mode integer;
    taken boolean := false;
    mapping_seen boolean;
    store_seen boolean;
    stated bigint;
    t_zero bigint;
    t_binned bigint;
    t_count bigint;
    t_sum double precision;
    t_min double precision;
    t_max double precision;
    t_keys integer[];
    t_counts bigint[];
    t_n integer;
    bins_left bigint;
    done bigint;
    key bigint;
    step bigint;
    delta bigint;
    n bigint;
    part integer;
    i integer;
BEGIN
    count := 0;
    zero := 0;
    sum := 0;
    min := 'Infinity';
    max := '-Infinity';
    skipped := 0;
    <<sketch>>
    FOREACH s IN ARRAY sketches LOOP
        CONTINUE WHEN s IS NULL;
        len := pg_catalog.length(s);
        pos := 0;
        IF len OPERATOR(pg_catalog.>=) 2 AND pg_catalog.get_byte(s, 0) OPERATOR(pg_catalog.=) 2
           AND @extschema@.webhook_routing_sketch_is_flag(pg_catalog.get_byte(s, 1)) THEN
            pos := 1;
        END IF;
        mapping_seen := false;
        store_seen := false;
        stated := NULL;
        t_zero := 0;
        t_binned := 0;
        t_sum := 0;
        t_min := NULL;
        t_max := NULL;
        t_keys := '{}';
        t_counts := '{}';
        t_n := 0;
        WHILE pos OPERATOR(pg_catalog.<) len LOOP
            flag := pg_catalog.get_byte(s, pos);
            pos := pos OPERATOR(pg_catalog.+) 1;
            IF flag OPERATOR(pg_catalog.=) 2 THEN
                -- The mapping: gamma, bit for bit ours, and an offset of 0.0 (or -0.0).
                IF pos OPERATOR(pg_catalog.+) 16 OPERATOR(pg_catalog.>) len THEN
                    skipped := skipped OPERATOR(pg_catalog.+) 1;
                    CONTINUE sketch;
                END IF;
                word := 0;
                FOR part IN 0..7 LOOP
                    word := word OPERATOR(pg_catalog.|) (pg_catalog.get_byte(s, pos OPERATOR(pg_catalog.+) part)::bigint OPERATOR(pg_catalog.<<) (8 OPERATOR(pg_catalog.*) part));
                END LOOP;
                IF word OPERATOR(pg_catalog.<>) gamma_bits THEN
                    skipped := skipped OPERATOR(pg_catalog.+) 1;
                    CONTINUE sketch;
                END IF;
                word := 0;
                FOR part IN 0..7 LOOP
                    word := word OPERATOR(pg_catalog.|) (pg_catalog.get_byte(s, pos OPERATOR(pg_catalog.+) 8 OPERATOR(pg_catalog.+) part)::bigint OPERATOR(pg_catalog.<<) (8 OPERATOR(pg_catalog.*) part));
                END LOOP;
                IF word OPERATOR(pg_catalog.<>) 0 AND word OPERATOR(pg_catalog.<>) sign_bit THEN
                    skipped := skipped OPERATOR(pg_catalog.+) 1;
                    CONTINUE sketch;
                END IF;
                pos := pos OPERATOR(pg_catalog.+) 16;
                mapping_seen := true;
            ELSIF flag OPERATOR(pg_catalog.=) ANY ('{132,136,140}'::integer[]) THEN
                -- The sum, the minimum or the maximum: a double, little-endian.
                IF pos OPERATOR(pg_catalog.+) 8 OPERATOR(pg_catalog.>) len THEN
                    skipped := skipped OPERATOR(pg_catalog.+) 1;
                    CONTINUE sketch;
                END IF;
                word := 0;
                FOR part IN 0..7 LOOP
                    word := word OPERATOR(pg_catalog.|) (pg_catalog.get_byte(s, pos OPERATOR(pg_catalog.+) part)::bigint OPERATOR(pg_catalog.<<) (8 OPERATOR(pg_catalog.*) part));
                END LOOP;
                pos := pos OPERATOR(pg_catalog.+) 8;
                IF flag OPERATOR(pg_catalog.=) 132 THEN
                    t_sum := @extschema@.webhook_routing_f64_from_bits(word);
                ELSIF flag OPERATOR(pg_catalog.=) 136 THEN
                    t_min := @extschema@.webhook_routing_f64_from_bits(word);
                ELSE
                    t_max := @extschema@.webhook_routing_f64_from_bits(word);
                END IF;
            ELSIF flag OPERATOR(pg_catalog.=) 4 OR flag OPERATOR(pg_catalog.=) 160 THEN
                -- The zero count or the stated count: a var-double.
                word := 0;
                shift := 57;
                LOOP
                    IF pos OPERATOR(pg_catalog.>=) len THEN
                        skipped := skipped OPERATOR(pg_catalog.+) 1;
                        CONTINUE sketch;
                    END IF;
                    b := pg_catalog.get_byte(s, pos);
                    pos := pos OPERATOR(pg_catalog.+) 1;
                    IF shift OPERATOR(pg_catalog.=) 1 THEN
                        word := word OPERATOR(pg_catalog.|) b;
                        EXIT;
                    END IF;
                    IF b OPERATOR(pg_catalog.<) 128 THEN
                        word := word OPERATOR(pg_catalog.|) (b::bigint OPERATOR(pg_catalog.<<) shift);
                        EXIT;
                    END IF;
                    word := word OPERATOR(pg_catalog.|) ((b OPERATOR(pg_catalog.&) 127)::bigint OPERATOR(pg_catalog.<<) shift);
                    shift := shift OPERATOR(pg_catalog.-) 7;
                END LOOP;
                -- Rotated right by 6, plus the bits of 1.0 (mod 2^64).
                word := ((word OPERATOR(pg_catalog.>>) 6) OPERATOR(pg_catalog.&) 288230376151711743) OPERATOR(pg_catalog.|) (word OPERATOR(pg_catalog.<<) 58);
                word := CASE WHEN word OPERATOR(pg_catalog.<) 0 THEN word OPERATOR(pg_catalog.+) one_bits
                             ELSE ((word OPERATOR(pg_catalog.#) sign_bit) OPERATOR(pg_catalog.+) one_bits) OPERATOR(pg_catalog.#) sign_bit END;
                IF flag OPERATOR(pg_catalog.=) 160 THEN
                    -- Compared with the bins' count at the end: only a whole number can equal it.
                    stated := @extschema@.webhook_routing_sketch_whole(word, 4503599627370495);
                ELSE
                    n := @extschema@.webhook_routing_sketch_whole(word, max_count);
                    t_zero := t_zero OPERATOR(pg_catalog.+) n;
                    -- (Over 2^40 the whole sketch is refused at the end: now is the same.)
                    IF n OPERATOR(pg_catalog.<) 0 OR t_zero OPERATOR(pg_catalog.>) max_count THEN
                        skipped := skipped OPERATOR(pg_catalog.+) 1;
                        CONTINUE sketch;
                    END IF;
                END IF;
            ELSIF flag OPERATOR(pg_catalog.&) 3 OPERATOR(pg_catalog.=) 1 AND NOT store_seen THEN
                -- The positive store, in one of three bin encodings.
                store_seen := true;
                mode := flag OPERATOR(pg_catalog.>>) 2;
                IF mode OPERATOR(pg_catalog.<) 1 OR mode OPERATOR(pg_catalog.>) 3 THEN
                    skipped := skipped OPERATOR(pg_catalog.+) 1;
                    CONTINUE sketch;
                END IF;
                -- Three var-longs at most before the first bin: the number of bins, and for
                -- contiguous counts the first key and the step (zigzag).
                FOR part IN 1..CASE WHEN mode OPERATOR(pg_catalog.=) 3 THEN 3 ELSE 1 END LOOP
                    word := 0;
                    shift := 0;
                    LOOP
                        IF pos OPERATOR(pg_catalog.>=) len THEN
                            skipped := skipped OPERATOR(pg_catalog.+) 1;
                            CONTINUE sketch;
                        END IF;
                        b := pg_catalog.get_byte(s, pos);
                        pos := pos OPERATOR(pg_catalog.+) 1;
                        IF b OPERATOR(pg_catalog.<) 128 OR shift OPERATOR(pg_catalog.=) 56 THEN
                            word := word OPERATOR(pg_catalog.|) (b::bigint OPERATOR(pg_catalog.<<) shift);
                            EXIT;
                        END IF;
                        word := word OPERATOR(pg_catalog.|) ((b OPERATOR(pg_catalog.&) 127)::bigint OPERATOR(pg_catalog.<<) shift);
                        shift := shift OPERATOR(pg_catalog.+) 7;
                    END LOOP;
                    IF part OPERATOR(pg_catalog.=) 1 THEN
                        -- Unsigned: below 0 here is 2^63 or more, as many as the bytes allow.
                        bins_left := word;
                    ELSE
                        word := ((word OPERATOR(pg_catalog.>>) 1) OPERATOR(pg_catalog.&) 9223372036854775807)
                                OPERATOR(pg_catalog.#) (OPERATOR(pg_catalog.-) (word OPERATOR(pg_catalog.&) 1));
                        IF part OPERATOR(pg_catalog.=) 2 THEN
                            key := word;
                        ELSE
                            step := word;
                        END IF;
                    END IF;
                END LOOP;
                IF mode OPERATOR(pg_catalog.<>) 3 THEN
                    key := 0;
                END IF;
                done := 0;
                WHILE bins_left OPERATOR(pg_catalog.<) 0 OR done OPERATOR(pg_catalog.<) bins_left LOOP
                    IF mode OPERATOR(pg_catalog.<>) 3 THEN
                        -- The key's delta from the previous key (zigzag var-long).
                        word := 0;
                        shift := 0;
                        LOOP
                            IF pos OPERATOR(pg_catalog.>=) len THEN
                                skipped := skipped OPERATOR(pg_catalog.+) 1;
                                CONTINUE sketch;
                            END IF;
                            b := pg_catalog.get_byte(s, pos);
                            pos := pos OPERATOR(pg_catalog.+) 1;
                            IF b OPERATOR(pg_catalog.<) 128 OR shift OPERATOR(pg_catalog.=) 56 THEN
                                word := word OPERATOR(pg_catalog.|) (b::bigint OPERATOR(pg_catalog.<<) shift);
                                EXIT;
                            END IF;
                            word := word OPERATOR(pg_catalog.|) ((b OPERATOR(pg_catalog.&) 127)::bigint OPERATOR(pg_catalog.<<) shift);
                            shift := shift OPERATOR(pg_catalog.+) 7;
                        END LOOP;
                        delta := ((word OPERATOR(pg_catalog.>>) 1) OPERATOR(pg_catalog.&) 9223372036854775807)
                                 OPERATOR(pg_catalog.#) (OPERATOR(pg_catalog.-) (word OPERATOR(pg_catalog.&) 1));
                        -- checked_add: an overflow refuses the sketch.
                        IF (delta OPERATOR(pg_catalog.>) 0 AND key OPERATOR(pg_catalog.>) (9223372036854775807 OPERATOR(pg_catalog.-) delta))
                           OR (delta OPERATOR(pg_catalog.<) 0 AND key OPERATOR(pg_catalog.<) (sign_bit OPERATOR(pg_catalog.-) delta)) THEN
                            skipped := skipped OPERATOR(pg_catalog.+) 1;
                            CONTINUE sketch;
                        END IF;
                        key := key OPERATOR(pg_catalog.+) delta;
                    END IF;
                    IF mode OPERATOR(pg_catalog.=) 2 THEN
                        n := 1;
                    ELSIF pos OPERATOR(pg_catalog.<) len AND pg_catalog.get_byte(s, pos) OPERATOR(pg_catalog.<) 128 THEN
                        -- A count in one byte b (most bins': 1, 2, 3, 5, 7, 11...): the double
                        -- 2^(b >> 1) × (1 + (b & 1) / 2), which is the whole number count + 1
                        -- unless it is 1.5. The general path's answer, without its calls.
                        b := pg_catalog.get_byte(s, pos);
                        pos := pos OPERATOR(pg_catalog.+) 1;
                        shift := b OPERATOR(pg_catalog.>>) 1;
                        IF shift OPERATOR(pg_catalog.=) 0 THEN
                            n := CASE WHEN b OPERATOR(pg_catalog.=) 0 THEN 0 ELSE -1 END;
                        ELSIF shift OPERATOR(pg_catalog.>) 41 THEN
                            n := -1;
                        ELSE
                            n := ((2 OPERATOR(pg_catalog.+) (b OPERATOR(pg_catalog.&) 1))::bigint OPERATOR(pg_catalog.<<) (shift OPERATOR(pg_catalog.-) 1))
                                 OPERATOR(pg_catalog.-) 1;
                        END IF;
                        IF n OPERATOR(pg_catalog.<) 0 OR n OPERATOR(pg_catalog.>) max_count THEN
                            skipped := skipped OPERATOR(pg_catalog.+) 1;
                            CONTINUE sketch;
                        END IF;
                    ELSE
                        -- The bin's count: a var-double, a whole number up to 2^40.
                        word := 0;
                        shift := 57;
                        LOOP
                            IF pos OPERATOR(pg_catalog.>=) len THEN
                                skipped := skipped OPERATOR(pg_catalog.+) 1;
                                CONTINUE sketch;
                            END IF;
                            b := pg_catalog.get_byte(s, pos);
                            pos := pos OPERATOR(pg_catalog.+) 1;
                            IF shift OPERATOR(pg_catalog.=) 1 THEN
                                word := word OPERATOR(pg_catalog.|) b;
                                EXIT;
                            END IF;
                            IF b OPERATOR(pg_catalog.<) 128 THEN
                                word := word OPERATOR(pg_catalog.|) (b::bigint OPERATOR(pg_catalog.<<) shift);
                                EXIT;
                            END IF;
                            word := word OPERATOR(pg_catalog.|) ((b OPERATOR(pg_catalog.&) 127)::bigint OPERATOR(pg_catalog.<<) shift);
                            shift := shift OPERATOR(pg_catalog.-) 7;
                        END LOOP;
                        word := ((word OPERATOR(pg_catalog.>>) 6) OPERATOR(pg_catalog.&) 288230376151711743) OPERATOR(pg_catalog.|) (word OPERATOR(pg_catalog.<<) 58);
                        word := CASE WHEN word OPERATOR(pg_catalog.<) 0 THEN word OPERATOR(pg_catalog.+) one_bits
                                     ELSE ((word OPERATOR(pg_catalog.#) sign_bit) OPERATOR(pg_catalog.+) one_bits) OPERATOR(pg_catalog.#) sign_bit END;
                        n := @extschema@.webhook_routing_sketch_whole(word, max_count);
                        IF n OPERATOR(pg_catalog.<) 0 THEN
                            skipped := skipped OPERATOR(pg_catalog.+) 1;
                            CONTINUE sketch;
                        END IF;
                    END IF;
                    -- The bin: a key the crate could have written; below 0.001 ms it is zero,
                    -- above a day it is a day's.
                    IF key OPERATOR(pg_catalog.<) -3454 OR key OPERATOR(pg_catalog.>) 118296 THEN
                        skipped := skipped OPERATOR(pg_catalog.+) 1;
                        CONTINUE sketch;
                    END IF;
                    IF n OPERATOR(pg_catalog.>) 0 THEN
                        IF key OPERATOR(pg_catalog.<) -1152 THEN
                            t_zero := t_zero OPERATOR(pg_catalog.+) n;
                        ELSE
                            t_n := t_n OPERATOR(pg_catalog.+) 1;
                            t_keys[t_n] := LEAST(key, 3045);
                            t_counts[t_n] := n;
                            t_binned := t_binned OPERATOR(pg_catalog.+) n;
                        END IF;
                        IF t_zero OPERATOR(pg_catalog.>) max_count OR t_binned OPERATOR(pg_catalog.>) max_count THEN
                            skipped := skipped OPERATOR(pg_catalog.+) 1;
                            CONTINUE sketch;
                        END IF;
                    END IF;
                    IF mode OPERATOR(pg_catalog.=) 3 THEN
                        IF (step OPERATOR(pg_catalog.>) 0 AND key OPERATOR(pg_catalog.>) (9223372036854775807 OPERATOR(pg_catalog.-) step))
                           OR (step OPERATOR(pg_catalog.<) 0 AND key OPERATOR(pg_catalog.<) (sign_bit OPERATOR(pg_catalog.-) step)) THEN
                            skipped := skipped OPERATOR(pg_catalog.+) 1;
                            CONTINUE sketch;
                        END IF;
                        key := key OPERATOR(pg_catalog.+) step;
                    END IF;
                    done := done OPERATOR(pg_catalog.+) 1;
                END LOOP;
            ELSE
                -- Another mapping, a negative store, a second store, or no flag at all.
                skipped := skipped OPERATOR(pg_catalog.+) 1;
                CONTINUE sketch;
            END IF;
        END LOOP;
        t_count := t_binned OPERATOR(pg_catalog.+) t_zero;
        IF NOT mapping_seen OR t_count OPERATOR(pg_catalog.>) max_count
           OR stated OPERATOR(pg_catalog.<>) t_count
           OR NOT (t_sum OPERATOR(pg_catalog.>=) 0 AND t_sum OPERATOR(pg_catalog.<) 'Infinity'::double precision) THEN
            skipped := skipped OPERATOR(pg_catalog.+) 1;
            CONTINUE sketch;
        END IF;
        IF t_count OPERATOR(pg_catalog.=) 0 THEN
            t_sum := 0;
            t_min := 'Infinity';
            t_max := '-Infinity';
        ELSE
            IF t_min IS NULL OR t_max IS NULL
               OR NOT (t_min OPERATOR(pg_catalog.>=) 0 AND t_max OPERATOR(pg_catalog.<) 'Infinity'::double precision
                       AND t_min OPERATOR(pg_catalog.<=) t_max) THEN
                skipped := skipped OPERATOR(pg_catalog.+) 1;
                CONTINUE sketch;
            END IF;
            t_max := @extschema@.webhook_routing_f64_min(t_max, max_ms);
            t_min := @extschema@.webhook_routing_f64_min(t_min, t_max);
            t_sum := @extschema@.webhook_routing_f64_min(t_sum, t_count::double precision OPERATOR(pg_catalog.*) max_ms);
        END IF;
        -- Merge: the first as it is; then each that holds a sample.
        IF taken AND t_count OPERATOR(pg_catalog.=) 0 THEN
            CONTINUE sketch;
        END IF;
        IF t_n OPERATOR(pg_catalog.>) 0 AND bins IS NULL THEN
            bins := pg_catalog.array_fill(0::bigint, ARRAY[4198], ARRAY[-1152]);
        END IF;
        FOR i IN 1..t_n LOOP
            bins[t_keys[i]] := bins[t_keys[i]] OPERATOR(pg_catalog.+) t_counts[i];
            low := LEAST(low, t_keys[i]);
            high := GREATEST(high, t_keys[i]);
        END LOOP;
        IF NOT taken THEN
            taken := true;
            count := t_count;
            zero := t_zero;
            sum := t_sum;
            min := t_min;
            max := t_max;
        ELSE
            count := count OPERATOR(pg_catalog.+) t_count;
            zero := zero OPERATOR(pg_catalog.+) t_zero;
            sum := sum OPERATOR(pg_catalog.+) t_sum;
            min := @extschema@.webhook_routing_f64_min(min, t_min);
            max := @extschema@.webhook_routing_f64_max(max, t_max);
        END IF;
    END LOOP;
END
$$;

-- A merged sketch in DataDog's binary encoding, byte for byte as to_java_bytes writes it: the
-- count, minimum and maximum when there is a sample, the sum when it is not 0, the mapping, the
-- zero count when there is one, and the bins with a count as (zigzag key delta, count) pairs,
-- lowest key first.
CREATE FUNCTION @extschema@.webhook_routing_sketch_encode(count bigint, zero bigint, sum double precision,
    min double precision, max double precision, bins bigint[], low integer, high integer)
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    parts text[] := '{}';
    n integer := 0;
    keys integer := 0;
    previous bigint := 0;
    word bigint;
    hex text;
BEGIN
    IF count OPERATOR(pg_catalog.<>) 0 THEN
        parts := ARRAY['a0' OPERATOR(pg_catalog.||) @extschema@.webhook_routing_sketch_count_hex(count),
                       '88' OPERATOR(pg_catalog.||) @extschema@.webhook_routing_f64_hex(min),
                       '8c' OPERATOR(pg_catalog.||) @extschema@.webhook_routing_f64_hex(max)];
        n := 3;
    END IF;
    IF sum OPERATOR(pg_catalog.<>) 0 THEN
        n := n OPERATOR(pg_catalog.+) 1;
        parts[n] := '84' OPERATOR(pg_catalog.||) @extschema@.webhook_routing_f64_hex(sum);
    END IF;
    n := n OPERATOR(pg_catalog.+) 1;
    parts[n] := '02da031d63a618f03f0000000000000000';
    IF zero OPERATOR(pg_catalog.<>) 0 THEN
        n := n OPERATOR(pg_catalog.+) 1;
        parts[n] := '04' OPERATOR(pg_catalog.||) @extschema@.webhook_routing_sketch_count_hex(zero);
    END IF;
    IF low IS NOT NULL THEN
        FOR k IN low..high LOOP
            IF bins[k] OPERATOR(pg_catalog.>) 0 THEN
                keys := keys OPERATOR(pg_catalog.+) 1;
            END IF;
        END LOOP;
    END IF;
    IF keys OPERATOR(pg_catalog.>) 0 THEN
        n := n OPERATOR(pg_catalog.+) 1;
        parts[n] := '05';
        -- Unsigned var-longs: 7 bits a byte, lowest first, the high bit set on all but the last.
        word := keys;
        hex := '';
        WHILE word OPERATOR(pg_catalog.>=) 128 LOOP
            hex := hex OPERATOR(pg_catalog.||) pg_catalog.to_hex((word OPERATOR(pg_catalog.&) 127) OPERATOR(pg_catalog.|) 128);
            word := word OPERATOR(pg_catalog.>>) 7;
        END LOOP;
        n := n OPERATOR(pg_catalog.+) 1;
        parts[n] := hex OPERATOR(pg_catalog.||) pg_catalog.lpad(pg_catalog.to_hex(word), 2, '0');
        FOR k IN low..high LOOP
            CONTINUE WHEN bins[k] OPERATOR(pg_catalog.=) 0;
            -- Zigzag: 2d for a delta d >= 0, -2d - 1 below.
            word := k OPERATOR(pg_catalog.-) previous;
            word := CASE WHEN word OPERATOR(pg_catalog.<) 0 THEN (OPERATOR(pg_catalog.-) 2 OPERATOR(pg_catalog.*) word) OPERATOR(pg_catalog.-) 1
                         ELSE 2 OPERATOR(pg_catalog.*) word END;
            hex := '';
            WHILE word OPERATOR(pg_catalog.>=) 128 LOOP
                hex := hex OPERATOR(pg_catalog.||) pg_catalog.to_hex((word OPERATOR(pg_catalog.&) 127) OPERATOR(pg_catalog.|) 128);
                word := word OPERATOR(pg_catalog.>>) 7;
            END LOOP;
            n := n OPERATOR(pg_catalog.+) 1;
            -- Counts of 1, 2 and 3 (most bins') are one byte each: 02, 03, 04.
            parts[n] := hex OPERATOR(pg_catalog.||) pg_catalog.lpad(pg_catalog.to_hex(word), 2, '0')
                        OPERATOR(pg_catalog.||) CASE WHEN bins[k] OPERATOR(pg_catalog.<=) 3 THEN '0' OPERATOR(pg_catalog.||) (bins[k] OPERATOR(pg_catalog.+) 1)::text
                                                     ELSE @extschema@.webhook_routing_sketch_count_hex(bins[k]) END;
            previous := k;
        END LOOP;
    END IF;
    RETURN pg_catalog.decode(pg_catalog.array_to_string(parts, ''), 'hex');
END
$$;

-- The WARNING of report_skipped: sketches that did not decode, left out of the figures.
CREATE FUNCTION @extschema@.webhook_routing_sketch_report_skipped(skipped integer)
RETURNS void
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    IF skipped OPERATOR(pg_catalog.>) 0 THEN
        RAISE WARNING USING ERRCODE = 'data_corrupted',
            MESSAGE = pg_catalog.format('webhook_routing skipped %s latency sketches that could not be read', skipped),
            DETAIL = 'Stats and health leave their outcomes out.',
            HINT = 'Sketches are written only by the log''s triggers; find the rows changed by hand in '
                   'webhook_routing_sketches and delete them, or TRUNCATE webhook_routing_logs.';
    END IF;
END
$$;

-- The sample of rank `rank` (0-based, ascending) of a merged sketch, as at_rank reads it: the
-- highest is the exact maximum, one below the zero count 0, the others their bin's value; keys
-- and ends are the keys with a count and the ranks they end at (the zero count plus the counts
-- up to each), found by bisection.
CREATE FUNCTION @extschema@.webhook_routing_sketch_at_rank(count bigint, zero bigint, max double precision,
    keys integer[], ends bigint[], rank bigint)
RETURNS double precision
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    low integer := 1;
    high integer := pg_catalog.cardinality(keys) OPERATOR(pg_catalog.+) 1;
    mid integer;
BEGIN
    IF count OPERATOR(pg_catalog.=) 0 THEN
        RETURN NULL;
    END IF;
    IF rank OPERATOR(pg_catalog.+) 1 OPERATOR(pg_catalog.>=) count THEN
        RETURN max;
    END IF;
    IF rank OPERATOR(pg_catalog.<) zero THEN
        RETURN 0;
    END IF;
    -- The first key whose end is past the rank.
    WHILE low OPERATOR(pg_catalog.<) high LOOP
        mid := (low OPERATOR(pg_catalog.+) high) OPERATOR(pg_catalog./) 2;
        IF ends[mid] OPERATOR(pg_catalog.>) rank THEN
            high := mid;
        ELSE
            low := mid OPERATOR(pg_catalog.+) 1;
        END IF;
    END LOOP;
    IF low OPERATOR(pg_catalog.>) pg_catalog.cardinality(keys) THEN
        RETURN max;
    END IF;
    RETURN pg_catalog.exp(keys[low]::double precision OPERATOR(pg_catalog.*) 0.006000018000097201::double precision)
           OPERATOR(pg_catalog.*) 1.003::double precision;
END
$$;

-- Merge two sketches (either may be NULL); one that does not decode is dropped, with no
-- warning (the write path never fails on stored data). NULL when no sample is left.
CREATE FUNCTION @extschema@.webhook_routing_sketch_merge(a bytea, b bytea)
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
BEGIN
    f := @extschema@.webhook_routing_sketch_fold(ARRAY[a, b]);
    IF f.count OPERATOR(pg_catalog.=) 0 THEN
        RETURN NULL;
    END IF;
    RETURN @extschema@.webhook_routing_sketch_encode(f.count, f.zero, f.sum, f.min, f.max, f.bins, f.low, f.high);
END
$$;

-- Merge sketches into one (NULL when none holds a sample). NULLs are skipped; so are entries
-- that do not decode, with a WARNING.
CREATE FUNCTION @extschema@.webhook_routing_sketch_union(sketches bytea[])
RETURNS bytea
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
BEGIN
    f := @extschema@.webhook_routing_sketch_fold(sketches);
    PERFORM @extschema@.webhook_routing_sketch_report_skipped(f.skipped);
    IF f.count OPERATOR(pg_catalog.=) 0 THEN
        RETURN NULL;
    END IF;
    RETURN @extschema@.webhook_routing_sketch_encode(f.count, f.zero, f.sum, f.min, f.max, f.bins, f.low, f.high);
END
$$;

-- The keys with a count of a merged sketch and the rank each ends at, for at_rank.
CREATE FUNCTION @extschema@.webhook_routing_sketch_ranks(zero bigint, bins bigint[], low integer, high integer,
    OUT keys integer[], OUT ends bigint[])
RETURNS record
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    seen bigint := zero;
    n integer := 0;
BEGIN
    keys := '{}';
    ends := '{}';
    IF low IS NULL THEN
        RETURN;
    END IF;
    FOR k IN low..high LOOP
        CONTINUE WHEN bins[k] OPERATOR(pg_catalog.=) 0;
        seen := seen OPERATOR(pg_catalog.+) bins[k];
        n := n OPERATOR(pg_catalog.+) 1;
        keys[n] := k;
        ends[n] := seen;
    END LOOP;
END
$$;

-- Merge sketches and summarize them: {count, sum, p50, p95, p99} of the latencies (ms), each
-- quantile interpolated between the samples around q (count - 1) as percentile_cont does;
-- {0, NULL, NULL, NULL, NULL} without a sample. NULLs are skipped; so are entries that do not
-- decode, with a WARNING.
CREATE FUNCTION @extschema@.webhook_routing_sketch_summary(sketches bytea[])
RETURNS double precision[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
    r record;
    out double precision[];
    q double precision;
    position double precision;
    rank double precision;
    low_value double precision;
    fraction double precision;
BEGIN
    f := @extschema@.webhook_routing_sketch_fold(sketches);
    PERFORM @extschema@.webhook_routing_sketch_report_skipped(f.skipped);
    IF f.count OPERATOR(pg_catalog.=) 0 THEN
        RETURN ARRAY[0, NULL, NULL, NULL, NULL]::double precision[];
    END IF;
    r := @extschema@.webhook_routing_sketch_ranks(f.zero, f.bins, f.low, f.high);
    out := ARRAY[f.count::double precision, f.sum];
    FOREACH q IN ARRAY ARRAY[0.5, 0.95, 0.99]::double precision[] LOOP
        position := q OPERATOR(pg_catalog.*) (f.count OPERATOR(pg_catalog.-) 1)::double precision;
        rank := pg_catalog.floor(position);
        low_value := @extschema@.webhook_routing_sketch_at_rank(f.count, f.zero, f.max, r.keys, r.ends, rank::bigint);
        fraction := position OPERATOR(pg_catalog.-) rank;
        IF fraction OPERATOR(pg_catalog.<>) 0 THEN
            low_value := low_value OPERATOR(pg_catalog.+) (fraction OPERATOR(pg_catalog.*)
                (@extschema@.webhook_routing_sketch_at_rank(f.count, f.zero, f.max, r.keys, r.ends, rank::bigint OPERATOR(pg_catalog.+) 1)
                 OPERATOR(pg_catalog.-) low_value));
        END IF;
        out := out OPERATOR(pg_catalog.||) low_value;
    END LOOP;
    RETURN out;
END
$$;

-- Merge sketches and count, for each bound (ms), the latencies above it: the samples of rank
-- below the first rank whose value exceeds the bound, by bisection as count_above does. NULL
-- for a bound that is NULL or not finite. NULLs are skipped; so are entries that do not decode,
-- with a WARNING.
CREATE FUNCTION @extschema@.webhook_routing_sketch_above(sketches bytea[], bounds double precision[])
RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    f record;
    r record;
    out bigint[] := '{}';
    bound double precision;
    low bigint;
    high bigint;
    mid bigint;
BEGIN
    f := @extschema@.webhook_routing_sketch_fold(sketches);
    PERFORM @extschema@.webhook_routing_sketch_report_skipped(f.skipped);
    r := @extschema@.webhook_routing_sketch_ranks(f.zero, f.bins, f.low, f.high);
    FOREACH bound IN ARRAY bounds LOOP
        IF bound IS NULL OR bound OPERATOR(pg_catalog.=) ANY ('{NaN,Infinity,-Infinity}'::double precision[]) THEN
            out := out OPERATOR(pg_catalog.||) NULL::bigint;
            CONTINUE;
        END IF;
        low := 0;
        high := f.count;
        WHILE low OPERATOR(pg_catalog.<) high LOOP
            mid := low OPERATOR(pg_catalog.+) ((high OPERATOR(pg_catalog.-) low) OPERATOR(pg_catalog./) 2);
            IF COALESCE(@extschema@.webhook_routing_sketch_at_rank(f.count, f.zero, f.max, r.keys, r.ends, mid), 'Infinity')
               OPERATOR(pg_catalog.>) bound THEN
                high := mid;
            ELSE
                low := mid OPERATOR(pg_catalog.+) 1;
            END IF;
        END LOOP;
        out := out OPERATOR(pg_catalog.||) (f.count OPERATOR(pg_catalog.-) low);
    END LOOP;
    RETURN out;
END
$$;

-- {count, sum (ms)} of the latencies in the sketches, read from each sketch's header (count,
-- sum, minimum, maximum, then the mapping, as this encoding writes them) where it reads so, else
-- from the whole decode (totals_from_java_bytes). NULLs are skipped; so are entries that do not
-- decode, with a WARNING.
CREATE FUNCTION @extschema@.webhook_routing_sketch_totals(sketches bytea[])
RETURNS double precision[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    max_count CONSTANT bigint := 1099511627776;
    one_bits CONSTANT bigint := 4607182418800017408;
    gamma_bits CONSTANT bigint := 4607209521706501082;
    sign_bit CONSTANT bigint := '-9223372036854775808';
    total bigint := 0;
    total_sum double precision := 0;
    skipped integer := 0;
    s bytea;
    len integer;
    pos integer;
    flag integer;
    b integer;
    shift integer;
    word bigint;
    offset_bits bigint;
    n bigint;
    t_sum double precision;
    f record;
BEGIN
    <<sketch>>
    FOREACH s IN ARRAY sketches LOOP
        CONTINUE WHEN s IS NULL;
        len := pg_catalog.length(s);
        pos := 0;
        IF len OPERATOR(pg_catalog.>=) 2 AND pg_catalog.get_byte(s, 0) OPERATOR(pg_catalog.=) 2
           AND @extschema@.webhook_routing_sketch_is_flag(pg_catalog.get_byte(s, 1)) THEN
            pos := 1;
        END IF;
        n := NULL;
        t_sum := 0;
        <<header>>
        WHILE pos OPERATOR(pg_catalog.<) len LOOP
            flag := pg_catalog.get_byte(s, pos);
            pos := pos OPERATOR(pg_catalog.+) 1;
            IF flag OPERATOR(pg_catalog.=) 160 THEN
                word := 0;
                shift := 57;
                LOOP
                    EXIT header WHEN pos OPERATOR(pg_catalog.>=) len;
                    b := pg_catalog.get_byte(s, pos);
                    pos := pos OPERATOR(pg_catalog.+) 1;
                    IF shift OPERATOR(pg_catalog.=) 1 THEN
                        word := word OPERATOR(pg_catalog.|) b;
                        EXIT;
                    END IF;
                    IF b OPERATOR(pg_catalog.<) 128 THEN
                        word := word OPERATOR(pg_catalog.|) (b::bigint OPERATOR(pg_catalog.<<) shift);
                        EXIT;
                    END IF;
                    word := word OPERATOR(pg_catalog.|) ((b OPERATOR(pg_catalog.&) 127)::bigint OPERATOR(pg_catalog.<<) shift);
                    shift := shift OPERATOR(pg_catalog.-) 7;
                END LOOP;
                word := ((word OPERATOR(pg_catalog.>>) 6) OPERATOR(pg_catalog.&) 288230376151711743) OPERATOR(pg_catalog.|) (word OPERATOR(pg_catalog.<<) 58);
                word := CASE WHEN word OPERATOR(pg_catalog.<) 0 THEN word OPERATOR(pg_catalog.+) one_bits
                             ELSE ((word OPERATOR(pg_catalog.#) sign_bit) OPERATOR(pg_catalog.+) one_bits) OPERATOR(pg_catalog.#) sign_bit END;
                n := @extschema@.webhook_routing_sketch_whole(word, max_count);
                EXIT header WHEN n OPERATOR(pg_catalog.<) 0;
            ELSIF flag OPERATOR(pg_catalog.=) ANY ('{132,136,140}'::integer[]) THEN
                EXIT header WHEN pos OPERATOR(pg_catalog.+) 8 OPERATOR(pg_catalog.>) len;
                IF flag OPERATOR(pg_catalog.=) 132 THEN
                    word := 0;
                    FOR part IN 0..7 LOOP
                        word := word OPERATOR(pg_catalog.|) (pg_catalog.get_byte(s, pos OPERATOR(pg_catalog.+) part)::bigint OPERATOR(pg_catalog.<<) (8 OPERATOR(pg_catalog.*) part));
                    END LOOP;
                    t_sum := @extschema@.webhook_routing_f64_from_bits(word);
                END IF;
                pos := pos OPERATOR(pg_catalog.+) 8;
            ELSIF flag OPERATOR(pg_catalog.=) 2 THEN
                EXIT header WHEN pos OPERATOR(pg_catalog.+) 16 OPERATOR(pg_catalog.>) len OR n IS NULL;
                word := 0;
                offset_bits := 0;
                FOR part IN 0..7 LOOP
                    word := word OPERATOR(pg_catalog.|) (pg_catalog.get_byte(s, pos OPERATOR(pg_catalog.+) part)::bigint OPERATOR(pg_catalog.<<) (8 OPERATOR(pg_catalog.*) part));
                    offset_bits := offset_bits OPERATOR(pg_catalog.|) (pg_catalog.get_byte(s, pos OPERATOR(pg_catalog.+) 8 OPERATOR(pg_catalog.+) part)::bigint
                                                                       OPERATOR(pg_catalog.<<) (8 OPERATOR(pg_catalog.*) part));
                END LOOP;
                EXIT header WHEN word OPERATOR(pg_catalog.<>) gamma_bits
                    OR (offset_bits OPERATOR(pg_catalog.<>) 0 AND offset_bits OPERATOR(pg_catalog.<>) sign_bit)
                    OR NOT (t_sum OPERATOR(pg_catalog.>=) 0 AND t_sum OPERATOR(pg_catalog.<) 'Infinity'::double precision);
                IF n OPERATOR(pg_catalog.=) 0 THEN
                    t_sum := 0;
                ELSE
                    t_sum := @extschema@.webhook_routing_f64_min(t_sum, n::double precision OPERATOR(pg_catalog.*) 86400000::double precision);
                END IF;
                total := total OPERATOR(pg_catalog.+) n;
                total_sum := total_sum OPERATOR(pg_catalog.+) t_sum;
                CONTINUE sketch;
            ELSE
                EXIT header;
            END IF;
        END LOOP;
        -- Not a header this encoding writes: the whole decode.
        f := @extschema@.webhook_routing_sketch_fold(ARRAY[s]);
        IF f.skipped OPERATOR(pg_catalog.>) 0 THEN
            skipped := skipped OPERATOR(pg_catalog.+) 1;
        ELSE
            total := total OPERATOR(pg_catalog.+) f.count;
            total_sum := total_sum OPERATOR(pg_catalog.+) CASE WHEN f.count OPERATOR(pg_catalog.>) 0 THEN f.sum ELSE 0 END;
        END IF;
    END LOOP;
    PERFORM @extschema@.webhook_routing_sketch_report_skipped(skipped);
    RETURN ARRAY[total::double precision, total_sum];
END
$$;
