#!/usr/bin/env python3
"""Runs the SQL that the README and the book (docs/src) show, so that it cannot drift from what
the extension does. The conventions (docs/src/development/docs.md), by a code block's info string:

  psql                  a session: each statement after a `=# ` prompt (with its continuation
                        lines, up to the one ending with `;`; a `\\` command is one line) is sent
                        to psql, and what psql prints for it must be the lines that follow, up to
                        the next prompt. In those lines `‹…›` stands for any text within the
                        line, and a line starting with `…` for any number of lines.
  psql excerpt=FILE     an excerpt of FILE (an expected output of tests/pg_regress, compared by
  (any) excerpt=FILE    pg_regress on every run): its lines, without the prompt, must be lines of
                        FILE in FILE's order.
  sql                   run with ON_ERROR_STOP: it must not fail.
  sql signature         a signature or a shape: not run, but each `webhook_routing.f(...)` in it
                        must be a function of the extension with those arguments (names, types,
                        which have a default, in order) and, where it says RETURNS TABLE (...)
                        or RETURNS type, that result.
  sql fragment          part of a statement, or needing what the page does not make: not run.

A table after a line `<!-- catalogue: QUERY -->` lists a closed set of the extension (its health
checks, its reasons): the names in backquotes that open its rows must be, in order, the values
QUERY returns (one column), so that a check or a reason added to the extension and not to the
page, or the other way round, fails.

Each page runs in a fresh database of the cluster that PGHOST/PGPORT/PGUSER name (the
extension installed in it, not created: a session creates it), its blocks in page order, with
the search_path a new role has ("$user", public), as a reader's session would. A ```sql block
gets the extension created first when the page has not created it.

Usage: tests/docs/sessions.py [--write] [FILE.md ...]
  --write   rewrite each psql session's output with what psql printed (to write a new page;
            put the `‹…›` marks back by hand, then run without it).
Exits 1 and shows the differences when a block fails.
"""
import os
import pathlib
import re
import subprocess
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
PROMPT = "=# "
MARK = "<<docs-sessions {}>>"
ANY_TEXT = "‹…›"
ANY_LINES = "…"
# Pages made of other pages ({{#include}}) are checked where their text lives.
SKIP = {"docs/src/operations/runbook.md", "docs/src/changelog.md"}


def pages(args):
    if args:
        return [ROOT / a for a in args]
    return [ROOT / "README.md"] + sorted((ROOT / "docs" / "src").rglob("*.md"))


def blocks(text):
    """(info, body lines, line number of the body's first line) of each fenced code block."""
    out, lines, i = [], text.split("\n"), 0
    while i < len(lines):
        m = re.match(r"^```(.*)$", lines[i])
        if m:
            start, body = i + 1, []
            i += 1
            while i < len(lines) and not lines[i].startswith("```"):
                body.append(lines[i])
                i += 1
            out.append((m.group(1).strip(), body, start + 1))
        i += 1
    return out


def parse_session(body):
    """[(statement, expected output lines)] of a psql block."""
    items, i = [], 0
    while i < len(body):
        line = body[i]
        if not line.startswith(PROMPT):
            raise ValueError(f"line {i + 1} of the block is neither a prompt nor output: {line!r}")
        stmt = [line[len(PROMPT):]]
        i += 1
        if not stmt[0].lstrip().startswith("\\"):
            while not stmt[-1].rstrip().endswith(";"):
                if i >= len(body):
                    raise ValueError(f"a statement without its `;`: {stmt[0]!r}")
                stmt.append(re.sub(r"^-# ", "", body[i]))
                i += 1
        expected = []
        while i < len(body) and not body[i].startswith(PROMPT):
            expected.append(body[i])
            i += 1
        items.append(("\n".join(stmt), expected))
    return items


def trim(lines):
    lines = [l.rstrip() for l in lines]
    while lines and not lines[0]:
        lines.pop(0)
    while lines and not lines[-1]:
        lines.pop()
    return lines


def line_matches(expected, actual):
    if ANY_TEXT not in expected:
        return expected == actual
    pattern = ".*".join(re.escape(part) for part in expected.split(ANY_TEXT))
    return re.fullmatch(pattern, actual) is not None


def lines_match(expected, actual):
    """Whether the expected lines (with their marks) describe the actual ones."""
    if not expected:
        return not actual
    if expected[0].startswith(ANY_LINES):
        return any(lines_match(expected[1:], actual[k:]) for k in range(len(actual) + 1))
    return bool(actual) and line_matches(expected[0], actual[0]) and lines_match(expected[1:], actual[1:])


