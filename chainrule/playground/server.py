"""The playground's web server: a Starlette app serving the page and one WebSocket per tab.

Run it with ``chainrule playground [--port N] [--host 127.0.0.1]``.

Protocol (JSON text messages; every client message has a ``type``):

=================  ===================================================  ==========================
client -> server   fields                                               reply
=================  ===================================================  ==========================
``config``         ``config``: a (partial) configuration (config.py);   ``state`` + ``frame``
                   ``link``: true: a link's settings over the defaults,
                   each invalid one dropped (named in ``state.dropped``)
``play``/``pause``                                                      ``status``, then frames
``step``           ``n`` (default 1) of ``unit``: ``batch`` (default,   ``frame``
                   1..10000 mini-batch steps) or ``epoch`` (1..100)
``reset``          new weights, same data                               ``state`` + ``frame``
``regenerate``     new data (the seed goes up by one)                   ``state`` + ``frame``
``upload``         ``csv``: text lines x1,x2,label                      ``state`` + ``frame``
``export``         the trained network                                  ``export``
``expr``           ``expr``: text, ``values``: {x, y, z}                ``expr``
``edit``           ``edits``: [{layer, to, from, value}] weights,       ``frame``
                   [{layer, to, value}] biases, set by hand
``compare``        ``config``: network B's settings that differ from    ``state`` + ``frame``
                   A's (optimizer, lr, batchnorm, ...; {} or null:      (frames carry ``b``)
                   off); B trains beside A on the same data
``ping``                                                                ``pong``
=================  ===================================================  ==========================

On connect the server sends ``hello`` (session id, limits, default configuration).  Any invalid
message gets ``{"type": "error", "message": ..., "request": type}`` and changes nothing; nothing a
client sends can stop the server or touch another tab's session.  While playing, the server
trains for up to 45 ms (less when drawing a frame takes longer, so that frames keep coming at
about 18 per second), sends a ``frame``, and repeats.
"""

from __future__ import annotations

import asyncio
import base64
import html
import json
import logging
import re
import secrets
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, PlainTextResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.staticfiles import StaticFiles
from starlette.websockets import WebSocket, WebSocketDisconnect

from chainrule.playground import config as pconfig
from chainrule.playground import data as pdata
from chainrule.playground import expr as pexpr
from chainrule.playground.config import ConfigError
from chainrule.playground.data import DataError
from chainrule.playground.expr import ExprError
from chainrule.playground.trainer import EditError, Trainer

log = logging.getLogger("chainrule.playground")

STATIC = Path(__file__).resolve().parent / "static"
LESSONS = Path(__file__).resolve().parents[2] / "docs" / "lessons"  # present in a source checkout
LESSON_NAME = re.compile(r"[0-9a-z_]{1,60}\.md")
MAX_MESSAGE_CHARS = 1_000_000  # the largest message accepted (an uploaded CSV)
MAX_SESSIONS = 32
FRAME_PERIOD = 1 / 18  # aim: a frame every 55 ms while playing
FRAME_BUDGET = 0.045  # at most this much training between frames (seconds)
MESSAGE_TYPES = (
    "config",
    "play",
    "pause",
    "step",
    "reset",
    "regenerate",
    "upload",
    "export",
    "expr",
    "edit",
    "compare",
    "ping",
)


# the page loads only its own script and styles, talks only to its own server, and is never framed
SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
        b"img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        b"form-action 'none'; frame-ancestors 'none'",
    ),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
]


