"""Build the documentation site: the notebooks with their outputs, MkDocs (warnings are errors), a link check.

1. The notebooks (``notebooks/*.ipynb``) go to ``docs/notebooks/`` run, with their outputs: the copy the
   tests ran when ``SKRL_JAX_EXECUTED_NOTEBOOKS`` names a folder holding one (``.ci/run`` runs the tests
   first with it set), otherwise run here with the small budget of ``notebooks/small_budgets.json``.
2. ``mkdocs build --strict`` into ``--site`` (default ``site/``).
3. Every internal link and image of the built HTML is checked: the file exists, and a ``#fragment``
   names an element id of that page. External links cannot be checked here (no internet).
4. The API reference covers every public name: each name in the ``__all__`` of a public module
   (``public_names``) is in the site's ``objects.inv``.

Run: python docs/build.py [--site site]   (needs the ``docs`` extra: pip install ".[docs]")
Then: python -m http.server -d site   and open http://localhost:8000
"""

from __future__ import annotations

import argparse
import importlib
import json
import os
import pkgutil
import shutil
import subprocess
import sys
import zlib
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

ROOT = Path(__file__).resolve().parents[1]
RENDERED_NOTEBOOKS = ROOT / "docs" / "notebooks"


def small_budgets() -> dict[str, dict[str, str]]:
    """``{notebook file name: the environment it runs with in the tests and here}`` (``notebooks/small_budgets.json``)."""
    return json.loads((ROOT / "notebooks" / "small_budgets.json").read_text())


def executed_notebook(source: Path, environment: dict[str, str]):
    """The notebook at ``source`` run top to bottom in a python3 kernel whose environment has ``environment``."""
    import nbclient
    import nbformat

    nb = nbformat.read(source, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(source.parent)}}
    )
    previous = {name: os.environ.get(name) for name in environment}
    os.environ.update(environment)  # the kernel inherits this process's environment
    try:
        client.execute()
    finally:
        for name, value in previous.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
    return nb


def prepare_notebooks() -> None:
    import nbformat

    budgets = small_budgets()
    executed = os.environ.get("SKRL_JAX_EXECUTED_NOTEBOOKS")
    shutil.rmtree(RENDERED_NOTEBOOKS, ignore_errors=True)
    RENDERED_NOTEBOOKS.mkdir(parents=True)
    for source in sorted((ROOT / "notebooks").glob("*.ipynb")):
        if source.name not in budgets:
            raise SystemExit(f"notebooks/small_budgets.json has no budget for {source.name}: add one")
        ran = Path(executed) / source.name if executed else None
        if ran is not None and ran.is_file():
            shutil.copyfile(ran, RENDERED_NOTEBOOKS / source.name)
            print(f"{source.name}: the run of the tests ({ran})")
        else:
            print(f"{source.name}: running it with {budgets[source.name]}", flush=True)
            nbformat.write(executed_notebook(source, budgets[source.name]), RENDERED_NOTEBOOKS / source.name)


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.add(found["id"])
        if tag == "a" and found.get("name"):
            self.ids.add(found["name"])
        for name in ("href", "src"):
            if found.get(name) and tag in ("a", "img", "link", "script"):
                self.links.append(found[name])


def parsed(page: Path) -> _Links:
    links = _Links()
    links.feed(page.read_text(errors="replace"))
    return links


def broken_links(site: Path) -> list[str]:
    """``"page: link (why)"`` for each internal link or image of ``site`` that leads nowhere."""
    # 404.html is served for any missing path, so its links are absolute from the site's root by design
    pages = {page: parsed(page) for page in site.rglob("*.html") if page.name != "404.html"}
    broken = []
    for page, links in pages.items():
        for link in links.links:
            parts = urlsplit(link)
            if parts.scheme or parts.netloc or link.startswith(("mailto:", "javascript:", "data:")):
                continue
            target = page if not parts.path else (page.parent / unquote(parts.path)).resolve()
            if target.is_dir():
                target = target / "index.html"
            where = f"{page.relative_to(site)}: {link}"
            if not target.exists():
                broken.append(f"{where} (no file {target})")
            elif parts.fragment and target.suffix == ".html":
                ids = pages[target].ids if target in pages else parsed(target).ids
                if unquote(parts.fragment) not in ids:
                    broken.append(f"{where} (no id {parts.fragment!r} in {target.relative_to(site)})")
    return broken


def public_names() -> set[str]:
    """``module.name`` for every name in the ``__all__`` of a module of ``skrl_jax`` outside ``core`` and
    private modules (a package's names under the package's path)."""
    import skrl_jax

    names = set()
    for module in pkgutil.walk_packages(skrl_jax.__path__, "skrl_jax."):
        parts = module.name.split(".")
        if parts[1] == "core" or any(part.startswith("_") for part in parts):
            continue
        exported = getattr(importlib.import_module(module.name), "__all__", ())
        names.update(f"{module.name}.{name}" for name in exported)
    return names


def inventory_names(site: Path) -> set[str]:
    """The object names of MkDocs' ``objects.inv`` (Sphinx inventory version 2: four header lines, then
    zlib-compressed ``name domain:role priority uri display`` lines)."""
    data = (site / "objects.inv").read_bytes()
    body = data.split(b"\n", 4)[4]
    return {line.split(" ", 1)[0] for line in zlib.decompress(body).decode().splitlines() if line}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", default=str(ROOT / "site"))
    args = parser.parse_args()
    prepare_notebooks()
    subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", args.site], cwd=ROOT, check=True)
    site = Path(args.site).resolve()
    broken = broken_links(site)
    if broken:
        raise SystemExit(f"{len(broken)} broken internal link(s):\n" + "\n".join(broken))
    missing = sorted(public_names() - inventory_names(site))
    if missing:
        raise SystemExit(f"{len(missing)} public name(s) missing from the API reference: {', '.join(missing)}")
    print(
        f"site built in {site}: {len(list(site.rglob('*.html')))} pages, internal links checked, API reference complete"
    )


if __name__ == "__main__":
    main()
