"""The playground server: every message type and every kind of invalid input, through Starlette's
TestClient WebSocket (the same ASGI app that ``chainrule playground`` serves)."""

from __future__ import annotations

import base64
import json
import time
import warnings

import pytest

with warnings.catch_warnings():  # Starlette >= 1.x suggests httpx2 for its TestClient
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from chainrule.playground import config as pconfig
from chainrule.playground.server import MAX_MESSAGE_CHARS, create_app

XOR_2441 = {"dataset": "xor", "layers": [{"units": 4, "act": "tanh"}, {"units": 4, "act": "tanh"}]}


@pytest.fixture
def app():
    return create_app()


@pytest.fixture
def client(app):
    with TestClient(app) as c:
        yield c


class WS:
    """A connected tab: ``ws.ask(msg)`` sends and returns the replies up to and including ``until``."""

    def __init__(self, conn):
        self.conn = conn
        self.hello = conn.receive_json()

    def send(self, msg):
        self.conn.send_text(msg if isinstance(msg, str) else json.dumps(msg))

    def recv(self, kinds=None):
        while True:
            m = self.conn.receive_json()
            if kinds is None or m["type"] in kinds:
                return m

    def ask(self, msg, until=("frame", "error", "pong", "status", "export", "expr")):
        self.send(msg)
        out = []
        while True:
            m = self.conn.receive_json()
            out.append(m)
            if m["type"] in until:
                return out

    def error(self, msg) -> str:
        replies = self.ask(msg)
        assert replies[-1]["type"] == "error", replies[-1]
        return replies[-1]["message"]

    def config(self, update):
        replies = self.ask({"type": "config", "config": update})
        assert [r["type"] for r in replies] == ["state", "frame"], replies[-1]
        return replies


@pytest.fixture
def ws(client):
    with client.websocket_connect("/ws") as conn:
        yield WS(conn)


# -- pages -----------------------------------------------------------------------------------------------
def test_page_and_static_files(client):
    r = client.get("/")
    assert r.status_code == 200 and "chainrule playground" in r.text
    for f in ("app.js", "style.css"):
        assert client.get(f"/static/{f}").status_code == 200
    assert client.get("/static/../server.py").status_code == 404
    assert client.get("/healthz").json()["ok"] is True


def test_security_headers_on_every_page(client):
    for path in ("/", "/static/app.js", "/healthz", "/lessons/none.md"):
        r = client.get(path)
        csp = r.headers["content-security-policy"]
        assert "default-src 'self'" in csp and "frame-ancestors 'none'" in csp and "script-src 'self';" in csp
        assert r.headers["x-frame-options"] == "DENY" and r.headers["x-content-type-options"] == "nosniff"


def test_lesson_pages(tmp_path):
    (tmp_path / "03_symmetry.md").write_text("# Symmetry\n\nZeros <b>init</b>.\n")
    (tmp_path.parent / "secret.md").write_text("secret")
    with TestClient(create_app(lessons_dir=tmp_path)) as client:
        r = client.get("/lessons/03_symmetry.md")
        assert r.status_code == 200 and "<title>Symmetry</title>" in r.text
        assert "Zeros &lt;b&gt;init&lt;/b&gt;." in r.text  # shown as text, never as markup
        for bad in ("04_missing.md", "..%2Fsecret.md", "03_symmetry.py", "%2e%2e%2fsecret.md"):
            r = client.get("/lessons/" + bad)
            assert r.status_code == 404 and "secret" != r.text, bad


def test_hello(ws):
    h = ws.hello
    assert h["type"] == "hello" and len(h["session"]) == 16
    assert h["limits"]["max_layers"] == 6 and h["limits"]["max_units"] == 8
    assert h["config"] == pconfig.validate({})
    assert h["expr"]["expr"] == "(x + y) * z"


