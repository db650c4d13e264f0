// When to ask the model for a live guess, shared by free draw and the game.
//
// A guess at each pen-up (the moment a stroke may complete a digit), and while a stroke
// goes on at most one every `intervalMs`; a drawing the model already answered is never
// sent again; one request at a time, and the newest drawing goes when it returns. A
// busy model (503) or a lost connection is asked again after a pause. This keeps a
// player's requests to a few a second without making the guess later: the one at
// pen-up leaves at once.

const RETRY_MS = 1500;

export class LiveGuesser {
  /**
   * `ask(pad)` sends the drawing and resolves to { ok, status, data } (see http.js);
   * `onResult(data)`, `onBlank()` and `onError(message, status)` show the answer.
   */
  constructor(pad, { intervalMs, ask, onResult, onBlank = () => {}, onError = () => {} }) {
    this.pad = pad;
    this.intervalMs = intervalMs;
    this.ask = ask;
    this.onResult = onResult;
    this.onBlank = onBlank;
    this.onError = onError;
    this.timer = null;
    this.retry = null;
    this.inFlight = false;
    this.again = false;
    this.answered = null; // the last drawing the model answered, as sent
    this.active = true;
  }

  /** The pad changed while a stroke goes on: ask within `intervalMs`. */
  drawing() {
    if (this.timer === null && this.active) {
      this.timer = setTimeout(() => {
        this.timer = null;
        this.send();
      }, this.intervalMs);
    }
  }

  /** A stroke ended (or an undo, a clear, a move): ask now. */
  penUp() {
    clearTimeout(this.timer);
    this.timer = null;
    this.send();
  }

  /** No more guesses (the round is over) until `start()`. */
  stop() {
    this.active = false;
    clearTimeout(this.timer);
    clearTimeout(this.retry);
    this.timer = this.retry = null;
    this.again = false;
  }

  start() {
    this.active = true;
    this.answered = null;
  }

  async send() {
    if (!this.active) return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    const pad = this.pad;
    const version = pad.version;
    if (pad.isEmpty()) {
      this.onBlank();
      pad.root.dataset.guessedVersion = String(version);
      return;
    }
    const key = JSON.stringify(pad.exportStrokes());
    if (key === this.answered) {
      pad.root.dataset.guessedVersion = String(version);
      return;
    }
    this.inFlight = true;
    this.again = false;
    pad.root.dataset.guesses = String(Number(pad.root.dataset.guesses || 0) + 1);
    const answer = await this.ask(pad);
    this.inFlight = false;
    if (!this.active) return;
    if (answer.ok) {
      this.answered = key;
      pad.root.dataset.guessedVersion = String(version);
      if (pad.isEmpty()) this.onBlank();
      else if (answer.data.blank) this.onBlank(answer.data);
      else this.onResult(answer.data);
    } else {
      this.onError(answer.data.error || "The model could not answer.", answer.status);
      // A busy model or a lost connection: the same drawing again, after a pause.
      if (answer.status === 503 || answer.status === 0 || answer.status === 429) {
        clearTimeout(this.retry);
        this.retry = setTimeout(() => this.send(), RETRY_MS);
        return;
      }
      pad.root.dataset.guessedVersion = String(version);
    }
    if (this.again) this.send();
  }
}
