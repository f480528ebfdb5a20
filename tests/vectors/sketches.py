"""The latency sketches' cases of tests/vectors/functions.jsonl (functions.py takes them up):
stored sketches in DataDog's binary encoding, built here from value sets as the native
edition's add() and to_java_bytes() would, or crafted field by field (the sketches 0.6.0 wrote,
other bin encodings, a version byte, and what no edition writes: truncations, changed bytes,
another mapping, a negative store, counts and sums that do not add up); then queries of
webhook_routing_sketch_merge, _union, _summary, _above and _totals over them, singly, in pairs,
merged again, and all at once. Deterministic (a fixed seed; the keys through math.log, which is
the C library's log, as the native edition's).

Each input is a case {"fn": "sketch_input", "name", "hex"}, answered by the native merge of it
with NULL (its bytes again, as the native edition writes it; no sample: NULL); each query a case
{"fn": "sketch", "name", "sql"}, whose SQL names inputs as pg_temp.sketch('name')
(tests/vectors/functions.sql). Answers that are bytes longer than 48 are compared by their md5
and length (pg_temp.bytes_answer), so that the file stays small."""
import math
import random
import struct

ALPHA = 0.003
GAMMA = (1.0 + ALPHA) / (1.0 - ALPHA)
GAMMA_LN = math.log(GAMMA)
MIN_KEY, MAX_KEY = -1152, 3045
LOWEST_STORED, HIGHEST_STORED = -3454, 118296
RESOLUTION_MS, MAX_MS = 0.001, 86_400_000.0
MASK = (1 << 64) - 1

rng = random.Random(20261209)


def f64(v):
    return struct.pack("<d", v)


def bits(v):
    return struct.unpack("<Q", f64(v))[0]


def var_double(v):
    word = (bits(v + 1.0) - bits(1.0)) & MASK
    word = ((word << 6) | (word >> 58)) & MASK
    out = bytearray()
    for _ in range(8):
        nxt = word >> 57
        word = (word << 7) & MASK
        if word == 0:
            out.append(nxt)
            return bytes(out)
        out.append(nxt | 0x80)
    out.append(word >> 56)
    return bytes(out)


def var_long(v):
    v &= MASK
    out = bytearray()
    for _ in range(8):
        if v < 0x80:
            break
        out.append((v & 0x7F) | 0x80)
        v >>= 7
    out.append(v & 0xFF)
    return bytes(out)


def signed_var_long(v):
    return var_long(((v >> 63) ^ (v << 1)) & MASK)


MAPPING = b"\x02" + f64(GAMMA) + f64(0.0)


class Sketch:
    """The native edition's sketch, as add() fills it."""

    def __init__(self):
        self.zero, self.bins, self.count, self.sum = 0, {}, 0, 0.0
        self.min, self.max = math.inf, -math.inf

    def add(self, v):
        if not (math.isfinite(v) and v >= 0.0):
            return self
        v = min(v, MAX_MS)
        if v < RESOLUTION_MS:
            self.zero += 1
        else:
            k = min(max(math.floor(math.log(v) / GAMMA_LN), MIN_KEY), MAX_KEY)
            self.bins[k] = self.bins.get(k, 0) + 1
        self.count += 1
        self.sum += v
        self.min = v if v < self.min else self.min
        self.max = v if v > self.max else self.max
        return self

    def encode(self):
        out = bytearray()
        if self.count:
            out += b"\xa0" + var_double(float(self.count)) + b"\x88" + f64(self.min) + b"\x8c" + f64(self.max)
        if self.sum != 0.0:
            out += b"\x84" + f64(self.sum)
        out += MAPPING
        if self.zero:
            out += b"\x04" + var_double(float(self.zero))
        keys = sorted(k for k, n in self.bins.items() if n)
        if keys:
            out += b"\x05" + var_long(len(keys))
            previous = 0
            for k in keys:
                out += signed_var_long(k - previous) + var_double(float(self.bins[k]))
                previous = k
        return bytes(out)


def of(values):
    s = Sketch()
    for v in values:
        s.add(v)
    return s.encode()


