/* chainrule playground: the page.  Vanilla JS, no build step.
 *
 * The server (chainrule/playground/server.py) owns the data, the network and the training; this
 * page sends the configuration and button presses over a WebSocket and draws the frames it gets.
 * The whole configuration lives in the URL hash, so a link reproduces a setup exactly.
 */
"use strict";

const FEATURES = ["x1", "x2", "x1sq", "x2sq", "x1x2", "sinx1", "sinx2"];
const FEATURE_LABELS = { x1: "x₁", x2: "x₂", x1sq: "x₁²", x2sq: "x₂²", x1x2: "x₁x₂", sinx1: "sin(x₁)", sinx2: "sin(x₂)" };
const ACTIVATIONS = { relu: "ReLU", tanh: "Tanh", sigmoid: "Sigmoid", linear: "Linear", leaky_relu: "Leaky ReLU", elu: "ELU", softplus: "Softplus" };
const REGRESSION = ["plane", "multigauss"];
const NEG = [245, 147, 34], POS = [8, 119, 189], MID = [232, 234, 235];
const CLASS_COLORS = [[245, 147, 34], [8, 119, 189], [46, 160, 67], [142, 68, 173], [192, 57, 43], [22, 160, 133], [127, 140, 141], [211, 84, 0]];
const HASH_KEYS = ["dataset", "noise", "ratio", "batch", "seed", "features", "layers", "init", "dropout", "batchnorm",
  "loss", "lr", "optimizer", "reg", "reg_rate"];

const MAX_HASH_CSV = 8000;       // uploaded points up to this size travel in the link
const RECONNECT_FIRST_S = 0.5, RECONNECT_MAX_S = 10;   // reconnect backoff: 0.5, 1, 2, ... 10 s
const SLIDER_REST_MS = 250;      // a slider's value is sent once it has not moved for this long
const $ = (id) => document.getElementById(id);
const LESSONS = {                // the lesson pages (docs/lessons/, served by the playground)
  symmetry: "/lessons/03_symmetry.md", vanishing: "/lessons/05_vanishing_gradients.md",
  xor: "/lessons/01_logistic_xor.md", regularisation: "/lessons/07_regularisation.md", optimizers: "/lessons/06_optimizers.md",
};

// uploaded CSV text <-> one line for the URL ("x1,x2,label|x1,x2,label|...")
function packCsv(text) {
  return text.split(/\r?\n/).map((s) => s.trim()).filter((s) => s && !s.startsWith("#")).join("|");
}

// one-click setups that show a lecture's claim live (B: a second network side by side)
const PRESETS = {
  symmetry: {
    title: "Symmetry: zeros initialisation", lesson: LESSONS.symmetry,
    link: "dataset=circle&layers=4:tanh,4:tanh&init=zeros&b_init=xavier",
    text: "Network A starts with every weight at zero, so all neurons of a layer compute the same function, get the same gradient and stay identical — with tanh the gradients are even exactly zero and A never learns. " +
      "B is the same network with Xavier initialisation: random starting weights break the symmetry and it learns the circle at once.",
  },
  vanishing: {
    title: "Vanishing gradients: six sigmoid layers", lesson: LESSONS.vanishing,
    link: "dataset=circle&layers=6:sigmoid,6:sigmoid,6:sigmoid,6:sigmoid,6:sigmoid,6:sigmoid&optimizer=sgd&lr=0.3&init=xavier",
    text: "The backward pass multiplies by the sigmoid's slope (at most 0.25) once per layer, so the first layer's gradient is thousands of times smaller than the output's: read it in the gradient-norm chart (log scale). " +
      "The first layers hardly move and the network barely learns; try ReLU, Adam or batch norm.",
  },
  xor: {
    title: "XOR needs a hidden layer", lesson: LESSONS.xor,
    link: "dataset=xor&layers=&b_layers=4:tanh",
    text: "Network A has no hidden layer: it is logistic regression, one straight line, and no line separates XOR's opposite quadrants, so it stays near 50% accuracy. " +
      "B adds one hidden layer of four tanh neurons and bends the boundary around the quadrants.",
  },
  regularisation: {
    title: "Regularisation: noisy data, a big network", lesson: LESSONS.regularisation,
    link: "dataset=gauss&noise=50&ratio=20&features=x1,x2,x1sq,x2sq,x1x2,sinx1,sinx2&layers=8:relu,8:relu,8:relu&showTest=1&b_reg=l2&b_reg_rate=0.01",
    text: "A hundred noisy training points and a big network: A learns the noise, its training loss keeps falling while its test loss climbs — overfitting. " +
      "B is the same network with L2 regularisation, which keeps the weights small and the boundary smooth, and its test loss stays low.",
  },
  optimizers: {
    title: "Optimizers: SGD against Adam on the spiral", lesson: LESSONS.optimizers,
    link: "dataset=spiral&features=x1,x2,x1sq,x2sq,sinx1,sinx2&layers=8:tanh,8:tanh&optimizer=sgd&lr=0.03&b_optimizer=adam",
    text: "A is plain SGD, one step size for every weight, crawling along the long, narrow valleys of the spiral's loss. " +
      "B is Adam, which scales each weight's step by its own gradient history: compare the two loss curves on one chart.",
  },
};

function sendCompareIfChanged() {
  // network B as the link says (a compare message restarts both networks: only when it changes)
  if (JSON.stringify(pg.hashCompare) !== JSON.stringify(pg.compare || {})) send({ type: "compare", config: pg.hashCompare });
}

function applyPreset(key) {
  const p = PRESETS[key];
  if (!p) { $("lesson-box").hidden = true; return; }
  $("lesson-title").textContent = p.title; $("lesson-text").textContent = p.text;
  $("lesson-link").href = p.lesson; $("lesson-link").textContent = `Read the lesson: ${p.title}`;
  $("lesson-box").hidden = false;
  const c = hashToConfig("#" + p.link);
  applyView(); sendLink(c);
  sendCompareIfChanged();
  send({ type: "play" });  // the claim, live
}

const pg = {                     // the page's state (window.playground, for tests and the console)
  ws: null, connected: false, session: null, limits: null,
  config: null, task: "classification", classes: 2, train: [], test: [],
  frame: null, frames: 0, frameTimes: [], playing: false, gradHistory: [], history: [], view: { showTest: false, discretize: false },
  expr: null, exprStep: 0, exportFiles: null, errors: [], lastError: null, sliderTimers: {}, retries: 0,
};
window.playground = pg;

// -- URL hash <-> configuration -------------------------------------------------------------------
// one setting <-> its text in the link
function encodeSetting(k, v) {
  if (k === "features") return v.join(",");
  if (k === "layers") return v.map((l) => `${l.units}:${l.act}`).join(",");
  if (k === "batchnorm") return v ? 1 : 0;
  return v;
}

function decodeSetting(k, v) {
  const num = (s) => (s !== null && s.trim() !== "" && isFinite(Number(s)) ? Number(s) : s);
  if (k === "features") return v ? v.split(",").filter((s) => s) : [];
  if (k === "layers") return v ? v.split(",").map((s) => { const [u, a] = s.split(":"); return { units: num(u), act: a || "tanh" }; }) : [];
  if (k === "batchnorm") return v === "1" || v === "true";
  if (["dataset", "init", "loss", "optimizer", "reg"].includes(k)) return v;
  return num(v);
}