# -- every message type ----------------------------------------------------------------------------------
def test_config_state_and_frame(ws):
    state, frame = ws.config(XOR_2441)
    assert state["config"]["dataset"] == "xor" and state["task"] == "classification" and state["classes"] == 2
    assert len(state["train"]) + len(state["test"]) == 500 and len(state["train"]) == 250
    assert all(len(p) == 3 and p[2] in (0, 1) for p in state["train"])
    assert frame["step"] == 0 and frame["epoch"] == 0
    assert len(base64.b64decode(frame["heat"])) == frame["heat_n"] ** 2 == 1600
    assert [len(layer) for layer in frame["neurons"]] == [2, 4, 4, 1]
    assert all(len(base64.b64decode(t)) == frame["thumb_n"] ** 2 for layer in frame["neurons"] for t in layer)
    assert [len(w) for w in frame["weights"]] == [4, 4, 1] and len(frame["weights"][0][0]) == 2
    assert len(frame["grad_norms"]) == 3
    assert frame["train_loss"] > 0 and frame["test_loss"] > 0 and 0 <= frame["test_acc"] <= 1


def test_same_config_gives_the_same_data_and_weights(client):
    results = []
    for _ in range(2):
        with client.websocket_connect("/ws") as conn:
            w = WS(conn)
            state, frame = w.config({**XOR_2441, "noise": 20, "seed": 5})
            results.append((state["train"], frame["weights"]))
    assert results[0] == results[1]


def test_step_trains(ws):
    ws.config(XOR_2441)
    f1 = ws.ask({"type": "step"})[-1]
    assert f1["step"] == 1 and f1["epoch"] == pytest.approx(10 / 250)
    f2 = ws.ask({"type": "step", "n": 500})[-1]
    assert f2["step"] == 501 and f2["test_loss"] < f1["test_loss"]
    assert all(g > 0 for g in f2["grad_norms"])


def test_step_by_epoch(ws):
    ws.config({**XOR_2441, "ratio": 50, "batch": 10})  # 250 training points: 25 batches
    f = ws.ask({"type": "step", "unit": "epoch"})[-1]
    assert f["step"] == 25 and f["epoch"] == 1.0
    f = ws.ask({"type": "step", "n": 2, "unit": "epoch"})[-1]
    assert f["step"] == 75 and f["epoch"] == 3.0
    ws.config({"batch": 30})  # 250 // 30 = 8 full batches per pass
    assert ws.ask({"type": "step", "unit": "epoch"})[-1]["step"] == 83
    assert "unit must be" in ws.error({"type": "step", "unit": "lifetime"})
    assert "from 1 to 100" in ws.error({"type": "step", "n": 101, "unit": "epoch"})


def test_edit_weights_and_biases_by_hand(ws):
    ws.config(XOR_2441)  # linear layers 2->4, 4->4, 4->1
    f = ws.ask({"type": "edit", "edits": [{"layer": 1, "to": 2, "from": 3, "value": 1.5}]})[-1]
    assert f["weights"][1][2][3] == 1.5 and f["step"] == 0
    f = ws.ask({"type": "edit", "edits": [{"layer": 2, "to": 0, "value": -0.25}]})[-1]
    assert f["biases"][2][0] == -0.25
    f = ws.ask({"type": "edit", "edits": [{"layer": 1, "to": 2, "from": 3, "value": 2}]})[-1]
    assert f["edits"] == [
        {"layer": 2, "to": 0, "value": -0.25},
        {"layer": 1, "to": 2, "from": 3, "value": 2.0},
    ]  # recorded while untrained, one per parameter
    trained = ws.ask({"type": "step", "n": 5})[-1]
    assert trained["weights"][1][2][3] != 2.0  # the edit took part in training
    f = ws.ask({"type": "edit", "edits": [{"layer": 0, "to": 0, "from": 0, "value": 3}]})[-1]
    assert f["weights"][0][0][0] == 3.0 and f["edits"] == trained["edits"]  # not recorded once trained
    for bad, expected in [
        ({"layer": 3, "to": 0, "value": 1}, "layer must be a layer index from 0 to 2"),
        ({"layer": 0, "to": 4, "from": 0, "value": 1}, "to must be a neuron index from 0 to 3"),
        ({"layer": 0, "to": 0, "from": 2, "value": 1}, "from must be an input index from 0 to 1"),
        ({"layer": 0, "to": 0, "value": float("nan")}, "value must be a number"),
        ({"layer": 0, "to": 0, "value": 10**400}, "value must be a number"),
        ({"layer": 0, "to": 0, "value": 101}, "value must be a number from -100.0 to 100.0"),
        ({"layer": 0, "to": 0, "value": 1, "x": 1}, "each edit is an object"),
    ]:
        body = json.dumps({"type": "edit", "edits": [{"layer": 0, "to": 1, "value": 9}, bad]})
        body = body.replace("NaN", "1e999").replace(str(10**400), "1" + "0" * 400)
        assert expected in ws.error(body), bad
    assert "'edits' must be a list" in ws.error({"type": "edit", "edits": {}})
    f = ws.ask({"type": "step", "n": 1})[-1]
    assert f["biases"][0][1] != 9  # a refused message changed nothing