CATALOGUE = re.compile(r"^<!-- catalogue: (.+) -->$")


def catalogue_tables(text):
    """(query, names in the first column of the table that follows, line number) of each marked
    table."""
    out, lines = [], text.split("\n")
    for i, line in enumerate(lines):
        m = CATALOGUE.match(line.strip())
        if not m:
            continue
        names, j = [], i + 1
        while j < len(lines) and not lines[j].startswith("|"):
            j += 1
        rows = []
        while j < len(lines) and lines[j].startswith("|"):
            rows.append(lines[j])
            j += 1
        for row in rows[2:]:  # the header and its rule
            cell = row.split("|")[1].strip()
            n = re.match(r"^`([^`]+)`", cell)
            names.append(n.group(1) if n else cell)
        out.append((m.group(1), names, i + 1))
    return out


def catalogue_problem(db, query, names):
    psql(db, "CREATE EXTENSION IF NOT EXISTS webhook_routing;", on_error_stop=True)
    status, output = psql(db, f"\\pset tuples_only on\n\\pset format unaligned\n{query};\n", on_error_stop=True)
    if status != 0:
        return "the catalogue's query fails:\n" + indent(output)
    actual = [l for l in output.split("\n") if l and not l.startswith(("Tuples only", "Output format"))]
    if actual == names:
        return None
    missing = [a for a in actual if a not in names]
    extra = [n for n in names if n not in actual]
    return (f"the table is not the catalogue ({query}): "
            f"missing {missing or 'nothing'}, not in the catalogue {extra or 'nothing'}"
            + ("" if missing or extra else f", in the catalogue's order {actual}"))


def psql(db, script, on_error_stop):
    env = dict(os.environ, PGOPTIONS='-c search_path="$user",public')
    command = ["psql", "-X", "-d", db, "-v", f"ON_ERROR_STOP={1 if on_error_stop else 0}"]
    done = subprocess.run(command, input=script, text=True, stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, env=env)
    return done.returncode, done.stdout


def admin(sql):
    subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql], check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def run_session(db, items):
    """What psql printed for each statement."""
    script = "".join(f"{stmt}\n\\echo '{MARK.format(n)}'\n" for n, (stmt, _) in enumerate(items))
    _, output = psql(db, script, on_error_stop=False)
    parts, current = [], []
    for line in output.split("\n"):
        if line == MARK.format(len(parts)):
            parts.append(current)
            current = []
        else:
            current.append(line)
    if len(parts) != len(items):
        raise RuntimeError("psql stopped before the end of the session:\n" + output)
    return parts


def unqualified(line):
    return re.sub(r"\bwebhook_routing\.(?=\w+\s*\()|(?<=FROM )webhook_routing\.", "", line)


def excerpt_problem(body, source):
    path = ROOT / source
    if not path.is_file():
        return f"{source} does not exist"
    # The tests name the extension's objects without the schema (their clusters' search_path
    # starts with it), the docs name it: compare without it, and without the indentation of
    # psql's cells (a text in a cell starts with a space).
    lines = [unqualified(l.strip()) for l in path.read_text().split("\n")]
    at = 0
    for line in body:
        if line.startswith(ANY_LINES) or not line.strip():
            continue
        want = line[len(PROMPT):] if line.startswith(PROMPT) else line
        want = unqualified(want.strip())
        found = next((k for k in range(at, len(lines)) if line_matches(want, lines[k])), None)
        if found is None:
            return f"not in {source} (after its line {at}): {want}"
        at = found + 1
    return None


def split_top(text, sep=","):
    """text split at sep outside parentheses and quotes."""
    parts, depth, quote, current = [], 0, None, ""
    for ch in text:
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        elif ch == sep and depth == 0:
            parts.append(current.strip())
            current = ""
            continue
        current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def closing(text, start):
    """The index of the parenthesis closing the one at text[start]."""
    depth, quote = 0, None
    for i in range(start, len(text)):
        ch = text[i]
        if quote:
            quote = None if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                return i
    return None


