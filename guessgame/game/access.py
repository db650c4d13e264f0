"""What the signed-in player may open: their own games, rounds and drawings (staff: every
drawing), and a round's target only once its clock runs. Everything else is a 404, so
nobody learns what exists."""

from __future__ import annotations

from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from guessgame.game.models import Drawing, Game, Round


def own_game(request: HttpRequest, game_id: int) -> Game:
    return get_object_or_404(Game, pk=game_id, player=request.user)


def own_round(request: HttpRequest, round_id: int) -> Round:
    return get_object_or_404(
        Round.objects.select_related("game"), pk=round_id, game__player=request.user
    )


def revealed_round(request: HttpRequest, round_id: int) -> Round:
    """The player's round, if its target may be seen: a round not started is a 404."""
    round = own_round(request, round_id)
    if not round.is_revealed:
        raise Http404("No such round yet.")
    return round


def own_drawing(request: HttpRequest, drawing_id: int) -> Drawing:
    """A stored drawing, for its player and for staff only."""
    drawing = get_object_or_404(Drawing, pk=drawing_id)
    if drawing.player_id != request.user.pk and not request.user.is_staff:
        raise Http404("No such drawing.")
    return drawing
