#!/usr/bin/env python3
"""tests/vectors/functions.jsonl: the functions the SQL edition ports besides the hashes, held to
the native extension's answers.
  functions.py cases                   the inputs, one JSON object a line (deterministic)
  functions.py script CASES NUMBERED   a psql script answering each case (number, tab, JSON),
                                       run against the native extension (make.sh) or the
                                       edition (check.sh): the same calls on both (it reads
                                       the cases from NUMBERED, which it writes)
  functions.py merge CASES ANSWERS LOG OUT
                                       the cases with the native answers (make.sh); LOG is
                                       what the script wrote to stderr (the sketches' warnings)
  functions.py compare VECTORS ANSWERS LOG
                                       the edition's answers against the vectors (check.sh)
The cases:

- judge: webhook_routing_judge over every check, on a grid of counts at the edges (none, zero,
  half a count, one, the bar's neighbourhood, all, more than all, negative, 1e15) and random
  counts of every size; critical levels NULL, 0, tiny, usual, 100 and above.
- sample_ratio: webhook_routing_sample_ratio over rows of shares (repeated, within a millionth,
  out of [0, 1], NULL), targets and bucket sets given as runs of set bits (expanded by
  tests/vectors/buckets.sql, so that the file stays small), short, long and NULL sets.
- setting: routing_pending_timeout_seconds and routing_conversation_timeout_seconds with the
  setting's text before the library reads it: integers, units, fractions, hexadecimal and
  octal, blanks, out of range, malformed, unset.
- query: expressions with their answer or error: the catalogues of checks and reasons, the
  decision counts (no shared memory in the edition, no preload in make.sh's cluster: no rows,
  NULL), the judge's refusals, webhook_routing_bits_or and webhook_routing_plausible_time.
- sketch_input, sketch: the latency sketches (tests/vectors/sketches.py): stored sketches, and
  queries of the sketch functions over them; their warnings (SQLSTATE, message, detail, hint)
  are part of the answer.
Floats are written as text (repr), which PostgreSQL reads back to the same double; answers are
PostgreSQL's text of them (the shortest that reads back the same). Floats are equal when both
are NULL or within a relative 1e-12 of each other (compare counts those that are bit-exact)."""
import json
import math
import random
import re
import sys

import sketches

rng = random.Random(20261208)
CHECKS = ["error_rate", "p95_latency", "error_rate_vs_legacy", "p95_vs_legacy", "sample_ratio", "session_breaks"]


def num(v):
    return None if v is None else repr(float(v))


def judge_cases():
    criticals = [None, 0, 1e-9, 0.1, 0.5, 5, 50, 100, 150]
    ns = [None, -1, 0, 0.5, 1, 2, 10, 100, 1000, 1e4, 1e6, 1e9, 1e12, 1e15]
    out = []
    # A grid per check over x of n, the other counts at usual values.
    for check in CHECKS:
        for n in ns:
            xs = [None, -1, 0, 1] if n is None else sorted({-1, 0, 1, n * 0.001, n * 0.004, n * 0.005, n * 0.006, n * 0.01,
                                                           n * 0.05, n * 0.2, n * 0.25, n * 0.26, n * 0.5, n, n + 1})
            for x in xs:
                for critical in [None, 0.5, 5]:
                    if check == "sample_ratio":
                        x2, n2 = (None if n is None else n * 0.25), (None if n is None else n * 0.25 * 0.75)
                    else:
                        x2, n2 = (None if x is None else x / 2), n
                    out.append([check, critical, 100, 1000, x, n, x2, n2, x])
    # Random counts of every size, every argument sometimes NULL or odd.
    for _ in range(2500):
        check = rng.choice(CHECKS)
        n = rng.choice([0, 1, 3, 10 ** rng.randint(0, 15) * rng.random(), float(rng.randint(1, 10 ** rng.randint(1, 9)))])
        if rng.random() < 0.3:
            n = float(round(n))
        share = rng.choice([0, 1e-6, 0.001, 0.005, 0.02, 0.05, 0.25, 0.5, 1, rng.random()])
        x = rng.choice([round(n * share), n * share, 0, n, n + 1, -1])
        n2 = rng.choice([0, 1, n, 10 ** rng.randint(0, 12) * rng.random(), float(rng.randint(1, 100000))])
        if check == "sample_ratio":
            x2 = rng.choice([n * rng.random(), n * 0.25, x, 0, -1])
            n2 = rng.choice([x2 * 0.75 if x2 > 0 else 0, n * rng.random(), 0, 1e-9])
        else:
            x2 = rng.choice([round(n2 * rng.choice([0, 0.001, 0.005, 0.01, 0.1])), 0, n2])
        above = rng.choice([round(n * rng.choice([0, 0.01, 0.04, 0.05, 0.06, 0.1, 0.5])), 0, n, None])
        critical = rng.choice([None, 0, 0.01, 0.1, 0.5, 1, 5, 50, 100, 150, rng.random() * 10])
        min_samples = rng.choice([None, 0, 1, 100, 1000, 10 ** 6])
        samples = rng.choice([None, 0, 99, 100, 5000, 10 ** 7])
        args = [check, critical, min_samples, samples, x, n, x2, n2, above]
        for k in range(4, 9):
            if rng.random() < 0.04:
                args[k] = None
        out.append(args)
    for a in out:
        yield {"fn": "judge", "args": [a[0], num(a[1]), a[2], a[3]] + [num(v) for v in a[4:]]}