function configToHash(c) {
  const p = new URLSearchParams();
  for (const k of HASH_KEYS) p.set(k, encodeSetting(k, c[k]));
  // points that came in a link stay in it, whatever their size (the link must keep working)
  if (c.dataset === "upload" && pg.uploadCsv && (pg.uploadCsv.length <= MAX_HASH_CSV || pg.uploadFromLink)) p.set("csv", pg.uploadCsv);
  // network B of a side-by-side comparison: its differences, b_KEY=value
  for (const [k, v] of Object.entries(pg.compare || {})) p.set("b_" + k, encodeSetting(k, v));
  // hand edits of an untrained network: layer.to.from:value (a weight) or layer.to:value (a bias)
  if (pg.edits && pg.edits.length) p.set("edits", pg.edits.map((e) => `${e.layer}.${e.to}${"from" in e ? "." + e.from : ""}:${e.value}`).join(","));
  if (pg.view.showTest) p.set("showTest", 1);
  if (pg.view.discretize) p.set("discretize", 1);
  return "#" + p.toString().replace(/%2C/g, ",").replace(/%3A/g, ":");
}

function hashToConfig(hash) {
  const p = new URLSearchParams(hash.replace(/^#/, ""));
  const c = {};
  for (const k of HASH_KEYS) if (p.has(k)) c[k] = decodeSetting(k, p.get(k));
  pg.hashCompare = {};
  for (const [key, v] of p.entries()) {
    if (!key.startsWith("b_")) continue;
    pg.hashCompare[key.slice(2)] = decodeSetting(key.slice(2), v);
  }
  pg.hashCsv = p.get("csv");
  pg.hashEdits = (p.get("edits") || "").split(",").filter((x) => x).map((x) => {
    const [where, value] = x.split(":"), idx = where.split(".").map(Number), e = { layer: idx[0], to: idx[1], value: Number(value) };
    if (idx.length > 2) e.from = idx[2];
    return e;
  });
  pg.view.showTest = p.get("showTest") === "1";
  pg.view.discretize = p.get("discretize") === "1";
  return c;
}

function writeHash() {
  if (!pg.config) return;
  const h = configToHash(pg.config);
  if (location.hash !== h) history.replaceState(null, "", h);
}

// -- messages ---------------------------------------------------------------------------------------
function send(obj) {
  if (!pg.ws || pg.ws.readyState !== WebSocket.OPEN) { showMessage("not connected to the server", "error"); return; }
  pg.ws.send(JSON.stringify(obj));
}

function sendConfig(update) { send({ type: "config", config: update }); }

// a link's settings go over the defaults; the server drops each invalid one and names it
function sendLink(settings) { send({ type: "config", config: settings, link: true }); }

function showMessage(text, kind) {
  const m = $("message");
  m.textContent = text || "";
  m.className = text ? kind : "";
  if (kind === "error") { pg.errors.push(text); pg.lastError = text; }
}

function setConnected(on) {
  // while disconnected the controls show the last settings but cannot change them
  pg.connected = on;
  document.body.classList.toggle("disconnected", !on);
  for (const el of document.querySelectorAll("header button, header select, header input, main button, main select, main input"))
    el.disabled = !on;
  document.querySelector('[data-dataset="upload"]').disabled = !on || !pg.hasUpload;
  if (on) syncControls();
}

function connect() {
  const proto = location.protocol === "https:" ? "wss:" : "ws:";
  const ws = new WebSocket(`${proto}//${location.host}/ws`);
  pg.ws = ws; pg.closeReason = null;
  ws.onclose = (ev) => {
    if (pg.ws !== ws) return;
    setConnected(false); setPlaying(false);
    // the server's own reason (busy) stays in view; then try again, waiting longer each time
    const delay = Math.min(RECONNECT_MAX_S, RECONNECT_FIRST_S * 2 ** pg.retries);
    pg.retries += 1;
    const why = pg.closeReason || (ev.reason ? `connection closed: ${ev.reason}` : "connection to the server lost");
    showMessage(`${why} — reconnecting in ${delay < 1 ? delay.toFixed(1) : Math.round(delay)} s (the settings are kept)`, "error");
    pg.reconnectTimer = setTimeout(connect, delay * 1000);
  };
  ws.onmessage = (ev) => {
    let msg;
    try { msg = JSON.parse(ev.data); } catch (e) { return; }
    const h = HANDLERS[msg.type];
    if (h) h(msg);
  };
}

const HANDLERS = {
  hello(msg) {
    const reconnected = pg.retries > 0 && pg.session !== null;
    pg.session = msg.session; pg.limits = msg.limits; pg.retries = 0;
    setConnected(true);
    if (reconnected) { showMessage("reconnected: a new session with the same settings (training starts over)", "info"); pg.keepMessage = true; }
    if (msg.thumbnails) drawThumbnails(msg.thumbnails);
    // the sliders span exactly what a link may hold
    for (const id of ["ratio", "noise", "batch"]) { $(id).min = msg.limits[id][0]; $(id).max = msg.limits[id][1]; }
    const fromHash = hashToConfig(location.hash);
    pg.config = msg.config;
    if (fromHash.dataset === "upload" && !pg.hashCsv && pg.uploadCsv) {
      send({ type: "upload", csv: pg.uploadCsv.split("|").join("\n") });  // a reconnect: send the file again
    } else if (fromHash.dataset === "upload" && pg.hashCsv) {
      pg.uploadCsv = pg.hashCsv; pg.uploadFromLink = true;
      send({ type: "upload", csv: pg.hashCsv.split("|").join("\n") });
    } else if (fromHash.dataset === "upload") {
      showMessage("the link names uploaded data that was too large to include; upload the CSV again", "error");
      pg.keepMessage = true;
      delete fromHash.dataset; delete fromHash.loss;
    }
    sendLink(fromHash);
    pg.compare = pg.hashCompare;
    if (Object.keys(pg.hashCompare).length) send({ type: "compare", config: pg.hashCompare });  // before the edits: it restarts
    pg.edits = pg.hashEdits;
    if (pg.hashEdits.length) send({ type: "edit", edits: pg.hashEdits });
    applyView();
    runExpr();
  },
  state(msg) {
    pg.config = msg.config; pg.task = msg.task; pg.classes = msg.classes; pg.compare = msg.compare || {};
    pg.train = msg.train; pg.test = msg.test;
    pg.exportFiles = null; $("export-links").innerHTML = ""; $("editor").hidden = true;
    let uploaded = false;
    if (pg.pendingCsv && msg.config.dataset === "upload") {
      pg.uploadCsv = pg.pendingCsv; pg.pendingCsv = null; pg.uploadFromLink = false; uploaded = true;
    }
    const tooLarge = pg.uploadCsv && pg.uploadCsv.length > MAX_HASH_CSV && !pg.uploadFromLink;
    $("upload-note").textContent = msg.upload ? `uploaded: ${msg.upload}` + (tooLarge ? " (too large to keep in the link)" : "") : "";
    pg.hasUpload = !!msg.upload;
    document.querySelector('[data-dataset="upload"]').disabled = !msg.upload;
    syncControls(); buildNetwork(); writeHash();
    if (uploaded) {
      pg.keepMessage = false;
      const notes = [`uploaded ${msg.upload}`];
      if (tooLarge) notes.push(`the points are too large for a link (${pg.uploadCsv.length} characters, at most ${MAX_HASH_CSV}): the link keeps the settings, and a reload or a shared link needs the file again`);
      if (msg.upload_warning) notes.push(msg.upload_warning);
      showMessage(notes.join(". "), tooLarge || msg.upload_warning ? "warn" : "info");
    } else if (msg.dropped && msg.dropped.length) {
      showMessage(`the link's ${msg.dropped.length === 1 ? "setting" : "settings"} ${msg.dropped.join("; ")} — dropped, the rest kept`, "error");
      pg.keepMessage = true;  // past the replies to the rest of the link (network B, edits)
    } else if (pg.keepMessage) pg.keepMessage = false;
    else if ($("message").className === "error") showMessage("");
  },
  frame(msg) {
    // a new network (step back to 0): the curves start over; a live change keeps them
    if (!pg.frame || msg.step < pg.frame.step || msg.step === 0) { pg.history = []; pg.gradHistory = []; }
    pg.frame = msg; pg.frames += 1;
    const edits = msg.edits || [];
    if (JSON.stringify(edits) !== JSON.stringify(pg.edits || [])) { pg.edits = edits; writeHash(); }
    pg.frameTimes.push(performance.now()); if (pg.frameTimes.length > 200) pg.frameTimes.shift();
    if (msg.playing === false && pg.playing) setPlaying(false);
    if (msg.train_loss !== null && msg.test_loss !== null) {
      const b = msg.b && msg.b.train_loss !== null && msg.b.test_loss !== null ? [msg.b.train_loss, msg.b.test_loss] : [];
      pg.history.push([msg.epoch, msg.train_loss, msg.test_loss, ...b]);
    }
    if (msg.step > 0 && msg.grad_norms) pg.gradHistory.push(msg.grad_norms);
    if (pg.gradHistory.length > 2000) pg.gradHistory = pg.gradHistory.filter((_, i) => i % 2 === 0);
    if (pg.history.length > 4000) pg.history = pg.history.filter((_, i) => i % 2 === 0);
    drawFrame();
  },
  status(msg) { setPlaying(msg.playing); },
  error(msg) {
    if (msg.request === "expr") { exprError(msg.message); return; }
    if (!pg.connected) pg.closeReason = msg.message;  // refused before hello (server busy): the close says no more
    showMessage(msg.message, "error");
    // a link with an invalid setting: say why, and show the defaults rather than nothing
    if (msg.request === "config" && !pg.frame) { pg.keepMessage = true; send({ type: "config", config: {} }); }
    if (msg.request === "play") setPlaying(false);
    if (msg.request === "upload") pg.pendingCsv = null;
    if (msg.request === "config" || msg.request === "upload") syncControls();
  },
  export(msg) { showExport(msg); },
  expr(msg) { pg.expr = msg; pg.exprStep = 0; $("expr-error").textContent = ""; drawExpr(); },
  pong() {},
};

// -- controls -------------------------------------------------------------------------------------------
function setPlaying(on) {
  pg.playing = on;
  const b = $("play");
  b.classList.toggle("playing", on);
  b.innerHTML = on ? '<svg viewBox="0 0 24 24" width="22" height="22"><path d="M6 4h4v16H6zM14 4h4v16h-4z" fill="currentColor"/></svg>' : '<svg viewBox="0 0 24 24" width="22" height="22"><path d="M7 4l13 8-13 8z" fill="currentColor"/></svg>';
  b.title = on ? "Pause" : "Train"; b.setAttribute("aria-label", b.title);
}

function selectValue(sel, v) {
  const s = $(sel);
  const str = String(v);
  let found = false;
  for (const o of s.options) if ((o.value || o.text) === str || Number(o.value || o.text) === Number(v)) { s.value = o.value || o.text; found = true; }
  if (!found) { const o = document.createElement("option"); o.text = str; s.add(o); s.value = str; }
}

function syncControls() {
  const c = pg.config;
  if (!c) return;
  document.querySelectorAll("[data-dataset]").forEach((b) => b.classList.toggle("selected", b.dataset.dataset === c.dataset));
  for (const id of ["ratio", "noise", "batch"]) {
    // a slider being moved keeps its place: a reply to an earlier press must not pull it back
    if (pg.sliderTimers[id]) continue;
    $(id).value = c[id]; $(id + "-val").textContent = c[id];
  }
  selectValue("lr", c.lr); selectValue("reg-rate", c.reg_rate); selectValue("dropout", c.dropout);
  $("optimizer").value = c.optimizer; $("loss").value = c.loss; $("reg").value = c.reg; $("init").value = c.init;
  $("batchnorm").checked = c.batchnorm;
  const regression = pg.task === "regression";
  for (const o of $("loss").options) o.disabled = regression && o.value !== "mse";
  $("problem-type").innerHTML = regression ? "Problem type: <b>regression</b> (predict a number)"
    : `Problem type: <b>classification</b> (${Math.max(pg.classes, 2)} classes)`;
  $("layer-count").textContent = `${c.layers.length} hidden layer${c.layers.length === 1 ? "" : "s"}`;
  $("show-test").checked = pg.view.showTest; $("discretize").checked = pg.view.discretize;
  updateNotes();
  for (const sel of document.querySelectorAll("#compare select")) {
    const v = (pg.compare || {})[sel.dataset.key];
    sel.value = v === undefined ? "" : sel.dataset.key === "batchnorm" ? (v ? "1" : "0") : String(v);
  }
  if (Object.keys(pg.compare || {}).length) $("compare").open = true;
}

function compareControls() {
  // B's choices: "as A" and then A's own options
  for (const [b, a] of [["b-optimizer", "optimizer"], ["b-lr", "lr"], ["b-init", "init"]]) {
    const sel = $(b);
    sel.add(new Option("as A", ""));
    for (const o of $(a).options) sel.add(new Option(o.text, o.value || o.text));
  }
  for (const sel of document.querySelectorAll("#compare select")) {
    sel.onchange = () => {
      // the selects say B's choices; B's other differences (a preset's layers, say) stay
      const selects = [...document.querySelectorAll("#compare select")], keys = selects.map((x) => x.dataset.key);
      const diff = Object.fromEntries(Object.entries(pg.compare || {}).filter(([k]) => !keys.includes(k)));
      for (const x of selects) {
        const k = x.dataset.key;
        if (x.value !== "") diff[k] = k === "batchnorm" ? x.value === "1" : k === "lr" ? Number(x.value) : x.value;
      }
      send({ type: "compare", config: diff });
    };
  }
}

const ZERO_AT_ZERO = ["tanh", "relu", "linear", "leaky_relu", "elu"];   // act(0) = 0

function updateNotes() {
  // zero initialisation: say what is going on (the symmetry problem) and where to read about it
  const c = pg.config, note = $("net-note");
  note.innerHTML = "";
  if (!c || c.init !== "zeros" || !c.layers.length) return;
  const dead = c.layers.some((l) => ZERO_AT_ZERO.includes(l.act));
  note.append(`Zeros initialisation: every neuron of a layer starts identical, gets the same gradient and stays identical — the symmetry problem. ` +
    (dead ? "With an activation that is 0 at 0 (tanh, ReLU, linear, …) the gradients of every weight are exactly zero: only the output's bias ever learns. "
      : "With sigmoid or softplus they learn, but as one neuron. ") + "Pick Xavier or He to break the symmetry. ");
  const a = document.createElement("a");
  a.href = LESSONS.symmetry; a.target = "_blank"; a.rel = "noopener"; a.textContent = "Lesson: symmetry";
  note.append(a);
}

function drawThumbnails(thumbs) {
  // a small picture of each data set on its button, as TensorFlow Playground
  for (const [name, pts] of Object.entries(thumbs)) {
    const b = document.querySelector(`[data-dataset="${name}"]`);
    if (!b) continue;
    let cv = b.querySelector("canvas");
    if (!cv) { cv = document.createElement("canvas"); cv.width = 40; cv.height = 40; cv.setAttribute("aria-hidden", "true"); b.prepend(cv); }
    const ctx = cv.getContext("2d"), regression = REGRESSION.includes(name), classes = Math.max(...pts.map((p) => p[2])) + 1;
    ctx.fillStyle = "#fff"; ctx.fillRect(0, 0, 40, 40);
    for (const [x, y, l] of pts) {
      const c = regression ? diverging(Math.max(-1, Math.min(1, l))) : classes > 2 ? CLASS_COLORS[l % CLASS_COLORS.length] : l ? POS : NEG;
      ctx.fillStyle = `rgb(${c.map(Math.round).join(",")})`;
      ctx.fillRect(((x + 6) / 12) * 40 - 1, ((6 - y) / 12) * 40 - 1, 2, 2);
    }
  }
}

function applyView() { $("show-test").checked = pg.view.showTest; $("discretize").checked = pg.view.discretize; }

function layersCopy() { return pg.config.layers.map((l) => ({ units: l.units, act: l.act })); }

function bindControls() {
  $("play").onclick = () => send({ type: pg.playing ? "pause" : "play" });
  // one epoch per click, as TensorFlow Playground; shift-click for a single mini-batch
  $("step").onclick = (e) => send(e.shiftKey ? { type: "step", n: 1 } : { type: "step", n: 1, unit: "epoch" });
  $("reset").onclick = () => send({ type: "reset" });
  $("regenerate").onclick = () => send({ type: "regenerate" });
  document.querySelectorAll("[data-dataset]").forEach((b) => {
    b.onclick = () => {
      const d = b.dataset.dataset, upd = { dataset: d };
      const wasRegression = pg.task === "regression", isRegression = REGRESSION.includes(d);
      if (isRegression) upd.loss = "mse";
      else if (wasRegression && d !== "upload") upd.loss = "cross_entropy";
      sendConfig(upd);
    };
  });
  for (const id of ["ratio", "noise", "batch"]) {
    // quick presses (arrow keys, dragging) send one setting once the slider rests
    $(id).oninput = () => {
      $(id + "-val").textContent = $(id).value;
      clearTimeout(pg.sliderTimers[id]);
      pg.sliderTimers[id] = setTimeout(() => { pg.sliderTimers[id] = null; sendConfig({ [id]: Number($(id).value) }); }, SLIDER_REST_MS);
    };
  }
  $("lr").onchange = () => sendConfig({ lr: Number($("lr").value) });
  $("reg-rate").onchange = () => sendConfig({ reg_rate: Number($("reg-rate").value) });
  $("dropout").onchange = () => sendConfig({ dropout: Number($("dropout").value) });
  $("optimizer").onchange = () => sendConfig({ optimizer: $("optimizer").value });
  $("loss").onchange = () => sendConfig({ loss: $("loss").value });
  $("reg").onchange = () => sendConfig({ reg: $("reg").value });
  $("init").onchange = () => sendConfig({ init: $("init").value });
  $("batchnorm").onchange = () => sendConfig({ batchnorm: $("batchnorm").checked });
  $("add-layer").onclick = () => {
    const layers = layersCopy();
    if (pg.limits && layers.length >= pg.limits.max_layers) { showMessage(`at most ${pg.limits.max_layers} hidden layers`, "error"); return; }
    layers.push({ units: layers.length ? layers[layers.length - 1].units : 4, act: layers.length ? layers[layers.length - 1].act : "tanh" });
    sendConfig({ layers });
  };
  $("remove-layer").onclick = () => {
    const layers = layersCopy();
    if (!layers.length) { showMessage("no hidden layer to remove", "error"); return; }
    layers.pop(); sendConfig({ layers });
  };
  $("show-test").onchange = () => { pg.view.showTest = $("show-test").checked; writeHash(); drawHeat(); };
  $("discretize").onchange = () => { pg.view.discretize = $("discretize").checked; writeHash(); drawFrame(); };
  $("export").onclick = () => send({ type: "export" });
  $("upload").onchange = () => {
    const f = $("upload").files[0];
    if (!f) return;
    if (f.size > 900000) { showMessage(`upload: the file is ${f.size} bytes; at most 900000`, "error"); return; }
    f.text().then((text) => {
      pg.pendingCsv = packCsv(text);
      send({ type: "upload", csv: text });
    });
    $("upload").value = "";
  };
  // the hash holds the configuration: the jump scrolls without touching it
  document.querySelector(".jump").onclick = (e) => { e.preventDefault(); $("explorer").scrollIntoView(); $("expr").focus({ preventScroll: true }); };
  $("preset").onchange = () => applyPreset($("preset").value);
  $("lesson-close").onclick = () => { $("lesson-box").hidden = true; $("preset").value = ""; };
  $("editor-close").onclick = closeEditor;
  $("editor").onkeydown = (e) => { if (e.key === "Escape") closeEditor(); };
  $("expr-go").onclick = runExpr;
  $("expr").onkeydown = (e) => { if (e.key === "Enter") runExpr(); };
  $("expr-step").onclick = () => { if (pg.expr && pg.exprStep < pg.expr.order.length) { pg.exprStep += 1; drawExpr(); } };
  $("expr-all").onclick = () => { if (pg.expr) { pg.exprStep = pg.expr.order.length; drawExpr(); } };
  window.addEventListener("hashchange", () => {
    const c = hashToConfig(location.hash);
    if (pg.config && configToHash(pg.config) !== location.hash) {
      sendLink(c);
      sendCompareIfChanged();
      if (pg.hashEdits.length) send({ type: "edit", edits: pg.hashEdits });
    }
  });
  window.addEventListener("resize", () => drawLinks(true));
}

// -- the network diagram -------------------------------------------------------------------------------
function neuronBox(cls, id, layer, index) {
  // hovering a neuron shows its output over the whole plane in the big picture
  const d = document.createElement("div");
  d.className = "neuron " + cls; d.id = id;
  if (layer !== undefined) {
    d.onmouseenter = () => {
      pg.hover = [layer, index]; drawHeat();
      const b = layer > 0 && pg.frame && pg.frame.biases[layer - 1] ? pg.frame.biases[layer - 1][index] : undefined;
      if (b !== undefined) d.title = `bias ${b}`;
    };
    d.onmouseleave = () => { pg.hover = null; drawHeat(); };
  }
  const cv = document.createElement("canvas"); cv.width = 20; cv.height = 20;
  d.appendChild(cv);
  return d;
}

function buildNetwork() {
  const c = pg.config, cols = $("net-cols");
  const focused = cols.contains(document.activeElement) ? document.activeElement.id : null;  // keyboard users keep their place
  cols.innerHTML = "";
  // inputs
  const inp = document.createElement("div"); inp.className = "layer inputs";
  const ih = document.createElement("div"); ih.className = "layer-head"; ih.innerHTML = "<b>Inputs</b><span>click to toggle</span>";
  inp.appendChild(ih);
  for (const f of FEATURES) {
    const on = c.features.includes(f);
    const d = neuronBox("feature" + (on ? "" : " off"), "feature-" + f, on ? 0 : undefined, c.features.indexOf(f));
    d.dataset.feature = f; d.title = `${FEATURE_LABELS[f]} (click to turn ${on ? "off" : "on"})`;
    d.tabIndex = 0; d.setAttribute("role", "switch"); d.setAttribute("aria-checked", String(on));
    d.setAttribute("aria-label", `input feature ${FEATURE_LABELS[f]}`);
    d.onkeydown = (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); d.onclick(); } };
    const lab = document.createElement("span"); lab.className = "flabel"; lab.textContent = FEATURE_LABELS[f];
    d.appendChild(lab);
    d.onclick = () => {
      const feats = on ? c.features.filter((x) => x !== f) : c.features.concat([f]);
      sendConfig({ features: feats });
    };
    inp.appendChild(d);
  }
  inp.style.paddingLeft = "56px";
  cols.appendChild(inp);
  // hidden layers
  c.layers.forEach((l, i) => {
    const col = document.createElement("div"); col.className = "layer hidden-layer"; col.dataset.layer = i;
    const head = document.createElement("div"); head.className = "layer-head";
    const pm = document.createElement("div"); pm.className = "pm";
    const plus = document.createElement("button"); plus.textContent = "+"; plus.className = "add-neuron"; plus.dataset.layer = i;
    plus.title = "Add a neuron";
    plus.onclick = () => {
      const layers = layersCopy();
      if (layers[i].units >= (pg.limits ? pg.limits.max_units : 8)) { showMessage(`at most ${pg.limits ? pg.limits.max_units : 8} neurons per layer`, "error"); return; }
      layers[i].units += 1; sendConfig({ layers });
    };
    const minus = document.createElement("button"); minus.textContent = "−"; minus.className = "remove-neuron"; minus.dataset.layer = i;
    minus.title = "Remove a neuron";
    minus.onclick = () => {
      const layers = layersCopy();
      if (layers[i].units <= 1) { showMessage("a layer needs at least 1 neuron; remove the layer instead", "error"); return; }
      layers[i].units -= 1; sendConfig({ layers });
    };
    pm.append(plus, minus);
    const lab = document.createElement("span"); lab.textContent = `${l.units} neuron${l.units > 1 ? "s" : ""}`;
    const sel = document.createElement("select"); sel.className = "act-select"; sel.dataset.layer = i;
    sel.setAttribute("aria-label", `activation of hidden layer ${i + 1}`);
    plus.setAttribute("aria-label", `add a neuron to hidden layer ${i + 1}`);
    minus.setAttribute("aria-label", `remove a neuron from hidden layer ${i + 1}`);
    for (const [k, v] of Object.entries(ACTIVATIONS)) { const o = document.createElement("option"); o.value = k; o.text = v; sel.add(o); }
    sel.value = l.act;
    sel.onchange = () => { const layers = layersCopy(); layers[i].act = sel.value; sendConfig({ layers }); };
    head.append(pm, lab, sel);
    col.appendChild(head);
    for (let j = 0; j < l.units; j++) col.appendChild(editable(neuronBox("hidden", `neuron-${i}-${j}`, i + 1, j), i, j));
    cols.appendChild(col);
  });
  // output
  const out = document.createElement("div"); out.className = "layer output-layer";
  const oh = document.createElement("div"); oh.className = "layer-head";
  const nout = pg.task === "classification" && pg.classes > 2 ? pg.classes : 1;
  oh.innerHTML = `<b>Output</b><span>${nout > 1 ? nout + " classes, softmax" : pg.task === "regression" ? "value" : "1 logit"}</span>`;
  out.appendChild(oh);
  for (let k = 0; k < nout; k++) {
    const d = neuronBox("out", nout > 1 ? `neuron-out-${k}` : "neuron-out", c.layers.length + 1, k);
    if (nout > 1) { d.title = `class ${k}: its softmax probability`; d.style.borderColor = `rgb(${CLASS_COLORS[k % CLASS_COLORS.length]})`; d.style.borderWidth = "2px"; }
    out.appendChild(editable(d, c.layers.length, k));
  }
  cols.appendChild(out);
  drawLinks(true);
  if (focused && $(focused)) $(focused).focus();
}