def parameters(text):
    """[(name, type or None, has a default)] of an argument or column list."""
    out = []
    for part in split_top(text):
        # (An argument's mode, as pg_get_function_arguments prints it, is not its name.)
        part = re.sub(r"^\s*(IN|OUT|INOUT|VARIADIC)\s+", "", part, flags=re.I)
        m = re.match(r'^("[^"]+"|\w+)\s*(.*?)(\s+DEFAULT\s+.*)?$', part, re.S | re.I)
        name, kind, default = m.group(1).strip('"'), re.sub(r"\s+", " ", m.group(2)).strip(), m.group(3)
        out.append((name, kind or None, default is not None))
    return out


def documented_signatures(body):
    """[(name, args text, result text or None)] of the webhook_routing.f(...) of a block."""
    text = "\n".join(re.sub(r"--.*$", "", line) for line in body)
    found = []
    for m in re.finditer(r"\bwebhook_routing\.(\w+)\(", text):
        end = closing(text, m.end() - 1)
        if end is None:
            continue
        args, rest = text[m.end():end], text[end + 1:]
        result = None
        r = re.match(r"\s*RETURNS\s+TABLE\s*\(", rest, re.I)
        if r:
            result_end = closing(rest, r.end() - 1)
            result = "TABLE(" + rest[r.end():result_end] + ")"
        else:
            r = re.match(r"\s*RETURNS\s+([\w.\[\]]+)", rest, re.I)
            if r:
                result = r.group(1)
        found.append((m.group(1), args, result))
    return found


def catalog(db):
    """{name: [(arguments, result)]} of the extension's functions, as PostgreSQL prints them."""
    _, out = psql(db, "\\pset format unaligned\n\\pset tuples_only on\n\\pset fieldsep '\\t'\n"
                      "SELECT p.proname, pg_catalog.pg_get_function_arguments(p.oid), "
                      "pg_catalog.pg_get_function_result(p.oid) FROM pg_catalog.pg_proc p "
                      "JOIN pg_catalog.pg_namespace n ON n.oid = p.pronamespace "
                      "WHERE n.nspname = 'webhook_routing';\n", on_error_stop=True)
    functions = {}
    for line in out.splitlines():
        if line.count("\t") == 2:
            name, args, result = line.split("\t")
            functions.setdefault(name, []).append((args, result))
    return functions


def type_names(db, kinds):
    """{a type as written: its name as PostgreSQL prints it} (regtype)."""
    # Only what can be a type name: to_regtype raises on a syntax error, which would take the
    # whole query, and so every name, with it.
    # (Nor a set: "SETOF text" is a result, and no type name.)
    kinds = sorted(k for k in kinds if k and re.fullmatch(r'[\w ."]+(\[\])?', k) and not k.startswith("SETOF "))
    if not kinds:
        return {}
    values = ", ".join("('" + k.replace("'", "''") + "')" for k in kinds)
    _, out = psql(db, "\\pset format unaligned\n\\pset tuples_only on\n\\pset fieldsep '\\t'\n"
                      "SET search_path = webhook_routing, pg_catalog;\n"
                      f"SELECT k, pg_catalog.to_regtype(k)::text FROM (VALUES {values}) AS v(k);\n", on_error_stop=True)
    # (A name that is no type maps to nothing, and so matches nothing.)
    return {k: v for k, v in (line.split("\t") for line in out.splitlines() if "\t" in line) if v}


def signature_problems(db, body):
    functions = catalog(db)
    documented = documented_signatures(body)
    kinds = set()
    for _, args, result in documented:
        kinds |= {k for _, k, _ in parameters(args)}
        if result and result.startswith("TABLE("):
            kinds |= {k for _, k, _ in parameters(result[6:-1])}
        elif result:
            kinds.add(result)
    for versions in functions.values():
        for args, result in versions:
            kinds |= {k for _, k, _ in parameters(args)}
            if result.startswith("TABLE("):
                kinds |= {k for _, k, _ in parameters(result[6:-1])}
            else:
                kinds.add(result)
    names = type_names(db, kinds)

    def same(doc, real):
        doc_params, real_params = parameters(doc), parameters(real)
        return len(doc_params) == len(real_params) and all(
            d[0] == r[0] and d[2] == r[2] and (d[1] is None or names.get(d[1], "?") == names.get(r[1], "!"))
            for d, r in zip(doc_params, real_params))

    problems = []
    for name, args, result in documented:
        versions = functions.get(name)
        if not versions:
            problems.append(f"webhook_routing.{name} is no function of the extension")
            continue
        fits = [(a, r) for a, r in versions if same(args, a)]
        if not fits:
            problems.append(f"webhook_routing.{name}({' '.join(args.split())}): the extension has "
                            + " and ".join(f"{name}({a})" for a, _ in versions))
            continue
        if result is None:
            continue
        real = fits[0][1]
        if result.startswith("TABLE("):
            ok = real.startswith("TABLE(") and same(result[6:-1], real[6:-1])
        else:
            ok = names.get(result, "?") == names.get(real, "!")
        if not ok:
            problems.append(f"webhook_routing.{name} returns {' '.join(result.split())}, says the page; "
                            f"the extension: {real}")
    return problems, len(documented)



