from django.urls import path

from guessgame.game import api, views

urlpatterns = [
    path("", views.home, name="home"),
    path("scoring", views.scoring_rules, name="scoring"),
    path("draw", views.free_draw, name="free_draw"),
    path("guess", api.live_guess, name="live_guess"),
    path("leaderboard", views.leaderboard, name="leaderboard"),
    path("players/<path:username>", views.profile, name="profile"),
    path("me", views.my_profile, name="my_profile"),
    path("me/drawings.zip", views.my_drawings, name="my_drawings"),
    # A scored game
    path("play/new", views.game_new, name="game_new"),
    path("play/<int:game_id>", views.play, name="play"),
    path("play/<int:game_id>/state.json", api.game_state, name="game_state"),
    path("games/<int:game_id>", views.game_summary, name="game_summary"),
    path("rounds/<int:round_id>/start", api.round_begin, name="round_begin"),
    path("rounds/<int:round_id>/guess", api.round_guess, name="round_guess"),
    path("rounds/<int:round_id>/submit", api.round_submit, name="round_submit"),
    path("rounds/<int:round_id>/result", views.round_result, name="round_result"),
    path("rounds/<int:round_id>/result.json", api.round_result_json, name="round_result_json"),
    path("rounds/<int:round_id>/flag", views.round_flag, name="round_flag"),
    path("drawings/<int:drawing_id>.png", views.drawing_png, name="drawing_png"),
    path("drawings/<int:drawing_id>/seen.png", views.drawing_seen_png, name="drawing_seen_png"),
]
