"""The documentation site renders, in headless Chromium, and works offline.

Builds a few pages of the site (mkdocs.yml: the home page, the ``cr.nn`` API reference and a
lesson with inline math) into a temporary folder, serves them on localhost and checks in Debian's
Chromium (through Playwright) that formulas are drawn as MathML with no LaTeX left over, that code
blocks are highlighted, that the built-in search finds a page, and that no page asks for anything
outside the site (no CDN, no web fonts).  The whole site is built, strictly, by scripts/test.sh.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["index.md", "reference/nn.md", "lessons/01_logistic_xor.md"]

pytestmark = pytest.mark.browser


def _tools():
    path = ROOT / "scripts" / "docs_screenshots.py"
    spec = importlib.util.spec_from_file_location("docs_screenshots", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def tools():
    return _tools()


@pytest.fixture(scope="module")
def site(tools, tmp_path_factory):
    try:
        import mkdocs  # noqa: F401
    except ImportError:
        pytest.fail("the site test needs the docs extra: pip install -e '.[docs]' (scripts/test.sh does)")
    return tools.build(tmp_path_factory.mktemp("site") / "site", pages=PAGES)


@pytest.fixture(scope="module")
def browser(tools):
    if not (os.path.exists(tools.CHROMIUM) or shutil.which(tools.CHROMIUM)):
        pytest.fail(f"the site test needs Chromium at {tools.CHROMIUM}: bash scripts/test.sh installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = tools.launch(p)
        yield b
        b.close()


@pytest.fixture(scope="module")
def url(tools, site):
    with tools.serve(site) as base:
        yield base


@pytest.fixture
def page(browser, url):
    """A tab that refuses (and records) every request leaving the local server."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    tab.outside = []

    def route(r):
        if r.request.url.startswith(url) or r.request.url.startswith(("data:", "blob:")):
            r.continue_()
        else:
            tab.outside.append(r.request.url)
            r.abort()

    tab.route("**/*", route)
    tab.errors = []
    tab.on("pageerror", lambda e: tab.errors.append(str(e)))
    yield tab
    context.close()


def _open(page, url, path):
    page.goto(url + path)
    page.wait_for_load_state("networkidle")
    assert not page.errors, f"{path}: JavaScript errors {page.errors}"
    assert not page.outside, f"{path}: requests outside the site (it must work offline): {page.outside}"


def _visible_text_outside_code(page) -> str:
    return page.evaluate(
        """() => {
            const body = document.querySelector('.md-content').cloneNode(true);
            body.querySelectorAll('pre, code').forEach(e => e.remove());
            return body.innerText;
        }"""
    )


def test_api_page_draws_its_formulas_as_mathml(page, url):
    _open(page, url, "reference/nn.html")
    blocks = page.locator('math[display="block"]')
    assert blocks.count() >= 30, "the layers' and losses' formulas are missing from the cr.nn page"
    formula = page.locator('[id="chainrule.nn.CrossEntropyLoss"] ~ div math[display="block"]').first
    box = formula.bounding_box()
    assert box and box["width"] > 100 and box["height"] > 20, f"CrossEntropyLoss's formula isn't drawn: {box}"
    # MathML rendered by the browser: a fraction is laid out as two rows (numerator above denominator)
    frac = page.locator("mfrac").first
    parts = frac.locator(":scope > *")
    num, den = parts.nth(0).bounding_box(), parts.nth(1).bounding_box()
    assert num["y"] + num["height"] <= den["y"] + 1, "MathML fractions are not laid out (no MathML support?)"
    stray = page.evaluate(
        """() => Array.from(document.querySelectorAll('mi, mo'))
            .map(e => e.textContent.trim()).filter(t => t === '&' || t.startsWith('\\\\'))"""
    )
    assert not stray, f"LaTeX left inside the MathML (an unsupported command or alignment): {stray[:5]}"
    text = _visible_text_outside_code(page)
    for raw in ("$$", "\\frac", "\\begin", "\\left"):
        assert raw not in text, f"raw LaTeX {raw!r} left on the page"
    # the Example: sections of the docstrings are code blocks, not quoted text
    examples = page.locator('[id="chainrule.nn.LSTMCell"] ~ div .highlight code')
    assert examples.count() >= 1 and ">>> cell = cr.nn.LSTMCell(3, 5)" in examples.first.inner_text()


def test_inline_math_and_code_blocks(page, url):
    _open(page, url, "lessons/01_logistic_xor.html")
    assert page.locator('math[display="inline"]').count() >= 3
    assert "\\sigma" not in _visible_text_outside_code(page)
    _open(page, url, "index.html")
    code = page.locator("div.highlight pre code")
    assert code.count() >= 3, "the home page's code blocks are missing"
    assert code.first.locator("span").count() > 5, "code blocks are not syntax-highlighted"
    assert "import chainrule as cr" in code.nth(2).inner_text() or "import chainrule as cr" in page.content()


def test_search_works_offline(page, url):
    _open(page, url, "index.html")
    box = page.locator("input.md-search__input")
    box.click()
    page.keyboard.type("CrossEntropyLoss")  # key events, as a user types (fill() sets the value only)
    result = page.locator(".md-search-result__item").first
    result.wait_for(state="visible", timeout=15000)
    assert "CrossEntropyLoss" in page.locator(".md-search-result").inner_text()
    assert not page.outside, f"search asked for something outside the site: {page.outside}"