def crafted(count=None, min_=None, max_=None, sum_=None, zero=None, store=b"", mapping=MAPPING, version=False):
    """A sketch field by field: a field left None is not written."""
    out = bytearray(b"\x02" if version else b"")
    if count is not None:
        out += b"\xa0" + var_double(float(count))
    if min_ is not None:
        out += b"\x88" + f64(min_)
    if max_ is not None:
        out += b"\x8c" + f64(max_)
    if sum_ is not None:
        out += b"\x84" + f64(sum_)
    out += mapping
    if zero is not None:
        out += b"\x04" + var_double(float(zero))
    return bytes(out + store)


def deltas(pairs):
    """A positive store of (key, count) pairs, as index deltas and counts (mode 1)."""
    out, previous = bytearray(b"\x05" + var_long(len(pairs))), 0
    for k, n in pairs:
        out += signed_var_long(k - previous) + var_double(float(n))
        previous = k
    return bytes(out)


def inputs():
    """(name, bytes) of every input sketch."""
    out = []
    add = lambda name, b: out.append((name, b))
    key_value = lambda k: math.exp(k * GAMMA_LN)
    # Built from values, as the log's trigger builds them.
    add("empty", of([]))
    for v in [0.0, 0.0005, 0.000999, 0.001, 0.0010001, 1.0, 89.5, 1000.0, 86_399_999.0, MAX_MS, 1e308]:
        add(f"one {v!r}", of([v]))
    add("zeros", of([0.0] * 5))
    add("tiny", of([1e-9, 1e-6, 0.0005, 0.001, 0.0010001, 0.002]))
    add("huge", of([86_399_999.0, MAX_MS, 86_400_001.0, 1e12]))
    add("edges of the keys", of([key_value(MIN_KEY), key_value(MIN_KEY + 1), key_value(MAX_KEY), key_value(MAX_KEY) * 0.999999]))
    add("healthy 300", of([80.0 + ((i * 37) % 300) * 0.07 for i in range(300)]))
    add("healthy 300 and a day", of([80.0 + ((i * 37) % 300) * 0.07 for i in range(300)] + [MAX_MS]))
    add("spread 2000", of([RESOLUTION_MS * (MAX_MS / RESOLUTION_MS) ** (i / 1999) for i in range(2000)]))
    add("every key", of([key_value(k) * 1.001 for k in range(MIN_KEY, MAX_KEY + 1)]))
    add("thousands", of([rng.lognormvariate(5, 1.2) for _ in range(5000)]))
    add("thousands with zeros", of([0.0 if i % 10 == 0 else rng.uniform(0, 500) for i in range(3000)]))
    add("milliseconds", of([round(rng.uniform(0, 2000), 3) for _ in range(1000)]))
    add("same value", of([250.0] * 1000))
    for i in range(20):
        n = rng.choice([1, 2, 3, 10, 50, 200])
        add(f"random {i}", of([rng.choice([0.0, rng.uniform(0, 1), rng.uniform(0, 1000), rng.lognormvariate(3, 2)]) for _ in range(n)]))
    # Written by another encoder, or by 0.6.0: a version byte, other bin encodings, flags in
    # another order or repeated, bins beyond the accepted range (counted at its edges).
    base = of([10.0, 20.0, 20.0, 30.0])
    add("a version byte", b"\x02" + base)
    add("mode 2 (deltas, counts of 1)", crafted(3, 10.0, 30.0, 60.0, store=b"\x09" + var_long(3) + signed_var_long(384) + signed_var_long(115) + signed_var_long(68)))
    add("mode 3 (contiguous)", crafted(6, 10.0, 12.0, 66.0, store=b"\x0d" + var_long(3) + signed_var_long(383) + signed_var_long(1) + var_double(1.0) + var_double(2.0) + var_double(3.0)))
    add("mode 3, step 5", crafted(3, 1.0, 2.0, 4.5, store=b"\x0d" + var_long(3) + signed_var_long(-2) + signed_var_long(5) + var_double(1.0) + var_double(1.0) + var_double(1.0)))
    add("mapping first", MAPPING + b"\xa0" + var_double(2.0) + b"\x88" + f64(5.0) + b"\x8c" + f64(6.0) + b"\x84" + f64(11.0) + deltas([(268, 1), (298, 1)]))
    add("no count flag", crafted(None, 5.0, 6.0, 11.0, store=deltas([(268, 1), (298, 1)])))
    add("two zero counts", crafted(3, 0.0, 0.0, None, zero=1) + b"\x04" + var_double(2.0))
    add("0.6.0, bins beyond a day", crafted(301, 90.0, 1e308, 1e308 + 27000.0, store=deltas([(751, 300), (HIGHEST_STORED, 1)])))
    add("0.6.0, bins below the resolution", crafted(5, 1e-9, 100.0, 100.000001, store=deltas([(LOWEST_STORED, 2), (-2000, 2), (767, 1)])))
    add("0.6.0, a zero bin of count 0", crafted(1, 5.0, 5.0, 5.0, store=deltas([(100, 0), (268, 1)])))
    add("a duplicate key", crafted(3, 5.0, 5.0, 15.0, store=deltas([(268, 1), (268, 2)])))
    add("a sum above the count's days", crafted(2, 5.0, 6.0, 1e300, store=deltas([(268, 1), (298, 1)])))
    add("min above a day", crafted(1, 9e7, 9e7, 9e7, store=deltas([(MAX_KEY, 1)])))
    add("counts of 2^40", crafted(2 ** 40, 1.0, 1.0, 1.0 * 2 ** 40, store=deltas([(0, 2 ** 40)])))
    add("zero count of 2^40", crafted(2 ** 40, 0.0, 0.0, None, zero=2 ** 40))
    add("an empty store", crafted(None, None, None, None, store=b"\x05" + var_long(0)))
    add("a sum without samples", crafted(None, None, None, 5.0))
    add("min and max without samples", crafted(None, float("nan"), float("inf"), None))
    # Signed zeros: Rust's min and max keep the first of two equal zeros.
    for name, lo, hi, total in [("-0 min", -0.0, 0.0, 0.0), ("-0 max", 0.0, -0.0, 0.0), ("-0 both", -0.0, -0.0, -0.0),
                                ("-0 sum", 0.0, 0.0, -0.0), ("-0 min, 5 max", -0.0, 5.0, 5.0)]:
        store = deltas([(268, 1)]) if hi == 5.0 else b""
        add(f"signed zeros: {name}", crafted(1 + (hi == 5.0), lo, hi, total, zero=1, store=store))
    add("an offset of -0.0", crafted(1, 5.0, 5.0, 5.0, store=deltas([(268, 1)]), mapping=b"\x02" + f64(GAMMA) + f64(-0.0)))
    # What no edition writes: refused, and skipped with a warning where the function gives one.
    add("not a sketch", b"not a sketch")
    add("no bytes", b"")
    add("one byte", b"\x02")
    add("the crate's panic", bytes([0x02, 0xda, 0x03, 0x1d, 0x63, 0xa6, 0x18, 0xf0, 0x3f, 0, 0, 0, 0, 0, 0, 0, 0,
                                    0x09, 0x02, 0x00, 0xff, 0xff, 0xff, 0xff, 0x0f]))
    add("accuracy 1%", crafted(1, 5.0, 5.0, 5.0, store=deltas([(80, 1)]), mapping=b"\x02" + f64(1.01 / 0.99) + f64(0.0)))
    add("an offset of 1", crafted(1, 5.0, 5.0, 5.0, store=deltas([(268, 1)]), mapping=b"\x02" + f64(GAMMA) + f64(1.0)))
    add("no mapping", (b"\xa0" + var_double(1.0) + b"\x88" + f64(5.0) + b"\x8c" + f64(5.0) + b"\x84" + f64(5.0) + deltas([(268, 1)])))
    add("a negative store", crafted(1, 5.0, 5.0, 5.0, store=b"\x07" + var_long(1) + signed_var_long(268) + var_double(1.0)))
    add("a second store", crafted(2, 5.0, 6.0, 11.0, store=deltas([(268, 1)]) + deltas([(298, 1)])))
    add("bin mode 0", crafted(1, 5.0, 5.0, 5.0, store=b"\x01" + var_long(1) + signed_var_long(268) + var_double(1.0)))
    add("a count that does not add up", crafted(3, 5.0, 6.0, 11.0, store=deltas([(268, 1), (298, 1)])))
    add("a count of 2.5", crafted(2.5, 5.0, 6.0, 11.0, store=deltas([(268, 1), (298, 1)])))
    add("a bin count of 1.5", crafted(None, 5.0, 6.0, 11.0, store=deltas([(268, 1.5)])))
    add("a bin count of -1", crafted(None, 5.0, 6.0, 11.0, store=deltas([(268, -1.0)])))
    # Bin counts in one byte b, the double 2^(b >> 1) (1 + (b & 1) / 2): 0.5 (b = 1), 2^40 - 1
    # (b = 80), 1.5 × 2^40 - 1 (b = 81), and the largest (b = 127).
    for b in [1, 80, 81, 127]:
        add(f"a bin count byte {b}", crafted(None, 5.0, 5.0, 5.0, store=b"\x05" + var_long(1) + signed_var_long(268) + bytes([b])))
    add("bin counts of 1 to 9", crafted(None, 5.0, 5.0, 5.0 * 45, store=deltas([(268 + i, i) for i in range(1, 10)])))
    add("a count above 2^40", crafted(2 ** 40 + 1, 1.0, 1.0, 1.0, store=deltas([(0, 2 ** 40), (1, 1)])))
    add("a bin count above 2^40", crafted(None, 1.0, 1.0, 1.0, store=deltas([(0, 2 ** 40 + 1)])))
    add("a key below 1e-9", crafted(1, 1e-10, 1e-10, 1e-10, store=deltas([(LOWEST_STORED - 1, 1)])))
    add("a key above the largest double", crafted(1, 5.0, 5.0, 5.0, store=deltas([(HIGHEST_STORED + 1, 1)])))
    add("a NaN sum", crafted(1, 5.0, 5.0, float("nan"), store=deltas([(268, 1)])))
    add("an infinite sum", crafted(1, 5.0, 5.0, float("inf"), store=deltas([(268, 1)])))
    add("a negative sum", crafted(1, 5.0, 5.0, -5.0, store=deltas([(268, 1)])))
    add("no min", crafted(1, None, 5.0, 5.0, store=deltas([(268, 1)])))
    add("no max", crafted(1, 5.0, None, 5.0, store=deltas([(268, 1)])))
    add("min above max", crafted(2, 6.0, 5.0, 11.0, store=deltas([(268, 1), (298, 1)])))
    add("a negative min", crafted(2, -1.0, 6.0, 11.0, store=deltas([(268, 1), (298, 1)])))
    add("an infinite max", crafted(2, 5.0, float("inf"), 11.0, store=deltas([(268, 1), (298, 1)])))
    add("a key delta that overflows", crafted(1, 5.0, 5.0, 5.0, store=b"\x05" + var_long(2) + signed_var_long(268) + var_double(1.0)
                                              + signed_var_long(-(2 ** 63)) + var_double(1.0)))
    add("a step that overflows after the last bin", crafted(1, 5.0, 5.0, 5.0, store=b"\x0d" + var_long(1) + signed_var_long(268)
                                                             + signed_var_long(2 ** 63 - 1) + var_double(1.0)))
    add("a step that does not overflow", crafted(1, 5.0, 5.0, 5.0, store=b"\x0d" + var_long(1) + signed_var_long(268)
                                                 + signed_var_long(-(2 ** 62)) + var_double(1.0)))
    add("2^64 - 1 bins", crafted(1, 5.0, 5.0, 5.0, store=b"\x05" + var_long(MASK) + signed_var_long(268) + var_double(1.0)))
    add("an unknown flag", crafted(1, 5.0, 5.0, 5.0, store=deltas([(268, 1)])) + b"\xff")
    # Every truncation of a small sketch, and single bytes changed.
    small = of([0.0, 5.0, 6.0, 7000.0])
    for cut in range(len(small)):
        add(f"cut at {cut}", small[:cut])
    for at in range(0, len(small), 3):
        for value in [0x00, 0x7F, 0x80, 0xFF]:
            changed = bytearray(small)
            changed[at] = value
            add(f"byte {at} {value:#04x}", bytes(changed))
    return out