// -- editing weights and biases by hand (click a neuron or a link; Enter on a focused neuron) ---------
function unitName(k, j) {
  // neuron j of the output of linear layer k
  const c = pg.config;
  if (k < c.layers.length) return `layer ${k + 1} neuron ${j + 1}`;
  return pg.classes > 2 && pg.task === "classification" ? `output (class ${j})` : "output";
}

function sourceName(k, i) {
  const c = pg.config;
  return k === 0 ? FEATURE_LABELS[c.features[i]] : `layer ${k} neuron ${i + 1}`;
}

function editable(d, k, j) {
  d.tabIndex = 0; d.setAttribute("role", "button");
  d.setAttribute("aria-label", `${unitName(k, j)}: edit its bias and incoming weights`);
  d.dataset.k = k; d.dataset.j = j;
  d.onclick = () => openEditor(k, j, null, d);
  d.onkeydown = (e) => { if (e.key === "Enter" || e.key === " ") { e.preventDefault(); openEditor(k, j, null, d); } };
  return d;
}

function sendEdit(edit) { send({ type: "edit", edits: [edit] }); }

function openEditor(k, j, focusFrom, anchor) {
  const f = pg.frame, box = $("editor"), fields = $("editor-fields");
  if (!f || !f.weights[k]) return;
  pg.editorReturn = anchor || document.activeElement;
  $("editor-title").textContent = unitName(k, j);
  fields.innerHTML = "";
  const row = (label, value, edit, id) => {
    const lab = document.createElement("label"); lab.textContent = label; lab.htmlFor = id;
    const inp = document.createElement("input"); inp.type = "number"; inp.step = "any"; inp.id = id; inp.value = value;
    inp.onchange = () => {
      const v = Number(inp.value);
      if (inp.value.trim() === "" || !isFinite(v)) { showMessage(`edit: ${label} must be a number`, "error"); return; }
      sendEdit({ ...edit, value: v });
    };
    fields.append(lab, inp);
    return inp;
  };
  const first = row("bias", f.biases[k][j], { layer: k, to: j }, "edit-bias");
  let focus = first;
  f.weights[k][j].forEach((w, i) => {
    const inp = row(`weight from ${sourceName(k, i)}`, w, { layer: k, to: j, from: i }, `edit-w-${i}`);
    if (i === focusFrom) focus = inp;
  });
  $("editor-note").textContent = f.step === 0 ? "Untrained: your edits are kept in the link."
    : "The network has trained: edits apply at once but are not kept in the link.";
  box.hidden = false;
  const r = (anchor || $("net")).getBoundingClientRect(), bw = box.offsetWidth, bh = box.offsetHeight;
  box.style.left = `${Math.max(4, Math.min(innerWidth - bw - 4, r.right + 8))}px`;
  box.style.top = `${Math.max(4, Math.min(innerHeight - bh - 4, r.top))}px`;
  focus.focus(); focus.select();
}

