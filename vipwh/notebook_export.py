"""Notebooks as HTML that render with no network: `python -m vipwh.notebook_export NOTEBOOK… --out DIR`.

`marimo export html` runs every cell and writes a page whose scripts, styles and fonts load from a CDN
(cdn.jsdelivr.net/npm/@marimo-team/frontend@<version>/dist/), so offline the page stays blank; marimo has
no self-contained option. The same frontend ships inside the installed marimo package (`marimo/_static`):
this copies it once beside the pages (``DIR/marimo_assets/``) and points every asset URL at that copy.

The pages use ES modules, which browsers refuse to load from file:// URLs: serve the folder over local HTTP,
e.g. ``python -m http.server --directory DIR 8001`` and open http://localhost:8001/<notebook>.html (no
network needed). Optional features marimo fetches on demand (MathJax, icon sets, WebAssembly) stay online.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ASSETS = "marimo_assets"
CDN_BASE = re.compile(r"https://cdn\.jsdelivr\.net/npm/@marimo-team/frontend@[^/\"']+/dist/?")


def marimo_static() -> Path:
    """The frontend bundled with the installed marimo."""
    import marimo

    return Path(marimo.__file__).parent / "_static"


def localize(html: str, assets: str = ASSETS) -> str:
    """Point the page's CDN asset URLs at the local copy ``assets/``."""
    return CDN_BASE.sub(f"{assets}/", html)


def copy_assets(out_dir: Path) -> Path:
    """Copy marimo's bundled frontend to ``out_dir/marimo_assets`` (replaced when marimo's version changed)."""
    import marimo

    target = out_dir / ASSETS
    stamp = target / ".marimo-version"
    if stamp.exists() and stamp.read_text() == marimo.__version__:
        return target
    shutil.rmtree(target, ignore_errors=True)
    shutil.copytree(marimo_static(), target, ignore=shutil.ignore_patterns("index.html", "*.md"))
    stamp.write_text(marimo.__version__)
    return target


def export_offline(notebook: Path, out_dir: Path, env: dict[str, str] | None = None) -> Path:
    """Run and export ``notebook`` to ``out_dir/<stem>.html`` with its assets local; returns the page."""
    out_dir.mkdir(parents=True, exist_ok=True)
    page = out_dir / f"{notebook.stem}.html"
    marimo = Path(sys.executable).with_name("marimo")
    done = subprocess.run(
        [str(marimo), "export", "html", str(notebook), "-o", str(page), "-f"],
        capture_output=True,
        text=True,
        env=env if env is not None else dict(os.environ),
    )
    if done.returncode != 0:
        raise RuntimeError(f"marimo export html {notebook} failed:\n{done.stdout}{done.stderr}")
    copy_assets(out_dir)
    page.write_text(localize(page.read_text(encoding="utf-8")), encoding="utf-8")
    return page


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m vipwh.notebook_export", description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--out", type=Path, default=Path("data/notebooks"))
    args = parser.parse_args(argv)
    for notebook in args.notebooks:
        print(export_offline(notebook, args.out))
    print(f"serve with: python -m http.server --directory {args.out} 8001", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
