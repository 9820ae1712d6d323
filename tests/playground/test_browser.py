"""End-to-end tests of the playground in real headless Chromium against a real server.

Each test opens its own tab (its own server session), drives the page like a person would, and
saves a screenshot under artifacts/playground/.
"""

from __future__ import annotations

import base64
import json
import os
import re
import subprocess
import sys
import time
from urllib.parse import parse_qs

import pytest

from tests.playground.conftest import ARTIFACTS, ROOT, ThreadServer, _free_port, new_context

pytestmark = pytest.mark.browser


def open_page(page, hash_: str = ""):
    page.goto(page.base_url + "/" + hash_)
    page.wait_for_function("window.playground && window.playground.frames > 0", timeout=20_000)
    return page


def frames(page) -> int:
    return page.evaluate("playground.frames")


def wait_frame_after(page, n: int, timeout: int = 10_000):
    page.wait_for_function(f"playground.frames > {n}", timeout=timeout)


def click_and_wait(page, selector: str):
    n = frames(page)
    page.click(selector)
    wait_frame_after(page, n)


def heat_pixels(page) -> str:
    return page.evaluate("document.getElementById('heatmap').toDataURL()")


def shot(page, name: str):
    page.screenshot(path=str(ARTIFACTS / name), full_page=True)


def config(page) -> dict:
    return page.evaluate("playground.config")


