from guessgame.game import constants
from guessgame.game.models import is_guest


def drawing_constants(request) -> dict:
    """Canvas and game constants for every template (and, through data- attributes, JS)."""
    return {
        "CANVAS_PX": constants.CANVAS_PX,
        "PEN_PX": constants.PEN_PX,
        "ROUND_SECONDS": constants.ROUND_SECONDS,
        "ROUNDS_PER_GAME": constants.ROUNDS_PER_GAME,
        "SCORE_THRESHOLD": constants.SCORE_THRESHOLD,
        "THRESHOLD_MIN": constants.THRESHOLD_MIN,
        "THRESHOLD_MAX": constants.THRESHOLD_MAX,
        "THRESHOLD_STEP": constants.THRESHOLD_STEP,
        "THRESHOLD_DEFAULT": constants.THRESHOLD_DEFAULT,
        "LIVE_GUESS_INTERVAL_MS": constants.LIVE_GUESS_INTERVAL_MS,
        "CELEBRATION_MS": constants.CELEBRATION_MS,
        "HURRY_SECONDS": constants.HURRY_SECONDS,
        "is_guest": is_guest(request.user) if hasattr(request, "user") else False,
    }
