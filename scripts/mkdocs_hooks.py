"""MkDocs hook of the documentation site (mkdocs.yml): LaTeX math to MathML at build time.

``pymdownx.arithmatex`` (generic mode) keeps ``$...$`` and ``$$...$$`` away from Markdown and
wraps them as ``<span class="arithmatex">\\(...\\)</span>`` and ``<div class="arithmatex">\\[...\\]</div>``;
this hook replaces each with the MathML that ``latex2mathml`` writes.  Browsers draw MathML
natively (Chromium 109+, Firefox, Safari), so the site needs no JavaScript math renderer, no
web fonts and no CDN: it works offline, and the search index holds the formulas as text.
A formula latex2mathml cannot read, a command it does not know, or a ``$$`` left in the page is
logged as a warning, which fails ``mkdocs build --strict``.
"""

from __future__ import annotations

import html
import logging
import re

from latex2mathml.converter import convert

log = logging.getLogger("mkdocs.hooks.mathml")

_BLOCK = re.compile(r'<div class="arithmatex">\\\[(.*?)\\\]</div>', re.S)
_INLINE = re.compile(r'<span class="arithmatex">\\\((.*?)\\\)</span>', re.S)
_CODE = re.compile(r"<(pre|code)\b.*?</\1>", re.S)
_UNKNOWN = re.compile(r"<m[io][^>]*>(\\[A-Za-z]+)</m[io]>")
_STRAY_AMP = re.compile(r"<m[io][^>]*>&(amp;)?</m[io]>")


def _mathml(latex: str, display: str, where: str) -> str:
    tex = html.unescape(latex).strip()
    try:
        # latex2mathml lays out `split` as a table but not `aligned`, its twin inside $$ ... $$
        out = convert(tex.replace("{aligned}", "{split}"), display=display)
    except Exception as exc:  # latex2mathml raises its own exception types, one per syntax error
        log.warning(
            "%s: cannot convert the formula %r to MathML (%s: %s)", where, tex, type(exc).__name__, exc
        )
        return f"<code>{html.escape(tex)}</code>"
    unknown = _UNKNOWN.findall(out)
    if unknown:
        log.warning("%s: the formula %r uses %s, unknown to latex2mathml", where, tex, ", ".join(unknown))
    if _STRAY_AMP.search(out):
        log.warning("%s: the formula %r has an '&' outside an environment latex2mathml aligns", where, tex)
    return out


def on_page_content(content: str, page, **kwargs) -> str:
    """Replace arithmatex's math by MathML; warn (failing --strict) on what cannot be converted."""
    where = page.file.src_uri
    content = _BLOCK.sub(lambda m: _mathml(m.group(1), "block", where), content)
    content = _INLINE.sub(lambda m: _mathml(m.group(1), "inline", where), content)
    if "$$" in _CODE.sub("", content):
        log.warning("%s: a '$$' was left in the page (a display formula needs blank lines around it)", where)
    return content
