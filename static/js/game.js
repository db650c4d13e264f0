// A whole game on one page: a card, the player starts the round, the server's clock
// runs, live guesses as they draw, and the round ends the moment the server's model
// names the target (or at the bell, or when the player is done). Then the next card,
// and at the end the gallery. Every decision is the server's: this page shows its
// answers, keeps the drawing across a reload, and asks again when the line drops.
import { DrawingPad } from "./canvas.js";
import { renderChart, setThreshold } from "./chart.js";
import { request, sleep } from "./http.js";
import { LiveGuesser } from "./live.js";
import { Voice } from "./speech.js";
import { NOT_A_DIGIT, aDigit, iKnow, iSee, orMaybe } from "./words.js";

const page = document.getElementById("game");
const $ = (id) => document.getElementById(id);
const ui = {
  number: $("round-number"),
  target: $("target"),
  score: $("game-score"),
  timerValue: $("timer-value"),
  timerBar: $("timer-bar"),
  main: $("guess-main"),
  sub: $("guess-sub"),
  card: $("card"),
  cardKicker: $("card-kicker"),
  cardMain: $("card-main"),
  cardSub: $("card-sub"),
  cardHint: $("card-hint"),
  start: $("start"),
  done: $("done"),
  track: $("round-track"),
  chart: page.querySelector("[data-chart]"),
};
const roundSeconds = Number(page.dataset.roundSeconds);
const hurrySeconds = Number(page.dataset.hurrySeconds);
const rounds = Number(page.dataset.rounds);
const celebrationMs = Number(page.dataset.celebrationMs);
const SEND_ATTEMPTS = 6;
const VERDICT_WAIT_MS = 4000;
setThreshold(ui.chart, Number(page.dataset.threshold));

let round = null; // the server's state of the round on the card
let startedAt = 0; // when the server started the round, on this page's performance clock
let ticking = null;
let lastDigit = null; // the last digit the voice named this round

function setPhase(phase) {
  page.dataset.phase = phase;
}

function show(main, sub, state) {
  ui.main.textContent = main;
  ui.sub.textContent = sub;
  page.dataset.state = state;
}

function showCard(kind, kicker, main, sub) {
  ui.card.hidden = false;
  ui.card.dataset.kind = kind;
  ui.cardKicker.textContent = kicker;
  ui.cardMain.textContent = main;
  ui.cardSub.textContent = sub;
  const startable = kind === "start";
  ui.start.hidden = !startable;
  ui.cardHint.hidden = !startable;
}

// --- the drawing, kept across a reload ------------------------------------------

const storageKey = () => `guessgame.round.${round?.id}`;

function saveStrokes() {
  try {
    sessionStorage.setItem(storageKey(), JSON.stringify(pad.exportStrokes()));
  } catch {
    // storage full or off: a reload starts from an empty canvas
  }
}

function savedStrokes() {
  try {
    return JSON.parse(sessionStorage.getItem(storageKey()) || "[]");
  } catch {
    return [];
  }
}

function forgetStrokes() {
  try {
    sessionStorage.removeItem(storageKey());
  } catch {
    // nothing kept
  }
}

const voice = new Voice({ toggle: $("voice"), region: $("announce") });

const pad = new DrawingPad(page.querySelector("[data-canvas]"), {
  clock: () => performance.now() - startedAt,
  onChange: () => {
    updateDone();
    if (page.dataset.phase === "playing") guesser.drawing();
  },
  onStrokeEnd: () => {
    if (page.dataset.phase !== "playing") return;
    saveStrokes();
    guesser.penUp();
  },
});
pad.setEnabled(false);

function updateDone() {
  const drawn = pad.hasInkOnCanvas();
  ui.done.textContent = drawn ? "Done" : "Skip";
  ui.done.disabled = page.dataset.phase !== "playing";
}

// --- live guesses -----------------------------------------------------------------

