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
# Live guesses: one at each pen-up (at once: the moment a stroke may complete a digit),
# and while a stroke goes on at most one every this many milliseconds; a drawing already
# guessed is never sent again. The first version asked every 150 ms while the drawing
# changed: about three times the requests for the same drawing (bench/bench_players.py).
LIVE_GUESS_INTERVAL_MS = 600
# The clock turns red for the round's last this many seconds.
HURRY_SECONDS = 5
# How long the page celebrates a recognised drawing before the next card, in milliseconds.
CELEBRATION_MS = 1800
# A game with no round started or drawn for this long finishes by itself: its rounds not
# yet played score 0 (three rounds' time, so a pause to read a result never ends a game).
ABANDONED_AFTER = timedelta(seconds=3 * ROUND_SECONDS)

# What a person can draw, checked on the strokes' own timings (milliseconds since the
# round started, measured by the browser on the clock the server gave it).
MAX_PEN_SPEED = 5.0
"""Canvas CSS pixels per millisecond: the canvas crossed in 45 ms, a fast flick."""
PEN_SPEED_SLACK_PX = PEN_PX
"""A stroke may be this much longer than the speed allows (a dot, a coalesced event)."""
CLOCK_TOLERANCE = timedelta(milliseconds=500)
"""Strokes may be timed this far past the server's clock (rounding, a slow frame)."""

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
    "LIVE_GUESS_INTERVAL_MS",
    "CELEBRATION_MS",
    "HURRY_SECONDS",
    "ABANDONED_AFTER",
    "MAX_PEN_SPEED",
    "PEN_SPEED_SLACK_PX",
    "CLOCK_TOLERANCE",
    "MODEL_BUSY_SECONDS",
]
