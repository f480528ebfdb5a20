"""The runbook (docs/runbook.md, in the book's operations chapter) runs as written and is what
its source makes: runs every command of docs/runbook.sql (scripts/runbook.py, in a fresh
database of the cluster at PGHOST/PGPORT, with a user's search_path), then requires the page's
prose and commands to be the ones the run wrote, in order. What the commands printed is not
compared: the runbook's traffic is simulated with random() and its times are the run's, so its
numbers differ from run to run; that every command ran without an error is what is checked.

    python3 tests/docs/runbook.py        (about 3 minutes: the steps wait for minute boundaries)
"""
import os
import pathlib
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[2]
PAGE = ROOT / "docs" / "runbook.md"
DATABASE = "wr_runbook"


def skeleton(text):
    """The page without what the commands printed: its prose and its ```sql blocks."""
    kept, block = [], None
    for line in text.splitlines():
        if block is None:
            if line.startswith("```"):
                block = line[3:].strip()
                if block == "sql":
                    kept.append(line)
            else:
                kept.append(line)
        else:
            if line == "```":
                if block == "sql":
                    kept.append(line)
                block = None
            elif block == "sql":
                kept.append(line)
    return kept


def main():
    env = dict(os.environ, PGOPTIONS='-c search_path="$user",public')
    quiet = dict(env, PGOPTIONS="-c client_min_messages=warning")
    # The simulator makes Supabase's service_role (a role is the cluster's): the cluster is left
    # as it was found, so that what runs after (the update paths make Supabase's roles) sees it so.
    had_role = subprocess.run(["psql", "-X", "-At", "-d", "postgres", "-c",
                               "SELECT count(*) FROM pg_catalog.pg_roles WHERE rolname = 'service_role'"],
                              check=True, env=quiet, stdout=subprocess.PIPE, text=True).stdout.strip() != "0"
    if had_role:
        print("the cluster already has a role service_role, which docs/runbook_sim.sql makes: use a fresh cluster")
        return 1
    for sql in (f"DROP DATABASE IF EXISTS {DATABASE}", f"CREATE DATABASE {DATABASE}"):
        subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "postgres", "-c", sql],
                       check=True, env=quiet)
    with tempfile.TemporaryDirectory() as tmp:
        made = pathlib.Path(tmp) / "runbook.md"
        run = subprocess.run([sys.executable, "scripts/runbook.py", "docs/runbook.sql", str(made), DATABASE],
                             cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if run.returncode != 0:
            print(f"docs/runbook.sql did not run to its end:\n{run.stdout}")
            subprocess.run(["psql", "-X", "-q", "-d", "postgres", "-c", f"DROP DATABASE IF EXISTS {DATABASE}",
                            "-c", "DROP ROLE IF EXISTS service_role"], env=quiet)
            return 1
        page, fresh = skeleton(PAGE.read_text(encoding="utf-8")), skeleton(made.read_text(encoding="utf-8"))
    subprocess.run(["psql", "-X", "-q", "-d", "postgres", "-c", f"DROP DATABASE IF EXISTS {DATABASE}",
                    "-c", "DROP ROLE IF EXISTS service_role"], env=quiet)
    if page != fresh:
        for n, (a, b) in enumerate(zip(page, fresh)):
            if a != b:
                break
        else:
            n = min(len(page), len(fresh))
        print(f"docs/runbook.md is not what docs/runbook.sql makes (scripts/runbook regenerates it); "
              f"first difference at its line {n + 1} of prose and commands:\n"
              f"  the page: {page[n] if n < len(page) else '(end)'}\n"
              f"  the run:  {fresh[n] if n < len(fresh) else '(end)'}")
        return 1
    commands = sum(1 for line in page if line == "```sql")
    print(f"  the runbook ran as written: {commands} commands without an error, its page the one they make")
    return 0


sys.exit(main())