function closeEditor() {
  $("editor").hidden = true;
  if (pg.editorReturn && document.body.contains(pg.editorReturn)) pg.editorReturn.focus();
}

function showLinkCard(ev, k, j, i) {
  const card = $("hovercard"), f = pg.frame;
  if (!f || !f.weights[k] || !f.weights[k][j]) return;
  card.textContent = `weight ${fmt(f.weights[k][j][i])}: ${sourceName(k, i)} → ${unitName(k, j)} (click to edit)`;
  card.hidden = false;
  const base = $("net").getBoundingClientRect();
  card.style.left = `${ev.clientX - base.left + 12}px`; card.style.top = `${ev.clientY - base.top + 12}px`;
}

function outputBoxes() {
  const single = $("neuron-out");
  return single ? [single] : Array.from(document.querySelectorAll(".output-layer .neuron"));
}

function centers(layerEls) {
  const base = $("net").getBoundingClientRect();
  return layerEls.map((el) => { const r = el.getBoundingClientRect(); return [r.left - base.left + r.width / 2, r.top - base.top + r.height / 2, r, el]; });
}

function drawLinks(rebuild) {
  // the paths are made when the network's shape or the window changes; frames only restyle them
  const svg = $("links");
  if (!pg.config) return;
  const c = pg.config;
  if (rebuild || !pg.linkPaths) {
    svg.innerHTML = "";
    const cols = [c.features.map((f) => $("feature-" + f))];
    c.layers.forEach((l, i) => { const a = []; for (let j = 0; j < l.units; j++) a.push($(`neuron-${i}-${j}`)); cols.push(a); });
    cols.push(outputBoxes());
    const ns = "http://www.w3.org/2000/svg";
    pg.linkPaths = [];
    const hitPaths = [];
    for (let k = 0; k + 1 < cols.length; k++) {
      const a = centers(cols[k]), b = centers(cols[k + 1]), layer = [];
      for (let j = 0; j < b.length; j++) {
        const row = [];
        for (let i = 0; i < a.length; i++) {
          const p = document.createElementNS(ns, "path");
          const x1 = a[i][0] + a[i][2].width / 2, y1 = a[i][1], x2 = b[j][0] - b[j][2].width / 2, y2 = b[j][1];
          const mx = (x1 + x2) / 2;
          p.setAttribute("d", `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`);
          p.setAttribute("fill", "none"); p.setAttribute("class", "link");
          p.setAttribute("stroke", "#bbb"); p.setAttribute("stroke-width", 0.5);
          p.appendChild(document.createElementNS(ns, "title"));
          svg.appendChild(p); row.push(p);
          // a wide invisible twin catches the mouse: hover shows the weight, a click edits it
          const hit = document.createElementNS(ns, "path");
          hit.setAttribute("d", p.getAttribute("d")); hit.setAttribute("class", "link-hit");
          hit.dataset.k = k; hit.dataset.j = j; hit.dataset.i = i;
          hit.onmouseenter = hit.onmousemove = (ev) => showLinkCard(ev, k, j, i);
          hit.onmouseleave = () => { $("hovercard").hidden = true; };
          hit.onclick = () => { $("hovercard").hidden = true; openEditor(k, j, i, b[j][3]); };
          hitPaths.push(hit);
        }
        layer.push(row);
      }
      pg.linkPaths.push(layer);
    }
    for (const h of hitPaths) svg.appendChild(h);   // above every visible link
  }
  const W = pg.frame && pg.frame.weights && pg.frame.weights.length === pg.linkPaths.length ? pg.frame.weights : null;
  if (!W) return;
  let maxw = 1e-9;
  for (const m of W) for (const row of m) for (const w of row) maxw = Math.max(maxw, Math.abs(w));
  pg.linkPaths.forEach((layer, k) => layer.forEach((row, j) => row.forEach((p, i) => {
    const w = W[k][j] !== undefined && W[k][j][i] !== undefined ? W[k][j][i] : 0;
    p.setAttribute("stroke", `rgb(${(w >= 0 ? POS : NEG).join(",")})`);
    p.setAttribute("stroke-width", (0.5 + 5.5 * Math.min(1, Math.abs(w) / Math.max(maxw, 1))).toFixed(2));
    p.setAttribute("stroke-opacity", (0.25 + 0.75 * Math.min(1, Math.abs(w) / maxw)).toFixed(2));
    p.firstChild.textContent = `weight ${w}`;
  })));
}