def runs():
    """A bucket set as runs of set bits: [first bit, last bit, step]."""
    kind = rng.choice(["empty", "few", "dense", "range", "all"])
    if kind == "empty":
        return []
    if kind == "few":
        return [[b, b, 1] for b in rng.sample(range(10000), rng.randint(1, 20))]
    if kind == "dense":
        start = rng.randint(0, 9000)
        return [[start, rng.randint(start, 9999), rng.randint(1, 7)]]
    if kind == "range":
        return [[rng.randint(0, 4999), rng.randint(5000, 9999), 1]]
    return [[0, 9999, 1]]


def sample_ratio_cases():
    shares = [0.1, 0.25, 0.5, 0.1000001, 0.25000001, 0, 1, 0.0001, 0.9999]
    for case in range(300):
        rows = rng.randint(0, 7)
        row_list = []
        for _ in range(rows):
            share = rng.choice(shares + [None, 1.5, -0.1]) if rng.random() < 0.15 else rng.choice(shares[:5])
            unified = None if rng.random() < 0.05 else rng.random() < 0.4
            size = rng.choice([1250] * 8 + [0, 1, 100, 1249, 1300])
            bits = None if rng.random() < 0.05 else {"bytes": size, "runs": runs()}
            row_list.append([num(share), unified, bits])
        # Arrays of unequal lengths, sometimes: read up to the shortest.
        trim = [rows, rows, rows]
        if rows and rng.random() < 0.1:
            trim[rng.randint(0, 2)] = rng.randint(0, rows - 1)
        yield {"fn": "sample_ratio", "shares": [r[0] for r in row_list][:trim[0]],
               "unified": [r[1] for r in row_list][:trim[1]], "buckets": [r[2] for r in row_list][:trim[2]]}


SETTINGS = [None, "300", "1", "0", "86400", "86401", "-5", "1800", "42", " 42", "42 ", " 42 s ", "5min", "1h", "2h",
            "1d", "2d", "90s", "1500ms", "1499ms", "2500ms", "3500ms", "1000000us", "1.5", "2.5", "0.5", "1.5min",
            "1e3", "1E2", ".5h", "0x10", "0X1f", "010", "08", "0", "+60", "abc", "", " ", "5 min", "5mins", "5MIN",
            "5m", "1 h", "60 s x", "1e400", "99999999999999999999", "2147483647", "2147483648", "-2147483649",
            "0.0000001d", "100000000000000000000ms", "1.0", "7.", "1e-400", "0x", "86400.4", "86400.5", "0.4", "12ms"]


def setting_cases():
    for name, fn in [("webhook_routing.pending_timeout", "routing_pending_timeout_seconds"),
                     ("webhook_routing.conversation_timeout", "routing_conversation_timeout_seconds")]:
        for value in SETTINGS:
            yield {"fn": "setting", "function": fn, "setting": name, "value": value}


