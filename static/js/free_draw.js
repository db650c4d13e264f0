// Free draw: the original demo. Live guess, threshold slider, bar chart, PNG download.
import { DrawingPad } from "./canvas.js";
import { renderChart, setThreshold } from "./chart.js";
import { request } from "./http.js";
import { LiveGuesser } from "./live.js";

const page = document.getElementById("free-draw");
const main = document.getElementById("guess-main");
const sub = document.getElementById("guess-sub");
const padGuess = document.getElementById("pad-guess"); // the same, above the canvas on a phone
const slider = document.getElementById("threshold");
const sliderValue = document.getElementById("threshold-value");
const chart = page.querySelector("[data-chart]");
const download = document.getElementById("download");
let last = null; // the latest guess, so the slider can re-judge it without asking again

function say(headline, detail, state) {
  main.textContent = headline;
  sub.textContent = detail;
  padGuess.textContent = state === "blank" ? "" : `${headline}. ${detail}`;
  page.dataset.state = state;
}

function show() {
  const threshold = Number(slider.value);
  sliderValue.textContent = threshold.toFixed(2);
  setThreshold(chart, threshold);
  page.classList.remove("is-busy");
  if (!last) return;
  renderChart(chart, last.probabilities, { notDigit: last.not_digit });
  page.dataset.confidence = String(last.confidence);
  const percent = Math.round(last.confidence * 100);
  if (last.not_digit) {
    // "Not a digit" is an answer, not a guess to hide below the threshold.
    say(last.message, `${percent}% sure. Try one digit, 0 to 9.`, "not-digit");
  } else if (last.confidence >= threshold) {
    say(`Prediction = ${last.digit}`, `${percent}% sure.`, "guess");
  } else {
    say("Please draw again", `Best guess ${last.digit} at ${percent}%, below the threshold.`, "unsure");
  }
}

function blank() {
  last = null;
  say("Draw something first", "The guess appears as you draw.", "blank");
  renderChart(chart, null);
}

const pad = new DrawingPad(page.querySelector("[data-canvas]"), {
  onChange: (p) => {
    download.disabled = p.isEmpty();
    guesser.drawing();
  },
  onStrokeEnd: () => guesser.penUp(),
});
const guesser = new LiveGuesser(pad, {
  intervalMs: Number(page.dataset.intervalMs),
  ask: async (p) => {
    const form = new FormData();
    form.append("image", await p.toBlob(), "drawing.png");
    return request(page.dataset.guessUrl, { method: "POST", form });
  },
  onResult: (data) => {
    last = data;
    show();
  },
  onBlank: blank,
  onError: (message, status) => {
    say(status === 503 ? "The model is busy" : "No guess right now", message, "error");
  },
});

slider.addEventListener("input", show);
download.addEventListener("click", async () => {
  if (pad.isEmpty()) return;
  const url = URL.createObjectURL(await pad.toBlob());
  const a = document.createElement("a");
  a.href = url;
  a.download = "drawing.png";
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
});
show();
blank();