def test_side_by_side_networks_train_together_on_the_same_data(ws):
    ws.config({**XOR_2441, "optimizer": "adam", "lr": 0.03})
    state, f0 = ws.ask({"type": "compare", "config": {"optimizer": "sgd", "lr": 0.03}})
    assert state["compare"] == {"optimizer": "sgd"}  # only what differs from A
    assert f0["b"]["step"] == 0 and f0["b"]["test_loss"] == f0["test_loss"]  # the same start
    f = ws.ask({"type": "step", "n": 2, "unit": "epoch"})[-1]
    assert f["step"] == f["b"]["step"] == 50 and f["b"]["test_loss"] != f["test_loss"]
    ws.config({"lr": 0.1})  # A's live change: B follows what it does not override
    f = ws.ask({"type": "step", "n": 5})[-1]
    assert f["step"] == f["b"]["step"] == 55
    ws.ask({"type": "play"})
    frames = [ws.recv(("frame",)) for _ in range(3)]
    ws.ask({"type": "pause"}, until=("status",))
    ws.recv(("frame",))  # the pause's own frame
    assert all(fr["b"]["step"] == fr["step"] > 55 for fr in frames)
    state, f = ws.ask({"type": "compare", "config": {"batchnorm": True}})
    assert f["b"]["step"] == 0 and f["step"] == 0 and f["b"]["compare"] == {"batchnorm": True}
    assert "compare: network B may change only" in ws.error({"type": "compare", "config": {"dataset": "xor"}})
    assert "network B's lr" in ws.error({"type": "compare", "config": {"lr": 99}})
    state, f = ws.ask({"type": "compare", "config": {}})
    assert state["compare"] == {} and "b" not in f


def test_play_sends_frames_and_pause_stops(ws):
    ws.config(XOR_2441)
    assert ws.ask({"type": "play"})[-1] == {"type": "status", "playing": True}
    frames = [ws.recv(("frame",)) for _ in range(5)]
    assert all(f["playing"] for f in frames) and frames[-1]["step"] > frames[0]["step"] > 0
    assert frames[-1]["steps_per_s"] > 0
    replies = ws.ask({"type": "pause"}, until=("status",))
    assert replies[-1] == {"type": "status", "playing": False}
    last = ws.recv(("frame",))
    assert last["playing"] is False
    ws.send({"type": "ping"})
    assert ws.recv()["type"] == "pong"  # no more frames after the pause's own


def test_steps_per_second_is_wall_clock_time():
    """Steps per second of wall-clock time: time spent elsewhere (other tabs, frames) counts."""
    from types import SimpleNamespace

    from chainrule.playground.server import StepRate

    trainer, rate = SimpleNamespace(step_count=0), StepRate()
    rate.start(trainer, now=0.0)
    now = 0.0
    reported = []
    for _ in range(20):  # 100 steps in each 45 ms slice, then 55 ms elsewhere: 1000 steps/s
        now += 0.045
        trainer.step_count += 100
        reported.append(rate.update(trainer, now))
        now += 0.055
    assert all(abs(r - 1000) <= 150 for r in reported[1:]), reported  # not 100 / 0.045 = 2222
    trainer2 = SimpleNamespace(step_count=0)  # a new network starts its own count
    rate.start(trainer2, now=now)
    trainer2.step_count = 30
    assert rate.update(trainer2, now + 0.1) == 300


def test_reset_keeps_data_new_weights(ws):
    state0, frame0 = ws.config(XOR_2441)
    ws.ask({"type": "step", "n": 50})
    state1, frame1 = ws.ask({"type": "reset"})
    assert state1["train"] == state0["train"]
    assert frame1["step"] == 0 and frame1["weights"] != frame0["weights"]


