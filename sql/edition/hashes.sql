-- The SQL edition's hashes: the functions of src/core/bucket.rs and src/route/history.rs in PL/pgSQL,
-- bit for bit (tests/vectors/hashes.jsonl, made by the native extension, checked by
-- tests/vectors/check.sh). Each function that the native library also defines takes its exact
-- name, signature and attributes, so that the edition's generator puts it in the native one's
-- place; the others are the edition's own (webhook_routing_*).
--
-- Unsigned arithmetic in bigint. PostgreSQL has no unsigned integers and raises on a bigint
-- overflow, but its shifts and bitwise operators never raise (<< drops the bits it pushes out,
-- >> copies the sign bit), so:
-- - 32-bit words (murmur3) are bigints in [0, 2^32): a product by a 32-bit constant is taken
--   in two 16-bit halves of the constant, each product below 2^48, and masked back to 32 bits.
-- - 64-bit words (SipHash) are bigints holding the word's two's complement. a + b of words of
--   different signs cannot overflow; of the same sign, a's sign bit is flipped first (which
--   makes the signs differ, and is 2^63 off) and the sum's flipped back (2^63 back, mod 2^64).
--   A rotation masks off the sign bits that >> copies.
-- Measured against bit(64) words, which need casts around every addition: docs/src/development/
-- sql-edition.md.
--
-- Every operator is named with its schema even in the bodies, whose search_path is pinned as
-- well: a reader can check the file with a grep. Needs @extschema@.webhook_routing_secret
-- (sql/bootstrap.sql) for routing_message_key alone.

-- MurmurHash3 x86 32-bit of bytes with a seed (0 to 2^32 - 1), as a bigint in [0, 2^32).
CREATE FUNCTION @extschema@.webhook_routing_murmur3(bytes bytea, seed bigint)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer := pg_catalog.length(bytes);
    body integer := n OPERATOR(pg_catalog.-) (n OPERATOR(pg_catalog.%) 4);
    h bigint := seed OPERATOR(pg_catalog.&) 4294967295;
    k bigint;
    i integer := 0;
