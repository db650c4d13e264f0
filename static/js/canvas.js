// The drawing pad shared by free draw and the game.
//
// Strokes are kept Quick, Draw!-style, [[x...], [y...], [t ms...]] in canvas CSS pixels
// (0..CANVAS_PX, whatever size the canvas is shown at), and exported as a CANVAS_PX PNG
// with black ink on a transparent background and a round pen of PEN_PX: exactly what
// inference.canvas.render_strokes draws, so the model sees what it was trained for (the
// game sends only the strokes, and the server draws them with that renderer).
// CANVAS_PX and PEN_PX come from the template's data- attributes, never from here.
// Times are milliseconds from the first point, or from `clock()` when the page gives
// one (the game: milliseconds since the server started the round).

const SCALE_STEP = 1.15;

function copyStrokes(strokes) {
  return strokes.map((s) => ({ xs: s.xs.slice(), ys: s.ys.slice(), ts: s.ts.slice() }));
}

function paint(ctx, strokes, pen) {
  ctx.lineCap = "round";
  ctx.lineJoin = "round";
  ctx.lineWidth = pen;
  ctx.strokeStyle = "#000";
  ctx.fillStyle = "#000";
  for (const s of strokes) {
    if (!s.xs.length) continue;
    if (s.xs.length === 1) {
      ctx.beginPath();
      ctx.arc(s.xs[0], s.ys[0], pen / 2, 0, 2 * Math.PI);
      ctx.fill();
      continue;
    }
    ctx.beginPath();
    ctx.moveTo(s.xs[0], s.ys[0]);
    for (let i = 1; i < s.xs.length; i++) ctx.lineTo(s.xs[i], s.ys[i]);
    ctx.stroke();
  }
}

export class DrawingPad {
  constructor(root, { onChange = () => {}, onStrokeEnd = () => {}, clock = null } = {}) {
    this.root = root;
    this.size = Number(root.dataset.canvasPx);
    this.pen = Number(root.dataset.penPx);
    this.canvas = root.querySelector("canvas");
    this.ctx = this.canvas.getContext("2d");
    this.onChange = onChange;
    this.onStrokeEnd = onStrokeEnd;
    this.clock = clock;
    this.strokes = [];
    this.history = [];
    this.mode = "freehand";
    this.t0 = null;
    this.active = null; // the gesture in progress
    this.enabled = true;
    // Counts edits; the live guesser marks which edit its shown guess answers, so a
    // page (and a test) can tell a guess of the current drawing from a stale one.
    this.version = 0;

    const c = this.canvas;
    c.addEventListener("pointerdown", (e) => this.down(e));
    c.addEventListener("pointermove", (e) => this.move(e));
    c.addEventListener("pointerup", (e) => this.up(e));
    c.addEventListener("pointercancel", (e) => this.up(e));
    // Older mobile browsers scroll on touch despite touch-action: none.
    c.addEventListener("touchstart", (e) => e.preventDefault(), { passive: false });
    c.addEventListener("touchmove", (e) => e.preventDefault(), { passive: false });
    c.addEventListener(
      "wheel",
      (e) => {
        if (this.mode !== "transform" || !this.enabled) return;
        e.preventDefault();
        this.scale(e.deltaY < 0 ? SCALE_STEP : 1 / SCALE_STEP);
      },
      { passive: false },
    );

    for (const input of root.querySelectorAll('input[name="mode"]')) {
      input.addEventListener("change", () => this.setMode(input.value));
      if (input.checked) this.setMode(input.value);
    }
    const actions = {
      undo: () => this.undo(),
      clear: () => this.clear(),
      grow: () => this.scale(SCALE_STEP),
      shrink: () => this.scale(1 / SCALE_STEP),
    };
    for (const button of root.querySelectorAll("[data-action]")) {
      button.addEventListener("click", () => actions[button.dataset.action]?.());
    }

    this.resize();
    new ResizeObserver(() => this.resize()).observe(c);
    window.matchMedia?.(`(resolution: ${window.devicePixelRatio}dppx)`)
      .addEventListener?.("change", () => this.resize());
    this.updateButtons();
    root.dataset.ready = "true"; // for tests: the pad listens from now on
  }

