#!/usr/bin/env python3
"""Builds the SQL edition of webhook_routing (docs/src/development/sql-edition.md) from the
files the native install uses, and checks it against the native install script.

  python3 scripts/edition.py NATIVE_SCRIPT OUT_DIR

NATIVE_SCRIPT is the native edition's install script (`cargo pgrx schema`, or the one
`cargo pgrx install` wrote): its LANGUAGE c functions are what sql/edition/ must provide, one
for one with the same signature and attributes, or list in sql/edition/PENDING while they are
not ported yet. scripts/edition finds the script and calls this.

Writes into OUT_DIR:
  webhook_routing--VERSION.edition.sql  the plain migration: @extschema@ replaced by the schema,
                                        in one transaction, for psql or `supabase db push`
  webhook_routing--VERSION.pgtle.sql    the extension's script wrapped in
                                        pgtle.install_extension(...)
  omitted.txt                           what the plain migration leaves out, and why
Exits 1 (with what differs) when the check fails."""
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SCHEMA = "webhook_routing"

# ---------------------------------------------------------------------------------------------
# SQL text: tokens and statements.

TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<line_comment>--[^\n]*)
  | (?P<block_comment>/\*)
  | (?P<dollar>\$(?:[A-Za-z_][A-Za-z_0-9]*)?\$)
  | (?P<string>[EeBbXxUu]?'(?:[^']|'')*')
  | (?P<quoted>"(?:[^"]|"")*")
  | (?P<word>@extschema@|[A-Za-z_\x80-\U0010ffff][A-Za-z_0-9$\x80-\U0010ffff]*)
  | (?P<number>[0-9]+(?:\.[0-9]*)?(?:[eE][-+]?[0-9]+)?|\.[0-9]+)
  | (?P<param>\$[0-9]+)
  | (?P<op>::|[-+*/<>=~!@#%^&|`?]+|[(),;\[\].:])
    """,
    re.VERBOSE,
)


def tokens(text):
    """(kind, text, start, end) of each token that is not space or a comment; a dollar-quoted
    body is one token of kind 'body'."""
    out, i = [], 0
    while i < len(text):
        m = TOKEN.match(text, i)
        if not m:
            raise SyntaxError(f"cannot read the SQL at {text[i:i + 40]!r}")
        kind = m.lastgroup
        if kind == "block_comment":
            depth, j = 1, m.end()
            while depth:
                k = min((p for p in (text.find("/*", j), text.find("*/", j)) if p >= 0), default=-1)
                if k < 0:
                    raise SyntaxError("an unterminated comment")
                depth += 1 if text.startswith("/*", k) else -1
                j = k + 2
            i = j
            continue
        if kind == "dollar":
            tag = m.group()
            close = text.find(tag, m.end())
            if close < 0:
                raise SyntaxError(f"an unterminated {tag} body")
            out.append(("body", text[m.end():close], m.start(), close + len(tag)))
            i = close + len(tag)
            continue
        if kind not in ("space", "line_comment"):
            out.append((kind, m.group(), m.start(), m.end()))
        i = m.end()
    return out


def statements(text):
    """The statements of a script: (leading text with its comments, statement text, tokens),
    split at the semicolons outside parentheses and bodies."""
    toks = tokens(text)
    out, begin, first, depth = [], 0, 0, 0
    for n, t in enumerate(toks):
        if t[1] == "(":
            depth += 1
        elif t[1] == ")":
            depth -= 1
        elif t[1] == ";" and depth == 0:
            part = toks[first:n]
            if part:
                out.append((text[begin:part[0][2]], text[part[0][2]:t[3]], part))
            begin, first = t[3], n + 1
    tail = text[begin:]
    if toks[first:]:
        raise SyntaxError(f"a statement without its semicolon: {tail.strip()[:60]!r}")
    return out, tail


def upper_words(toks):
    return [t[1].upper() if t[0] == "word" else t[1] for t in toks]


# ---------------------------------------------------------------------------------------------
# Function signatures.

TYPE_ALIASES = {
    "int": "integer", "int4": "integer", "int8": "bigint", "int2": "smallint",
    "float8": "double precision", "float4": "real", "bool": "boolean",
    "timestamptz": "timestamp with time zone", "varchar": "character varying",
    "decimal": "numeric",
}
CLAUSES = {"LANGUAGE", "IMMUTABLE", "STABLE", "VOLATILE", "STRICT", "CALLED", "PARALLEL",
           "SECURITY", "SET", "AS", "COST", "ROWS", "LEAKPROOF", "WINDOW", "SUPPORT",
           "TRANSFORM", "NOT", "BEGIN", "EXTERNAL", "RETURN"}


def name_of(tok):
    kind, text = tok[0], tok[1]
    if kind == "quoted":
        return text[1:-1].replace('""', '"')
    return text.lower()


def type_of(toks):
    """A type's tokens in one spelling: lower case, no schema, aliases resolved."""
    words, i = [], 0
    while i < len(toks):
        if i + 1 < len(toks) and toks[i + 1][1] == "." and name_of(toks[i]) in ("pg_catalog", "@extschema@", SCHEMA):
            i += 2
            continue
        words.append(name_of(toks[i]) if toks[i][0] in ("word", "quoted") else toks[i][1])
        i += 1
    text = " ".join(words).replace(" [ ]", "[]").replace(" [", "[").replace("[ ", "[")
    base, _, arrays = text.partition("[")
    base = TYPE_ALIASES.get(base.strip(), base.strip())
    return base + ("[" + arrays if arrays else "")


def split_commas(toks):
    parts, depth, cur = [], 0, []
    for t in toks:
        if t[1] == "(":
            depth += 1
        elif t[1] == ")":
            depth -= 1
        if t[1] == "," and depth == 0:
            parts.append(cur)
            cur = []
        else:
            cur.append(t)
    if cur:
        parts.append(cur)
    return parts


def group(toks, i):
    """The index after the parenthesised group that opens at toks[i]."""
    depth = 0
    for j in range(i, len(toks)):
        depth += {"(": 1, ")": -1}.get(toks[j][1], 0)
        if depth == 0:
            return j + 1
    raise SyntaxError("unbalanced parentheses")


def argument(toks):
    """(mode, name, type, default) of one argument (every argument of these scripts is named)."""
    mode = "in"
    if toks and toks[0][0] == "word" and toks[0][1].upper() in ("IN", "OUT", "INOUT", "VARIADIC"):
        mode, toks = toks[0][1].lower(), toks[1:]
    default = None
    for k, t in enumerate(toks):
        if (t[0] == "word" and t[1].upper() == "DEFAULT") or t[1] == "=":
            default = " ".join(x[1].lower() if x[0] == "word" else x[1] for x in toks[k + 1:])
            toks = toks[:k]
            break
    return (mode, name_of(toks[0]), type_of(toks[1:]), default)


def signature(toks):
    """The signature and attributes of a CREATE FUNCTION statement, or None for another."""
    up = upper_words(toks)
    if up[:1] != ["CREATE"]:
        return None
    i = 1
    if up[1:3] == ["OR", "REPLACE"]:
        i = 3
    if up[i:i + 1] != ["FUNCTION"]:
        return None
    i += 1
    name_end = next(k for k in range(i, len(toks)) if toks[k][1] == "(")
    name = name_of(toks[name_end - 1])
    close = group(toks, name_end)
    args = tuple(argument(a) for a in split_commas(toks[name_end + 1:close - 1]))
    i = close
    returns = None
    if up[i:i + 1] == ["RETURNS"]:
        i += 1
        if up[i] == "TABLE":
            end = group(toks, i + 1)
            columns = [argument(c) for c in split_commas(toks[i + 2:end - 1])]
            returns = "table(" + ", ".join(f"{c[1]} {c[2]}" for c in columns) + ")"
            i = end
        else:
            start = i
            while i < len(toks) and not (toks[i][0] == "word" and up[i] in CLAUSES):
                i += 1
            returns = type_of(toks[start:i])
    rest = up[i:]
    language = rest[rest.index("LANGUAGE") + 1].lower() if "LANGUAGE" in rest else None
    volatility = next((w.lower() for w in rest if w in ("IMMUTABLE", "STABLE", "VOLATILE")), "volatile")
    text = " ".join(w for w in rest if w and not w.startswith(("'", "$")))
    strict = "STRICT" in rest or "RETURNS NULL ON NULL INPUT" in text
    parallel = rest[rest.index("PARALLEL") + 1].lower() if "PARALLEL" in rest else "unsafe"
    return {
        "name": name,
        "args": args,
        "returns": returns,
        "language": language,
        "attributes": (volatility, "strict" if strict else "called on null input", "parallel " + parallel),
    }


def identity(sig):
    """name(argument types), as the function is known (PENDING's spelling)."""
    types = [a[2] for a in sig["args"] if a[0] != "out"]
    return f"{sig['name']}({', '.join(types)})"


def describe(sig):
    args = ", ".join(f"{a[0]} {a[1]} {a[2]}" + (f" default {a[3]}" if a[3] else "") for a in sig["args"])
    return f"{sig['name']}({args}) returns {sig['returns']} {' '.join(sig['attributes'])}"


# ---------------------------------------------------------------------------------------------
# The build.

def install_order():
    """The shared files of sql/ in the order src/lib.rs's extension_sql_file! lines give."""
    lib = open(os.path.join(ROOT, "src/lib.rs"), encoding="utf-8").read()
    files = re.findall(r'extension_sql_file!\(\s*"\.\./(sql/[^"]+\.sql)"', lib)
    if not files:
        raise SystemExit("src/lib.rs names no sql/ file (extension_sql_file!)")
    return files


def version():
    cargo = open(os.path.join(ROOT, "Cargo.toml"), encoding="utf-8").read()
    return re.search(r'(?m)^version\s*=\s*"([^"]+)"', cargo).group(1)


def control_comment():
    control = open(os.path.join(ROOT, "webhook_routing.control"), encoding="utf-8").read()
    return re.search(r"(?m)^comment\s*=\s*'((?:[^']|'')*)'", control).group(1).replace("''", "'")


def read_pending():
    path = os.path.join(ROOT, "sql/edition/PENDING")
    out = []
    for line in open(path, encoding="utf-8"):
        line = line.split("#", 1)[0].strip()
        if line:
            out.append(line)
    return out


def check(native_text, edition_files, pending):
    """The native script's LANGUAGE c functions against sql/edition's and PENDING: the
    problems found (empty when the check passes), and the counts."""
    native = {}
    for _, _, toks in statements(native_text)[0]:
        sig = signature(toks)
        if sig and sig["language"] == "c":
            native[identity(sig)] = sig
    defined = {}
    for path in edition_files:
        for _, _, toks in statements(open(path, encoding="utf-8").read())[0]:
            sig = signature(toks)
            if sig:
                defined[identity(sig)] = (sig, os.path.relpath(path, ROOT))
    problems = []
    pending_set = set(pending)
    for ident in sorted(set(pending) - set(native)):
        problems.append(f"PENDING lists {ident}, which the native script does not define as LANGUAGE c")
    for ident in sorted(k for k in pending_set if k in defined):
        problems.append(f"PENDING lists {ident}, which {defined[ident][1]} defines: take it off the list")
    for ident, sig in sorted(native.items()):
        if ident in defined:
            mine = defined[ident][0]
            for what in ("args", "returns", "attributes"):
                if mine[what] != sig[what]:
                    problems.append(f"{ident} in {defined[ident][1]} differs from the native one:\n"
                                    f"    native:  {describe(sig)}\n    edition: {describe(mine)}")
                    break
            if mine["language"] == "c":
                problems.append(f"{ident} in {defined[ident][1]} is LANGUAGE c")
        elif ident not in pending_set:
            problems.append(f"{ident} ({describe(sig)}) is native, neither in sql/edition nor in PENDING")
    # The edition's own helpers are named webhook_routing_*, and are not native.
    for ident, (sig, path) in sorted(defined.items()):
        if ident not in native and not sig["name"].startswith("webhook_routing_"):
            problems.append(f"{ident} in {path} is no native function and not named webhook_routing_*")
    ported = sum(1 for k in native if k in defined)
    return problems, len(native), ported, native


WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")


def mentions(toks):
    """Every name a statement mentions, its bodies' words included (lower case). A body's
    comments run nothing, and its quoted string literals run only as dynamic SQL: they are read
    when the body has an EXECUTE, and left out otherwise (a message or hint that names a
    function calls nothing). A dollar-quoted string inside a body is always read: SQL handed to
    another function to run (pg_cron's schedule, say) is to be written so."""
    out = set()
    for t in toks:
        if t[0] in ("word", "quoted"):
            out.add(name_of(t))
        elif t[0] == "body":
            try:
                inner = tokens(t[1])
            except SyntaxError:
                out.update(w.lower() for w in WORD.findall(t[1]))
                continue
            dynamic = any(k == "word" and w.upper() == "EXECUTE" for k, w, *_ in inner)
            for k, w, *_ in inner:
                if k in ("word", "quoted"):
                    out.add(name_of((k, w)))
                elif k in ("string", "body") and (dynamic or k == "body"):
                    out.update(x.lower() for x in WORD.findall(w))
    return out


def build(native_text, out_dir):
    version_ = version()
    edition_dir = os.path.join(ROOT, "sql/edition")
    edition_files = sorted(os.path.join(edition_dir, f) for f in os.listdir(edition_dir) if f.endswith(".sql"))
    pending = read_pending()
    problems, native_count, ported, native = check(native_text, edition_files, pending)
    print(f"  native LANGUAGE c functions: {native_count}; in sql/edition: {ported}; "
          f"pending (sql/edition/PENDING): {len(pending)}")
    if problems:
        for p in problems:
            print("  " + p, file=sys.stderr)
        raise SystemExit(f"the SQL edition does not match the native functions ({len(problems)} problems)")

    absent = {ident.split("(", 1)[0] for ident in pending}
    plain, extension, omitted, trimmed = [], [], [], []
    for rel in install_order():
        parts = [(rel, open(os.path.join(ROOT, rel), encoding="utf-8").read())]
        if rel.endswith("/bootstrap.sql"):
            parts += [(os.path.relpath(f, ROOT), open(f, encoding="utf-8").read()) for f in edition_files]
        if rel.endswith("/security.sql"):
            # What security.sql does for an extension's members, for a migration's objects.
            plain_dir = os.path.join(edition_dir, "plain")
            parts = [(os.path.relpath(os.path.join(plain_dir, f), ROOT), open(os.path.join(plain_dir, f), encoding="utf-8").read(), "plain")
                     for f in sorted(os.listdir(plain_dir)) if f.endswith(".sql")] + parts
        for name, text, *only in parts:
            # A statement goes into the plain migration unless it has a reason to stay out
            # (why), and into pg_tle's script unless it is the plain migration's own (only) or
            # stays out for a reason that holds there too (all but pg_extension_config_dump).
            stmts, tail = statements(text)
            plain.append(f"\n-- ==== {name}\n")
            if not only:
                extension.append(f"\n-- ==== {name}\n")
            for lead, stmt, toks in stmts:
                why, in_extension = None, not only
                calls = mentions(toks)
                needs = sorted(calls & absent)
                if "MODULE_PATHNAME" in " ".join(t[1] for t in toks):
                    why, in_extension = "names the native library (MODULE_PATHNAME)", False
                elif "pg_extension_config_dump" in calls:
                    why = "pg_extension_config_dump: an extension's script alone may call it"
                elif needs and upper_words(toks)[0] in ("GRANT", "REVOKE"):
                    kept = privilege_without(stmt, toks, absent)
                    if kept:
                        trimmed.append(f"{name}: {stmt.strip().splitlines()[0][:60]} -- "
                                       f"without {', '.join(needs)} (pending)")
                        stmt = kept
                    else:
                        why, in_extension = "needs " + ", ".join(needs) + " (pending)", False
                elif needs:
                    why, in_extension = "needs " + ", ".join(needs) + " (pending)", False
                    created = created_name(toks)
                    if created:
                        absent.add(created)
                if in_extension:
                    extension.append(lead + stmt)
                elif why and not only:
                    extension.append(lead + f"-- (left out: {why}) {stmt.strip().splitlines()[0][:100]}")
                if why:
                    first = stmt.strip().splitlines()[0]
                    omitted.append(f"{name}: {first[:100]} -- {why}")
                    plain.append(lead + f"-- (left out: {why}) {first[:100]}")
                else:
                    plain.append(lead + stmt)
            plain.append(tail)
            if not only:
                extension.append(tail)

    os.makedirs(out_dir, exist_ok=True)
    body = "".join(plain).replace("@extschema@", SCHEMA)
    head = (f"-- webhook_routing {version_}, the SQL edition as a plain migration (made by scripts/edition\n"
            f"-- from sql/*.sql and sql/edition/*.sql; do not edit). Run by the role that will own the\n"
            f"-- schema {SCHEMA}, in one transaction.\n"
            f"BEGIN;\nCREATE SCHEMA IF NOT EXISTS {SCHEMA};\n"
            f"SET LOCAL search_path = {SCHEMA};\n")
    plain_path = os.path.join(out_dir, f"webhook_routing--{version_}.edition.sql")
    with open(plain_path, "w", encoding="utf-8") as f:
        f.write(head + body + "\nCOMMIT;\n")

    script = "".join(extension)
    tag = "$pgtle$"
    if tag in script:
        raise SystemExit(f"the extension's script holds {tag}: choose another dollar tag")
    comment = control_comment().replace("'", "''")
    wrapper = (f"-- webhook_routing {version_}, the SQL edition for pg_tle (made by scripts/edition; do not\n"
               f"-- edit). Then: CREATE EXTENSION webhook_routing SCHEMA {SCHEMA};\n"
               f"SELECT pgtle.install_extension(\n    'webhook_routing',\n    '{version_}',\n"
               f"    '{comment}',\n{tag}{script}{tag}\n);\n")
    tle_path = os.path.join(out_dir, f"webhook_routing--{version_}.pgtle.sql")
    with open(tle_path, "w", encoding="utf-8") as f:
        f.write(wrapper)
    with open(os.path.join(out_dir, "omitted.txt"), "w", encoding="utf-8") as f:
        f.write("".join(f"left out: {line}\n" for line in omitted))
        f.write("".join(f"trimmed: {line}\n" for line in trimmed))
    print(f"  {plain_path}: {len(omitted)} statements left out "
          f"({sum(1 for o in omitted if 'pending' in o)} need a pending function, "
          f"{sum(1 for o in omitted if 'config_dump' in o)} pg_extension_config_dump), "
          f"{len(trimmed)} grants without pending functions ({out_dir}/omitted.txt)")
    print(f"  {tle_path}")


def privilege_without(stmt, toks, absent):
    """A GRANT or REVOKE of a list of objects without those in absent (its text), or None
    when none is left."""
    up = upper_words(toks)
    base = toks[0][2]
    on = up.index("ON")
    start = on + 1
    if up[start] in ("FUNCTION", "TABLE", "SEQUENCE", "SCHEMA"):
        start += 1
    end = next(k for k in range(start, len(toks)) if up[k] in ("TO", "FROM"))
    items = split_commas(toks[start:end])
    keep = [i for i in items if not (mentions(i) & absent)]
    if not keep:
        return None
    listed = ",\n    ".join(stmt[i[0][2] - base:i[-1][3] - base] for i in keep)
    return stmt[:toks[start][2] - base] + listed + " " + stmt[toks[end][2] - base:]


def created_name(toks):
    """The object a CREATE statement makes (a view, function, table, trigger...), unqualified."""
    up = upper_words(toks)
    if up[:1] != ["CREATE"]:
        return None
    for k, w in enumerate(up[1:], start=1):
        if w in ("FUNCTION", "VIEW", "TABLE", "TRIGGER", "INDEX", "POLICY", "TYPE", "SEQUENCE", "AGGREGATE", "PROCEDURE"):
            k += 1
            while up[k] in ("IF", "NOT", "EXISTS"):
                k += 1
            if k + 1 < len(toks) and toks[k + 1][1] == ".":
                k += 2
            return name_of(toks[k])
    return None


if __name__ == "__main__":
    if len(sys.argv) != 3:
        raise SystemExit(__doc__)
    build(open(sys.argv[1], encoding="utf-8").read(), sys.argv[2])