// -- colours and pictures ------------------------------------------------------------------------------------
function decode(b64) {
  const s = atob(b64), a = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) a[i] = s.charCodeAt(i);
  return a;
}

function mix(a, b, t) { return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]; }

function diverging(v) {          // v in [-1, 1]
  return v >= 0 ? mix(MID, POS, v) : mix(MID, NEG, -v);
}

function paintGrid(canvas, values, n, classes, disc, color) {
  // values in [-1, 1] on the orange-blue scale, or with `color` one class's probability (2p - 1)
  const ctx = canvas.getContext("2d");
  if (canvas.width !== n) { canvas.width = n; canvas.height = n; }
  const img = ctx.createImageData(n, n);
  for (let i = 0; i < n * n; i++) {
    let v = values[i] / 127.5 - 1, rgb;
    if (classes) {
      const conf = (v + 1) / 2, k = classes[i] % CLASS_COLORS.length;
      const lo = 1 / Math.max(pg.classes, 2);
      const t = disc ? 1 : Math.max(0, (conf - lo) / (1 - lo));
      rgb = mix(MID, CLASS_COLORS[k], 0.25 + 0.75 * t);
    } else if (color) {
      const p = (v + 1) / 2;
      rgb = mix(MID, color, disc ? (p >= 0.5 ? 1 : 0) : p);
    } else {
      if (disc) v = v >= 0 ? 1 : -1;
      rgb = diverging(v);
    }
    img.data[4 * i] = rgb[0]; img.data[4 * i + 1] = rgb[1]; img.data[4 * i + 2] = rgb[2]; img.data[4 * i + 3] = 255;
  }
  ctx.putImageData(img, 0, 0);
}

