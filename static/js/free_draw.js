// Free draw: the original demo. Live guess, threshold slider, bar chart, PNG download.
import { DrawingPad } from "./canvas.js";
import { renderChart, setThreshold } from "./chart.js";
import { request } from "./http.js";
import { LiveGuesser } from "./live.js";

const page = document.getElementById("free-draw");
const main = document.getElementById("guess-main");
const sub = document.getElementById("guess-sub");
const slider = document.getElementById("threshold");
const sliderValue = document.getElementById("threshold-value");
const chart = page.querySelector("[data-chart]");
const download = document.getElementById("download");
let last = null; // the latest guess, so the slider can re-judge it without asking again

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
    main.textContent = last.message;
    sub.textContent = `${percent}% sure. Try one digit, 0 to 9.`;
    page.dataset.state = "not-digit";
  } else if (last.confidence >= threshold) {
    main.textContent = `Prediction = ${last.digit}`;
    sub.textContent = `${percent}% sure.`;
    page.dataset.state = "guess";
  } else {
    main.textContent = "Please draw again";
    sub.textContent = `Best guess ${last.digit} at ${percent}%, below the threshold.`;
    page.dataset.state = "unsure";
  }
}

function blank() {
  last = null;
  main.textContent = "Draw something first";
  sub.textContent = "The guess appears as you draw.";
  page.dataset.state = "blank";
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
    main.textContent = status === 503 ? "The model is busy" : "No guess right now";
    sub.textContent = message;
    page.dataset.state = "error";
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