BEGIN
    WHILE i OPERATOR(pg_catalog.<) body LOOP
        -- The block, little-endian.
        k := pg_catalog.get_byte(bytes, i)::bigint
             OPERATOR(pg_catalog.|) (pg_catalog.get_byte(bytes, i OPERATOR(pg_catalog.+) 1)::bigint OPERATOR(pg_catalog.<<) 8)
             OPERATOR(pg_catalog.|) (pg_catalog.get_byte(bytes, i OPERATOR(pg_catalog.+) 2)::bigint OPERATOR(pg_catalog.<<) 16)
             OPERATOR(pg_catalog.|) (pg_catalog.get_byte(bytes, i OPERATOR(pg_catalog.+) 3)::bigint OPERATOR(pg_catalog.<<) 24);
        -- k × 0xcc9e2d51 (52382 × 2^16 + 11601), rotated left by 15, × 0x1b873593 (7047 × 2^16 + 13715).
        k := ((k OPERATOR(pg_catalog.*) 11601)
              OPERATOR(pg_catalog.+) (((k OPERATOR(pg_catalog.*) 52382) OPERATOR(pg_catalog.&) 65535) OPERATOR(pg_catalog.<<) 16))
             OPERATOR(pg_catalog.&) 4294967295;
        k := ((k OPERATOR(pg_catalog.<<) 15) OPERATOR(pg_catalog.|) (k OPERATOR(pg_catalog.>>) 17)) OPERATOR(pg_catalog.&) 4294967295;
        k := ((k OPERATOR(pg_catalog.*) 13715)
              OPERATOR(pg_catalog.+) (((k OPERATOR(pg_catalog.*) 7047) OPERATOR(pg_catalog.&) 65535) OPERATOR(pg_catalog.<<) 16))
             OPERATOR(pg_catalog.&) 4294967295;
        -- h ^= k, rotated left by 13, h × 5 + 0xe6546b64.
        h := h OPERATOR(pg_catalog.#) k;
        h := ((h OPERATOR(pg_catalog.<<) 13) OPERATOR(pg_catalog.|) (h OPERATOR(pg_catalog.>>) 19)) OPERATOR(pg_catalog.&) 4294967295;
        h := ((h OPERATOR(pg_catalog.*) 5) OPERATOR(pg_catalog.+) 3864292196) OPERATOR(pg_catalog.&) 4294967295;
        i := i OPERATOR(pg_catalog.+) 4;
    END LOOP;
    IF body OPERATOR(pg_catalog.<) n THEN
        -- The 1 to 3 bytes left, little-endian, scrambled as a block is.
        k := 0;
        i := n OPERATOR(pg_catalog.-) 1;
        WHILE i OPERATOR(pg_catalog.>=) body LOOP
            k := (k OPERATOR(pg_catalog.<<) 8) OPERATOR(pg_catalog.|) pg_catalog.get_byte(bytes, i)::bigint;
            i := i OPERATOR(pg_catalog.-) 1;
        END LOOP;
        k := ((k OPERATOR(pg_catalog.*) 11601)
              OPERATOR(pg_catalog.+) (((k OPERATOR(pg_catalog.*) 52382) OPERATOR(pg_catalog.&) 65535) OPERATOR(pg_catalog.<<) 16))
             OPERATOR(pg_catalog.&) 4294967295;
        k := ((k OPERATOR(pg_catalog.<<) 15) OPERATOR(pg_catalog.|) (k OPERATOR(pg_catalog.>>) 17)) OPERATOR(pg_catalog.&) 4294967295;
        k := ((k OPERATOR(pg_catalog.*) 13715)
              OPERATOR(pg_catalog.+) (((k OPERATOR(pg_catalog.*) 7047) OPERATOR(pg_catalog.&) 65535) OPERATOR(pg_catalog.<<) 16))
             OPERATOR(pg_catalog.&) 4294967295;
        h := h OPERATOR(pg_catalog.#) k;
    END IF;
    -- The length (mod 2^32), then the finalisation mix: × 0x85ebca6b (34283 × 2^16 + 51819)
    -- and × 0xc2b2ae35 (49842 × 2^16 + 44597) between shifts.
    h := h OPERATOR(pg_catalog.#) (n::bigint OPERATOR(pg_catalog.&) 4294967295);
    h := h OPERATOR(pg_catalog.#) (h OPERATOR(pg_catalog.>>) 16);
    h := ((h OPERATOR(pg_catalog.*) 51819)
          OPERATOR(pg_catalog.+) (((h OPERATOR(pg_catalog.*) 34283) OPERATOR(pg_catalog.&) 65535) OPERATOR(pg_catalog.<<) 16))
         OPERATOR(pg_catalog.&) 4294967295;
    h := h OPERATOR(pg_catalog.#) (h OPERATOR(pg_catalog.>>) 13);
    h := ((h OPERATOR(pg_catalog.*) 44597)
          OPERATOR(pg_catalog.+) (((h OPERATOR(pg_catalog.*) 49842) OPERATOR(pg_catalog.&) 65535) OPERATOR(pg_catalog.<<) 16))
         OPERATOR(pg_catalog.&) 4294967295;
    RETURN h OPERATOR(pg_catalog.#) (h OPERATOR(pg_catalog.>>) 16);
END $$;

-- The sticky bucket of a key in a domain (src/core/bucket.rs): murmur3 of the UTF-8 bytes of
-- domain:key, seed 0, mod 10000.
CREATE FUNCTION @extschema@.routing_bucket(domain text, key text)
RETURNS integer
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- convert_to is STABLE only because it reads the database's encoding, which never
    -- changes: the bytes are UTF-8 in any database, as the native edition hashes them.
    RETURN (@extschema@.webhook_routing_murmur3(
                pg_catalog.convert_to(domain OPERATOR(pg_catalog.||) ':' OPERATOR(pg_catalog.||) key, 'UTF8'), 0)
            OPERATOR(pg_catalog.%) 10000)::integer;
END $$;

-- SipHash-2-4 of message under a 16-byte key: {hash} (64 bits), or {h1, h2} when wide (128
-- bits: the u128 is h2 × 2^64 + h1), each the two's complement of the unsigned word.
CREATE FUNCTION @extschema@.webhook_routing_siphash24(key bytea, message bytea, wide boolean)
RETURNS bigint[]
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    n integer := pg_catalog.length(message);
    body integer := n OPERATOR(pg_catalog.-) (n OPERATOR(pg_catalog.%) 8);
    k0 bigint;
    k1 bigint;
    v0 bigint;
    v1 bigint;
    v2 bigint;
    v3 bigint;
    m bigint;
    h1 bigint;
    i integer := 0;
    r integer;
    rounds integer;
    pass integer := 0;
    sign_bit CONSTANT bigint := -9223372036854775807 OPERATOR(pg_catalog.-) 1;
BEGIN
    IF pg_catalog.length(key) OPERATOR(pg_catalog.<>) 16 THEN
        RAISE EXCEPTION 'a SipHash key has 16 bytes, not %', pg_catalog.length(key)
            USING ERRCODE = 'invalid_parameter_value',
                  HINT = 'Pass the install''s secret as pg_catalog.uuid_send(key) of webhook_routing_secret.';
    END IF;
    -- The key's two little-endian words.
    FOR r IN 0..1 LOOP
        m := 0;
        FOR i IN REVERSE 7..0 LOOP
            m := (m OPERATOR(pg_catalog.<<) 8)
                 OPERATOR(pg_catalog.|) pg_catalog.get_byte(key, (r OPERATOR(pg_catalog.*) 8) OPERATOR(pg_catalog.+) i)::bigint;
        END LOOP;
        IF r OPERATOR(pg_catalog.=) 0 THEN k0 := m; ELSE k1 := m; END IF;
    END LOOP;
    -- "somepseudorandomlygeneratedbytes"; the 128-bit variant flips 0xee into v1.
    v0 := k0 OPERATOR(pg_catalog.#) 8317987319222330741;
    v1 := k1 OPERATOR(pg_catalog.#) CASE WHEN wide THEN 7237128888997146499 ELSE 7237128888997146477 END;
    v2 := k0 OPERATOR(pg_catalog.#) 7816392313619706465;
    v3 := k1 OPERATOR(pg_catalog.#) 8387220255154660723;
    i := 0;
    -- Each 8-byte word (then the last, of the tail and the length) is compressed by 2 rounds;
    -- the finalisation is 4 rounds, twice for 128 bits. pass counts the word's rounds, then
    -- the finalisations.
    LOOP
        IF i OPERATOR(pg_catalog.<) body THEN
            m := pg_catalog.get_byte(message, i)::bigint
                 OPERATOR(pg_catalog.|) (pg_catalog.get_byte(message, i OPERATOR(pg_catalog.+) 1)::bigint OPERATOR(pg_catalog.<<) 8)
                 OPERATOR(pg_catalog.|) (pg_catalog.get_byte(message, i OPERATOR(pg_catalog.+) 2)::bigint OPERATOR(pg_catalog.<<) 16)
                 OPERATOR(pg_catalog.|) (pg_catalog.get_byte(message, i OPERATOR(pg_catalog.+) 3)::bigint OPERATOR(pg_catalog.<<) 24)
                 OPERATOR(pg_catalog.|) (pg_catalog.get_byte(message, i OPERATOR(pg_catalog.+) 4)::bigint OPERATOR(pg_catalog.<<) 32)
                 OPERATOR(pg_catalog.|) (pg_catalog.get_byte(message, i OPERATOR(pg_catalog.+) 5)::bigint OPERATOR(pg_catalog.<<) 40)
                 OPERATOR(pg_catalog.|) (pg_catalog.get_byte(message, i OPERATOR(pg_catalog.+) 6)::bigint OPERATOR(pg_catalog.<<) 48)
                 OPERATOR(pg_catalog.|) (pg_catalog.get_byte(message, i OPERATOR(pg_catalog.+) 7)::bigint OPERATOR(pg_catalog.<<) 56);
            i := i OPERATOR(pg_catalog.+) 8;
            rounds := 2;
        ELSIF pass OPERATOR(pg_catalog.=) 0 THEN
            -- The last word: the length's low byte on top, the tail's bytes little-endian.
            m := (n::bigint OPERATOR(pg_catalog.&) 255) OPERATOR(pg_catalog.<<) 56;
            FOR r IN body..(n OPERATOR(pg_catalog.-) 1) LOOP
                m := m OPERATOR(pg_catalog.|)
                     (pg_catalog.get_byte(message, r)::bigint OPERATOR(pg_catalog.<<) (8 OPERATOR(pg_catalog.*) (r OPERATOR(pg_catalog.-) body)));
            END LOOP;
            pass := 1;
            rounds := 2;
        ELSIF pass OPERATOR(pg_catalog.=) 1 THEN
            v2 := v2 OPERATOR(pg_catalog.#) CASE WHEN wide THEN 238 ELSE 255 END;
            pass := 2;
            rounds := 4;
        ELSIF pass OPERATOR(pg_catalog.=) 2 AND wide THEN
            h1 := v0 OPERATOR(pg_catalog.#) v1 OPERATOR(pg_catalog.#) v2 OPERATOR(pg_catalog.#) v3;
            v1 := v1 OPERATOR(pg_catalog.#) 221;
            pass := 3;
            rounds := 4;
        ELSE
            EXIT;
        END IF;
        IF pass OPERATOR(pg_catalog.<=) 1 THEN
            v3 := v3 OPERATOR(pg_catalog.#) m;
        END IF;
        FOR r IN 1..rounds LOOP
            -- SipRound. Additions mod 2^64 as the header says; rotations left.
            v0 := CASE WHEN (v0 OPERATOR(pg_catalog.#) v1) OPERATOR(pg_catalog.<) 0 THEN v0 OPERATOR(pg_catalog.+) v1
                  ELSE ((v0 OPERATOR(pg_catalog.#) sign_bit) OPERATOR(pg_catalog.+) v1) OPERATOR(pg_catalog.#) sign_bit END;
            v1 := ((v1 OPERATOR(pg_catalog.<<) 13) OPERATOR(pg_catalog.|) ((v1 OPERATOR(pg_catalog.>>) 51) OPERATOR(pg_catalog.&) 8191))
                  OPERATOR(pg_catalog.#) v0;
            v0 := (v0 OPERATOR(pg_catalog.<<) 32) OPERATOR(pg_catalog.|) ((v0 OPERATOR(pg_catalog.>>) 32) OPERATOR(pg_catalog.&) 4294967295);
            v2 := CASE WHEN (v2 OPERATOR(pg_catalog.#) v3) OPERATOR(pg_catalog.<) 0 THEN v2 OPERATOR(pg_catalog.+) v3
                  ELSE ((v2 OPERATOR(pg_catalog.#) sign_bit) OPERATOR(pg_catalog.+) v3) OPERATOR(pg_catalog.#) sign_bit END;
            v3 := ((v3 OPERATOR(pg_catalog.<<) 16) OPERATOR(pg_catalog.|) ((v3 OPERATOR(pg_catalog.>>) 48) OPERATOR(pg_catalog.&) 65535))
                  OPERATOR(pg_catalog.#) v2;
            v0 := CASE WHEN (v0 OPERATOR(pg_catalog.#) v3) OPERATOR(pg_catalog.<) 0 THEN v0 OPERATOR(pg_catalog.+) v3
                  ELSE ((v0 OPERATOR(pg_catalog.#) sign_bit) OPERATOR(pg_catalog.+) v3) OPERATOR(pg_catalog.#) sign_bit END;
            v3 := ((v3 OPERATOR(pg_catalog.<<) 21) OPERATOR(pg_catalog.|) ((v3 OPERATOR(pg_catalog.>>) 43) OPERATOR(pg_catalog.&) 2097151))
                  OPERATOR(pg_catalog.#) v0;
            v2 := CASE WHEN (v2 OPERATOR(pg_catalog.#) v1) OPERATOR(pg_catalog.<) 0 THEN v2 OPERATOR(pg_catalog.+) v1
                  ELSE ((v2 OPERATOR(pg_catalog.#) sign_bit) OPERATOR(pg_catalog.+) v1) OPERATOR(pg_catalog.#) sign_bit END;
            v1 := ((v1 OPERATOR(pg_catalog.<<) 17) OPERATOR(pg_catalog.|) ((v1 OPERATOR(pg_catalog.>>) 47) OPERATOR(pg_catalog.&) 131071))
                  OPERATOR(pg_catalog.#) v2;
            v2 := (v2 OPERATOR(pg_catalog.<<) 32) OPERATOR(pg_catalog.|) ((v2 OPERATOR(pg_catalog.>>) 32) OPERATOR(pg_catalog.&) 4294967295);
        END LOOP;
        IF pass OPERATOR(pg_catalog.<=) 1 THEN
            v0 := v0 OPERATOR(pg_catalog.#) m;
        END IF;
    END LOOP;
    IF wide THEN
        RETURN ARRAY[h1, v0 OPERATOR(pg_catalog.#) v1 OPERATOR(pg_catalog.#) v2 OPERATOR(pg_catalog.#) v3];
    END IF;
    RETURN ARRAY[v0 OPERATOR(pg_catalog.#) v1 OPERATOR(pg_catalog.#) v2 OPERATOR(pg_catalog.#) v3];
END $$;

-- The sender's key in the log (src/route/history.rs, sender_key): SipHash-2-4 (64 bits) of the
-- webhook name (NULL as ''), a 0 byte and the routing key, under the install's secret (the 16
-- bytes of its uuid), as the signed bigint of the log's sender_key. NULL without a key or a
-- secret, as there.
CREATE FUNCTION @extschema@.webhook_routing_sender_key(secret bytea, webhook_name text, key text)
RETURNS bigint
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    -- (PL/pgSQL, not SQL: a SQL function that is not inlined, as none with SET is, costs more
    -- per call than this one's hash.)
    RETURN (@extschema@.webhook_routing_siphash24(
        secret,
        pg_catalog.convert_to(COALESCE(webhook_name, ''), 'UTF8')
            OPERATOR(pg_catalog.||) pg_catalog.decode('00', 'hex')
            OPERATOR(pg_catalog.||) pg_catalog.convert_to(key, 'UTF8'),
        false))[1];
END $$;

-- How the log keeps a message id (src/route/history.rs, message_key): SipHash-2-4 (128 bits)
-- of "message", a 0 byte and the id, under the install's secret, as 32 hex digits of the
-- u128 (h2, then h1). NULL without an id or a secret.
CREATE FUNCTION @extschema@.webhook_routing_message_key(secret bytea, id text)
RETURNS text
LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    h bigint[] := @extschema@.webhook_routing_siphash24(
        secret, pg_catalog.decode('6d65737361676500', 'hex') OPERATOR(pg_catalog.||) pg_catalog.convert_to(id, 'UTF8'), true);
BEGIN
    RETURN pg_catalog.lpad(pg_catalog.to_hex(h[2]), 16, '0') OPERATOR(pg_catalog.||) pg_catalog.lpad(pg_catalog.to_hex(h[1]), 16, '0');
END $$;

-- The key the log keeps for a message id, under this install's secret (src/route/history.rs,
-- routing_message_key): the owner alone reads the secret, so the function runs as its owner.
CREATE FUNCTION @extschema@.routing_message_key(message_id text)
RETURNS text
LANGUAGE plpgsql STABLE STRICT PARALLEL RESTRICTED SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
DECLARE
    secret bytea;
BEGIN
    SELECT pg_catalog.uuid_send(s.key) INTO secret FROM @extschema@.webhook_routing_secret AS s LIMIT 1;
    RETURN @extschema@.webhook_routing_message_key(secret, message_id);
END $$;
