"""Fixtures for the playground tests: a real ``chainrule playground`` server in a subprocess and
headless Chromium (Debian's /usr/bin/chromium, driven by Playwright for Python).

Browser tests fail (not skip) with a clear message when Chromium or Playwright is missing:
``bash scripts/test.sh`` installs both.  Screenshots go to ``artifacts/playground/``.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "playground"
CHROMIUM = os.environ.get("CHAINRULE_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class ThreadServer:
    """A playground app served by uvicorn in a thread of the test process (to stop and restart it)."""

    def __init__(self, app, port: int):
        import uvicorn

        self.server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.url = f"http://127.0.0.1:{port}"

    def __enter__(self):
        self.thread.start()
        deadline = time.time() + 20
        while not self.server.started:
            if time.time() > deadline or not self.thread.is_alive():
                raise RuntimeError(f"the playground server did not start at {self.url}")
            time.sleep(0.05)
        return self

    def __exit__(self, *exc):
        self.server.should_exit = True
        self.thread.join(timeout=15)


@pytest.fixture(scope="module")
def server_log(tmp_path_factory):
    """The file the module's server writes its output to (tests read what it logged)."""
    return tmp_path_factory.mktemp("playground-server") / "server.log"


@pytest.fixture(scope="module")
def server_url(server_log):
    """``chainrule playground --port N`` in a subprocess; its URL.  Its output goes to ``server_log``."""
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    env["PYTHONUNBUFFERED"] = "1"
    cmd = [sys.executable, "-m", "chainrule.cli", "playground", "--port", str(port)]
    log = open(server_log, "w")  # noqa: SIM115 - closed after the server stops
    proc = subprocess.Popen(cmd, cwd=str(ROOT), env=env, stdout=log, stderr=subprocess.STDOUT, text=True)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            with urllib.request.urlopen(url + "/healthz", timeout=1) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.time() > deadline:
            proc.kill()
            out = server_log.read_text()
            pytest.fail(f"the playground server did not start on port {port}: {out[-2000:]}")
        time.sleep(0.2)
    yield url
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    """Headless Debian Chromium through Playwright (never a downloaded browser)."""
    if not (os.path.exists(CHROMIUM) or shutil.which(CHROMIUM)):
        pytest.fail(
            f"browser tests need Chromium at {CHROMIUM} (Debian: apt-get install chromium; "
            "scripts/test.sh installs it) or CHAINRULE_CHROMIUM=/path/to/chromium"
        )
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.fail(
            "browser tests need Playwright for Python: pip install playwright "
            "(no 'playwright install': the tests use the system Chromium)"
        )
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        yield b
        b.close()


AXE_VERSION = "4.14.1"
AXE = Path(os.environ.get("CHAINRULE_AXE", ROOT / ".cache" / "axe-core" / "axe.min.js"))


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core's browser script (the accessibility checker), from the npm registry's package:
    scripts/test.sh caches it in .cache/axe-core/; fetched here with ``npm pack`` when missing."""
    if not AXE.exists():
        import tarfile
        import tempfile

        with tempfile.TemporaryDirectory() as tmp:
            try:
                subprocess.run(
                    ["npm", "pack", f"axe-core@{AXE_VERSION}", "--silent"],
                    cwd=tmp,
                    check=True,
                    capture_output=True,
                    timeout=120,
                )
                with tarfile.open(Path(tmp) / f"axe-core-{AXE_VERSION}.tgz") as tar:
                    data = tar.extractfile("package/axe.min.js").read()
            except (OSError, subprocess.SubprocessError, KeyError, tarfile.TarError) as e:
                pytest.fail(
                    f"the accessibility test needs axe-core ({AXE}): bash scripts/test.sh fetches it, "
                    f"or CHAINRULE_AXE=/path/to/axe.min.js; npm pack failed: {e}"
                )
        AXE.parent.mkdir(parents=True, exist_ok=True)
        AXE.write_bytes(data)
    return AXE.read_text(encoding="utf-8")


def new_context(browser, **kwargs):
    """A browser context for a test: Playwright's string predicates are eval'd in the page, which
    the playground's Content-Security-Policy forbids, so tests bypass it (one test checks it)."""
    return browser.new_context(**{"bypass_csp": True, **kwargs})


@pytest.fixture
def page(browser, server_url):
    """A fresh tab (own context, so its own session) with page errors collected in ``page.errors``."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    context = new_context(browser, viewport={"width": 1400, "height": 1050}, accept_downloads=True)
    pg = context.new_page()
    pg.errors = []
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    pg.base_url = server_url
    yield pg
    context.close()
