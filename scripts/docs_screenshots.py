"""Screenshots of the documentation site in headless Chromium, for docs/images/.

    python scripts/docs_screenshots.py            # build the site into a temporary folder, shoot
    python scripts/docs_screenshots.py --site site  # shoot an existing build (mkdocs build)

Writes ``docs/images/site-home.png`` (the home page), ``docs/images/site-api.png`` (an API page
with formulas: ``CrossEntropyLoss`` in ``cr.nn``) and ``docs/images/site-guide.png`` (the getting
started guide).  Uses Playwright for Python with Debian's Chromium (``/usr/bin/chromium``, or
``$CHAINRULE_CHROMIUM``), never a downloaded browser.  tests/docs/test_site.py uses ``build`` and
``serve`` from here.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import http.server
import os
import sys
import tempfile
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("CHAINRULE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"]
CHROMIUM_ARGS += ["--disable-background-networking"]
SHOTS = {  # file name: (page, element to scroll to or None)
    "site-home.png": ("index.html", None),
    "site-api.png": ("reference/nn.html", "chainrule.nn.CrossEntropyLoss"),
    "site-guide.png": ("guides/getting-started.html", None),
}


def build(site_dir: Path, pages: Iterable[str] | None = None, strict: bool = True) -> Path:
    """Build the site of mkdocs.yml into ``site_dir``; with ``pages``, only those docs (faster)."""
    os.environ.setdefault("NO_MKDOCS_2_WARNING", "1")
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    overrides: dict = {"site_dir": str(site_dir), "strict": strict}
    if pages is not None:
        keep = list(pages)
        # gitignore-style patterns: exclude every page, then re-include the chosen ones
        overrides["exclude_docs"] = "\n".join(["*.md", *(f"!/{p}" for p in keep)])
        overrides["nav"] = keep
        # links to the pages left out are expected
        overrides["validation"] = {"nav": {"omitted_files": "info"}, "links": {"not_found": "info"}}
    cwd = os.getcwd()
    os.chdir(ROOT)  # mkdocs.yml's paths (hooks, extensions, the package) are relative to the root
    try:
        config = load_config(str(ROOT / "mkdocs.yml"), **overrides)
        mkdocs_build(config)
    finally:
        os.chdir(cwd)
    return site_dir


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:
        pass


@contextlib.contextmanager
def serve(site_dir: Path) -> Iterator[str]:
    """Serve ``site_dir`` over HTTP on a free local port; yields the base URL."""
    handler = functools.partial(_Quiet, directory=str(site_dir))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def launch(playwright):
    """Debian's Chromium, headless, through Playwright."""
    return playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)


def shoot(site_dir: Path, out_dir: Path) -> list[Path]:
    """Take the screenshots of ``SHOTS`` from the built site into ``out_dir``."""
    from playwright.sync_api import sync_playwright

    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    with serve(site_dir) as url, sync_playwright() as p:
        browser = launch(p)
        page = browser.new_page(viewport={"width": 1280, "height": 860}, color_scheme="light")
        for name, (path, anchor) in SHOTS.items():
            page.goto(url + path)
            page.wait_for_load_state("networkidle")
            page.add_style_tag(content=".md-top { display: none !important; }")  # the back-to-top pill
            if anchor:
                # the heading at the top, below Material's fixed header
                page.evaluate(f'document.getElementById("{anchor}").scrollIntoView({{block: "start"}})')
                page.evaluate("window.scrollBy(0, -72)")
            page.screenshot(path=str(out_dir / name))
            written.append(out_dir / name)
        browser.close()
    return written


def main(argv: list[str] | None = None) -> int:
    """Build (unless ``--site``) and shoot; prints the files written."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--site", type=Path, help="an existing build of the site (default: build one)")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "images", help="where the PNGs go")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        site = args.site or build(Path(tmp) / "site")
        for path in shoot(site, args.out):
            print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