def test_regenerate_new_data(ws):
    state0, _ = ws.config(XOR_2441)
    state1, frame1 = ws.ask({"type": "regenerate"})
    assert state1["config"]["seed"] == state0["config"]["seed"] + 1
    assert state1["train"] != state0["train"] and frame1["step"] == 0


def test_live_hyperparameters_keep_training_state(ws):
    ws.config(XOR_2441)
    ws.ask({"type": "step", "n": 20})
    for update in ({"lr": 0.1}, {"optimizer": "sgd"}, {"reg": "l2", "reg_rate": 0.01}, {"batch": 25}):
        _, frame = ws.config(update)
        assert frame["step"] == 20, update  # no reset
    _, frame = ws.config({"init": "he"})  # a network setting: new network
    assert frame["step"] == 0


def test_upload_classification_and_regression(ws):
    csv = "x1,x2,label\n" + "\n".join(f"{i % 9 - 4},{(i * 7) % 11 - 5},{i % 3}" for i in range(90))
    state, frame = ws.ask({"type": "upload", "csv": csv})
    assert state["config"]["dataset"] == "upload" and state["task"] == "classification"
    assert state["classes"] == 3 and "90 points" in state["upload"] and "heat_cls" in frame
    assert len(frame["neurons"][-1]) == 3 and len(frame["weights"][-1]) == 3  # one output per class
    csv = "\n".join(f"{i / 10},{-i / 20},{i / 40:.3f}" for i in range(50))
    state, frame = ws.ask({"type": "upload", "csv": csv})
    assert state["task"] == "regression" and state["config"]["loss"] == "mse"
    ws.ask({"type": "step", "n": 10})
    state, _ = ws.config({"dataset": "circle", "loss": "cross_entropy"})
    assert state["task"] == "classification"
    state, _ = ws.config({"dataset": "upload", "loss": "mse"})  # the upload is kept for the session
    assert state["task"] == "regression" and len(state["train"]) == 25


def test_export(ws, tmp_path):
    ws.config(XOR_2441)
    ws.ask({"type": "step", "n": 200})
    (e,) = ws.ask({"type": "export"})
    assert e["type"] == "export" and e["script_name"].endswith(".py")
    assert "nn.Linear(2, 4), nn.Tanh()," in e["script"] and "cr.load" in e["script"]
    weights = base64.b64decode(e["weights"])
    header_len = int.from_bytes(weights[:8], "little")
    header = json.loads(weights[8 : 8 + header_len])
    assert {"0.weight", "0.bias", "2.weight", "4.bias"} <= set(header)
    compile(e["script"], "playground_model.py", "exec")


def test_expr(ws):
    (e,) = ws.ask({"type": "expr"})
    by_name = {n["name"]: n for n in e["nodes"]}
    assert by_name["q"]["value"] == 3 and by_name["f"]["value"] == -12
    assert [by_name[v]["grad"] for v in "xyz"] == [-4, -4, 3]
    (e,) = ws.ask({"type": "expr", "expr": "x * y", "values": {"x": 3, "y": 4}})
    assert {n["name"]: n["grad"] for n in e["nodes"]} == {"x": 4, "y": 3, "f": 1}


def test_ping(ws):
    assert ws.ask({"type": "ping"}) == [{"type": "pong"}]