def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    write = "--write" in sys.argv
    failures, counts, number = [], {"session statements": 0, "sql blocks": 0, "signatures": 0, "excerpts": 0, "catalogue tables": 0, "not run": 0}, 0
    for page in pages(args):
        name = str(page.relative_to(ROOT))
        if name in SKIP:
            continue
        text = page.read_text()
        found = blocks(text)
        runnable = [b for b in found if b[0] in ("psql", "sql", "sql signature")]
        catalogues = catalogue_tables(text)
        for info, body, line in found:
            m = re.search(r"\bexcerpt=(\S+)", info)
            if m:
                counts["excerpts"] += 1
                problem = excerpt_problem(body, m.group(1))
                if problem:
                    failures.append(f"{name}:{line}: excerpt: {problem}")
            elif info.startswith("sql") and info not in ("sql", "sql signature"):
                counts["not run"] += 1
        if not runnable and not catalogues:
            continue
        number += 1
        db = f"docs_session_{number}"
        admin(f"DROP DATABASE IF EXISTS {db}")
        admin(f"CREATE DATABASE {db}")
        new_text, last = [], 0
        lines = text.split("\n")
        try:
            for info, body, line in runnable:
                if info == "sql signature":
                    psql(db, "CREATE EXTENSION IF NOT EXISTS webhook_routing;", on_error_stop=True)
                    problems, n = signature_problems(db, body)
                    counts["signatures"] += n
                    failures += [f"{name}:{line}: {p}" for p in problems]
                    continue
                if info == "sql":
                    counts["sql blocks"] += 1
                    psql(db, "CREATE EXTENSION IF NOT EXISTS webhook_routing;", on_error_stop=True)
                    status, output = psql(db, "\n".join(body) + "\n", on_error_stop=True)
                    if status != 0:
                        failures.append(f"{name}:{line}: the sql block fails:\n" + indent(output))
                    continue
                try:
                    items = parse_session(body)
                except ValueError as e:
                    failures.append(f"{name}:{line}: {e}")
                    continue
                counts["session statements"] += len(items)
                actual = run_session(db, items)
                rewritten = []
                for (stmt, expected), got in zip(items, actual):
                    got = trim(got)
                    rewritten += [PROMPT + stmt.split("\n")[0]] + stmt.split("\n")[1:] + got + ([""] if got else [])
                    if not lines_match(trim(expected), got):
                        failures.append(f"{name}:{line}: =# {stmt.splitlines()[0][:90]}\n"
                                        f"  the page shows:\n{indent(trim(expected))}\n"
                                        f"  psql printed:\n{indent(got)}")
                while rewritten and not rewritten[-1]:
                    rewritten.pop()
                if write:
                    # body lines are lines[line - 1 : line - 1 + len(body)]
                    new_text += lines[last:line - 1] + rewritten
                    last = line - 1 + len(body)
            # After the page's sessions, which may create the extension themselves.
            for query, names, line in catalogues:
                counts["catalogue tables"] += 1
                problem = catalogue_problem(db, query, names)
                if problem:
                    failures.append(f"{name}:{line}: {problem}")
        finally:
            admin(f"DROP DATABASE IF EXISTS {db}")
        if write and new_text:
            page.write_text("\n".join(new_text + lines[last:]))
    summary = ", ".join(f"{v} {k}" for k, v in counts.items())
    if failures:
        print(f"{len(failures)} examples of the docs do not do what they show ({summary}):")
        for f in failures:
            print("  " + f)
        return 1
    print(f"  the docs' SQL ran as shown: {summary}")
    return 0


def indent(lines):
    if isinstance(lines, str):
        lines = lines.rstrip("\n").split("\n")
    return "\n".join("    | " + l for l in lines)


sys.exit(main())