  // --- state -------------------------------------------------------------

  isEmpty() {
    return this.strokes.length === 0;
  }

  setMode(mode) {
    this.mode = mode;
    this.root.dataset.mode = mode;
  }

  setEnabled(enabled) {
    this.enabled = enabled;
    this.root.classList.toggle("is-disabled", !enabled);
    this.updateButtons();
  }

  remember() {
    this.history.push(copyStrokes(this.strokes));
    if (this.history.length > 200) this.history.shift();
  }

  changed(final) {
    this.version += 1;
    this.root.dataset.version = String(this.version);
    this.root.dataset.strokes = String(this.strokes.length);
    this.redraw();
    this.updateButtons();
    this.onChange(this);
    if (final) this.onStrokeEnd(this);
  }

  updateButtons() {
    const set = (name, disabled) => {
      const b = this.root.querySelector(`[data-action="${name}"]`);
      if (b) b.disabled = disabled || !this.enabled;
    };
    set("undo", this.history.length === 0);
    set("clear", this.strokes.length === 0);
    set("grow", this.strokes.length === 0);
    set("shrink", this.strokes.length === 0);
  }

  undo() {
    if (!this.history.length || !this.enabled) return;
    this.strokes = this.history.pop();
    if (!this.strokes.length) this.t0 = null;
    this.changed(true);
  }

  clear() {
    if (!this.strokes.length || !this.enabled) return;
    this.remember();
    this.strokes = [];
    this.t0 = null;
    this.changed(true);
  }

  reset() {
    this.strokes = [];
    this.history = [];
    this.t0 = null;
    this.changed(false);
  }

  /** Strokes exported earlier (a reload mid-round), drawn again as they were. */
  restore(exported) {
    this.strokes = exported.map(([xs, ys, ts]) => ({ xs: xs.slice(), ys: ys.slice(), ts: ts.slice() }));
    this.history = [];
    this.changed(true);
  }

  /** True while any ink is on the canvas (a drawing can be moved partly off it). */
  hasInkOnCanvas() {
    if (!this.strokes.length) return false;
    const { x0, y0, x1, y1 } = this.bounds();
    const r = this.pen / 2;
    return x1 + r > 0 && y1 + r > 0 && x0 - r < this.size && y0 - r < this.size;
  }

  bounds() {
    let [x0, y0, x1, y1] = [Infinity, Infinity, -Infinity, -Infinity];
    for (const s of this.strokes) {
      for (let i = 0; i < s.xs.length; i++) {
        x0 = Math.min(x0, s.xs[i]);
        x1 = Math.max(x1, s.xs[i]);
        y0 = Math.min(y0, s.ys[i]);
        y1 = Math.max(y1, s.ys[i]);
      }
    }
    return { x0, y0, x1, y1 };
  }

  /** Scale the whole drawing about its centre (the "transform" mode's resize). */
  scale(factor) {
    if (!this.strokes.length || !this.enabled) return;
    const { x0, y0, x1, y1 } = this.bounds();
    const cx = (x0 + x1) / 2;
    const cy = (y0 + y1) / 2;
    const span = Math.max(x1 - x0, y1 - y0, 1);
    if (factor > 1 && span * factor > this.size * 1.5) return;
    if (factor < 1 && span * factor < this.pen) return;
    this.remember();
    for (const s of this.strokes) {
      s.xs = s.xs.map((x) => cx + (x - cx) * factor);
      s.ys = s.ys.map((y) => cy + (y - cy) * factor);
    }
    this.changed(true);
  }

  // --- pointer -------------------------------------------------------------

  /** The pointer in canvas CSS pixels: measured at each event, so scrolling never shifts ink. */
  point(e) {
    const r = this.canvas.getBoundingClientRect();
    const k = this.size / r.width;
    return [(e.clientX - r.left) * k, (e.clientY - r.top) * k];
  }

  now() {
    if (this.clock) return Math.max(0, Math.round(this.clock()));
    if (this.t0 === null) this.t0 = performance.now();
    return Math.round(performance.now() - this.t0);
  }