const heatSmall = document.createElement("canvas");

function pointColor(label) {
  if (pg.task === "regression") return diverging(Math.max(-1, Math.min(1, label)));
  if (pg.classes > 2) return CLASS_COLORS[label % CLASS_COLORS.length];
  return label ? POS : NEG;
}

function drawHeat() {
  const cv = $("heatmap"), ctx = cv.getContext("2d"), W = cv.width, H = cv.height;
  const f = pg.frame;
  ctx.clearRect(0, 0, W, H);
  const hv = pg.hover && f && f.neurons[pg.hover[0]] ? f.neurons[pg.hover[0]][pg.hover[1]] : null;
  if (f && hv) {
    paintGrid(heatSmall, decode(hv), f.thumb_n, null);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(heatSmall, 0, 0, W, H);
  } else if (f) {
    const heat = decode(f.heat), cls = f.heat_cls ? decode(f.heat_cls) : null;
    paintGrid(heatSmall, heat, f.heat_n, cls, pg.view.discretize);
    ctx.imageSmoothingEnabled = true;
    ctx.drawImage(heatSmall, 0, 0, W, H);
  }
  const D = 6;
  const px = (x) => ((x + D) / (2 * D)) * W, py = (y) => ((D - y) / (2 * D)) * H;
  const pts = (list, stroke) => {
    for (const [x, y, l] of list) {
      const c = pointColor(l);
      ctx.beginPath(); ctx.arc(px(x), py(y), 3.2, 0, 2 * Math.PI);
      ctx.fillStyle = `rgb(${c.map(Math.round).join(",")})`; ctx.fill();
      ctx.lineWidth = 1; ctx.strokeStyle = stroke; ctx.stroke();
    }
  };
  pts(pg.train, "#fff");
  if (pg.view.showTest) pts(pg.test, "#000");
  drawAxes(ctx, W, H, px, py);
  legend();
}

function drawAxes(ctx, W, H, px, py) {
  // tick labels on light boxes (readable on any colour), kept inside the picture; x₁ below, x₂ left
  ctx.font = "10px sans-serif"; ctx.textBaseline = "middle";
  pg.axisLabels = [];
  const label = (text, cx, cy) => {
    const w = ctx.measureText(text).width + 4, h = 12;
    const x = Math.min(Math.max(cx - w / 2, 1), W - w - 1), y = Math.min(Math.max(cy - h / 2, 1), H - h - 1);
    ctx.fillStyle = "rgba(255,255,255,0.85)"; ctx.fillRect(x, y, w, h);
    ctx.fillStyle = "#222"; ctx.fillText(text, x + 2, y + h / 2 + 0.5);
    pg.axisLabels.push({ text, x, y, w, h });
  };
  for (const t of [-6, -4, -2, 0, 2, 4, 6]) label(t === -6 ? "x₁ −6" : String(t).replace("-", "−"), px(t), H - 7);
  for (const t of [-4, -2, 0, 2, 4, 6]) label(t === 6 ? "x₂ 6" : String(t).replace("-", "−"), 11, py(t));
  ctx.textBaseline = "alphabetic";
}

function legend() {
  const el = $("legend");
  if (pg.task === "regression") { el.innerHTML = `<i style="background:rgb(${NEG})"></i>−1 <i style="background:rgb(${MID})"></i>0 <i style="background:rgb(${POS})"></i>+1`; return; }
  const n = Math.max(pg.classes, 2), parts = [];
  for (let k = 0; k < n; k++) { const c = n > 2 ? CLASS_COLORS[k] : (k ? POS : NEG); parts.push(`<i style="background:rgb(${c})"></i>class ${k}`); }
  el.innerHTML = parts.join(" ");
}

