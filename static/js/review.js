// The review queue: keyboard decisions on a grid of drawings, POSTed with the CSRF token.
// Keys: 0-9 relabel, A approve, R reject, S skip (unsure), U undo the last decision,
// arrows move. The current drawing is shown large beside the grid with its top guesses.

import { request } from "./http.js";

const root = document.getElementById("review");

const cards = () => Array.from(root.querySelectorAll(".review-card"));
const errorBox = root?.querySelector("[data-error]");
let current = 0;

function focusCard(index) {
  const all = cards();
  if (!all.length) return;
  current = Math.max(0, Math.min(index, all.length - 1));
  all.forEach((card, i) => card.classList.toggle("current", i === current));
  all[current].focus({ preventScroll: false });
  showLarge(all[current]);
}

function showLarge(card) {
  const large = root.querySelector("[data-large]");
  if (!large || !card) return;
  large.querySelector("[data-large-id]").textContent = card.dataset.id;
  large.querySelector("[data-large-image]").src = card.dataset.image;
  const pixels = large.querySelector("[data-large-pixels]");
  pixels.hidden = !card.dataset.pixels;
  if (card.dataset.pixels) pixels.src = card.dataset.pixels;
  large.querySelector("[data-large-label]").textContent =
    card.querySelector("[data-shown-label]").textContent;
  const top = card.querySelector("[data-top]");
  large.querySelector("[data-large-top]").innerHTML = top.innerHTML;
  // No guess yet (still waiting for the model): no empty heading.
  large.querySelector("[data-large-top-title]").hidden = !top.children.length;
}

function nextUndecided(from) {
  const all = cards();
  for (let i = from + 1; i < all.length; i += 1) {
    if (!all[i].dataset.decided) return i;
  }
  return Math.min(from + 1, all.length - 1);
}

function showError(message) {
  errorBox.textContent = message;
  errorBox.hidden = !message;
}

function showProgress(progress) {
  root.querySelector("[data-progress-reviewed]").textContent = progress.reviewed;
  root.querySelector("[data-progress-total]").textContent = progress.total;
}

function showDrawing(drawing) {
  const card = root.querySelector(`.review-card[data-id="${drawing.id}"]`);
  if (!card) return null;
  card.classList.remove("approved", "relabelled", "rejected");
  const status = drawing.review_status;
  if (status === "unreviewed") {
    delete card.dataset.decided;
  } else {
    card.classList.add(status);
    card.dataset.decided = status;
  }
  const state = status === "relabelled" ? `relabelled to ${drawing.effective_label}` : status;
  card.querySelector("[data-state]").textContent = state;
  card.querySelector("[data-shown-label]").textContent = drawing.effective_label;
  if (card === cards()[current]) showLarge(card);
  return card;
}

async function post(url, body) {
  const { ok, status, data } = await request(url, { method: "POST", json: body || {} });
  if (ok && Object.keys(data).length) return data;
  if (status === 0) throw new Error("No connection to the server: check it and try again.");
  // No JSON at all: the session ended and the login page answered.
  throw new Error(data.error || `The server answered ${status}; reload the page and log in again.`);
}

async function decide(action, label) {
  const card = cards()[current];
  if (!card) return;
  const body = { drawing: Number(card.dataset.id), action };
  if (label !== undefined) body.label = label;
  try {
    const data = await post(root.dataset.decideUrl, body);
    showError("");
    showDrawing(data.drawing);
    showProgress(data.progress);
    focusCard(nextUndecided(current));
  } catch (error) {
    showError(error.message);
  }
}

async function skip() {
  const card = cards()[current];
  if (!card || card.dataset.decided) return;
  try {
    await post(root.dataset.skipUrl, { drawing: Number(card.dataset.id) });
    showError("");
    card.classList.add("skipped");
    card.dataset.decided = "skipped";
    card.querySelector("[data-state]").textContent = "skipped: another reviewer decides";
    focusCard(nextUndecided(current));
  } catch (error) {
    showError(error.message);
  }
}

async function undo() {
  try {
    const data = await post(root.dataset.undoUrl);
    showProgress(data.progress);
    if (!data.undone.length) {
      showError("Nothing to undo.");
      return;
    }
    showError("");
    let first = null;
    for (const drawing of data.undone) {
      const card = showDrawing(drawing);
      if (card && first === null) first = cards().indexOf(card);
    }
    if (first !== null && first >= 0) focusCard(first);
  } catch (error) {
    showError(error.message);
  }
}

function onKey(event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const key = event.key.toLowerCase();
  if (/^[0-9]$/.test(key)) decide("relabel", Number(key));
  else if (key === "a") decide("approve");
  else if (key === "r") decide("reject");
  else if (key === "s") skip();
  else if (key === "u") undo();
  else if (key === "arrowright" || key === "arrowdown") focusCard(current + 1);
  else if (key === "arrowleft" || key === "arrowup") focusCard(current - 1);
  else return;
  event.preventDefault();
}

if (root) {
  document.addEventListener("keydown", onKey);
  root.addEventListener("click", (event) => {
    const card = event.target.closest(".review-card");
    if (card) focusCard(cards().indexOf(card));
  });
  focusCard(0);
  root.dataset.ready = "true";
}
