"""A text corpus that works offline, for (character-level) language models.

``text_corpus()`` is the text of Python's own documentation topics (``pydoc_data.topics``, part
of every CPython installation: about 465,000 characters of English prose and code; licence:
the Python Software Foundation License, PSF-2.0, as CPython's documentation).
"""

from __future__ import annotations

from chainrule.backend import np
from chainrule.ops import _args


def text_corpus(name: str = "python-docs") -> str:
    """The corpus as one string (``name='python-docs'``, the only one bundled with Python)."""
    if name != "python-docs":
        raise ValueError(f"text_corpus: unknown corpus {name!r}; available: 'python-docs'")
    try:
        from pydoc_data.topics import topics
    except ImportError as e:  # some distributions split the docs out of the standard library
        raise FileNotFoundError(
            "text_corpus: this Python has no pydoc_data.topics (the standard library's "
            "documentation topics); install the full standard library"
        ) from e
    return "\n\n".join(topics[key].strip() for key in sorted(topics)) + "\n"


def char_sequences(text: str, seq_len: int, vocab: str | None = None) -> tuple:
    """Cut ``text`` into non-overlapping windows for next-character prediction.

    Returns ``(x, y, vocab)``: x and y int64 of shape (M, seq_len), y being x shifted by one
    character, and ``vocab`` the string of distinct characters (index = code used in x and y).
    """
    if not isinstance(text, str):
        raise TypeError(f"char_sequences: text must be a str, got {type(text).__name__}")
    _args.integer("char_sequences", "seq_len", seq_len)
    if seq_len < 1 or len(text) < seq_len + 1:
        raise ValueError(
            f"char_sequences: need 1 <= seq_len < len(text), got seq_len={seq_len}, len(text)={len(text)}"
        )
    vocab = vocab if vocab is not None else "".join(sorted(set(text)))
    lookup = {c: i for i, c in enumerate(vocab)}
    missing = set(text) - lookup.keys()
    if missing:
        raise ValueError(f"char_sequences: characters {sorted(missing)[:10]} are not in the vocabulary")
    codes = np.fromiter((lookup[c] for c in text), dtype=np.int64, count=len(text))
    m = (len(codes) - 1) // seq_len
    x = codes[: m * seq_len].reshape(m, seq_len)
    y = codes[1 : m * seq_len + 1].reshape(m, seq_len)
    return x, y, vocab