function fmtLoss(v) { return v === null || v === undefined ? "–" : v.toFixed(3); }

function drawFrame() {
  const f = pg.frame;
  if (!f) return;
  $("epoch").textContent = f.epoch.toFixed(3);
  if (f.steps_per_s !== undefined) $("speed").textContent = f.steps_per_s;
  $("train-loss").textContent = fmtLoss(f.train_loss); $("test-loss").textContent = fmtLoss(f.test_loss);
  $("train-acc").textContent = f.train_acc !== null && f.train_acc !== undefined ? `(accuracy ${(100 * f.train_acc).toFixed(1)}%)` : "";
  $("test-acc").textContent = f.test_acc !== null && f.test_acc !== undefined ? `(accuracy ${(100 * f.test_acc).toFixed(1)}%)` : "";
  drawHeat();
  // neuron thumbnails
  const c = pg.config, tn = f.thumb_n;
  if (f.neurons && c) {
    c.features.forEach((name, i) => { const el = $("feature-" + name); if (el && f.neurons[0][i]) paintGrid(el.querySelector("canvas"), decode(f.neurons[0][i]), tn, null); });
    c.layers.forEach((l, li) => {
      const layer = f.neurons[li + 1] || [];
      for (let j = 0; j < l.units; j++) { const el = $(`neuron-${li}-${j}`); if (el && layer[j]) paintGrid(el.querySelector("canvas"), decode(layer[j]), tn, null); }
    });
    const last = f.neurons[f.neurons.length - 1] || [];
    const disc = pg.view.discretize && last.length === 1;
    // one picture per class: its probability in its own colour (class 0 orange, as on the map)
    const perClass = last.length > 1;
    outputBoxes().forEach((o, k) => {
      if (o && last[k]) paintGrid(o.querySelector("canvas"), decode(last[k]), tn, null, disc, perClass ? CLASS_COLORS[k % CLASS_COLORS.length] : null);
    });
  }
  drawLinks();
  drawLossChart();
  drawGradChart();
  drawB();
}

function drawB() {
  // network B's numbers and output picture (with the training points)
  const b = pg.frame && pg.frame.b, cv = $("b-heatmap"), ctx = cv.getContext("2d");
  ctx.clearRect(0, 0, cv.width, cv.height);
  cv.hidden = !b;
  if (!b) { $("b-result").textContent = ""; return; }
  const what = Object.entries(b.compare).map(([k, v]) => `${k} ${k === "batchnorm" ? (v ? "on" : "off") : encodeSetting(k, v) || "none"}`).join(", ");
  const acc = (a) => (a === null || a === undefined ? "" : ` (accuracy ${(100 * a).toFixed(1)}%)`);
  $("b-result").textContent = `B (${what}): test loss ${fmtLoss(b.test_loss)}${acc(b.test_acc)}, training loss ${fmtLoss(b.train_loss)}; A: test loss ${fmtLoss(pg.frame.test_loss)}`;
  paintGrid(heatSmall, decode(b.heat), pg.frame.heat_n, b.heat_cls ? decode(b.heat_cls) : null, pg.view.discretize);
  ctx.imageSmoothingEnabled = true;
  ctx.drawImage(heatSmall, 0, 0, cv.width, cv.height);
  const s = cv.width / 12;
  for (const [x, y, l] of pg.train) {
    const c = pointColor(l);
    ctx.fillStyle = `rgb(${c.map(Math.round).join(",")})`;
    ctx.fillRect((x + 6) * s - 1.5, (6 - y) * s - 1.5, 3, 3);
  }
}

function drawLossChart() {
  const cv = $("loss-chart"), ctx = cv.getContext("2d"), W = cv.width, H = cv.height;
  ctx.clearRect(0, 0, W, H);
  const h = pg.history;
  if (h.length < 2) return;
  let max = 0;
  for (const p of h) for (let k = 1; k < p.length; k++) max = Math.max(max, p[k]);
  max = max || 1;
  const x0 = h[0][0], x1 = h[h.length - 1][0] || 1;
  const line = (idx, color, dash) => {
    ctx.beginPath(); ctx.strokeStyle = color; ctx.lineWidth = 1.5; ctx.setLineDash(dash || []);
    let started = false;
    h.forEach((p) => {
      if (p[idx] === undefined) { started = false; return; }
      const x = ((p[0] - x0) / Math.max(x1 - x0, 1e-9)) * (W - 2) + 1, y = H - 2 - (p[idx] / max) * (H - 6);
      started ? ctx.lineTo(x, y) : ctx.moveTo(x, y); started = true;
    });
    ctx.stroke(); ctx.setLineDash([]);
  };
  line(2, "#333"); line(1, "#999");
  const withB = h.some((p) => p.length > 3);
  if (withB) { line(4, "#c0392b", [4, 3]); line(3, "#e8a09a", [4, 3]); }
  const label = `loss (max ${max.toFixed(3)}): test black, training grey` + (withB ? "; B red, dashed" : "");
  ctx.font = "10px sans-serif";
  ctx.fillStyle = "rgba(255,255,255,0.8)"; ctx.fillRect(2, 1, ctx.measureText(label).width + 4, 12);
  ctx.fillStyle = "#555"; ctx.fillText(label, 4, 10);
}