def sk(name):
    return "pg_temp.sketch('" + name.replace("'", "''") + "')"


BOUNDS = "'{NULL,NaN,Infinity,-Infinity,-1,0,0.0005,0.001,1,5.5,90,100,250.5,1000,86400000,1e9}'::float8[]"


def queries(names):
    """(name, sql) of the queries over the inputs."""
    out = []
    for n in names:
        out.append(("summary", f"(webhook_routing.webhook_routing_sketch_summary(ARRAY[{sk(n)}]))::text[]"))
        out.append(("above", f"webhook_routing.webhook_routing_sketch_above(ARRAY[{sk(n)}], {BOUNDS})"))
        out.append(("totals", f"(webhook_routing.webhook_routing_sketch_totals(ARRAY[{sk(n)}]))::text[]"))
    valid = [n for n in names if not n.startswith(("cut at", "byte "))]
    zeros = [n for n in names if n.startswith("signed zeros")] + ["one 0.0", "zeros"]
    pairs = [(a, b) for a in zeros for b in zeros]
    pairs += [(rng.choice(valid), rng.choice(valid)) for _ in range(150)]
    pairs += [(a, None) for a in ["empty", "not a sketch"]] + [(None, None), ("not a sketch", "one 1.0"), ("empty", "one 1.0")]
    arg = lambda n: "NULL::bytea" if n is None else sk(n)
    for a, b in pairs:
        out.append(("merge", f"pg_temp.bytes_answer(webhook_routing.webhook_routing_sketch_merge({arg(a)}, {arg(b)}))"))
        out.append(("union", f"pg_temp.bytes_answer(webhook_routing.webhook_routing_sketch_union(ARRAY[{arg(a)}, {arg(b)}]))"))
        out.append(("summary", f"(webhook_routing.webhook_routing_sketch_summary(ARRAY[{arg(a)}, NULL, {arg(b)}]))::text[]"))
    # Merges of merges, against the union of them all.
    for _ in range(40):
        four = [rng.choice(valid) for _ in range(4)]
        m = lambda x, y: f"webhook_routing.webhook_routing_sketch_merge({x}, {y})"
        nested = m(m(sk(four[0]), sk(four[1])), m(sk(four[2]), sk(four[3])))
        out.append(("merge", f"pg_temp.bytes_answer({nested})"))
        out.append(("summary", f"(webhook_routing.webhook_routing_sketch_summary(ARRAY[{nested}, {sk(four[0])}]))::text[]"))
        out.append(("above", f"webhook_routing.webhook_routing_sketch_above(ARRAY[{nested}], {BOUNDS})"))
        out.append(("totals", f"(webhook_routing.webhook_routing_sketch_totals(ARRAY[{nested}, {sk(four[1])}]))::text[]"))
    # Everything at once, and arrays of odd shapes.
    every = "ARRAY[" + ", ".join(sk(n) for n in names) + "]"
    valid_all = "ARRAY[" + ", ".join(sk(n) for n in valid) + "]"
    for arr in [every, valid_all, "'{}'::bytea[]", "ARRAY[NULL]::bytea[]", "NULL::bytea[]",
                f"ARRAY[ARRAY[{sk('one 1.0')}, {sk('tiny')}], ARRAY[{sk('not a sketch')}, {sk('huge')}]]"]:
        out.append(("union", f"pg_temp.bytes_answer(webhook_routing.webhook_routing_sketch_union({arr}))"))
        out.append(("summary", f"(webhook_routing.webhook_routing_sketch_summary({arr}))::text[]"))
        out.append(("above", f"webhook_routing.webhook_routing_sketch_above({arr}, {BOUNDS})"))
        out.append(("totals", f"(webhook_routing.webhook_routing_sketch_totals({arr}))::text[]"))
    out.append(("above", f"webhook_routing.webhook_routing_sketch_above(ARRAY[{sk('healthy 300')}], '{{}}'::float8[])"))
    out.append(("above", f"webhook_routing.webhook_routing_sketch_above(ARRAY[{sk('healthy 300')}], NULL)"))
    return out


def cases():
    made = inputs()
    for name, b in made:
        yield {"fn": "sketch_input", "name": name, "hex": b.hex()}
    for name, sql in queries([n for n, _ in made]):
        yield {"fn": "sketch", "name": name, "sql": sql}