const guesser = new LiveGuesser(pad, {
  intervalMs: Number(page.dataset.intervalMs),
  ask: (p) => request(round.guess_url, { method: "POST", json: { strokes: p.exportStrokes() } }),
  onResult: (data) => {
    renderChart(ui.chart, data.probabilities, { highlight: round.target, notDigit: data.not_digit });
    if (data.recognised) {
      won(data);
      return;
    }
    const percent = Math.round(data.confidence * 100);
    if (data.not_digit) {
      show(NOT_A_DIGIT, `Draw your ${round.target} as one clear digit.`, "not-digit");
      voice.say(`Hmm… ${NOT_A_DIGIT.toLowerCase()}.`);
      return;
    }
    if (data.digit === round.target) {
      show("Almost…", `It thinks ${aDigit(data.digit)} (${percent}%), not sure enough yet.`, "close");
    } else {
      show(`${aDigit(data.digit, { capital: true })}?`, `${percent}% sure. Keep drawing your ${round.target}.`, "guess");
    }
    if (data.digit !== lastDigit) {
      voice.say(lastDigit === null ? iSee(data.digit) : orMaybe(data.digit));
      lastDigit = data.digit;
    }
  },
  onBlank: () => {
    renderChart(ui.chart, null, { highlight: round?.target });
    if (pad.isEmpty()) show(`Draw ${aDigit(round.target)}`, "The model guesses as you draw.", "blank");
    else if (!pad.hasInkOnCanvas()) show("Your drawing is off the canvas", "Move it back, or Undo.", "blank");
    else show("Keep drawing", "The model sees too little ink to guess yet.", "blank");
  },
  onError: (message, status) => {
    if (status === 503) show("The model is busy", "Asking again in a moment… keep drawing.", "error");
    else if (status === 0) show("Connection lost", "Trying again… your drawing is kept.", "error");
    else if (status === 409) next();
    else show("Not counted", message, "error");
  },
});

// --- the clock --------------------------------------------------------------------

function secondsLeft() {
  return Math.max(0, roundSeconds - (performance.now() - startedAt) / 1000);
}

function showClock(left) {
  ui.timerValue.textContent = String(Math.ceil(left));
  ui.timerBar.value = left;
  page.classList.toggle("is-hurry", left > 0 && left <= hurrySeconds);
}

function tick() {
  clearTimeout(ticking);
  if (page.dataset.phase !== "playing") return;
  const left = secondsLeft();
  showClock(left);
  if (left <= 0) {
    finish("bell");
    return;
  }
  ticking = setTimeout(tick, 100);
}

// --- a round ----------------------------------------------------------------------

async function loadState() {
  for (let attempt = 0; ; attempt++) {
    const answer = await request(page.dataset.stateUrl);
    if (answer.ok) return answer.data;
    show("Connection lost", "Trying to reach the game again…", "error");
    await sleep(Math.min(1000 * (attempt + 1), 5000));
  }
}

function showTrack(state) {
  ui.score.textContent = String(state.game.score);
  const played = new Map(state.played.map((r) => [r.number, r]));
  for (const dot of ui.track.querySelectorAll("[data-number]")) {
    const number = Number(dot.dataset.number);
    const r = played.get(number);
    dot.classList.toggle("is-recognised", Boolean(r?.recognised));
    dot.classList.toggle("is-missed", Boolean(r && r.scored && !r.recognised));
    dot.classList.toggle("is-current", state.round?.number === number);
    // A played round shows its digit; the others stay empty, so no number means two things.
    dot.querySelector(".track-label").textContent = r ? String(r.target) : "";
    dot.title = r ? `Round ${number}: ${r.target}, ${r.scored ? `${r.points} points` : "being judged"}` : `Round ${number}`;
  }
}

/** The round just ended, on the track at once (the next state confirms it). */
function markPlayed(recognised) {
  const dot = ui.track.querySelector(`[data-number="${round.number}"]`);
  dot.classList.toggle("is-recognised", recognised);
  dot.classList.toggle("is-missed", !recognised);
  dot.querySelector(".track-label").textContent = String(round.target);
}

