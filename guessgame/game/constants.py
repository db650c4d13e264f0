"""Game constants, defined once and handed to templates and JavaScript from here."""

from datetime import timedelta

from inference.canvas import CANVAS_PX, PEN_PX

ROUNDS_PER_GAME = 10
ROUND_SECONDS = 20
ROUND_DURATION = timedelta(seconds=ROUND_SECONDS)
# Allowance for the request's trip from the browser; the clock the player sees is the same.
SUBMIT_GRACE = timedelta(seconds=1)
# A guess counts when its confidence is at least this (0-1).
SCORE_THRESHOLD = 0.6
# Free draw's slider (the original demo's range and default).
THRESHOLD_MIN = 0.5
THRESHOLD_MAX = 0.95
THRESHOLD_STEP = 0.05
THRESHOLD_DEFAULT = 0.6
# A result still waiting for the model after this many seconds: the page says it is busy.
MODEL_BUSY_SECONDS = 5
# How often the page asks for a live guess while the player draws, in milliseconds.
LIVE_GUESS_DEBOUNCE_MS = 150

__all__ = [
    "CANVAS_PX",
    "PEN_PX",
    "ROUNDS_PER_GAME",
    "ROUND_SECONDS",
    "ROUND_DURATION",
    "SUBMIT_GRACE",
    "SCORE_THRESHOLD",
    "THRESHOLD_MIN",
    "THRESHOLD_MAX",
    "THRESHOLD_STEP",
    "THRESHOLD_DEFAULT",
    "LIVE_GUESS_DEBOUNCE_MS",
    "MODEL_BUSY_SECONDS",
]
