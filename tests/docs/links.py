#!/usr/bin/env python3
"""Builds the book (docs/, mdBook) into a temporary folder and checks its links and README.md's:
every relative link names a file that exists and, with a #fragment, an id of that page (in the
book: an id of the built HTML; in README.md: a heading of the Markdown file it names, by
GitHub's anchors). External links (a scheme, or //host) are not fetched.

Usage: tests/docs/links.py MDBOOK     (MDBOOK: the mdbook program, scripts/lib.sh's ensure_mdbook)
Exits 1 and lists the broken links.
"""
import html.parser
import pathlib
import re
import subprocess
import sys
import tempfile
import urllib.parse

ROOT = pathlib.Path(__file__).resolve().parent.parent.parent
# mdBook's own pages: the print page repeats every chapter with its links made local, the 404
# page links to the book's root from wherever it is served.
GENERATED = {"print.html", "404.html", "toc.html"}


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids, self.links = set(), []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        if tag == "a" and attrs.get("name"):
            self.ids.add(attrs["name"])
        for key in ("href", "src"):
            if attrs.get(key) and tag in ("a", "img"):
                self.links.append(attrs[key])


def external(link):
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", link)) or link.startswith("//")


def check_book(mdbook):
    broken, checked = [], 0
    with tempfile.TemporaryDirectory(prefix="webhook_routing_book.") as out:
        build = subprocess.run([mdbook, "build", str(ROOT / "docs"), "--dest-dir", out],
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        if build.returncode != 0 or re.search(r"\b(ERROR|WARN)\b", build.stdout):
            return [f"mdbook build docs:\n{build.stdout}"], 0, 0
        out = pathlib.Path(out)
        pages = {}
        for path in out.rglob("*.html"):
            page = Page()
            page.feed(path.read_text())
            pages[path] = page
        for path, page in sorted(pages.items()):
            name = str(path.relative_to(out))
            if name in GENERATED:
                continue
            if "{{#include" in path.read_text():
                broken.append(f"{name}: an include mdBook did not resolve")
            for link in page.links:
                if external(link) or link.startswith("javascript:"):
                    continue
                checked += 1
                target, _, fragment = link.partition("#")
                target = urllib.parse.unquote(target)
                file = (path.parent / target).resolve() if target else path
                if file.is_dir():
                    file = file / "index.html"
                if not file.exists() or out.resolve() not in file.parents and file != out.resolve():
                    broken.append(f"{name}: {link}: no such page in the book")
                    continue
                if fragment and file.suffix == ".html":
                    ids = pages[file].ids if file in pages else Page().ids
                    if urllib.parse.unquote(fragment) not in ids:
                        broken.append(f"{name}: {link}: no #{fragment} in {file.relative_to(out.resolve())}")
        return broken, checked, len(pages)


def github_anchors(text):
    """The anchors GitHub gives a Markdown file's headings."""
    anchors, seen, fenced = set(), {}, False
    for line in text.split("\n"):
        if line.startswith("```"):
            fenced = not fenced
        m = re.match(r"^#{1,6}\s+(.*?)\s*#*\s*$", line)
        if m and not fenced:
            slug = re.sub(r"[^\w\- ]", "", m.group(1).lower().replace("`", "")).replace(" ", "-")
            n = seen.get(slug, 0)
            seen[slug] = n + 1
            anchors.add(slug if n == 0 else f"{slug}-{n}")
    return anchors


def markdown_links(text):
    text = re.sub(r"(?ms)^```.*?^```", "", text)
    text = re.sub(r"`[^`\n]*`", "", text)
    return re.findall(r"\]\(([^)\s]+)(?:\s+\"[^\"]*\")?\)", text)


def check_readme():
    broken, checked = [], 0
    readme = ROOT / "README.md"
    for link in markdown_links(readme.read_text()):
        if external(link):
            continue
        checked += 1
        target, _, fragment = link.partition("#")
        file = (ROOT / urllib.parse.unquote(target)).resolve() if target else readme
        if not file.exists():
            broken.append(f"README.md: {link}: no such file")
        elif fragment and (file.suffix != ".md" or fragment not in github_anchors(file.read_text())):
            broken.append(f"README.md: {link}: no heading #{fragment} in {file.relative_to(ROOT)}")
    return broken, checked


def main():
    if len(sys.argv) != 2:
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    book_broken, book_checked, pages = check_book(sys.argv[1])
    readme_broken, readme_checked = check_readme()
    broken = book_broken + readme_broken
    if broken:
        print(f"{len(broken)} broken links:")
        for b in broken:
            print("  " + b)
        return 1
    print(f"  the book built ({pages} pages); {book_checked} links in the book and {readme_checked} in README.md "
          f"resolve, anchors included")
    return 0


sys.exit(main())