/** The next card: from ``state`` when an answer brought it (a recognised guess does), else asked for. */
async function next(state) {
  clearTimeout(ticking);
  guesser.stop();
  enter(state ?? (await loadState()));
}

function enter(state) {
  showTrack(state);
  if (!state.round) {
    gameOver(state);
    return;
  }
  round = state.round;
  ui.number.textContent = String(round.number);
  pad.setEnabled(false);
  pad.reset();
  renderChart(ui.chart, null);
  voice.reset();
  lastDigit = null;
  if (round.started) {
    begin(round); // a reload mid-round: same clock, same drawing
    return;
  }
  setPhase("ready");
  ui.target.textContent = "?";
  page.dataset.target = "";
  showClock(roundSeconds);
  updateDone();
  show("Your turn", "The round ends the moment the model sees your digit.", "ready");
  let sub = `You get a digit and ${roundSeconds} seconds to draw it.`;
  if (round.number === 1) sub += " Your drawings are kept and used to train the model.";
  showCard("start", `Round ${round.number} of ${rounds}`, "Ready?", sub);
  ui.start.disabled = false;
  ui.start.focus({ preventScroll: true });
}

async function startRound() {
  if (page.dataset.phase !== "ready") return;
  setPhase("starting");
  ui.start.disabled = true;
  const answer = await request(round.start_url, { method: "POST" });
  if (answer.ok) {
    begin(answer.data);
    return;
  }
  if (answer.status === 409 || answer.status === 404) {
    next(); // the game moved on without this page (another tab, or it was abandoned)
    return;
  }
  setPhase("ready");
  ui.start.disabled = false;
  show(answer.status === 0 ? "Connection lost" : "Could not start", "Press Start again.", "error");
}

function begin(state) {
  round = state;
  startedAt = performance.now() - (roundSeconds - state.seconds_left) * 1000;
  ui.target.textContent = String(round.target);
  page.dataset.target = String(round.target);
  ui.card.hidden = true;
  if (state.seconds_left <= 0) {
    // The bell rang while this page was away: the server closes the round.
    setPhase("closing");
    show("Time's up!", "On to the next round…", "timeout");
    sleep(1500).then(next);
    return;
  }
  setPhase("playing");
  pad.setEnabled(true);
  guesser.start();
  show(`Draw ${aDigit(round.target)}`, "The model guesses as you draw.", "blank");
  const saved = savedStrokes();
  if (saved.length) {
    pad.restore(saved);
    guesser.penUp();
  }
  updateDone();
  tick();
}

function roundOver() {
  setPhase("over-round");
  clearTimeout(ticking);
  guesser.stop();
  pad.setEnabled(false);
  updateDone();
  forgetStrokes();
}

async function won(data) {
  if (page.dataset.phase !== "playing") return;
  roundOver();
  const seconds = (roundSeconds - data.seconds_left).toFixed(1);
  show(iKnow(round.target), `Recognised in ${seconds} s: +${data.points} points.`, "got-it");
  voice.say(iKnow(round.target), { urgent: true });
  ui.score.textContent = String(data.game_score);
  markPlayed(true);
  showCard("won", `Round ${round.number}`, `It's ${aDigit(round.target)}!`, `+${data.points} points`);
  await sleep(celebrationMs);
  next(data.next);
}