def test_real_server_frame_rate_2441(server_url):
    """Over a real socket (uvicorn, as ``chainrule playground`` runs it): >= 10 frames per second
    while a 2-4-4-1 network trains (Starlette's TestClient adds latency of its own, so not there)."""
    from websockets.sync.client import connect

    with connect(server_url.replace("http", "ws") + "/ws", max_size=None) as conn:
        recv = lambda: json.loads(conn.recv(timeout=10))
        assert recv()["type"] == "hello"
        conn.send(json.dumps({"type": "config", "config": XOR_2441}))
        assert [recv()["type"], recv()["type"]] == ["state", "frame"]
        conn.send(json.dumps({"type": "play"}))
        assert recv()["type"] == "status"
        recv()
        t0, times = time.time(), []
        while time.time() - t0 < 2.5:
            frame = recv()
            times.append(time.perf_counter())
        conn.send(json.dumps({"type": "pause"}))
    # the typical gap between frames (a median, so a moment of CPU starvation on a busy machine
    # does not decide it): at most 100 ms, i.e. at least 10 frames per second
    gaps = sorted(b - a for a, b in zip(times, times[1:]))
    median = gaps[len(gaps) // 2]
    assert median <= 0.1, f"median gap {median * 1000:.0f} ms, {len(times)} frames, gaps {gaps}"
    assert frame["steps_per_s"] > 100


# -- invalid input -----------------------------------------------------------------------------------------
PROTOCOL_ERRORS = [
    ("not json", "not valid JSON"),
    ("[1, 2]", "expected a JSON object"),
    ('"text"', "expected a JSON object"),
    ("{}", "unknown type None"),
    ('{"type": "launch"}', "unknown type 'launch'"),
    ('{"type": 5}', "unknown type 5"),
    ('{"type": "config"}', "needs a 'config' object"),
    ('{"type": "step", "n": 0}', "step: n must be"),
    ('{"type": "step", "n": 100001}', "step: n must be"),
    ('{"type": "step", "n": "ten"}', "step: n must be"),
    ('{"type": "step", "n": true}', "step: n must be"),
    ('{"type": "step", "n": 1.5}', "step: n must be"),
    ("[" * 100_000 + "]" * 100_000, "not valid JSON"),
]


@pytest.mark.parametrize("text, expected", PROTOCOL_ERRORS, ids=[e for _, e in PROTOCOL_ERRORS])
def test_malformed_messages(ws, text, expected):
    assert expected in ws.error(text)
    assert ws.ask({"type": "ping"}) == [{"type": "pong"}]


def test_too_large_and_binary_messages(ws):
    huge = json.dumps({"type": "upload", "csv": "1,2,3\n" * (MAX_MESSAGE_CHARS // 6 + 1)})
    assert "too large" in ws.error(huge)
    ws.conn.send_bytes(b"\x00\x01binary")
    assert "got binary" in ws.recv()["message"]
    assert ws.ask({"type": "ping"}) == [{"type": "pong"}]


CONFIG_ERRORS = [
    ({"colour": "red"}, "unknown setting 'colour'"),
    ({"dataset": "mnist"}, "dataset: unknown value 'mnist'"),
    ({"dataset": "upload"}, "needs an uploaded CSV"),
    ({"noise": 60}, "noise: 60 is out of range"),
    ({"noise": -1}, "noise: -1 is out of range"),
    ({"noise": "loud"}, "noise: expected a number"),
    ({"ratio": 5}, "ratio: 5 is out of range"),
    ({"ratio": 95}, "ratio: 95 is out of range"),
    ({"batch": 0}, "batch: 0 is out of range"),
    ({"batch": 1000}, "batch: 1000 is out of range"),
    ({"batch": 2.5}, "batch: expected a whole number"),
    ({"seed": -3}, "seed: -3 is out of range"),
    ({"features": []}, "at least one input feature"),
    ({"features": ["x3"]}, "unknown feature 'x3'"),
    ({"features": "x1"}, "features: expected a list"),
    ({"layers": [{"units": 2, "act": "tanh"}] * 7}, "7 hidden layers is too many; at most 6"),
    ({"layers": [{"units": 9, "act": "tanh"}]}, "9 neurons; allowed 1 to 8"),
    ({"layers": [{"units": 0, "act": "tanh"}]}, "0 neurons; allowed 1 to 8"),
    ({"layers": [{"units": "4", "act": "tanh"}]}, "neurons; allowed 1 to 8"),
    ({"layers": [{"units": 4, "act": "swish"}]}, "activation: unknown value 'swish'"),
    ({"layers": [{"units": 4, "act": "tanh", "bias": False}]}, "unknown keys ['bias']"),
    ({"layers": [4, 4]}, "must be an object"),
    ({"layers": "4,4"}, "expected a list"),
    ({"init": "ones"}, "init: unknown value 'ones'"),
    ({"dropout": 0.95}, "dropout: 0.95 is out of range"),
    ({"batchnorm": "yes"}, "batchnorm: expected true or false"),
    ({"batchnorm": True, "batch": 1}, "batchnorm: needs a batch size of at least 2"),
    ({"loss": "l1"}, "loss: unknown value 'l1'"),
    ({"dataset": "plane", "loss": "hinge"}, "loss: hinge needs a classification data set"),
    ({"lr": 0}, "lr: 0 is out of range; allowed [1e-05, 10.0]"),
    ({"lr": 100}, "lr: 100 is out of range"),
    ({"lr": "fast"}, "lr: expected a number"),
    ({"lr": None}, "lr: expected a number"),
    ({"lr": True}, "lr: expected a number"),
    ({"optimizer": "lbfgs"}, "optimizer: unknown value 'lbfgs'"),
    ({"reg": "l3"}, "reg: unknown value 'l3'"),
    ({"reg_rate": 11}, "reg_rate: 11 is out of range"),
    ({"reg_rate": -0.1}, "reg_rate: -0.1 is out of range"),
    ("everything", "config: expected an object"),
    ([1, 2], "config: expected an object"),
]


@pytest.mark.parametrize("update, expected", CONFIG_ERRORS, ids=[e for _, e in CONFIG_ERRORS])
def test_invalid_config_is_refused_and_changes_nothing(ws, update, expected):
    state, _ = ws.config(XOR_2441)
    assert expected in ws.error({"type": "config", "config": update})
    state2, frame = ws.config({})
    assert state2["config"] == state["config"] and state2["train"] == state["train"]


def test_a_link_keeps_its_valid_settings_and_names_the_dropped_ones(ws):
    ws.config({"noise": 30, "optimizer": "rmsprop"})
    link = {"dataset": "plane", "loss": "hinge", "layers": [{"units": 10000}], "lr": 0.1, "bogus": 1}
    state, _ = ws.ask({"type": "config", "config": link, "link": True})
    c = state["config"]
    assert c["dataset"] == "plane" and c["loss"] == "mse" and c["lr"] == 0.1
    assert c["noise"] == 0 and c["optimizer"] == "adam"  # a link starts from the defaults
    assert c["layers"] == pconfig.DEFAULT["layers"]
    assert len(state["dropped"]) == 3
    assert any(d.startswith("loss: hinge needs a classification") for d in state["dropped"])
    assert any("10000 neurons" in d for d in state["dropped"])
    assert any("'bogus'" in d for d in state["dropped"])
    state, _ = ws.ask({"type": "config", "config": {"dataset": "xor"}, "link": True})
    assert "dropped" not in state and state["config"]["lr"] == pconfig.DEFAULT["lr"]


def test_nan_and_infinite_numbers_are_refused(ws):
    for value in ("NaN", "Infinity", "-Infinity"):
        assert "lr:" in ws.error('{"type": "config", "config": {"lr": ' + value + "}}")


@pytest.mark.parametrize("key", ["lr", "seed", "noise", "batch", "reg_rate"])
def test_huge_integers_are_out_of_range_not_internal_errors(ws, key):
    huge = "1" + "0" * 400  # a JSON integer Python cannot turn into a float
    msg = ws.error('{"type": "config", "config": {"' + key + '": ' + huge + "}}")
    assert msg.startswith(f"{key}: ") and "out of range" in msg and "internal" not in msg
    assert len(msg) < 200
    msg = ws.error('{"type": "config", "config": {"' + key + '": -' + huge + "}}")
    assert "out of range" in msg
    msg = ws.error('{"type": "expr", "expr": "x", "values": {"x": ' + huge + "}}")
    assert msg.startswith("values: x must be a finite number")
    assert ws.ask({"type": "ping"}) == [{"type": "pong"}]


UPLOAD_ERRORS = [
    (None, "must be text"),
    (42, "must be text"),
    ("", "need at least 4 rows"),
    ("1,2,0\n2,3,1\n", "need at least 4 rows"),
    ("1,2\n3,4\n5,6\n7,8\n", "line 1 has 2 fields, expected 3"),
    ("x1,x2,label\n1,2,0\n1,b,1\n", "line 3 is not three numbers"),
    ("1,2,0\n2,3,1\n3,4,inf\n5,6,0\n", "not finite"),
    ("1,2,0\n2,3,0\n3,4,0\n5,6,0\n", "every label is the same"),
    ("\n".join(f"{i},{i},{i % 2}" for i in range(5002)), "more than 5000 rows"),
]


@pytest.mark.parametrize("csv, expected", UPLOAD_ERRORS, ids=[e for _, e in UPLOAD_ERRORS])
def test_invalid_upload(ws, csv, expected):
    state, _ = ws.config(XOR_2441)
    assert expected in ws.error({"type": "upload", "csv": csv})
    state2, _ = ws.config({})
    assert state2["config"]["dataset"] == "xor"


EXPR_ERRORS = [
    ({"expr": "__import__('os').system('echo pwned')"}, "only the functions"),
    ({"expr": "x.__class__"}, "Attribute is not allowed"),
    ({"expr": "(lambda: 1)()"}, "only the functions"),
    ({"expr": "[x for x in y]"}, "ListComp is not allowed"),
    ({"expr": "x if y else z"}, "IfExp is not allowed"),
    ({"expr": "x < y"}, "Compare is not allowed"),
    ({"expr": "open"}, "unknown name 'open'"),
    ({"expr": "exp(x, y)"}, "exp() takes 1 argument"),
    ({"expr": "max(x)"}, "max() takes 2 arguments"),
    ({"expr": "exp(x=1)"}, "only the functions"),
    ({"expr": "'a' * 3"}, "is not a number"),
    ({"expr": "True + x"}, "is not a number"),
    ({"expr": "1e400 * x"}, "too large"),
    ({"expr": "x +"}, "syntax error"),
    ({"expr": "x = 1"}, "syntax error"),
    ({"expr": ""}, "empty"),
    ({"expr": "x" + " + x" * 100}, "too long"),
    ({"expr": 12}, "expected text"),
    ({"expr": "x", "values": {"x": "one"}}, "x must be a finite number"),
    ({"expr": "x", "values": {"x": 1e9}}, "x must be a finite number"),
    ({"expr": "x", "values": {"w": 1}}, "unknown variable 'w'"),
    ({"expr": "x", "values": [1, 2]}, "expected an object"),
    ({"expr": "-" * 150 + "x"}, "too many"),
]


@pytest.mark.parametrize("msg, expected", EXPR_ERRORS, ids=[e for _, e in EXPR_ERRORS])
def test_invalid_expressions(ws, msg, expected):
    assert expected in ws.error({"type": "expr", **msg})


# -- sessions --------------------------------------------------------------------------------------------
def test_each_tab_has_its_own_session_and_errors_stay_there(app, client):
    registry = app.state.playground
    with client.websocket_connect("/ws") as c1, client.websocket_connect("/ws") as c2:
        a, b = WS(c1), WS(c2)
        assert a.hello["session"] != b.hello["session"] and len(registry.sessions) == 2
        a.config({"dataset": "spiral"})
        b.config(XOR_2441)
        a.error("garbage")
        a.error({"type": "config", "config": {"layers": "lots"}})
        state_b, _ = b.config({})
        assert state_b["config"]["dataset"] == "xor"
        state_a, _ = a.config({})
        assert state_a["config"]["dataset"] == "spiral"
    assert registry.sessions == {}  # cleaned up when the tabs close


def test_session_cleanup_while_playing(app, client):
    with client.websocket_connect("/ws") as conn:
        w = WS(conn)
        w.ask({"type": "play"})
        w.recv(("frame",))
    deadline = time.time() + 5
    while app.state.playground.sessions and time.time() < deadline:
        time.sleep(0.05)
    assert app.state.playground.sessions == {}


def test_session_limit():
    app = create_app(max_sessions=1)
    with TestClient(app) as client, client.websocket_connect("/ws") as c1:
        WS(c1)
        with client.websocket_connect("/ws") as c2:
            m = c2.receive_json()
            assert m["type"] == "error" and "server busy" in m["message"]
        c1.send_text('{"type": "ping"}')
        assert c1.receive_json() == {"type": "pong"}


def test_internal_error_is_reported_not_fatal(ws, monkeypatch):
    from chainrule.playground import server

    def boom(text, values=None):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(server.pexpr, "explore", boom)
    msg = ws.error({"type": "expr"})
    assert "internal error" in msg and "boom" in msg
    assert ws.ask({"type": "ping"}) == [{"type": "pong"}]


def test_main_refuses_missing_uvicorn(monkeypatch, capsys):
    import builtins

    from chainrule.playground import server

    real_import = builtins.__import__

    def fake_import(name, *args, **kwargs):
        if name == "uvicorn":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake_import)
    assert server.main() == 2
    assert "pip install" in capsys.readouterr().out


def test_a_long_step_does_not_stall_other_tabs(client):
    with client.websocket_connect("/ws") as c1, client.websocket_connect("/ws") as c2:
        a, b = WS(c1), WS(c2)
        a.config(XOR_2441)
        a.send({"type": "step", "n": 3000})
        t0 = time.time()
        assert b.ask({"type": "ping"}) == [{"type": "pong"}]
        pong_after = time.time() - t0
        frame = a.recv(("frame",))
        step_took = time.time() - t0
        assert frame["step"] == 3000
        assert pong_after < step_took / 2, (pong_after, step_took)


def test_cross_origin_pages_cannot_connect(client):
    from starlette.websockets import WebSocketDisconnect

    with pytest.raises(WebSocketDisconnect) as e:
        with client.websocket_connect("/ws", headers={"origin": "http://evil.example"}):
            pass
    assert e.value.code == 1008
    with client.websocket_connect("/ws", headers={"origin": "http://testserver"}) as conn:
        assert conn.receive_json()["type"] == "hello"


def test_only_loopback_host_names_when_serving_on_loopback():
    from chainrule.playground.server import LOOPBACK

    app = create_app(allowed_hosts=list(LOOPBACK))
    with TestClient(app, base_url="http://127.0.0.1:8000") as ok:
        assert ok.get("/").status_code == 200
    with TestClient(app, base_url="http://rebound.example:8000") as bad:
        assert bad.get("/").status_code == 400


def test_ipv6_loopback_serves_and_prints_a_bracketed_url():
    import os
    import socket
    import subprocess
    import sys
    import urllib.request
    from pathlib import Path

    with socket.socket(socket.AF_INET6) as s:
        s.bind(("::1", 0))
        port = s.getsockname()[1]
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(root)}
    cmd = [sys.executable, "-m", "chainrule.cli", "playground", "--host", "::1", "--port", str(port)]
    proc = subprocess.Popen(
        cmd, cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    try:
        line = proc.stdout.readline()
        assert f"http://[::1]:{port}/" in line, line
        deadline = time.time() + 20
        while True:
            try:
                with urllib.request.urlopen(f"http://[::1]:{port}/", timeout=2) as r:
                    assert r.status == 200 and "chainrule playground" in r.read().decode()
                break
            except OSError:
                assert time.time() < deadline and proc.poll() is None, "the server did not answer on [::1]"
                time.sleep(0.2)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_random_hostile_messages_never_break_the_session(ws):
    """300 seeded random messages (odd types, keys and values): each gets an answer, none crashes."""
    import random

    rnd = random.Random(0)
    values = [
        None,
        True,
        False,
        -1,
        0,
        1,
        3,
        8,
        9,
        10**12,
        -1e308,
        1e-9,
        0.5,
        2.5,
        "",
        "x",
        "tanh",
        "xor",
        "upload",
        "🙂" * 50,
        [],
        [1, 2],
        [{"units": 2, "act": "relu"}],
        {},
        {"a": {"b": {"c": []}}},
    ]
    keys = list(pconfig.DEFAULT) + ["type", "n", "unit", "csv", "expr", "values", "config", "edits", "link"]
    keys += ["__proto__", ""]
    types = [
        "config",
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
        "",
        "PLAY",
        None,
        7,
    ]

    def random_obj(depth=0):
        def value():
            return random_obj(depth + 1) if depth < 2 and rnd.random() < 0.2 else rnd.choice(values)

        return {rnd.choice(keys): value() for _ in range(rnd.randint(0, 4))}

    for _ in range(300):
        msg = random_obj()
        msg["type"] = rnd.choice(types)
        if msg["type"] == "config" and rnd.random() < 0.7:
            msg["config"] = random_obj()
        if msg["type"] == "step" and isinstance(msg.get("n"), int) and msg["n"] > 100:
            msg["n"] = 3  # keep the test quick
        replies = ws.ask(
            msg,
            until=("frame", "error")
            if msg["type"] == "pause"
            else ("frame", "error", "pong", "status", "export", "expr"),
        )
        assert replies[-1]["type"] in ("frame", "error", "pong", "status", "export", "expr"), replies[-1]
        assert not (replies[-1]["type"] == "error" and "internal error" in replies[-1]["message"]), (
            msg,
            replies[-1],
        )
    assert ws.ask({"type": "ping"}) == [{"type": "pong"}]