def query_cases():
    """Expressions whose answer (or error) both editions must give: the catalogues, the
    decision counts, the judge's refusals, bucket sets' unions and the log's time check (in a
    session at UTC+05:30, so that the time a refusal shows is in the session's zone)."""
    queries = {
        "reasons": "SELECT pg_catalog.array_agg(r.r ORDER BY r.o) "
                   "FROM webhook_routing.webhook_routing_reasons() WITH ORDINALITY AS r (r, o)",
        "health_catalogue": "SELECT pg_catalog.json_agg(c ORDER BY c.ordinality) "
                            "FROM webhook_routing.webhook_routing_health_catalogue() WITH ORDINALITY AS c",
        "decision_counts": "SELECT pg_catalog.count(*) FROM webhook_routing.webhook_routing_decision_counts()",
        "decisions_uncounted": "webhook_routing.webhook_routing_decisions_uncounted()",
    }
    for name, sql in queries.items():
        yield {"fn": "query", "name": name, "sql": sql}
    for check in ["NULL", "'p99_latency'", "''", "'Error_Rate'"]:
        yield {"fn": "query", "name": "judge_refusal",
               "sql": f"SELECT pg_catalog.row_to_json(j) FROM webhook_routing.webhook_routing_judge({check}, 0.5, 1, 1, 0, 1, 0, 1, 0) AS j"}
    sets = ["NULL", "''", "'\\x00'", "'\\xff'", "'\\x0102'", "'\\x10203040'", "'\\x8001ff00'"]
    long = "pg_catalog.decode(pg_catalog.repeat('a5', 1250), 'hex')"
    for a in sets + [long]:
        for b in sets + [long]:
            yield {"fn": "query", "name": "bits_or", "sql": f"webhook_routing.webhook_routing_bits_or({a}, {b})"}
    # Relative to now: the transaction's start (fixed during the statement: exact at the edge)
    # or the clock (which moves on: half a minute from the edge). Their refusals show the
    # time, which differs between two runs: compared without the message.
    relative = ["NULL", "pg_catalog.now()", "pg_catalog.clock_timestamp()",
                "pg_catalog.now() - '300 s'::interval", "pg_catalog.now() - '300.000001 s'::interval",
                "pg_catalog.clock_timestamp() + '270 s'::interval", "pg_catalog.clock_timestamp() + '330 s'::interval",
                "pg_catalog.now() - '1 day'::interval", "pg_catalog.now() + '1 day'::interval"]
    for t in relative:
        yield {"fn": "query", "name": "plausible_time", "ignore": ["message"],
               "sql": f"webhook_routing.webhook_routing_plausible_time({t})"}
    fixed = ["'infinity'::timestamptz", "'-infinity'::timestamptz", "'2000-01-01 00:00:00.5+00'::timestamptz",
             "'2000-02-29 23:59:59.123456-08'::timestamptz", "'4000-12-31 12:00:00+00'::timestamptz",
             "'0044-03-15 12:00:00+00 BC'::timestamptz"]
    for t in fixed:
        yield {"fn": "query", "name": "plausible_time", "sql": f"webhook_routing.webhook_routing_plausible_time({t})"}


def cases():
    for gen in (judge_cases, sample_ratio_cases, query_cases, setting_cases, sketches.cases):
        yield from gen()


def quote(text):
    return "'" + text.replace("'", "''") + "'"


def script(cases_path, numbered_path, here):
    """Answers each case as `n <tab> json`: judge and sample_ratio in one statement each, a
    setting in a session of its own (the native library reads it when it loads), a query."""
    cases_ = [json.loads(line) for line in open(cases_path, encoding="utf-8")]
    out = ["\\set ON_ERROR_STOP on", "\\pset format unaligned", "\\pset tuples_only on",
           "\\pset fieldsep '\\t'",
           "CREATE TEMPORARY TABLE cases (n bigint PRIMARY KEY, c jsonb NOT NULL);"]
    out.append(f"\\copy cases (n, c) FROM {quote(numbered_path)} WITH (FORMAT csv, QUOTE E'\\x01', DELIMITER E'\\x02')")
    out.append(f"\\i {here}/functions.sql")
    out.append("SELECT c.n, pg_catalog.to_json(pg_temp.judge_answer(c.c)) FROM cases AS c "
               "WHERE c.c OPERATOR(pg_catalog.->>) 'fn' OPERATOR(pg_catalog.=) 'judge' ORDER BY c.n;")
    out.append("SELECT c.n, pg_catalog.to_json(pg_temp.sample_ratio_answer(c.c)) FROM cases AS c "
               "WHERE c.c OPERATOR(pg_catalog.->>) 'fn' OPERATOR(pg_catalog.=) 'sample_ratio' ORDER BY c.n;")
    # The sketches: each case's warnings follow its marker on stderr (read_warnings).
    out += ["\\set VERBOSITY verbose", "\\set SHOW_CONTEXT never"]
    for n, c in enumerate(cases_, start=1):
        if c["fn"] == "sketch_input":
            sql = f"pg_temp.bytes_answer(webhook_routing.webhook_routing_sketch_merge(pg_temp.sketch({quote(c['name'])}), NULL))"
        elif c["fn"] == "sketch":
            sql = c["sql"]
        else:
            continue
        out.append(f"\\warn '{WARNING_MARK} {n}'")
        out.append(f"SELECT {n}, pg_temp.attempt({quote(sql)});")
    out.append(f"\\warn '{WARNING_MARK} end'")
    out += ["\\set VERBOSITY default", "\\set SHOW_CONTEXT errors"]
    out.append("SET timezone = 'Asia/Kolkata';")
    for n, c in enumerate(cases_, start=1):
        if c["fn"] == "query":
            out.append(f"SELECT {n}, pg_temp.attempt({quote(c['sql'])});")
    for n, c in enumerate(cases_, start=1):
        if c["fn"] == "setting":
            out.append("\\connect")
            if c["value"] is not None:
                out.append(f"SET {c['setting']} = {quote(c['value'])};")
            out.append(f"SELECT {n}, pg_catalog.to_json(webhook_routing.{c['function']}());")
    with open(numbered_path, "w", encoding="utf-8") as f:
        for n, c in enumerate(cases_, start=1):
            f.write(f"{n}\x02{json.dumps(c, ensure_ascii=False)}\n")
    print("\n".join(out))


