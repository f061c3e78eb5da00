"""Rewrite the result tables of the README and the docs pages from the committed results files.

A table in the README or a page of docs/ sits between ``<!-- table: python benchmarks/<script>.py <arguments> --table -->``
and ``<!-- end table -->``; this script runs each such command (which reads results files and runs
nothing) and puts the rows it prints in between. ``tests/test_docs_and_examples.py`` checks that each
document holds exactly those rows, so a figure is never copied by hand.

Run: python benchmarks/readme_tables.py
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# the rows between the markers never span another comment, so an empty table cannot swallow the next one
TABLE = re.compile(
    r"(<!-- table: python (benchmarks/\w+\.py) (.*?) -->\n)((?:(?!<!--).)*?)(\n?<!-- end table -->)", flags=re.S
)


def documents() -> list[Path]:
    """The README and every page of the docs site."""
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def printed_rows(script: str, arguments: str) -> str:
    output = subprocess.run(
        [sys.executable, str(ROOT / script), *arguments.split()], capture_output=True, text=True, check=True, cwd=ROOT
    ).stdout
    return "\n".join(line for line in output.splitlines() if line.startswith("|"))


def main() -> None:
    for document in documents():
        text = document.read_text()
        if not TABLE.search(text):
            continue
        updated = TABLE.sub(lambda m: m.group(1) + printed_rows(m.group(2), m.group(3)) + "\n<!-- end table -->", text)
        document.write_text(updated)
        print(f"{len(TABLE.findall(text))} table(s) rewritten in {document.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