def test_xor_trains_live_and_heat_map_changes(page):
    open_page(page)
    click_and_wait(page, "[data-dataset=xor]")
    # default network is 4-2 tanh: grow the second layer to 4 neurons -> 2-4-4-1
    click_and_wait(page, ".add-neuron[data-layer='1']")
    click_and_wait(page, ".add-neuron[data-layer='1']")
    c = config(page)
    assert c["dataset"] == "xor" and c["features"] == ["x1", "x2"]
    assert c["layers"] == [{"units": 4, "act": "tanh"}, {"units": 4, "act": "tanh"}]
    assert page.locator(".hidden-layer").count() == 2
    assert page.locator(".hidden-layer[data-layer='1'] .neuron").count() == 4
    before = heat_pixels(page)
    start = time.time()
    page.click("#play")
    page.wait_for_function("playground.playing === true", timeout=5000)
    # frames arrive at >= 10 per second while training: the median gap between frames (robust to
    # a moment of CPU starvation on a busy machine) is at most 100 ms
    time.sleep(2.0)
    gaps = page.evaluate("""(() => {
        const now = performance.now(), t = playground.frameTimes.filter((x) => x > now - 2000);
        return t.slice(1).map((x, i) => x - t[i]).sort((a, b) => a - b); })()""")
    assert len(gaps) >= 10 and gaps[len(gaps) // 2] <= 100, gaps
    page.wait_for_function(
        "playground.frame && playground.frame.test_loss !== null && playground.frame.test_loss < 0.05",
        timeout=30_000 - int(1000 * (time.time() - start)),
    )
    reached = time.time() - start
    steps_per_s = page.evaluate("playground.frame.steps_per_s")
    page.click("#play")  # pause
    page.wait_for_function("playground.playing === false", timeout=5000)
    assert reached < 30
    assert page.inner_text("#test-loss") == f"{page.evaluate('playground.frame.test_loss'):.3f}"
    assert float(page.inner_text("#epoch")) > 0
    assert heat_pixels(page) != before
    assert page.evaluate("playground.history.length") > 5
    assert page.evaluate("playground.gradHistory.length") > 5  # the gradient-norm chart
    assert steps_per_s > 0
    shot(page, "xor-trained.png")
    trained = heat_pixels(page)
    page.check("#discretize")
    assert heat_pixels(page) != trained and "discretize=1" in page.url
    shot(page, "xor-discretized.png")
    page.uncheck("#discretize")
    assert heat_pixels(page) == trained
    assert not page.errors


def test_spiral_add_layers_and_activations(page):
    open_page(page)
    click_and_wait(page, "[data-dataset=spiral]")
    for _ in range(2):
        click_and_wait(page, "#add-layer")
    assert page.locator(".hidden-layer").count() == 4
    page.select_option(".act-select[data-layer='0']", "relu")
    wait_frame_after(page, frames(page) - 1)
    page.wait_for_function("playground.config.layers[0].act === 'relu'")
    for f in ("x1sq", "x2sq", "sinx1"):
        click_and_wait(page, f"#feature-{f}")
    c = config(page)
    assert len(c["layers"]) == 4 and c["layers"][0]["act"] == "relu"
    for _ in range(4):  # shift-click: one mini-batch
        n = frames(page)
        page.click("#step", modifiers=["Shift"])
        wait_frame_after(page, n)
    assert page.evaluate("playground.history.length") == 5  # the start and 4 steps
    assert page.evaluate("playground.frame.step") == 4
    page.select_option("#lr", "0.1")  # a live change: the curve goes on
    page.wait_for_function("playground.config.lr === 0.1")
    click_and_wait(page, "#step")  # a click: one epoch (250 training points, batches of 10)
    assert (
        page.evaluate("playground.history.length") >= 6 and page.evaluate("playground.frame.step") == 4 + 25
    )
    assert page.evaluate("playground.frame.epoch") == pytest.approx(4 * 10 / 250 + 1)
    assert c["features"] == ["x1", "x2", "x1sq", "x2sq", "sinx1"]
    assert "layers=4:relu,2:tanh,2:tanh,2:tanh" in page.url
    n = frames(page)
    page.click("#play")
    wait_frame_after(page, n + 5)
    page.click("#play")
    page.wait_for_function("playground.playing === false")
    # hovering a neuron shows its output in the big picture
    before = heat_pixels(page)
    page.hover("#neuron-0-0")
    assert heat_pixels(page) != before
    page.mouse.move(1, 1)
    assert heat_pixels(page) == before
    # the network diagram: a thumbnail per neuron, links between every pair of neighbours
    assert page.locator(".neuron canvas").count() == 7 + 4 + 2 + 2 + 2 + 1
    assert page.locator("#links path.link").count() == 5 * 4 + 4 * 2 + 2 * 2 + 2 * 2 + 2 * 1
    # removing layers works and the limits are enforced with a clear message
    click_and_wait(page, "#remove-layer")
    assert len(config(page)["layers"]) == 3
    for _ in range(3):
        click_and_wait(page, "#add-layer")
    page.click("#add-layer")
    page.wait_for_function("playground.lastError && playground.lastError.includes('at most 6')")
    shot(page, "spiral-layers.png")
    assert not page.errors


def test_zero_init_shows_identical_neurons(page):
    open_page(page, "#dataset=circle&layers=4:sigmoid,3:sigmoid&init=zeros&lr=0.03&optimizer=adam")
    assert config(page)["init"] == "zeros"
    for _ in range(3):
        click_and_wait(page, "#step")
    n = frames(page)
    page.click("#play")
    wait_frame_after(page, n + 8)
    page.click("#play")
    page.wait_for_function("playground.playing === false")
    f = page.evaluate("playground.frame")
    for layer in f["neurons"][1:-1]:
        assert len(set(layer)) == 1, "zero init: every neuron of a layer computes the same function"
        assert len(set(base64.b64decode(layer[0]))) > 1, "... which is not constant: they did learn"
    for w in f["weights"]:
        rows = {tuple(r) for r in w}
        assert len(rows) == 1, "zero init: all neurons of a layer keep identical incoming weights"
    # and the thumbnails drawn on the page are identical too
    pix = page.evaluate(
        "[0, 1, 2, 3].map(j => document.querySelector('#neuron-0-' + j + ' canvas').toDataURL())"
    )
    assert len(set(pix)) == 1
    shot(page, "zero-init.png")
    # with Xavier init the neurons differ
    page.select_option("#init", "xavier")
    page.wait_for_function("playground.config.init === 'xavier' && playground.frame")
    wait_frame_after(page, frames(page) - 1)
    f = page.evaluate("playground.frame")
    assert len(set(f["neurons"][1])) > 1


def test_export_and_run_script(page, tmp_path):
    open_page(page, "#dataset=xor&layers=4:tanh,4:tanh&lr=0.03&optimizer=adam")
    n = frames(page)
    page.click("#play")
    wait_frame_after(page, n + 10)
    page.click("#play")
    page.wait_for_function("playground.playing === false")
    page.wait_for_timeout(200)
    test_loss = page.evaluate("playground.frame.test_loss")
    page.click("#export")
    page.wait_for_selector("#export-links a.export-link >> nth=1")
    paths = []
    for i in range(2):
        with page.expect_download() as d:
            page.locator("#export-links a.export-link").nth(i).click()
        dl = d.value
        p = tmp_path / dl.suggested_filename
        dl.save_as(str(p))
        paths.append(p)
    assert sorted(p.name for p in paths) == ["playground_model.py", "playground_model.safetensors"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    out = subprocess.run(
        [sys.executable, "playground_model.py"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert out.returncode == 0, out.stderr
    m = re.search(r"test loss: ([0-9.]+)", out.stdout)
    assert m, out.stdout
    assert abs(float(m.group(1)) - test_loss) < 2e-3, (out.stdout, test_loss)
    assert "test accuracy" in out.stdout
    shot(page, "export.png")


def test_backprop_explorer_default_example(page):
    open_page(page)
    page.wait_for_selector("#expr-table tbody tr[data-name=f]")

    def cell(name, col):
        return page.inner_text(f"#expr-table tr[data-name={name}] td.{col}")

    assert cell("q", "valcell") == "3" and cell("f", "valcell") == "-12"
    assert page.text_content(".expr-node[data-name=q] .val") == "q = 3"
    assert all(cell(v, "gradcell") == "" for v in "xyzqf")  # forward pass only
    assert page.locator(".expr-local").count() == 4  # local derivatives on the edges
    page.click("#expr-step")  # the output first: df/df = 1
    assert cell("f", "gradcell") == "1" and cell("q", "gradcell") == ""
    assert "∂f/∂f = 1" in page.inner_text("#expr-info")
    page.click("#expr-step")  # then q = x + y: upstream × local
    assert "∂f/∂q = ∂f/∂f · ∂f/∂q = (1)·(-4) = -4" in page.inner_text("#expr-info")
    for _ in range(3):
        page.click("#expr-step")
    assert "∂f/∂y = ∂f/∂q · ∂q/∂y = (-4)·(1) = -4" in page.inner_text("#expr-info")
    assert [cell(v, "gradcell") for v in "xyz"] == ["-4", "-4", "3"]
    assert cell("q", "gradcell") == "-4"
    shot(page, "backprop-explorer.png")
    # a new expression and values; hostile input is refused with a message
    page.fill("#expr", "x * x + sin(y)")
    page.fill("#expr-x", "3")
    page.click("#expr-go")
    page.wait_for_function("playground.expr.expr === 'x * x + sin(y)'")
    page.click("#expr-all")
    assert cell("x", "gradcell") == "6"
    page.fill("#expr", "__import__('os').system('echo hi')")
    page.click("#expr-go")
    page.wait_for_function("playground.lastError && playground.lastError.startsWith('expression')")
    assert "only the functions" in page.inner_text("#expr-error")


def in_viewport(page, selector: str) -> bool:
    return page.evaluate(
        """(sel) => { const r = document.querySelector(sel).getBoundingClientRect();
           return r.height > 0 && r.top >= 0 && r.bottom <= innerHeight
             && r.left >= 0 && r.right <= innerWidth; }""",
        selector,
    )


def test_explorer_constants_have_no_backward_step_and_errors_show_beside_it(page):
    page.set_viewport_size({"width": 1366, "height": 768})
    open_page(page)
    page.wait_for_selector("#expr-table tbody tr[data-name=f]")
    page.locator("#expr").scroll_into_view_if_needed()
    for expr, steps in (("2**x", ["f", "x"]), ("x*3 + 1", ["f", "q", "x"])):
        page.fill("#expr", expr)
        page.click("#expr-go")
        page.wait_for_function(f"playground.expr && playground.expr.expr === {expr!r}")
        assert [
            page.evaluate(f"playground.expr.nodes[{i}].name") for i in page.evaluate("playground.expr.order")
        ] == steps
        infos = []
        for _ in steps:
            page.click("#expr-step")
            infos.append(page.inner_text("#expr-info"))
        assert all(" =  = " not in t and "∂f/∂2" not in t and "∂f/∂3" not in t for t in infos), infos
        assert "done" in infos[-1]
    assert page.inner_text("#expr-table tr[data-name=x] td.gradcell") == "3"
    # an error: shown beside the explorer, in sight, and the old graph is gone
    page.fill("#expr", "x +")
    page.click("#expr-go")
    page.wait_for_function("document.getElementById('expr-error').textContent.includes('syntax error')")
    assert in_viewport(page, "#expr-error")
    assert (
        page.locator("#expr-graph .expr-node").count() == 0
        and page.locator("#expr-table tbody tr").count() == 0
    )
    page.fill("#expr-y", "")
    page.click("#expr-go")
    assert "y must be a number" in page.inner_text("#expr-error")
    # the next success clears it
    page.fill("#expr-y", "2")
    page.fill("#expr", "x * y")
    page.click("#expr-go")
    page.wait_for_function("playground.expr && playground.expr.expr === 'x * y'")
    assert page.inner_text("#expr-error") == "" and page.locator("#expr-graph .expr-node").count() == 3
    assert page.inner_text("#message") == ""
    shot(page, "explorer-error-cleared.png")
    assert not page.errors


def test_url_holds_the_whole_state(page, browser):
    open_page(page)
    click_and_wait(page, "[data-dataset=spiral]")
    page.locator("#noise").fill("20")
    page.locator("#noise").dispatch_event("change")
    page.wait_for_function("playground.config.noise === 20")
    click_and_wait(page, "#add-layer")
    page.select_option("#optimizer", "rmsprop")
    page.wait_for_function("playground.config.optimizer === 'rmsprop'")
    page.select_option("#lr", "0.01")
    page.wait_for_function("playground.config.lr === 0.01")
    page.check("#show-test")
    url, cfg, train = page.url, config(page), page.evaluate("playground.train")
    q = parse_qs(url.split("#", 1)[1])
    assert q["dataset"] == ["spiral"] and q["noise"] == ["20"] and q["optimizer"] == ["rmsprop"]
    # the same link in a new tab (new session) reloads identically
    ctx = new_context(browser, viewport={"width": 1400, "height": 1050})
    other = ctx.new_page()
    try:
        other.base_url = page.base_url
        open_page(other, "#" + url.split("#", 1)[1])
        other.wait_for_function("playground.config.optimizer === 'rmsprop'")
        assert other.evaluate("playground.config") == cfg
        assert other.evaluate("playground.train") == train
        assert other.is_checked("#show-test")
        assert other.url == url
    finally:
        ctx.close()


def test_a_bad_setting_in_a_link_is_dropped_and_the_rest_kept(page, browser):
    link = "#dataset=xor&noise=15&layers=10000:tanh&optimizer=sgd"
    page.goto(page.base_url + "/" + link)
    page.wait_for_function("playground.frames > 0", timeout=20_000)
    page.wait_for_function("playground.config.dataset === 'xor'")
    fresh = config(page)
    assert fresh["noise"] == 15 and fresh["optimizer"] == "sgd"
    assert fresh["layers"] == [{"units": 4, "act": "tanh"}, {"units": 2, "act": "tanh"}]
    msg = page.inner_text("#message")
    assert "10000 neurons; allowed 1 to 8" in msg and "dropped" in msg
    # the same link in a tab that is already open (other settings) gives the same result
    other = new_context(browser).new_page()
    try:
        other.base_url = page.base_url
        open_page(other, "#dataset=spiral&noise=30&optimizer=rmsprop&lr=0.3")
        other.wait_for_function("playground.config.dataset === 'spiral'")
        other.evaluate(f"location.hash = {link!r}")
        other.wait_for_function("playground.config.dataset === 'xor'")
        assert other.evaluate("playground.config") == fresh
        assert "10000 neurons" in other.inner_text("#message")
    finally:
        other.context.close()
    assert not page.errors


def test_multiclass_regression_and_upload(page, browser, tmp_path):
    open_page(page)
    click_and_wait(page, "[data-dataset=blobs]")
    assert page.evaluate("playground.classes") == 3
    n = frames(page)
    page.click("#play")
    wait_frame_after(page, n + 5)
    page.click("#play")
    page.wait_for_function("playground.playing === false")
    assert page.evaluate("!!playground.frame.heat_cls")
    assert page.locator(".output-layer .neuron").count() == 3  # softmax: one per class
    assert page.locator("#links path.link").count() == 2 * 4 + 4 * 2 + 2 * 3
    shot(page, "blobs.png")
    click_and_wait(page, "[data-dataset=plane]")
    assert config(page)["loss"] == "mse" and page.evaluate("playground.task") == "regression"
    # upload a CSV of points
    csv = tmp_path / "points.csv"
    rows = [f"{i % 7 - 3},{i % 5 - 2},{int(i % 7 > 3)}" for i in range(60)]
    csv.write_text("x1,x2,label\n" + "\n".join(rows))
    n = frames(page)
    page.set_input_files("#upload", str(csv))
    wait_frame_after(page, n)
    assert config(page)["dataset"] == "upload" and config(page)["loss"] == "cross_entropy"
    assert "60 points" in page.inner_text("#upload-note")
    page.wait_for_function("location.hash.includes('csv=')")
    # small uploads travel in the link too
    url, train = page.url, page.evaluate("playground.train")
    ctx = new_context(browser)
    other = ctx.new_page()
    try:
        other.base_url = page.base_url
        open_page(other, "#" + url.split("#", 1)[1])
        other.wait_for_function("playground.config.dataset === 'upload'")
        assert other.evaluate("playground.train") == train
    finally:
        ctx.close()
    bad = tmp_path / "bad.csv"
    bad.write_text("1,2\n3,4\n")
    page.set_input_files("#upload", str(bad))
    page.wait_for_function("playground.lastError && playground.lastError.startsWith('upload')")
    assert "expected 3" in page.inner_text("#message")
    assert not page.errors


def test_closing_a_training_tab_logs_no_traceback(browser, server_url, server_log):
    start = server_log.stat().st_size
    for _ in range(2):
        ctx = new_context(browser)
        tab = ctx.new_page()
        tab.base_url = server_url
        open_page(tab)
        tab.click("#play")
        wait_frame_after(tab, frames(tab) + 3)
        ctx.close()  # the tab goes away mid-training
    time.sleep(1.0)
    with open(server_log) as f:
        f.seek(start)
        logged = f.read()
    assert "Traceback" not in logged and "WebSocketDisconnect" not in logged, logged[-2000:]


def _points_csv(n: int, labels: int = 2) -> str:
    return "\n".join(
        f"{(i * 37 % 997) / 99.7 - 5:.3f},{(i * 53 % 991) / 99.1 - 5:.3f},{i % labels}" for i in range(n)
    )


def test_a_large_csv_in_a_link_stays_in_the_link(page):
    csv = _points_csv(700)
    packed = csv.replace("\n", "|")
    assert len(packed) > 8000
    open_page(page, "#dataset=upload&csv=" + packed)
    page.wait_for_function("playground.config.dataset === 'upload'")
    page.wait_for_function("location.hash.includes('csv=')")
    assert "700 points" in page.inner_text("#upload-note")
    assert page.evaluate("new URLSearchParams(location.hash.slice(1)).get('csv')") == packed
    page.reload()
    page.wait_for_function("window.playground && playground.frames > 0", timeout=20_000)
    page.wait_for_function("playground.config.dataset === 'upload'")
    assert "upload the CSV again" not in page.inner_text("#message")
    assert page.evaluate("playground.train.length + playground.test.length") == 700
    assert not page.errors


def test_large_upload_and_many_integer_labels_are_explained_at_load_time(page, tmp_path):
    open_page(page)
    big = tmp_path / "big.csv"
    big.write_text(_points_csv(700))
    n = frames(page)
    page.set_input_files("#upload", str(big))
    wait_frame_after(page, n)
    page.wait_for_function("playground.config.dataset === 'upload'")
    msg = page.inner_text("#message")
    assert "too large for a link" in msg and "needs the file again" in msg
    assert "csv=" not in page.url
    many = tmp_path / "many.csv"
    many.write_text(_points_csv(90, labels=9))
    n = frames(page)
    page.set_input_files("#upload", str(many))
    wait_frame_after(page, n)
    page.wait_for_function("playground.task === 'regression'")
    msg = page.inner_text("#message")
    assert "9 different whole numbers" in msg and "regression" in msg
    assert page.get_attribute("#message", "class") == "warn"
    assert not page.errors


def test_sliders_span_the_link_ranges_and_keep_fast_key_presses(page):
    open_page(page, "#dataset=circle&batch=256")
    page.wait_for_function("playground.config.batch === 256")
    assert page.input_value("#batch") == "256" and page.inner_text("#batch-val") == "256"
    assert page.get_attribute("#batch", "max") == "256" and page.get_attribute("#noise", "max") == "50"
    page.focus("#batch")
    page.keyboard.press("ArrowLeft")
    page.wait_for_function("playground.config.batch === 255")
    # ten quick presses on Noise (step 5): every one counts, none is undone by a late reply
    page.focus("#noise")
    for _ in range(10):
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(60)
    page.wait_for_function("playground.config.noise === 50")
    page.wait_for_timeout(400)
    assert page.input_value("#noise") == "50" and page.inner_text("#noise-val") == "50"
    assert config(page)["noise"] == 50 and "noise=50" in page.url
    assert not page.errors


def _message(page) -> str:
    return page.inner_text("#message")


def test_busy_server_says_why_keeps_the_settings_and_reconnects(browser):
    from chainrule.playground.server import create_app

    port = _free_port()
    link = "#dataset=xor&optimizer=sgd&lr=0.1&init=he"
    ctx_a, ctx_b = new_context(browser), new_context(browser)
    try:
        with ThreadServer(create_app(max_sessions=1), port) as srv:
            a, b = ctx_a.new_page(), ctx_b.new_page()
            a.base_url = b.base_url = srv.url
            open_page(a, link)
            b.errors = []
            b.on("pageerror", lambda e: b.errors.append(str(e)))
            b.goto(srv.url + "/" + link)
            b.wait_for_function(
                "document.getElementById('message').textContent.includes('server busy')", timeout=45_000
            )
            b.wait_for_timeout(1200)  # a retry or two, each refused again
            assert "server busy" in _message(b) and "reconnecting in" in _message(b)
            assert "connection closed" not in _message(b)
            # no made-up settings while disconnected: the page's defaults, and nothing can be changed
            assert b.input_value("#lr") == "0.03" and b.input_value("#optimizer") == "adam"
            assert b.is_disabled("#play") and b.is_disabled("#lr")
            ctx_a.close()  # a tab closes: the waiting one gets in by itself
            b.wait_for_function("playground.frames > 0", timeout=45_000)  # the backoff may wait 10 s
            assert (
                config(b)["optimizer"] == "sgd" and config(b)["init"] == "he" and not b.is_disabled("#play")
            )
            b.select_option("#lr", "0.3")
            b.wait_for_function("playground.config.lr === 0.3")
        # the server stops: the page says so and keeps the last settings on show
        b.wait_for_function("!playground.connected", timeout=20_000)
        assert "reconnecting in" in _message(b)
        assert b.input_value("#lr") == "0.3" and b.input_value("#init") == "he" and b.is_disabled("#lr")
        n = frames(b)
        with ThreadServer(create_app(), port):  # ... and a restarted server is found again
            b.wait_for_function(f"playground.connected && playground.frames > {n}", timeout=45_000)
            c = config(b)
            assert (c["dataset"], c["optimizer"], c["lr"], c["init"]) == ("xor", "sgd", 0.3, "he")
            assert "reconnected" in _message(b)
            assert not b.errors
    finally:
        ctx_a.close()
        ctx_b.close()


def test_zeros_init_explains_the_symmetry_problem_with_a_lesson_link(page):
    open_page(page, "#dataset=circle&layers=4:tanh,2:tanh&init=zeros")
    page.wait_for_function("playground.config.init === 'zeros'")
    note = page.inner_text("#net-note")
    assert "symmetry problem" in note and "exactly zero" in note
    assert page.get_attribute("#net-note a", "href") == "/lessons/03_symmetry.md"
    assert page.is_visible("#net-note")
    shot(page, "zeros-note.png")
    page.select_option(".act-select[data-layer='0']", "sigmoid")
    page.wait_for_function("playground.config.layers[0].act === 'sigmoid'")  # the diagram is rebuilt
    page.select_option(".act-select[data-layer='1']", "sigmoid")
    page.wait_for_function("playground.config.layers.every((l) => l.act === 'sigmoid')")
    assert "as one neuron" in page.inner_text("#net-note")
    page.select_option("#init", "xavier")
    page.wait_for_function("playground.config.init === 'xavier'")
    assert page.inner_text("#net-note") == "" and not page.is_visible("#net-note")
    assert not page.errors


def test_heat_map_labels_class_colours_and_no_csp_violations(browser, server_url):
    ctx = browser.new_context(viewport={"width": 1400, "height": 1050})  # the policy enforced
    try:
        _labels_colours_csp(ctx.new_page(), server_url)
    finally:
        ctx.close()


def _labels_colours_csp(page, server_url):
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.add_init_script(
        "window.cspViolations = [];"
        "document.addEventListener('securitypolicyviolation',"
        " (e) => cspViolations.push(e.violatedDirective));"
    )
    # function predicates: Playwright's string ones are eval'd, which the policy forbids
    page.goto(server_url + "/#dataset=blobs&layers=4:tanh")
    page.wait_for_function("() => window.playground && playground.classes === 3 && playground.frames > 0")
    n = frames(page)
    page.click("#step")
    page.wait_for_function(f"() => playground.frames > {n}")
    labels = page.evaluate("playground.axisLabels")
    texts = [lab["text"] for lab in labels]
    assert "x₁ −6" in texts and "x₂ 6" in texts and len(texts) == 13  # 7 along x₁, 6 along x₂
    # every label lies wholly inside the picture, on a light box whatever the colour beneath
    light = page.evaluate("""() => {
        const ctx = document.getElementById('heatmap').getContext('2d');
        return playground.axisLabels.map((l) => {
            const d = ctx.getImageData(Math.round(l.x) + 1, Math.round(l.y) + 1, 1, 1).data;
            const inside = l.x >= 0 && l.y >= 0 && l.x + l.w <= 300 && l.y + l.h <= 300;
            return [inside, 0.3 * d[0] + 0.59 * d[1] + 0.11 * d[2]];
        }); }""")
    assert all(inside and lum > 190 for inside, lum in light), light
    # each class's output picture uses its own colour: class 0 orange (no blue), class 1 blue
    hues = page.evaluate("""() => [0, 1].map((k) => {
        const cv = document.querySelector('#neuron-out-' + k + ' canvas'), d = cv.getContext('2d')
            .getImageData(0, 0, cv.width, cv.height).data;
        let orange = 0, blue = 0;
        for (let i = 0; i < d.length; i += 4) {
            if (d[i] > d[i + 2] + 40) orange++;
            if (d[i + 2] > d[i] + 40) blue++;
        }
        return [orange, blue]; })""")
    assert hues[0][0] > 0 and hues[0][1] == 0, hues
    assert hues[1][1] > 0 and hues[1][0] == 0, hues
    assert page.evaluate("cspViolations") == []
    shot(page, "blobs-labels.png")
    assert not page.errors


def test_hover_a_link_for_its_weight_click_to_edit_weights_and_biases(page):
    open_page(page, "#dataset=xor&layers=4:tanh,4:tanh")
    # the point halfway along one link, and the link the mouse finds there (links cross)
    k, j, i, x, y = page.evaluate("""() => {
        const p = document.querySelector('.link-hit[data-k="1"][data-j="2"][data-i="3"]');
        const pt = p.getPointAtLength(p.getTotalLength() / 2), m = p.getScreenCTM();
        const x = m.a * pt.x + m.e, y = m.d * pt.y + m.f, hit = document.elementFromPoint(x, y);
        return [+hit.dataset.k, +hit.dataset.j, +hit.dataset.i, x, y]; }""")
    page.mouse.move(x, y)
    page.wait_for_selector("#hovercard:not([hidden])")
    w = page.evaluate(f"playground.frame.weights[{k}][{j}][{i}]")
    card = page.inner_text("#hovercard")
    assert card.startswith(f"weight {page.evaluate(f'fmt({w})')}:") and "→" in card
    page.mouse.click(x, y)
    page.wait_for_selector("#editor:not([hidden])")
    assert page.evaluate("document.activeElement.id") == f"edit-w-{i}"
    page.fill(f"#edit-w-{i}", "2.5")
    page.keyboard.press("Tab")
    page.wait_for_function(f"playground.frame.weights[{k}][{j}][{i}] === 2.5")
    assert f"edits={k}.{j}.{i}:2.5" in page.url
    page.keyboard.press("Escape")
    # a bias by keyboard: focus a neuron, Enter, type, Tab
    page.focus("#neuron-0-1")
    page.keyboard.press("Enter")
    page.wait_for_selector("#editor:not([hidden])")
    assert page.evaluate("document.activeElement.id") == "edit-bias"
    page.keyboard.type("-0.5")
    page.keyboard.press("Tab")
    page.wait_for_function("playground.frame.biases[0][1] === -0.5")
    page.keyboard.press("Escape")
    assert page.is_hidden("#editor") and page.evaluate("document.activeElement.id") == "neuron-0-1"
    assert "0.1:-0.5" in page.url
    shot(page, "edited.png")
    # the link reproduces the edited, untrained network
    page.reload()
    page.wait_for_function("window.playground && playground.frames > 0", timeout=20_000)
    page.wait_for_function(
        f"playground.frame.weights[{k}][{j}][{i}] === 2.5 && playground.frame.biases[0][1] === -0.5"
    )
    # once trained, an edit takes effect but is not recorded in the link
    n = frames(page)
    page.click("#step", modifiers=["Shift"])
    wait_frame_after(page, n)
    url = page.url
    page.click("#neuron-1-0")
    assert "not kept in the link" in page.inner_text("#editor-note")
    page.fill("#edit-bias", "1.25")
    page.keyboard.press("Tab")
    page.wait_for_function("playground.frame.biases[1][0] === 1.25")
    assert page.url == url
    assert not page.errors


def test_data_set_buttons_show_pictures_and_the_problem_type(page):
    open_page(page)
    colours = page.evaluate("""() => Object.fromEntries(
        [...document.querySelectorAll('[data-dataset] canvas')].map((cv) => {
            const d = cv.getContext('2d').getImageData(0, 0, cv.width, cv.height).data, seen = new Set();
            for (let i = 0; i < d.length; i += 4) seen.add(d[i] + ',' + d[i + 1] + ',' + d[i + 2]);
            return [cv.parentElement.dataset.dataset, seen.size]; }))""")
    names = ["circle", "xor", "gauss", "spiral", "blobs", "spiral3", "plane", "multigauss"]
    assert sorted(colours) == sorted(names)
    assert all(colours[n] >= 3 for n in names), colours  # white and at least two kinds of point
    assert colours["multigauss"] > 10  # regression targets: a range of colours
    assert page.inner_text("#problem-type") == "Problem type: classification (2 classes)"
    click_and_wait(page, "[data-dataset=blobs]")
    assert page.inner_text("#problem-type") == "Problem type: classification (3 classes)"
    click_and_wait(page, "[data-dataset=plane]")
    assert page.inner_text("#problem-type") == "Problem type: regression (predict a number)"
    assert page.get_attribute("#datasets", "aria-labelledby") == "cls-head"
    assert not page.errors


DOCS_IMAGES = ROOT / "docs" / "images"


@pytest.mark.parametrize("width, height", [(800, 1000), (1366, 768), (1920, 1080)])
def test_layout_fits_the_width_and_screenshots(page, width, height):
    """No sideways scrolling at any width; at 1366x768 the training controls, the output and Export
    are in the first screen.  CHAINRULE_UPDATE_SCREENSHOTS=1 writes the docs' screenshots."""
    page.set_viewport_size({"width": width, "height": height})
    open_page(
        page, "#dataset=spiral&layers=8:tanh,8:tanh,4:tanh&features=x1,x2,x1sq,x2sq,sinx1,sinx2&showTest=1"
    )
    for _ in range(3):
        click_and_wait(page, "#step")
    assert page.evaluate("document.documentElement.scrollWidth") <= width
    for sel in ("#play", "#step", "#heatmap", "#export", ".jump"):
        if width >= 1366 or sel != "#heatmap":
            assert in_viewport(page, sel), (sel, width)
    url = page.url
    page.click(".jump")  # the explorer is one click away (and the link keeps the settings)
    assert in_viewport(page, "#expr") and page.evaluate("document.activeElement.id") == "expr"
    assert page.url == url
    page.evaluate("window.scrollTo(0, 0)")
    name = f"playground-{width}.png"
    if os.environ.get("CHAINRULE_UPDATE_SCREENSHOTS"):
        from PIL import Image

        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(DOCS_IMAGES / name), full_page=True)
        # 256 colours: a third of the size, no visible change for this page
        Image.open(DOCS_IMAGES / name).convert("RGB").quantize(256).save(DOCS_IMAGES / name, optimize=True)
    shot(page, name)
    assert not page.errors


def axe_violations(page, axe_source) -> list[str]:
    """The serious and critical accessibility violations axe-core finds on the page as it is."""
    if not page.evaluate("!!window.axe"):
        page.add_script_tag(content=axe_source)
    found = page.evaluate("axe.run(document, {resultTypes: ['violations']})")["violations"]
    return [
        f"{v['id']}: {v['help']} at {[n['target'] for n in v['nodes']][:5]}"
        for v in found
        if v["impact"] in ("serious", "critical")
    ]


def test_every_control_by_keyboard_and_no_serious_accessibility_violations(page, axe_source):
    open_page(page, "#dataset=blobs&layers=4:tanh,2:tanh")
    assert axe_violations(page, axe_source) == []
    # Tab reaches every kind of control, the feature toggles and the neurons included
    seen = set()
    page.focus("body")
    for _ in range(90):
        page.keyboard.press("Tab")
        seen.add(page.evaluate("document.activeElement.id || document.activeElement.dataset.dataset || ''"))
    wanted = {"reset", "play", "step", "lr", "optimizer", "init", "batchnorm", "circle", "plane", "noise"}
    wanted |= {"batch", "regenerate", "upload", "add-layer", "feature-x1", "feature-sinx2", "neuron-0-0"}
    wanted |= {"neuron-1-1", "neuron-out-2", "export", "show-test", "expr", "expr-go", "expr-step"}
    assert wanted <= seen, wanted - seen
    # a feature toggles with Space and Enter, and keeps the focus
    page.focus("#feature-x1sq")
    assert page.get_attribute("#feature-x1sq", "aria-checked") == "false"
    page.keyboard.press("Space")
    page.wait_for_function("playground.config.features.includes('x1sq')")
    assert page.evaluate("document.activeElement.id") == "feature-x1sq"
    assert page.get_attribute("#feature-x1sq", "aria-checked") == "true"
    page.keyboard.press("Enter")
    page.wait_for_function("!playground.config.features.includes('x1sq')")
    # play and pause by keyboard
    page.focus("#play")
    page.keyboard.press("Enter")
    page.wait_for_function("playground.playing === true")
    page.keyboard.press("Enter")
    page.wait_for_function("playground.playing === false")
    # the weight editor, the explorer with a graph, a zeros-init note: still no serious violations
    page.focus("#neuron-0-0")
    page.keyboard.press("Enter")
    page.wait_for_selector("#editor:not([hidden])")
    assert axe_violations(page, axe_source) == []
    page.keyboard.press("Escape")
    page.select_option("#init", "zeros")
    page.wait_for_function("playground.config.init === 'zeros'")
    page.click("#expr-all")
    assert axe_violations(page, axe_source) == []
    assert not page.errors


def test_side_by_side_two_networks_on_one_loss_chart(page):
    open_page(page, "#dataset=spiral&layers=6:tanh,6:tanh&optimizer=adam&lr=0.03&b_optimizer=sgd")
    page.wait_for_function("playground.frame.b && playground.frame.b.compare.optimizer === 'sgd'")
    assert page.evaluate("document.getElementById('compare').open")
    assert page.input_value("#b-optimizer") == "sgd" and page.input_value("#b-lr") == ""
    for _ in range(2):
        click_and_wait(page, "#step")
    f = page.evaluate("playground.frame")
    assert f["b"]["step"] == f["step"] == 50 and f["b"]["test_loss"] != f["test_loss"]
    assert page.evaluate("playground.history.every((p) => p.length === 5)")
    assert "B (optimizer sgd): test loss" in page.inner_text("#b-result")
    red = page.evaluate("""() => {
        const cv = document.getElementById('loss-chart'), d = cv.getContext('2d')
            .getImageData(0, 0, cv.width, cv.height).data;
        let n = 0;
        for (let i = 0; i < d.length; i += 4) if (d[i + 3] > 0 && d[i] > 150 && d[i + 1] < 120) n++;
        return n; }""")
    assert red > 20  # B's dashed curves are on the chart
    page.select_option("#b-batchnorm", "1")
    page.wait_for_function("playground.frame.b && playground.frame.b.compare.batchnorm === true")
    assert "b_optimizer=sgd" in page.url and "b_batchnorm=1" in page.url
    n = frames(page)
    page.click("#play")
    wait_frame_after(page, n + 4)
    page.click("#play")
    page.wait_for_function("playground.playing === false")
    f = page.evaluate("playground.frame")
    assert f["b"]["step"] == f["step"] > 0
    shot(page, "side-by-side.png")
    page.reload()
    page.wait_for_function("window.playground && playground.frame && playground.frame.b", timeout=20_000)
    assert page.evaluate("playground.frame.b.compare") == {"optimizer": "sgd", "batchnorm": True}
    for sel in ("#b-optimizer", "#b-batchnorm"):
        page.select_option(sel, "")
    page.wait_for_function("playground.frame && !playground.frame.b && !location.hash.includes('b_')")
    assert page.inner_text("#b-result") == ""
    assert not page.errors


PRESETS = {
    "symmetry": ("03_symmetry.md", {"init": "zeros", "dataset": "circle"}, {"init": "xavier"}),
    "vanishing": ("05_vanishing_gradients.md", {"dataset": "circle", "optimizer": "sgd"}, None),
    "xor": (
        "01_logistic_xor.md",
        {"dataset": "xor", "layers": []},
        {"layers": [{"units": 4, "act": "tanh"}]},
    ),
    "regularisation": (
        "07_regularisation.md",
        {"dataset": "gauss", "noise": 50},
        {"reg": "l2", "reg_rate": 0.01},
    ),
    "optimizers": ("06_optimizers.md", {"dataset": "spiral", "optimizer": "sgd"}, {"optimizer": "adam"}),
}


def js_json(v) -> str:
    """A JS string literal of ``v`` as JSON.stringify writes it (no spaces)."""
    return json.dumps(json.dumps(v, separators=(",", ":")))


def test_lesson_presets_set_up_each_claim_live_with_a_lesson_link(page):
    open_page(page)
    for key, (lesson, settings, compare) in PRESETS.items():
        page.select_option("#preset", key)
        page.wait_for_function("playground.playing === true")
        cond = " && ".join(
            f"JSON.stringify(playground.config.{k}) === {js_json(v)}" for k, v in settings.items()
        )
        page.wait_for_function(f"playground.frame && {cond}")
        if compare is None:
            page.wait_for_function("playground.frame && !playground.frame.b")
        else:
            page.wait_for_function(
                f"playground.frame.b && JSON.stringify(playground.frame.b.compare) === {js_json(compare)}"
            )
        assert page.get_attribute("#lesson-link", "href") == f"/lessons/{lesson}"
        text = page.inner_text("#lesson-text")
        assert len(re.findall(r"[.!?](\s|$)", text)) == 2, text  # two sentences
        if key == "vanishing":  # the first layer's gradient, orders of magnitude below the output's
            wait_frame_after(page, frames(page) + 3)
            g = page.evaluate("playground.frame.grad_norms")
            assert len(g) == 7 and g[0] * 100 < g[-1], g
            shot(page, "preset-vanishing.png")
        if key == "regularisation":
            assert page.is_checked("#show-test")
        page.click("#play")
        page.wait_for_function("playground.playing === false")
    page.click("#lesson-close")
    assert page.is_hidden("#lesson-box") and page.input_value("#preset") == ""
    assert not page.errors