WARNING_MARK = "@@ case"


def read_warnings(path):
    """{case number: [lines]} of what the server said for each sketch case (psql's location
    prefix and the server's LOCATION line, which name files, left out)."""
    warnings, case = {}, None
    for line in open(path, encoding="utf-8"):
        line = re.sub(r"^psql:[^:]*:[0-9]+: ", "", line.rstrip("\n"))
        if line.startswith(WARNING_MARK):
            word = line[len(WARNING_MARK):].strip()
            case = None if word == "end" else int(word)
            if case is not None:
                warnings[case] = []
        elif case is not None and not line.startswith("LOCATION:"):
            warnings[case].append(line)
    return warnings


def read_answers(path):
    answers = {}
    for line in open(path, encoding="utf-8"):
        if line.strip():
            n, answer = line.rstrip("\n").split("\t", 1)
            answers[int(n)] = json.loads(answer)
    return answers


def merge(cases_path, answers_path, log_path, out_path):
    cases_ = [json.loads(line) for line in open(cases_path, encoding="utf-8")]
    answers = read_answers(answers_path)
    warnings = read_warnings(log_path)
    missing = [n for n in range(1, len(cases_) + 1) if n not in answers]
    if missing:
        sys.exit(f"no answer from the native extension for {len(missing)} cases, e.g. {cases_[missing[0] - 1]}")
    with open(out_path, "w", encoding="utf-8") as out:
        for n, case in enumerate(cases_, start=1):
            case["answer"] = answers[n]
            if n in warnings:
                case["warnings"] = warnings[n]
            out.write(json.dumps(case, ensure_ascii=False) + "\n")
    print(f"  {len(cases_)} vectors from the native extension into {out_path}")


TOLERANCE = 1e-12


def same(want, got):
    """(equal, bit-exact): floats in text within TOLERANCE (relative), everything else equal."""
    if isinstance(want, list) and isinstance(got, list) and len(want) == len(got):
        pairs = [same(w, g) for w, g in zip(want, got)]
        return all(p[0] for p in pairs), all(p[1] for p in pairs)
    if want == got:
        return True, True
    try:
        w, g = float(want), float(got)
    except (TypeError, ValueError):
        return False, False
    if math.isnan(w) or math.isnan(g) or math.isinf(w) or math.isinf(g):
        return False, False
    return abs(w - g) <= TOLERANCE * max(abs(w), abs(g)), False


def compare(vectors_path, answers_path, log_path):
    vectors = [json.loads(line) for line in open(vectors_path, encoding="utf-8")]
    answers = read_answers(answers_path)
    warnings = read_warnings(log_path)
    counts, differ = {}, []
    for n, v in enumerate(vectors, start=1):
        got = answers.get(n)
        want = v["answer"]
        for field in v.get("ignore", []):
            if isinstance(want, dict) and isinstance(got, dict):
                want = {k: x for k, x in want.items() if k != field}
                got = {k: x for k, x in got.items() if k != field}
        equal, exact = same(want, got) if n in answers else (False, False)
        if warnings.get(n, []) != v.get("warnings", []):
            equal = exact = False
            got = {"answer": got, "warnings": warnings.get(n)}
        key = v["name"] if v["fn"] == "query" else "sketch_" + v["name"] if v["fn"] == "sketch" else v["fn"]
        c = counts.setdefault(key, [0, 0, 0])
        c[0] += 1
        c[1] += equal
        c[2] += exact
        if not equal:
            differ.append(f"differs: {json.dumps(v, ensure_ascii=False)[:300]} edition: {json.dumps(answers.get(n))}")
    for line in differ[:10]:
        print(line)
    total = sum(c[0] for c in counts.values())
    equal = sum(c[1] for c in counts.values())
    exact = sum(c[2] for c in counts.values())
    parts = ", ".join(f"{c[1]}/{c[0]} {k}" for k, c in sorted(counts.items()))
    print(f"{equal} of {total} function vectors equal ({exact} bit-exact; {parts})")
    return not differ


if __name__ == "__main__":
    here = "tests/vectors"
    if sys.argv[1:2] == ["cases"]:
        for c in cases():
            print(json.dumps(c, ensure_ascii=False))
    elif sys.argv[1:2] == ["script"]:
        script(sys.argv[2], sys.argv[3], here)
    elif sys.argv[1:2] == ["merge"]:
        merge(*sys.argv[2:6])
    elif sys.argv[1:2] == ["compare"]:
        sys.exit(0 if compare(sys.argv[2], sys.argv[3], sys.argv[4]) else 1)
    else:
        sys.exit(__doc__)
