"""Quick, Draw!'s formats: the simplified strokes keep a drawing's shape in 0-255."""

from guessgame.game import quickdraw


def test_a_straight_stroke_simplifies_to_its_ends_and_a_corner_survives():
    line = [[[10 + i for i in range(50)], [20 + i for i in range(50)], list(range(50))]]
    corner = [[[0, 50, 100, 100, 100], [0, 0, 0, 50, 100], [0, 1, 2, 3, 4]]]
    wobble = [[[0, 50, 100], [0, 0.5, 0], [0, 1, 2]]]  # 0.5 of 100 is 1.3 of 255: under 2

    assert quickdraw.simplified_strokes(line) == [[[0, 255], [0, 255]]]
    assert quickdraw.simplified_strokes(corner) == [[[0, 255, 255], [0, 0, 255]]]
    assert quickdraw.simplified_strokes(wobble) == [[[0, 255], [0, 0]]]
    assert quickdraw.simplified_strokes([[[5], [7], [0]]]) == [[[0], [0]]]