/** The bell, or the player is done: send the last drawing and show the model's verdict. */
async function finish(reason) {
  if (page.dataset.phase !== "playing") return;
  roundOver();
  showClock(reason === "bell" ? 0 : secondsLeft());
  const strokes = pad.hasInkOnCanvas() ? pad.exportStrokes() : [];
  const title = reason === "bell" ? "Time's up!" : strokes.length ? "Done" : "Skipped";
  show(title, strokes.length ? "The model takes a last look…" : "No drawing this round.", "timeout");
  let answer;
  for (let attempt = 1; attempt <= SEND_ATTEMPTS; attempt++) {
    answer = await request(round.submit_url, { method: "POST", json: { strokes } });
    const retry = answer.status === 0 || answer.status === 503 || answer.status === 429 || answer.status >= 500;
    if (!retry) break;
    show("Connection lost", "Sending your drawing again…", "error");
    await sleep(1000 * attempt);
  }
  const verdict = await lastVerdict(answer);
  const line = verdictLine(verdict, strokes.length > 0);
  show(title, line, verdict?.recognised ? "got-it" : "timeout");
  voice.say(verdict?.recognised ? iKnow(round.target) : `${title} ${line}`, { urgent: true });
  if (verdict) ui.score.textContent = String(verdict.game_score);
  markPlayed(Boolean(verdict?.recognised));
  showCard(verdict?.recognised ? "won" : "missed", `Round ${round.number}`, title, line);
  await sleep(celebrationMs);
  next();
}

/** The round's outcome once the worker has judged the last drawing (a few seconds at most). */
async function lastVerdict(answer) {
  if (!answer || (!answer.ok && answer.status !== 409)) return null;
  const deadline = performance.now() + VERDICT_WAIT_MS;
  for (;;) {
    const result = await request(round.result_url);
    if (result.ok && (result.data.status !== "pending" || performance.now() > deadline)) return result.data;
    if (!result.ok && performance.now() > deadline) return null;
    await sleep(300);
  }
}

function verdictLine(verdict, drawn) {
  if (!drawn || verdict?.status === "empty") return "No drawing this round.";
  if (!verdict) return "Your drawing could not be sent; the round scores nothing.";
  if (verdict.status === "pending") return "The model is busy: your drawing is saved and scored when it is free.";
  if (verdict.status === "failed") return "The model could not read this drawing.";
  if (verdict.recognised) return `Recognised at the last look: +${verdict.points} points.`;
  if (verdict.not_digit) return `${NOT_A_DIGIT}.`;
  if (verdict.status === "done") return `It saw ${aDigit(verdict.digit)}.`;
  return "No points this round.";
}

// --- the end: the gallery, on this page -----------------------------------------

async function gameOver(state) {
  setPhase("finishing");
  round = null;
  pad.setEnabled(false);
  let current = state;
  for (let waited = 0; current.game.pending && waited < 20; waited++) {
    show("Game over", "The model is judging your last drawing…", "ready");
    showCard("missed", "Game over", `${current.game.score} points`, "The model is judging your last drawing…");
    await sleep(1000);
    current = await loadState();
  }
  const url = current.game.summary_url;
  try {
    const response = await fetch(url, { credentials: "same-origin" });
    const html = await response.text();
    const doc = new DOMParser().parseFromString(html, "text/html");
    const main = document.querySelector("main");
    main.replaceChildren(...doc.querySelector("main").childNodes);
    document.title = doc.title;
    document.body.classList.remove("is-game");
    history.replaceState(null, "", url);
    window.scrollTo(0, 0);
    main.focus({ preventScroll: true });
  } catch {
    window.location.assign(url);
  }
}

// --- controls ---------------------------------------------------------------------

ui.start.addEventListener("click", startRound);
ui.card.addEventListener("click", (e) => {
  if (e.target === ui.card && ui.card.dataset.kind === "start") startRound();
});
ui.done.addEventListener("click", () => finish("done"));
document.addEventListener("keydown", (e) => {
  if (page.dataset.phase !== "ready" || e.repeat) return;
  if (e.key !== " " && e.key !== "Enter") return;
  if (e.target instanceof HTMLElement && e.target.closest("a, input, textarea, select")) return;
  e.preventDefault(); // Space must not scroll, Enter must not click twice
  startRound();
});
// Back or Forward to this page from the browser's cache: the server's clock went on.
window.addEventListener("pageshow", (e) => {
  if (e.persisted) next();
});

next();