const LAYER_COLORS = ["#0877bd", "#f59322", "#2ea043", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d"];

function drawGradChart() {
  // each layer's gradient norm over the training so far (log scale), one line per layer
  const cv = $("grad-chart"), ctx = cv.getContext("2d"), W = cv.width, H = cv.height;
  ctx.clearRect(0, 0, W, H);
  const h = pg.gradHistory;
  if (!h.length) return;
  const n = h[h.length - 1].length, L = 34, top = 4, bottom = H - 4;
  let lo = Infinity, hi = -Infinity;
  for (const row of h) for (const v of row) if (v && v > 0) { lo = Math.min(lo, Math.log10(v)); hi = Math.max(hi, Math.log10(v)); }
  if (!isFinite(lo)) { lo = -6; hi = 0; }
  lo = Math.floor(lo); hi = Math.max(Math.ceil(hi), lo + 1);
  const y = (v) => bottom - ((Math.log10(v) - lo) / (hi - lo)) * (bottom - top);
  const x = (i) => L + (h.length > 1 ? (i / (h.length - 1)) * (W - L - 44) : 0);
  ctx.font = "10px sans-serif"; ctx.fillStyle = "#777";
  ctx.fillText(`1e${hi}`, 2, top + 8); ctx.fillText(`1e${lo}`, 2, bottom);
  for (let k = 0; k < n; k++) {
    ctx.beginPath(); ctx.strokeStyle = LAYER_COLORS[k % LAYER_COLORS.length]; ctx.lineWidth = 1.5;
    let started = false;
    h.forEach((row, i) => { const v = row[k]; if (!(v > 0)) return; started ? ctx.lineTo(x(i), y(v)) : ctx.moveTo(x(i), y(v)); started = true; });
    ctx.stroke();
    const last = h[h.length - 1][k];
    ctx.fillStyle = LAYER_COLORS[k % LAYER_COLORS.length];
    ctx.fillText(k < n - 1 ? `L${k + 1}` : "out", W - 40, top + 9 + k * 11);
    ctx.fillText(last > 0 ? last.toExponential(0) : "0", W - 22, top + 9 + k * 11);
  }
}

// -- export ---------------------------------------------------------------------------------------------------
function showExport(msg) {
  const box = $("export-links");
  box.innerHTML = "";
  const bytes = decode(msg.weights);
  const files = [[msg.script_name, new Blob([msg.script], { type: "text/x-python" })],
    [msg.weights_name, new Blob([bytes], { type: "application/octet-stream" })]];
  pg.exportFiles = files.map(([n]) => n);
  for (const [name, blob] of files) {
    const a = document.createElement("a");
    a.href = URL.createObjectURL(blob); a.download = name; a.textContent = `⬇ ${name}`; a.className = "export-link";
    box.appendChild(a);
  }
  showMessage(`exported: download ${msg.script_name} and ${msg.weights_name}, put them in one folder and run python ${msg.script_name}`, "info");
}

// -- backprop explorer ------------------------------------------------------------------------------------
function exprError(text) {
  // shown beside the explorer (the banner at the top may be out of sight); the stale graph goes
  $("expr-error").textContent = text;
  pg.errors.push(text); pg.lastError = text;
  pg.expr = null; drawExpr();
}

function runExpr() {
  const vals = {};
  for (const v of ["x", "y", "z"]) {
    const n = Number($("expr-" + v).value);
    if ($("expr-" + v).value.trim() === "" || !isFinite(n)) { exprError(`backprop explorer: ${v} must be a number`); return; }
    vals[v] = n;
  }
  send({ type: "expr", expr: $("expr").value, values: vals });
}

function fmt(v) {
  if (v === null || v === undefined) return "";
  if (typeof v === "string") return v;
  if (Number.isInteger(v)) return String(v);
  return String(Number(v.toPrecision(4)));
}

function drawExpr() {
  const g = pg.expr, svg = $("expr-graph"), ns = "http://www.w3.org/2000/svg";
  svg.innerHTML = "";
  if (!g) { $("expr-table").querySelector("tbody").innerHTML = ""; $("expr-info").textContent = ""; return; }
  const revealed = new Set(g.order.slice(0, pg.exprStep));
  const current = pg.exprStep > 0 ? g.order[pg.exprStep - 1] : null;
  // layout: column = longest path from a leaf; rows in order
  const depth = {};
  for (const n of g.nodes) depth[n.id] = n.inputs.length ? 1 + Math.max(...n.inputs.map((i) => depth[i])) : 0;
  const cols = {};
  for (const n of g.nodes) (cols[depth[n.id]] = cols[depth[n.id]] || []).push(n.id);
  const ncol = Math.max(...Object.values(depth)) + 1;
  const rows = Math.max(...Object.values(cols).map((c) => c.length));
  const dx = 130, dy = 100, W = Math.max(300, ncol * dx + 60), H = Math.max(120, rows * dy + 40);
  svg.setAttribute("width", W); svg.setAttribute("height", H); svg.setAttribute("viewBox", `0 0 ${W} ${H}`);
  const pos = {};
  for (const [d, ids] of Object.entries(cols)) ids.forEach((id, r) => { pos[id] = [50 + d * dx, 40 + (r + (rows - ids.length) / 2) * dy]; });
  const defs = document.createElementNS(ns, "defs");
  defs.innerHTML = '<marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#888"/></marker>';
  svg.appendChild(defs);
  for (const n of g.nodes) for (const i of n.inputs) {
    const [x1, y1] = pos[i], [x2, y2] = pos[n.id];
    const ang = Math.atan2(y2 - y1, x2 - x1);
    const l = document.createElementNS(ns, "line");
    l.setAttribute("x1", x1 + 20 * Math.cos(ang)); l.setAttribute("y1", y1 + 20 * Math.sin(ang));
    l.setAttribute("x2", x2 - 21 * Math.cos(ang)); l.setAttribute("y2", y2 - 21 * Math.sin(ang));
    l.setAttribute("class", "expr-edge"); svg.appendChild(l);
    const loc = n.local ? n.local[String(i)] : undefined;
    if (loc !== undefined) {                 // the local derivative d(node)/d(input) on the edge
      const t = document.createElementNS(ns, "text");
      t.setAttribute("x", (x1 + x2) / 2); t.setAttribute("y", (y1 + y2) / 2 - 4);
      t.setAttribute("class", "expr-local"); t.textContent = `×${fmt(loc)}`;
      t.appendChild(document.createElementNS(ns, "title")).textContent = `local derivative ∂${n.name || n.label}/∂${g.nodes[i].name || g.nodes[i].label}`;
      svg.appendChild(t);
    }
  }
  const tbody = $("expr-table").querySelector("tbody");
  tbody.innerHTML = "";
  for (const n of g.nodes) {
    const [x, y] = pos[n.id];
    const grp = document.createElementNS(ns, "g");
    grp.setAttribute("class", `expr-node ${n.op === "input" ? "input" : ""} ${n.id === current ? "current" : ""}`);
    grp.dataset.id = n.id; if (n.name) grp.dataset.name = n.name;
    const c = document.createElementNS(ns, "circle"); c.setAttribute("cx", x); c.setAttribute("cy", y); c.setAttribute("r", 20);
    const t = document.createElementNS(ns, "text"); t.setAttribute("x", x); t.setAttribute("y", y + 5);
    t.textContent = n.op === "input" || n.op === "const" ? n.label : n.label;
    const v = document.createElementNS(ns, "text"); v.setAttribute("x", x); v.setAttribute("y", y - 26); v.setAttribute("class", "val");
    v.textContent = (n.name && n.op !== "const" ? n.name + " = " : "") + fmt(n.value);
    const gr = document.createElementNS(ns, "text"); gr.setAttribute("x", x); gr.setAttribute("y", y + 38); gr.setAttribute("class", "grad");
    gr.textContent = revealed.has(n.id) && n.grad !== null ? "∂f: " + fmt(n.grad) : "";
    grp.append(c, t, v, gr);
    svg.appendChild(grp);
    const tr = document.createElement("tr");
    tr.dataset.name = n.name || ""; tr.dataset.id = n.id;
    tr.innerHTML = `<td>${n.name || ""}</td><td>${n.op === "const" ? "constant" : n.op}</td><td class="valcell">${fmt(n.value)}</td>` +
      `<td class="gradcell">${revealed.has(n.id) && n.grad !== null ? fmt(n.grad) : ""}</td>`;
    tbody.appendChild(tr);
  }
  const total = g.order.length;
  $("expr-info").textContent = pg.exprStep === 0 ? `forward pass: f = ${fmt(g.nodes[g.output].value)}. Press “Backward step” to send the gradient back one node at a time.`
    : pg.exprStep < total ? `backward step ${pg.exprStep} of ${total}: ${chainRule(g, current)}`
      : `backward pass done (${total} nodes): gradients computed by chainrule's autograd. Last: ${chainRule(g, current)}`;
}

function chainRule(g, c) {
  // ∂f/∂c = Σ over the nodes u that use c of ∂f/∂u · ∂u/∂c (upstream gradient × local derivative)
  const name = (n) => n.name || n.label, node = g.nodes[c];
  if (c === g.output) return `∂f/∂${name(node)} = 1`;
  const terms = g.nodes.filter((u) => u.inputs.includes(c) && u.local && u.local[String(c)] !== undefined)
    .map((u) => ({ sym: `∂f/∂${name(u)} · ∂${name(u)}/∂${name(node)}`, num: `(${fmt(u.grad)})·(${fmt(u.local[String(c)])})` }));
  return `∂f/∂${name(node)} = ${terms.map((t) => t.sym).join(" + ")} = ${terms.map((t) => t.num).join(" + ")} = ${fmt(node.grad)}`;
}

// -- start -----------------------------------------------------------------------------------------------------
compareControls();
bindControls();
setConnected(false);
connect();
