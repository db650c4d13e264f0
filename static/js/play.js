// One round of a scored game: draw the target before the server's clock runs out.
import { DrawingPad, csrfToken, liveGuesser, throttle } from "./canvas.js";
import { renderChart, setThreshold } from "./chart.js";
import { aDigit } from "./words.js";

const page = document.getElementById("play");
const target = Number(page.dataset.target);
const threshold = Number(page.dataset.threshold);
const main = document.getElementById("guess-main");
const sub = document.getElementById("guess-sub");
const submit = document.getElementById("submit");
const timerValue = document.getElementById("timer-value");
const timerBar = document.getElementById("timer-bar");
const chart = page.querySelector("[data-chart]");
setThreshold(chart, threshold);
renderChart(chart, null, { highlight: target });

let submitting = false;
let finished = false;

function say(text, detail, state) {
  main.textContent = text;
  sub.textContent = detail;
  page.dataset.state = state;
}

const pad = new DrawingPad(page.querySelector("[data-canvas]"), {
  onChange: (p) => {
    submit.disabled = p.isEmpty() || submitting || finished;
    guessSoon();
  },
});

const guess = liveGuesser(page.dataset.guessUrl, pad, {
  onResult: (data) => {
    renderChart(chart, data.probabilities, { highlight: target, notDigit: data.not_digit });
    const percent = Math.round(data.confidence * 100);
    if (data.not_digit) {
      say(data.message, `Draw your ${target} as one clear digit.`, "not-digit");
    } else if (data.digit === target && data.confidence >= threshold) {
      say("Got it!", `It sees your ${target} (${percent}% sure). Submit now for speed points.`, "got-it");
    } else if (data.confidence >= threshold) {
      say(`${aDigit(data.digit, { capital: true })}?`, `${percent}% sure. Keep drawing your ${target}.`, "guess");
    } else {
      say(`Maybe ${aDigit(data.digit)}…`, `Only ${percent}% sure. Keep drawing.`, "unsure");
    }
  },
  onBlank: () => {
    renderChart(chart, null, { highlight: target });
    say("Draw something first", "The live guess appears as you draw.", "blank");
  },
  onError: (message, status) => {
    if (status === 503) say("The model is busy", "You can still submit: your drawing is saved and scored when it is free.", "error");
    else say("No live guess", message, "error");
  },
});
const guessSoon = throttle(guess, Number(page.dataset.debounceMs));

async function send(auto) {
  if (submitting || finished) return;
  if (pad.isEmpty()) {
    say("Draw something first", "An empty canvas cannot be scored.", "blank");
    return;
  }
  submitting = true;
  submit.disabled = true;
  submit.textContent = "Sending…";
  pad.setEnabled(false);
  try {
    const body = new FormData();
    body.append("image", await pad.toBlob(), "drawing.png");
    body.append("strokes", JSON.stringify(pad.exportStrokes()));
    const response = await fetch(page.dataset.submitUrl, {
      method: "POST",
      body,
      headers: { "X-CSRFToken": csrfToken(), Accept: "application/json" },
      credentials: "same-origin",
    });
    const data = await response.json().catch(() => ({}));
    if (data.result_url) {
      finished = true;
      window.location.assign(data.result_url);
      return;
    }
    say("Not sent", data.error || "Please try again.", "error");
  } catch {
    say("No connection", "Check your connection and submit again.", "error");
  }
  submitting = false;
  submit.textContent = "Submit drawing";
  if (!auto) pad.setEnabled(true);
  submit.disabled = pad.isEmpty();
}

submit.addEventListener("click", () => send(false));

// The clock: the server's seconds left when the page was made, counted down locally.
// The server enforces it; this only shows it and sends the drawing when it runs out.
const started = performance.now();
const secondsLeft = Number(page.dataset.secondsLeft);
function tick() {
  const left = Math.max(0, secondsLeft - (performance.now() - started) / 1000);
  timerValue.textContent = String(Math.ceil(left));
  timerBar.value = left;
  page.classList.toggle("is-hurry", left <= 5);
  if (left > 0) {
    setTimeout(tick, 100);
    return;
  }
  if (finished || submitting) return;
  if (!pad.isEmpty()) {
    say("Time's up!", "Sending your drawing…", "timeout");
    send(true);
  } else {
    finished = true;
    pad.setEnabled(false);
    submit.disabled = true;
    say("Time's up!", "No drawing this round. On to the next one…", "timeout");
    // The server times the round out once its clock (plus a little grace) has passed.
    setTimeout(() => window.location.assign(page.dataset.playUrl), 1600);
  }
}
tick();
