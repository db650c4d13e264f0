// The probability bar chart, on a fixed 0-1 axis (HTML + CSS, no library): one bar per
// digit 0-9, then "?" for "not a digit". The server sends the ten digit probabilities;
// what they leave of 1 is the model's p(not a digit) (0 for a model without that answer).
// Bar heights are CSS custom properties set through the CSSOM, which the CSP allows.

function setBar(col, p, best) {
  col.style.setProperty("--p", p.toFixed(4));
  col.classList.toggle("is-best", best && p > 0);
  const value = col.querySelector(".chart-value");
  if (value) value.textContent = `${Math.round(p * 100)}%`;
}

/** Draw `probabilities` (ten numbers, or null for none); `notDigit` marks "?" as the answer. */
export function renderChart(root, probabilities, { highlight = null, notDigit = false } = {}) {
  if (!root) return;
  const clamp = (p) => Math.max(0, Math.min(1, p));
  const best = probabilities && !notDigit ? probabilities.indexOf(Math.max(...probabilities)) : -1;
  root.querySelectorAll("[data-digit]").forEach((col) => {
    const digit = Number(col.dataset.digit);
    setBar(col, probabilities ? clamp(probabilities[digit]) : 0, digit === best);
    col.classList.toggle("is-target", digit === highlight);
  });
  const rest = probabilities ? clamp(1 - probabilities.reduce((sum, p) => sum + p, 0)) : 0;
  const other = root.querySelector("[data-not-digit]");
  if (other) setBar(other, rest, notDigit);
  root.classList.toggle("is-empty", !probabilities);
}

export function setThreshold(root, threshold) {
  if (root) root.style.setProperty("--threshold", String(threshold));
}
