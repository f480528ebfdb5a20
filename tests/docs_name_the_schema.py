#!/usr/bin/env python3
"""Every call and read that the README, the docs, the demo and the edge router show names the
extension's schema (webhook_routing.route_decision(...), FROM webhook_routing.routing_status):
in its own schema nothing planted can stand beside the extension's objects, while a name
resolved through a search_path that holds public may reach an overload planted there
(tests/pg_regress/sql/04_own_schema.sql shows both).

Reads the names of the extension's functions, tables, views and types from sql/*.sql and from
the #[pg_extern] functions of src/; looks at the SQL of the code blocks and inline code of the
Markdown files, at the .sql files, and at the .ts files. Exits 1 and lists what does not name
the schema; `--fix` qualifies it in place.
"""
import pathlib
import re
import sys

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCHEMA = "webhook_routing"
FILES = ["README.md", "docs/runbook.md", "docs/runbook.sql", "docs/runbook_sim.sql",
         "scripts/demo.sql", "examples/edge-router/README.md", "examples/edge-router/router.ts",
         "examples/edge-router/main.ts", "examples/metrics/README.md", "examples/metrics/exporter.ts",
         "examples/metrics/main.ts", "scripts/try", "examples/edge-router/node.mjs"] + sorted(
    str(p.relative_to(ROOT)) for p in (ROOT / "docs" / "src").rglob("*.md"))


def extension_names():
    functions, relations = set(), set()
    for path in (ROOT / "sql").glob("*.sql"):
        if "--" in path.name:
            continue  # upgrade scripts say nothing a fresh install does not
        text = path.read_text()
        for kind, name in re.findall(
                r"CREATE\s+(?:OR\s+REPLACE\s+)?(FUNCTION|TABLE|VIEW|TYPE)\s+(?:@extschema@\.)?\"?(\w+)", text):
            (functions if kind == "FUNCTION" else relations).add(name)
    for path in (ROOT / "src").glob("*.rs"):
        text = path.read_text()
        for attrs, name in re.findall(r"#\[pg_extern([^\]]*)\][^{;]*?\bfn\s+(\w+)", text, re.S):
            renamed = re.search(r'name\s*=\s*"(\w+)"', attrs)
            functions.add(renamed.group(1) if renamed else name)
    return functions, relations


FUNCTIONS, RELATIONS = extension_names()
CALL = re.compile(r"(?<![\w.$\"])(" + "|".join(sorted(FUNCTIONS, key=len, reverse=True)) + r")(?=\s*\()")
READ = re.compile(r"(?i)(\b(?:FROM|JOIN|UPDATE|INTO|TABLE|ON)\s+)(" +
                  "|".join(sorted(RELATIONS, key=len, reverse=True)) + r")\b")
CAST = re.compile(r"(::)(" + "|".join(sorted(RELATIONS, key=len, reverse=True)) + r")\b")


def qualify(code):
    code = CALL.sub(SCHEMA + r".\1", code)
    code = READ.sub(r"\1" + SCHEMA + r".\2", code)
    return CAST.sub(r"\1" + SCHEMA + r".\2", code)


def sql_regions(path, text):
    """(start, end) of the text that is SQL a reader runs."""
    if path.suffix == ".md":
        # Code blocks: SQL, TypeScript and shell whole; in the others (psql sessions with what
        # they printed) the lines that are SQL, not the server's messages or results.
        regions, fenced = [], []
        for m in re.finditer(r"```([^\n]*)\n(.*?)```", text, re.S):
            fenced.append(range(m.start(2), m.end(2)))
            # The language is the info string's first word ("sql signature", "psql excerpt=…").
            if (m.group(1).split() or [""])[0] in ("sql", "psql", "ts", "typescript", "js", "sh", "bash"):
                regions.append((m.start(2), m.end(2)))
                continue
            for line in re.finditer(r"(?m)^\s*(?:=#\s*|->\s*)?(?:SELECT|INSERT|UPDATE|DELETE|WITH|FROM|WHERE|JOIN|"
                                    r"CALL|TABLE|GRANT|ALTER|CREATE|PERFORM)\b.*$", m.group(2), re.I):
                regions.append((m.start(2) + line.start(), m.start(2) + line.end()))
        for m in re.finditer(r"`([^`\n]+)`", text):
            if any(m.start() in r for r in fenced):
                continue
            # A command, or a call with values in it; not a signature, nor a planted look-alike
            # or an error message quoted in prose.
            if re.match(r"\s*(SELECT|INSERT|UPDATE|DELETE|TABLE|CALL|GRANT|ALTER)\b", m.group(1), re.I) \
                    or "'" in m.group(1):
                regions.append((m.start(1), m.end(1)))
        return regions
    if path.suffix == ".sql":
        # Every line but the Markdown of the runbook's --md lines, whose code spans count.
        regions, offset = [], 0
        for line in text.splitlines(keepends=True):
            if line.startswith("--md"):
                regions += [(offset + m.start(1), offset + m.end(1)) for m in re.finditer(r"`([^`\n]+)`", line)]
            elif not line.startswith("--"):
                regions.append((offset, offset + len(line)))
            offset += len(line)
        return regions
    if path.suffix == "" or path.suffix == ".sh":
        # A shell script: every line but its comments (the SQL it runs and the SQL it prints).
        regions, offset = [], 0
        for line in text.splitlines(keepends=True):
            if not line.lstrip().startswith("#"):
                regions.append((offset, offset + len(line)))
            offset += len(line)
        return regions
    # TypeScript and JavaScript: the SQL of tagged templates.
    return [(m.start(1), m.end(1)) for m in re.finditer(r"sql(?:<[^>`]*>)?`(.*?)`", text, re.S)]


def main():
    fix = "--fix" in sys.argv
    missing, named = [], 0
    for name in FILES:
        path = ROOT / name
        if not path.exists():
            continue
        text = path.read_text()
        out, last = [], 0
        for start, end in sorted(sql_regions(path, text)):
            code = text[start:end]
            fixed = qualify(code)
            named += len(re.findall(re.escape(SCHEMA) + r"\.\w+", fixed))
            if fixed != code:
                line = text.count("\n", 0, start) + 1
                missing.append(f"{name}:{line}: {code.strip()[:100]}")
            out.append(text[last:start])
            out.append(fixed)
            last = end
        out.append(text[last:])
        if fix:
            path.write_text("".join(out))
    if missing and not fix:
        print(f"{len(missing)} places run the extension's objects without naming its schema ({SCHEMA}.):")
        for m in missing[:60]:
            print("  " + m)
        print("  (tests/docs_name_the_schema.py --fix qualifies them)")
        return 1
    print(f"  {named} uses of the extension's objects in {len(FILES)} files of docs, demo and edge router, "
          f"each naming its schema; {len(FUNCTIONS)} functions and {len(RELATIONS)} tables, views and types known")
    return 0


sys.exit(main())
