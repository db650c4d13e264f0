// A round's result: ask the server until the worker's prediction is in, then show it.
import { renderChart, setThreshold } from "./chart.js";
import { aDigit } from "./words.js";

const page = document.getElementById("result");
const chart = page.querySelector("[data-chart]");
const target = Number(page.dataset.target);
const main = document.getElementById("verdict-main");
const sub = document.getElementById("verdict-sub");
const pointsValue = document.getElementById("points-value");
const breakdown = document.getElementById("breakdown");
const gameScore = document.getElementById("game-score");
setThreshold(chart, Number(page.dataset.threshold));
renderChart(chart, null, { highlight: target });

let delay = 500;

function show(o) {
  page.dataset.status = o.status;
  gameScore.textContent = o.game_score;
  renderChart(chart, o.probabilities, { highlight: target, notDigit: o.not_digit });
  if (o.status === "pending") {
    // The server says when the wait has gone on too long (no worker is answering).
    if (o.model_busy) {
      main.textContent = "The model is busy";
      sub.textContent = "Your drawing is saved and will be scored as soon as the model is back. " +
        "This page keeps checking; you can also play on and see it in the summary.";
    } else {
      main.textContent = "The model is looking…";
      sub.textContent = "Your drawing is saved. The result appears here as soon as the model is free.";
    }
    pointsValue.textContent = "…";
    return;
  }
  if (o.status === "timeout") {
    main.textContent = "Time ran out";
    sub.textContent = "No drawing was sent in time.";
  } else if (o.status === "empty") {
    main.textContent = "No drawing";
    sub.textContent = "The round ended with an empty canvas.";
  } else if (o.status === "playing") {
    main.textContent = "Still playing";
    sub.textContent = "This round is not over yet.";
  } else if (o.status === "failed") {
    main.textContent = "The model could not read this drawing";
    sub.textContent = "No points this time.";
  } else {
    const percent = Math.round(o.confidence * 100);
    if (o.not_digit) main.textContent = o.message;
    else main.textContent = o.recognised ? `Recognised: ${o.digit}!` : `It saw ${aDigit(o.digit)}`;
    let detail = o.not_digit ? `${percent}% sure it is not a digit: no points this time.` : `${percent}% sure.`;
    if (o.late) detail += " Sent after the bell: no points.";
    else if (!o.recognised && o.digit === o.target) detail += " Not sure enough for points.";
    else if (o.recognised && o.earlier_pending) detail += " Any streak bonus is added once your earlier rounds are scored.";
    sub.textContent = detail;
  }
  pointsValue.textContent = `+${o.points}`;
  page.classList.toggle("is-recognised", o.recognised);
  if (o.breakdown) {
    for (const [part, value] of Object.entries(o.breakdown)) {
      const el = breakdown.querySelector(`[data-part="${part}"]`);
      if (el) el.textContent = value;
    }
  }
  breakdown.hidden = !o.breakdown;
}

async function poll() {
  try {
    const response = await fetch(page.dataset.jsonUrl, { headers: { Accept: "application/json" } });
    if (response.ok) {
      const o = await response.json();
      show(o);
      // An earlier round still waiting for the model may yet change this round's streak.
      if (o.status !== "pending" && !o.earlier_pending) return;
    }
  } catch {
    // offline for a moment: keep asking
  }
  delay = Math.min(delay * 1.5, 5000);
  setTimeout(poll, delay);
}
poll();
