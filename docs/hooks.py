"""MkDocs hooks: configuration tables rendered from the code, and the benchmarks' figures served.

The home page is the README (``<!-- readme: ... -->``). A page line
``<!-- cfg: skrl_jax.agents.ppo.PPO_DEFAULT_CONFIG -->`` becomes the table of that
configuration's keys and defaults, read from the object itself (a skrl 1.4 dict, nested keys
dotted, or a skrl 2.x dataclass), so no default is copied into a page by hand. The figures the
benchmarks draw (``benchmarks/figures/*.png``) are served at ``figures/<name>.png``.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CFG_MARKER = re.compile(r"^<!-- cfg: ([\w.]+)\.(\w+) -->$", flags=re.M)
README_MARKER = re.compile(r"^<!-- readme: .*? -->$", flags=re.M)


def default_text(value: Any) -> str:
    """A default as a page shows it: the code's literal, a class or function by its name."""
    if isinstance(value, type) or callable(value):
        return f"`{getattr(value, '__qualname__', type(value).__name__)}`"
    if isinstance(value, str):
        return f'`"{value}"`'
    return f"`{value!r}`".replace("|", "\\|")


def flat_items(config: Any, prefix: str = "") -> list[tuple[str, Any]]:
    """``(key, default)`` of a 1.4 dict (nested dicts as ``outer.inner``) or a 2.x dataclass
    (nested dataclasses alike; a field with a factory shows what the factory makes)."""
    if dataclasses.is_dataclass(config):
        items = []
        for field in dataclasses.fields(config):
            if field.default is not dataclasses.MISSING:
                items.append((field.name, field.default))
            elif field.default_factory is not dataclasses.MISSING:
                items.append((field.name, field.default_factory()))
            else:
                items.append((field.name, dataclasses.MISSING))
    else:
        items = list(config.items())
    rows = []
    for key, value in items:
        name = f"{prefix}{key}"
        if (isinstance(value, dict) and value) or (dataclasses.is_dataclass(value) and not isinstance(value, type)):
            rows.extend(flat_items(value, f"{name}."))
        else:
            rows.append((name, value))
    return rows


def cfg_table(module: str, name: str) -> str:
    config = getattr(importlib.import_module(module), name)
    form = "skrl 2.x dataclass" if dataclasses.is_dataclass(config) else "skrl 1.4 dict"
    lines = [
        f"`{name}` ({form}, `from {module} import {name}`):",
        "",
        "| key | default |",
        "| --- | --- |",
    ]
    for key, value in flat_items(config):
        shown = "(required)" if value is dataclasses.MISSING else default_text(value)
        lines.append(f"| `{key}` | {shown} |")
    return "\n".join(lines)


def readme_as_page() -> str:
    """The README, whose links into ``docs/`` are written from the repository's root, as the site's home page."""
    return (ROOT / "README.md").read_text().replace("](docs/", "](")


def on_page_markdown(markdown: str, page, config, files) -> str:
    markdown = README_MARKER.sub(lambda _: readme_as_page(), markdown)
    return CFG_MARKER.sub(lambda match: cfg_table(match.group(1), match.group(2)), markdown)


def on_files(files, config):
    from mkdocs.structure.files import File

    for figure in sorted((ROOT / "benchmarks" / "figures").glob("*.png")):
        files.append(
            File(
                f"figures/{figure.name}",
                src_dir=str(figure.parent.parent),
                dest_dir=config["site_dir"],
                use_directory_urls=config["use_directory_urls"],
            )
        )
    return files
