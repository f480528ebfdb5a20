"""Turns docs/runbook.sql into docs/runbook.md: runs it in one psql session and writes each
shown command followed by what it printed. Used by scripts/runbook.

In the .sql file: `--md <text>` lines are the markdown prose; `--hide` ... `--end` encloses
commands that run but are not shown (the simulated traffic); everything else is a command,
ended by a line that ends with `;`.
"""
import subprocess
import sys

source, target, database = sys.argv[1], sys.argv[2], sys.argv[3]
items = []  # ("md", text) | ("sql", text, shown)
pending, hidden = [], False
for line in open(source, encoding="utf-8").read().splitlines():
    if line.startswith("--md"):
        items.append(("md", line[5:] if len(line) > 4 else ""))
    elif line == "--hide":
        hidden = True
    elif line == "--end":
        hidden = False
    elif line.strip():
        pending.append(line)
        if line.rstrip().endswith(";") or line.startswith("\\"):
            items.append(("sql", "\n".join(pending), not hidden))
            pending = []
if pending:
    sys.exit(f"{source}: a command does not end with ';': {pending}")

script = ["\\set ON_ERROR_STOP 1", "\\pset footer off", "SET client_min_messages = notice;"]
for k, item in enumerate(items):
    if item[0] != "sql":
        continue
    if item[2]:
        script += [f"\\echo @@{k}@@", item[1], f"\\echo @@{k}@@"]
    else:
        script += ["\\o /dev/null", item[1], "\\o"]
run = subprocess.run(["psql", "-X", "-q", "-d", database], input="\n".join(script) + "\n",
                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
output = run.stdout
if run.returncode != 0:
    sys.exit(f"psql failed ({run.returncode}):\n{output[-3000:]}")

def printed(k):
    start = output.index(f"@@{k}@@\n") + len(f"@@{k}@@\n")
    end = output.index(f"@@{k}@@\n", start)
    text = output[start:end].replace("psql:<stdin>:", "").strip("\n")
    # psql prefixes notices read from stdin with a line number; keep the notice itself.
    lines = []
    for line in text.splitlines():
        if line[:1].isdigit() and ": NOTICE:" in line:
            line = line[line.index("NOTICE:"):]
        lines.append(line)
    return "\n".join(lines)

md = []
for k, item in enumerate(items):
    if item[0] == "md":
        md.append(item[1])
    elif item[2]:
        md += ["```sql", item[1], "```"]
        out = printed(k)
        if out.strip():
            md += ["```", out, "```"]
md += ["", "## Appendix: the traffic simulator", "", "```sql",
       open("docs/runbook_sim.sql", encoding="utf-8").read().rstrip("\n"), "```", ""]
open(target, "w", encoding="utf-8").write("\n".join(md))
print(f"wrote {target}: {sum(1 for i in items if i[0] == 'sql' and i[2])} commands with their output")
