// The probability bar chart for digits 0-9, on a fixed 0-1 axis (HTML + CSS, no library).
// Bar heights are CSS custom properties set through the CSSOM, which the CSP allows.

export function renderChart(root, probabilities, { highlight = null } = {}) {
  if (!root) return;
  const cols = root.querySelectorAll("[data-digit]");
  const best = probabilities ? probabilities.indexOf(Math.max(...probabilities)) : -1;
  cols.forEach((col) => {
    const digit = Number(col.dataset.digit);
    const p = probabilities ? Math.max(0, Math.min(1, probabilities[digit])) : 0;
    col.style.setProperty("--p", p.toFixed(4));
    col.classList.toggle("is-best", digit === best && p > 0);
    col.classList.toggle("is-target", digit === highlight);
    const value = col.querySelector(".chart-value");
    if (value) value.textContent = `${Math.round(p * 100)}%`;
  });
  root.classList.toggle("is-empty", !probabilities);
}

export function setThreshold(root, threshold) {
  if (root) root.style.setProperty("--threshold", String(threshold));
}