class SecurityHeaders:
    """ASGI middleware: SECURITY_HEADERS on every HTTP response."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *SECURITY_HEADERS]}
            await send(message)

        await self.app(scope, receive, send_with_headers)


class ProtocolError(ValueError):
    """A malformed message (not JSON, not an object, unknown type, too large)."""


def _thumbnails(n: int = 120) -> dict[str, list[list[float]]]:
    """A few points of every generated data set (noise 0, seed 1), for the pictures on its button."""
    out = {}
    for name in (*pdata.CLASSIFICATION, *pdata.REGRESSION):
        ds = pdata.generate(name, 0.0, 1, n)
        out[name] = [
            [round(float(a), 1), round(float(b), 1), round(float(c), 2)] for (a, b), c in zip(ds.x, ds.y)
        ]
    return out


THUMBNAILS = _thumbnails()


class Closed(Exception):
    """The tab went away while the server was sending to it: a normal end, not an error."""


class Session:
    """One browser tab: its configuration, data, network and training loop."""

    def __init__(self, sid: str):
        self.id = sid
        self.config: dict[str, Any] = pconfig.validate({})
        self.upload: pdata.DataSet | None = None
        self.upload_note = ""
        self.resets = 0
        self.playing = False
        self.trainer = None
        self.compare: dict[str, Any] = {}  # network B's settings that differ from A's ({}: no B)
        self.trainer_b = None
        self.train_set = self.test_set = None
        self.created = time.time()
        self._make_data()

    # -- building ------------------------------------------------------------------------------
    def _make_data(self) -> None:
        c = self.config
        if c["dataset"] == "upload":
            full = self.upload
        else:
            full = pdata.generate(c["dataset"], c["noise"] / 100, c["seed"])
        self.train_set, self.test_set = pdata.split(full, c["ratio"] / 100, c["seed"])

    def _make_trainer(self) -> None:
        self.trainer = Trainer(self.config, self.train_set, self.test_set, self._init_seed())
        self.trainer_b = None
        self._sync_b()

    def _init_seed(self) -> int:
        return (self.config["seed"] * 7919 + self.resets) % (2**31 - 1)

    def _upload_task(self) -> str | None:
        return self.upload.task if self.upload is not None else None

    def _sync_b(self) -> None:
        """Rebuild or update network B from A's configuration.

        Network B follows A's configuration with its own differences; a new B when its network
        changes (from the same seed as A: with the same shape and init both start alike).
        """
        if not self.compare:
            self.trainer_b = None
            return
        conf = pconfig.validate_compare(self.compare, self.config, self._upload_task())
        b = self.trainer_b
        if (
            b is None
            or b.train_set is not self.train_set
            or any(conf[k] != b.config[k] for k in pconfig.NETWORK_KEYS)
        ):
            self.trainer_b = Trainer(conf, self.train_set, self.test_set, self._init_seed())
        else:
            b.update_hyper(conf)

    def set_compare(self, diff: Any) -> None:
        """Compare with a second network B (``diff``: its settings that differ from A's; {} or None: off)."""
        diff = {} if diff is None else diff
        pconfig.validate_compare(diff, self.config, self._upload_task())  # raises before any change
        self.compare = {k: v for k, v in diff.items() if v != self.config.get(k)}
        self._make_trainer()  # both start over together (A from the same weights as before)

    def ensure_trainer(self):
        if self.trainer is None:
            self._make_trainer()
        return self.trainer

    def apply_config(self, update: Any, link: bool = False) -> list[str]:
        """Apply a (partial) configuration.

        Apply a (partial) configuration; with ``link``, a link's settings over the defaults with
        each invalid one dropped.  Returns the messages of the dropped settings.
        """
        upload_task = self.upload.task if self.upload is not None else None
        dropped: list[str] = []
        if link:
            new, dropped = pconfig.validate_link(update, upload_task=upload_task)
        else:
            new = pconfig.validate(update, self.config, upload_task=upload_task)
        old = self.config
        data_changed = any(new[k] != old[k] for k in pconfig.DATA_KEYS)
        net_changed = data_changed or any(new[k] != old[k] for k in pconfig.NETWORK_KEYS)
        prev_sets = self.train_set, self.test_set
        self.config = new
        try:
            if data_changed:
                self._make_data()
            if net_changed or self.trainer is None:
                self.trainer = None
                self._make_trainer()
            else:
                self.trainer.update_hyper(new)
                self._sync_b()
        except Exception:
            self.config = old
            self.train_set, self.test_set = prev_sets
            self.trainer = self.trainer_b = None
            raise
        return dropped

    def load_upload(self, ds: pdata.DataSet, note: str) -> None:
        """Train on uploaded points from now on (the loss follows the task if the task changes)."""
        saved = self.upload, self.upload_note, self.config, self.train_set, self.test_set, self.trainer
        update: dict[str, Any] = {"dataset": "upload"}
        if ds.task != self.train_set.task:
            update["loss"] = pconfig.default_loss(ds.task)
        try:
            self.upload, self.upload_note = ds, note
            self.config = pconfig.validate(update, self.config, upload_task=ds.task)
            self._make_data()
            self._make_trainer()
        except Exception:
            self.upload, self.upload_note, self.config, self.train_set, self.test_set, self.trainer = saved
            raise

    def state(self) -> dict[str, Any]:
        """The configuration and the data points (x1, x2, label), for the page."""

        def pts(ds):
            return [
                [
                    round(float(a), 4),
                    round(float(b), 4),
                    int(l) if ds.task == "classification" else round(float(l), 4),
                ]
                for (a, b), l in zip(ds.x, ds.y)
            ]

        tr, te = self.train_set, self.test_set
        return {
            "type": "state",
            "config": self.config,
            "task": tr.task,
            "classes": tr.classes,
            "train": pts(tr),
            "test": pts(te),
            "upload": self.upload_note if self.upload is not None else None,
            "upload_warning": self.upload.warning if self.upload is not None else "",
            "compare": self.compare,
        }


# -- messages ----------------------------------------------------------------------------------
def parse_message(text: Any) -> dict[str, Any]:
    """Decode and validate one WebSocket message; ValueError with a clear message when malformed."""
    if not isinstance(text, str):
        raise ProtocolError("message: expected a JSON text message")
    if len(text) > MAX_MESSAGE_CHARS:
        raise ProtocolError(f"message: {len(text)} characters is too large; at most {MAX_MESSAGE_CHARS}")
    try:
        msg = json.loads(text)
    except (ValueError, RecursionError):
        raise ProtocolError("message: not valid JSON") from None
    if not isinstance(msg, dict):
        raise ProtocolError(f"message: expected a JSON object with a 'type', got {type(msg).__name__}")
    kind = msg.get("type")
    if not isinstance(kind, str) or kind not in MESSAGE_TYPES:
        shown = repr(kind)[:40]
        raise ProtocolError(f"message: unknown type {shown}; expected one of {', '.join(MESSAGE_TYPES)}")
    return msg


def _frame(session: Session) -> dict[str, Any]:
    f = session.ensure_trainer().frame()
    f["playing"] = session.playing
    if session.trainer_b is not None:
        f["b"] = session.trainer_b.summary()
        f["b"]["compare"] = session.compare
    return f


def _train(session: Session, steps: int | None = None, budget: float | None = None, epochs: int = 0) -> int:
    """Train A (and B side by side, on half of the time budget each, or the same steps or epochs)."""
    b = session.trainer_b
    if b is not None and budget is not None:
        budget /= 2
    a = session.ensure_trainer()
    done = a.train(steps=epochs * a.steps_per_epoch if epochs else steps, budget=budget)
    if b is not None:
        b.train(steps=epochs * b.steps_per_epoch if epochs else (done if budget is not None else steps))
    return done


async def handle(session: Session, msg: dict[str, Any]) -> list[dict[str, Any]]:
    """The replies to one (parsed) message; raises ConfigError/DataError/ExprError/ProtocolError.

    Long work (a ``step`` of thousands of mini-batches) runs in slices that yield to the event
    loop, so one tab never stalls the others.
    """
    kind = msg["type"]
    if kind == "ping":
        return [{"type": "pong"}]
    if kind == "config":
        if "config" not in msg:
            raise ProtocolError("config: the message needs a 'config' object")
        dropped = session.apply_config(msg["config"], link=msg.get("link") is True)
        state = session.state()
        if dropped:
            state["dropped"] = dropped
        return [state, _frame(session)]
    if kind == "play":
        session.ensure_trainer()
        session.playing = True
        return [{"type": "status", "playing": True}]
    if kind == "pause":
        session.playing = False
        return [{"type": "status", "playing": False}, _frame(session)]
    if kind == "step":
        n, unit = msg.get("n", 1), msg.get("unit", "batch")
        if unit not in ("batch", "epoch"):
            raise ProtocolError(f"step: unit must be 'batch' or 'epoch', got {unit!r:.20}")
        most = pconfig.MAX_STEPS_PER_CALL if unit == "batch" else pconfig.MAX_EPOCHS_PER_CALL
        if isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= most:
            raise ProtocolError(f"step: n must be a whole number from 1 to {most}, got {n!r:.20}")
        session.playing = False
        # an epoch is one pass over the training points, as TensorFlow Playground's step
        epochs, n = (n, 0) if unit == "epoch" else (0, n)
        for _ in range(epochs):
            _train(session, epochs=1)
            await asyncio.sleep(0)
        while n > 0:
            n -= _train(session, steps=n, budget=FRAME_BUDGET)
            await asyncio.sleep(0)
        return [_frame(session)]
    if kind == "reset":
        session.resets += 1
        session.playing = False
        session._make_trainer()
        return [session.state(), _frame(session)]
    if kind == "regenerate":
        seed = session.config["seed"] + 1 if session.config["seed"] < pconfig.SEED_RANGE[1] else 0
        session.playing = False
        session.apply_config({"seed": seed})
        return [session.state(), _frame(session)]
    if kind == "upload":
        ds, note = pdata.parse_csv(msg.get("csv"))
        session.playing = False
        session.load_upload(ds, note)
        return [session.state(), _frame(session)]
    if kind == "compare":
        session.playing = False
        session.set_compare(msg.get("config"))
        return [session.state(), _frame(session)]
    if kind == "edit":
        session.ensure_trainer().edit(msg.get("edits"))
        return [_frame(session)]
    if kind == "export":
        from chainrule.playground.export import SCRIPT_NAME, WEIGHTS_NAME, weights_bytes

        trainer = session.ensure_trainer()
        return [
            {
                "type": "export",
                "script_name": SCRIPT_NAME,
                "weights_name": WEIGHTS_NAME,
                "script": trainer.script(WEIGHTS_NAME),
                "weights": base64.b64encode(weights_bytes(trainer)).decode("ascii"),
            }
        ]
    if kind == "expr":
        return [{"type": "expr", **pexpr.explore(msg.get("expr", pexpr.DEFAULT_EXPR), msg.get("values"))}]
    raise ProtocolError(f"message: unknown type {kind!r}")  # unreachable: parse_message checked it


# -- the app -----------------------------------------------------------------------------------
class Playground:
    """The set of live sessions (one per WebSocket) and the ASGI app serving them."""

    def __init__(
        self,
        max_sessions: int = MAX_SESSIONS,
        frame_budget: float = FRAME_BUDGET,
        frame_period: float = FRAME_PERIOD,
        allowed_hosts: list[str] | None = None,
        lessons_dir: Path | None = None,
    ):
        self.sessions: dict[str, Session] = {}
        self.lessons_dir = Path(lessons_dir) if lessons_dir is not None else LESSONS
        self.max_sessions = max_sessions
        self.frame_budget = frame_budget
        self.frame_period = frame_period
        self.app = Starlette(
            routes=[
                Route("/", self.index),
                Route("/healthz", self.health),
                Route("/lessons/{name}", self.lesson),
                Route("/favicon.ico", lambda request: Response(status_code=204)),
                WebSocketRoute("/ws", self.websocket),
                Mount("/static", StaticFiles(directory=str(STATIC)), name="static"),
            ],
            middleware=[
                Middleware(TrustedHostMiddleware, allowed_hosts=allowed_hosts or ["*"]),
                Middleware(SecurityHeaders),
            ],
        )

    async def index(self, request) -> Response:
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-store"})

    async def lesson(self, request) -> Response:
        """A lesson page (docs/lessons/NAME.md) as plain text in a page, for the playground's links."""
        name = request.path_params["name"]
        path = self.lessons_dir / name
        if not LESSON_NAME.fullmatch(name) or not path.is_file():
            return PlainTextResponse(
                f"lesson {name[:60]!r} not found: the lessons are the files docs/lessons/*.md of the "
                "chainrule repository",
                status_code=404,
            )
        text = path.read_text(encoding="utf-8")
        title = next((ln.lstrip("# ").strip() for ln in text.splitlines() if ln.startswith("#")), name)
        return HTMLResponse(
            '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{html.escape(title)}</title><link rel="stylesheet" href="/static/style.css"></head>'
            f'<body class="lesson"><main><p><a href="/">← the playground</a></p>'
            f"<pre>{html.escape(text)}</pre></main></body></html>"
        )

    async def health(self, request) -> Response:
        return JSONResponse({"ok": True, "sessions": len(self.sessions)})

    async def websocket(self, ws: WebSocket) -> None:
        # a page from another site must not drive this server through the visitor's browser
        origin = ws.headers.get("origin")
        if origin and urlsplit(origin).netloc != ws.headers.get("host"):
            await ws.close(code=1008, reason="cross-origin connections are not allowed")
            return
        await ws.accept()
        if len(self.sessions) >= self.max_sessions:
            await ws.send_json(
                {
                    "type": "error",
                    "message": f"server busy: {self.max_sessions} sessions are open; close a tab and reload",
                }
            )
            await ws.close(code=1013)
            return
        sid = secrets.token_hex(8)
        session = Session(sid)
        self.sessions[sid] = session
        lock = asyncio.Lock()

        async def send(obj: dict[str, Any], only_while_playing: bool = False) -> None:
            async with lock:
                if only_while_playing and not session.playing:
                    return  # paused meanwhile: the pause sent the last frame
                text = json.dumps(obj, separators=(",", ":"), allow_nan=False)
                try:
                    await ws.send_text(text)
                except (WebSocketDisconnect, OSError) as e:
                    raise Closed() from e
                except RuntimeError as e:  # Starlette: "Cannot call send once a close message..."
                    if "close" in str(e).lower() or "websocket" in str(e).lower():
                        raise Closed() from e
                    raise

        trainer_task = asyncio.create_task(self._train_loop(session, send))
        try:
            await send(
                {
                    "type": "hello",
                    "session": sid,
                    "limits": pconfig.limits(),
                    "config": session.config,
                    "expr": {"expr": pexpr.DEFAULT_EXPR, "values": pexpr.DEFAULT_VALUES},
                    "thumbnails": THUMBNAILS,
                }
            )
            while True:
                event = await ws.receive()
                if event["type"] == "websocket.disconnect":
                    break
                text = event.get("text")
                if text is None:
                    await send(
                        {
                            "type": "error",
                            "request": None,
                            "message": "message: expected a JSON text message, got binary",
                        }
                    )
                    continue
                kind = None
                try:
                    msg = parse_message(text)
                    kind = msg["type"]
                    for reply in await handle(session, msg):
                        await send(reply)
                except (ProtocolError, ConfigError, DataError, ExprError, EditError) as e:
                    await send({"type": "error", "message": str(e), "request": kind})
                except (WebSocketDisconnect, Closed):
                    break
                except RuntimeError as e:
                    if "websocket" in str(e).lower():
                        break
                    log.exception("session %s: %s failed", sid, kind)
                    await send({"type": "error", "message": f"{kind}: internal error: {e}", "request": kind})
                except Exception as e:  # a bug: report it to this tab, keep the server up
                    log.exception("session %s: %s failed", sid, kind)
                    session.playing = False
                    await send(
                        {
                            "type": "error",
                            "request": kind,
                            "message": f"{kind}: internal error: {type(e).__name__}: {e}",
                        }
                    )
        except (WebSocketDisconnect, Closed):
            pass
        finally:
            trainer_task.cancel()
            self.sessions.pop(sid, None)
            try:
                await trainer_task
            except (asyncio.CancelledError, Exception):
                pass

    async def _train_loop(self, session: Session, send) -> None:
        """While the session is playing: train for a time budget, send a frame, repeat.

        The budget is what is left of the frame period after the time the last frame took to
        compute and send (bounded by ``frame_budget``), so frames keep their pace on a busy machine.
        """
        overhead = 0.01
        rate = StepRate()
        while True:
            if not session.playing:
                rate.clear()
                await asyncio.sleep(0.02)
                continue
            try:
                trainer = session.ensure_trainer()
                rate.start(trainer)
                budget = min(self.frame_budget, max(0.005, self.frame_period - overhead))
                _train(session, budget=budget)
                t1 = time.perf_counter()
                frame = _frame(session)
                frame["steps_per_s"] = rate.update(trainer, t1)
                await send(frame, only_while_playing=True)
                overhead = 0.7 * overhead + 0.3 * (time.perf_counter() - t1)
            except asyncio.CancelledError:
                raise
            except Closed:
                return  # the tab closed while a frame was on its way
            except Exception as e:
                log.exception("session %s: training failed", session.id)
                session.playing = False
                try:
                    await send(
                        {
                            "type": "error",
                            "message": f"training stopped: {type(e).__name__}: {e}",
                            "request": "play",
                        }
                    )
                except Exception:
                    return
            await asyncio.sleep(0)


class StepRate:
    """Training steps per second of wall-clock time over the last second of playing.

    Wall-clock, not time spent inside ``train``: frames, other tabs and the rest of the event
    loop share the time, and the figure says what this tab actually gets.
    """

    WINDOW = 1.0

    def __init__(self):
        self.points: list[tuple[float, int]] = []
        self.trainer = None
        self.from_start = False

    def clear(self) -> None:
        self.points, self.trainer = [], None

    def start(self, trainer, now: float | None = None) -> None:
        if trainer is not self.trainer:  # a new network: its steps count from its start
            now = time.perf_counter() if now is None else now
            self.points, self.trainer = [(now, trainer.step_count)], trainer
            self.from_start = True

    def update(self, trainer, now: float) -> int:
        self.points.append((now, trainer.step_count))
        if self.from_start and len(self.points) > 2:
            # frame to frame spans whole periods; play's start to a frame does not
            self.points.pop(0)
            self.from_start = False
        while len(self.points) > 2 and now - self.points[1][0] >= self.WINDOW:
            self.points.pop(0)
        (t0, s0), (t1, s1) = self.points[0], self.points[-1]
        return round((s1 - s0) / max(t1 - t0, 1e-9))


LOOPBACK = ("127.0.0.1", "localhost", "::1")


def url_host(host: str) -> str:
    """``host`` as it appears in a URL and a Host header: IPv6 addresses in brackets."""
    return f"[{host}]" if ":" in host and not host.startswith("[") else host


def create_app(**kwargs):
    """The ASGI app (``kwargs`` go to ``Playground``); ``app.state.playground`` is the session registry.

    ``allowed_hosts``: the names the Host header may carry (``main`` passes the loopback names
    when serving on loopback, so a web page whose domain resolves to 127.0.0.1 gets nowhere).
    """
    pg = Playground(**kwargs)
    pg.app.state.playground = pg
    return pg.app


def main(host: str = "127.0.0.1", port: int = 8000) -> int:
    """``chainrule playground``: serve the page on ``host:port`` until interrupted; returns 0."""
    try:
        import uvicorn
    except ImportError:
        print("chainrule playground: needs the web server packages: pip install 'chainrule[playground]'")
        return 2
    host = host.strip("[]")  # "[::1]" and "::1" name the same address
    if host not in LOOPBACK:
        print(f"chainrule playground: warning: listening on {host}, reachable from other machines")
    shown = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(host, host)
    print(f"chainrule playground: open http://{url_host(shown)}:{port}/")
    # Host headers carry IPv6 addresses in brackets: "[::1]:8000"
    app = create_app(allowed_hosts=[url_host(h) for h in LOOPBACK] if host in LOOPBACK else None)
    uvicorn.run(app, host=host, port=port, log_level="warning", ws_max_size=MAX_MESSAGE_CHARS * 4)
    return 0