  down(e) {
    if (!this.enabled || this.active || (e.pointerType === "mouse" && e.button !== 0)) return;
    e.preventDefault();
    this.canvas.setPointerCapture?.(e.pointerId);
    const [x, y] = this.point(e);
    this.remember();
    if (this.mode === "transform") {
      if (!this.strokes.length) {
        this.history.pop();
        return;
      }
      const { x0, y0, x1, y1 } = this.bounds();
      const centre = { cx: (x0 + x1) / 2, cy: (y0 + y1) / 2 };
      this.active = { id: e.pointerId, kind: "move", x, y, centre, start: copyStrokes(this.strokes) };
      return;
    }
    const t = this.now();
    const stroke = { xs: [x], ys: [y], ts: [t] };
    this.strokes.push(stroke);
    this.active = { id: e.pointerId, kind: this.mode, stroke };
    this.changed(false);
  }

  move(e) {
    const a = this.active;
    if (!a || e.pointerId !== a.id) return;
    e.preventDefault();
    if (a.kind === "move") {
      const [x, y] = this.point(e);
      // The drawing's centre stays on the canvas: it can hang off an edge, never leave.
      const { cx, cy } = a.centre;
      const dx = Math.min(this.size - cx, Math.max(-cx, x - a.x));
      const dy = Math.min(this.size - cy, Math.max(-cy, y - a.y));
      this.strokes = a.start.map((s) => ({
        xs: s.xs.map((v) => v + dx),
        ys: s.ys.map((v) => v + dy),
        ts: s.ts.slice(),
      }));
      this.redraw();
      return;
    }
    const events = e.getCoalescedEvents?.() || [e];
    for (const ev of events.length ? events : [e]) {
      const [x, y] = this.point(ev);
      const s = a.stroke;
      if (a.kind === "line") {
        s.xs = [s.xs[0], x];
        s.ys = [s.ys[0], y];
        s.ts = [s.ts[0], this.now()];
      } else {
        const last = s.xs.length - 1;
        if (Math.hypot(x - s.xs[last], y - s.ys[last]) < 0.75) continue;
        s.xs.push(x);
        s.ys.push(y);
        s.ts.push(this.now());
      }
    }
    this.changed(false);
  }

  up(e) {
    const a = this.active;
    if (!a || e.pointerId !== a.id) return;
    this.active = null;
    this.canvas.releasePointerCapture?.(e.pointerId);
    this.changed(true);
  }

  // --- pixels -------------------------------------------------------------

  /** Backing store = shown size x devicePixelRatio, drawn in CANVAS_PX units: sharp ink. */
  resize() {
    const r = this.canvas.getBoundingClientRect();
    if (!r.width) return;
    const dpr = window.devicePixelRatio || 1;
    const px = Math.max(1, Math.round(r.width * dpr));
    if (this.canvas.width !== px || this.canvas.height !== px) {
      this.canvas.width = px;
      this.canvas.height = px;
    }
    this.redraw();
  }

  redraw() {
    const { ctx, canvas } = this;
    const k = canvas.width / this.size;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, canvas.width, canvas.height);
    ctx.setTransform(k, 0, 0, k, 0, 0);
    paint(ctx, this.strokes, this.pen);
  }

  /** Strokes for the server: [[x...], [y...], [t...]], to 0.1 px. Ink moved partly off
   * the canvas keeps its place there: the server, like the canvas, draws none of it. */
  exportStrokes() {
    const tenth = (v) => Math.round(v * 10) / 10;
    return this.strokes.map((s) => [s.xs.map(tenth), s.ys.map(tenth), s.ts.slice()]);
  }

  /** The drawing as the model's PNG: CANVAS_PX square, black ink, transparent paper. */
  toBlob() {
    const out = document.createElement("canvas");
    out.width = this.size;
    out.height = this.size;
    paint(out.getContext("2d"), this.strokes, this.pen);
    return new Promise((resolve, reject) => {
      out.toBlob((blob) => (blob ? resolve(blob) : reject(new Error("no PNG"))), "image/png");
    });
  }
}
