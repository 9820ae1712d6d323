"""HTTP downloads into the data cache.

HTTP downloads into the data cache: mirrors in order, resume after a dropped connection, a
verified file or none.

``download_file(urls, dest, verify)`` fetches one file, trying each URL in turn. It is built on
pooch, which streams into a temporary file in the destination folder and moves it into place only
once the download succeeded, so an interrupted or rejected download never leaves a file where a
good one is expected. The downloader given to pooch adds what it lacks:

- resume: bytes arrive in ``.<name>.part`` next to the destination; after a dropped connection the
  next attempt (in this call, or a later run) asks for the rest with an HTTP ``Range`` request,
  and starts over when the server ignores it;
- verification before the file is accepted: ``verify(path)`` raises ``FetchError`` (a sha256
  mismatch) and the partial file is deleted, so a bad mirror cannot poison the cache;
- a tqdm progress bar on stderr (plain log lines when tqdm is not installed).

``mirrors_from_env()`` reads ``CHAINRULE_DATA_MIRRORS``, which replaces the built-in mirrors.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

MIRRORS_ENV = "CHAINRULE_DATA_MIRRORS"
ATTEMPTS = 3  # per URL: the first try and two resumes after a dropped connection
CHUNK = 1 << 16
TIMEOUT = (10, 60)  # seconds to connect, and between two reads


class FetchError(RuntimeError):
    """A data set could not be fetched or verified."""


class _Incomplete(OSError):
    """The server closed the connection before sending all the bytes it announced."""


def mirrors_from_env() -> list[str] | None:
    """The download mirrors set in the environment.

    Base URLs from ``$CHAINRULE_DATA_MIRRORS`` (separated by spaces or commas), ``[]`` for the
    value ``none`` (offline: no HTTP at all), ``None`` when unset (use the built-in mirrors).
    """
    value = os.environ.get(MIRRORS_ENV)
    if value is None or not value.strip():
        return None
    if value.strip().lower() in ("none", "off", "0"):
        return []
    return [u for u in value.replace(",", " ").split() if u]


def _progress(name: str, total: int | None, initial: int, enabled: bool):
    if not enabled:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:
        print(f"downloading {name} ...", file=sys.stderr, flush=True)
        return None
    return tqdm(
        total=total,
        initial=initial,
        desc=name,
        unit="B",
        unit_scale=True,
        unit_divisor=1024,
        file=sys.stderr,
        leave=False,
        mininterval=0.2,
    )


def _get_once(url: str, part: Path, name: str, progress: bool) -> None:
    """One GET of ``url`` appended to ``part`` (from its current size, with a Range request)."""
    import requests

    offset = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={offset}-"} if offset else {}
    with requests.get(url, headers=headers, stream=True, timeout=TIMEOUT) as r:
        if offset and r.status_code == 416:  # nothing left to send: the partial file is whole
            return
        r.raise_for_status()
        if offset and r.status_code != 206:  # the server ignored Range: start over
            offset = 0
        length = r.headers.get("Content-Length")
        total = offset + int(length) if length is not None else None
        bar = _progress(name, total, offset, progress)
        received = offset
        try:
            with part.open("ab" if offset else "wb") as f:
                for chunk in r.raw.stream(CHUNK, decode_content=False):
                    f.write(chunk)
                    received += len(chunk)
                    if bar is not None:
                        bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
        if total is not None and received != total:
            raise _Incomplete(f"connection closed after {received} of {total} bytes")


class ResumingDownloader:
    """A pooch downloader: GET with resume into a ``.part`` file, verify, then hand the bytes over."""

    def __init__(self, part: Path, verify: Callable[[Path], None], progress: bool = True):
        self.part, self.verify, self.progress = part, verify, progress

    def __call__(self, url: str, output_file, pooch) -> None:
        import requests
        import urllib3

        dropped = (_Incomplete, requests.ConnectionError, requests.Timeout, urllib3.exceptions.HTTPError)
        for attempt in range(1, ATTEMPTS + 1):
            before = self.part.stat().st_size if self.part.exists() else 0
            try:
                _get_once(url, self.part, self.part.name[1:-5], self.progress)
                break
            except dropped as e:
                got = (self.part.stat().st_size if self.part.exists() else 0) - before
                if got <= 0:  # nothing came through (host unknown, down, refusing): no use retrying
                    raise FetchError(f"{url}: {_reason(e)}") from None
                if attempt == ATTEMPTS:
                    raise FetchError(
                        f"{url}: {_reason(e)} (after {ATTEMPTS} attempts; the partial file "
                        f"{self.part} is kept and the next run resumes it)"
                    ) from None
        try:
            self.verify(self.part)
        except BaseException:
            self.part.unlink(missing_ok=True)
            raise
        shutil.move(str(self.part), str(output_file))


def download_file(
    urls: Sequence[str], dest: Path, verify: Callable[[Path], None], progress: bool = True
) -> list[str]:
    """Fetch ``dest`` from the first URL of ``urls`` that delivers bytes ``verify`` accepts.

    Returns the failures met on the way (``'URL: reason'``); raises ``FetchError`` listing them
    all when no URL worked. ``dest`` appears only once verified.
    """
    import pooch
    import requests

    pooch.get_logger().setLevel("WARNING")  # its 'SHA256 of the downloaded file' notes: we verify ourselves
    dest.parent.mkdir(parents=True, exist_ok=True)
    part = dest.parent / f".{dest.name}.part"
    failures: list[str] = []
    for url in urls:
        try:
            pooch.retrieve(
                url,
                known_hash=None,
                fname=dest.name,
                path=dest.parent,
                downloader=ResumingDownloader(part, verify, progress),
            )
            return failures
        except FetchError as e:
            failures.append(str(e) if str(e).startswith(url) else f"{url}: {e}")
        except requests.RequestException as e:
            failures.append(f"{url}: {_reason(e)}")
        except OSError as e:
            failures.append(f"{url}: {e}")
    raise FetchError("; ".join(failures) or "no URL to download from")


def _reason(e: Exception) -> str:
    """The useful end of a requests error (its message nests the whole urllib3 chain)."""
    import requests

    if isinstance(e, requests.HTTPError) and e.response is not None:
        return f"HTTP {e.response.status_code} {e.response.reason}"
    text = str(e)
    for marker in ("Failed to resolve", "Connection refused", "Name or service not known", "timed out"):
        if marker in text:
            return f"{type(e).__name__} ({marker.lower()})"
    return f"{type(e).__name__}: {text[:200]}"
