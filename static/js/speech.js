// Spoken guesses (the browser's speech synthesis) and their written twin for screen
// readers: a polite live region that hears only what the voice would say, so it never
// floods. A mute toggle is remembered per browser (localStorage).

const STORAGE_KEY = "guessgame.voice";

export class Voice {
  constructor({ toggle, region }) {
    this.toggle = toggle;
    this.region = region;
    this.synth = "speechSynthesis" in window ? window.speechSynthesis : null;
    this.muted = readMuted();
    this.last = "";
    this.show();
    toggle?.addEventListener("click", () => {
      this.muted = !this.muted;
      try {
        localStorage.setItem(STORAGE_KEY, this.muted ? "off" : "on");
      } catch {
        // private mode: remembered for this page only
      }
      if (this.muted) this.synth?.cancel();
      this.show();
    });
  }

  show() {
    if (!this.toggle) return;
    this.toggle.setAttribute("aria-pressed", String(!this.muted));
    this.toggle.querySelector("[data-label]").textContent = this.muted ? "Sound off" : "Sound on";
    this.toggle.dataset.muted = String(this.muted);
  }

  /**
   * Say `text` (once: the same sentence twice in a row is said once). `urgent` cuts off
   * whatever is being said (the round is won); otherwise a sentence that would queue
   * behind another is only written, so the voice never lags behind the drawing.
   */
  say(text, { urgent = false } = {}) {
    if (!text || text === this.last) return;
    this.last = text;
    if (this.region) this.region.textContent = text;
    if (this.muted || !this.synth) return;
    if (urgent) this.synth.cancel();
    else if (this.synth.speaking || this.synth.pending) return;
    const utterance = new SpeechSynthesisUtterance(text);
    utterance.rate = 1.1;
    this.synth.speak(utterance);
  }

  /** A new round: the next sentence is said even if it matches the last one. */
  reset() {
    this.last = "";
  }
}

function readMuted() {
  try {
    return localStorage.getItem(STORAGE_KEY) === "off";
  } catch {
    return false;
  }
}
