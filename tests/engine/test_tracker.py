from engine.tracker import IouTracker
from engine.types import Box, Face


def faces(*boxes: Box) -> list[Face]:
    return [Face(b) for b in boxes]


def test_ids_stay_stable_while_faces_move() -> None:
    tracker = IouTracker()
    first = {t.box.x: t.id for t in tracker.update(faces(Box(0, 0, 50, 50), Box(200, 0, 50, 50)))}
    for step in range(1, 10):
        seen = {t.id for t in tracker.update(faces(Box(3 * step, 0, 50, 50), Box(200 - 3 * step, 0, 50, 50)))}
        assert seen == set(first.values())
    left = next(t for t in tracker.tracks if t.box.x < 100)
    assert left.id == first[0]


def test_a_new_face_gets_a_new_id() -> None:
    tracker = IouTracker()
    (a,) = tracker.update(faces(Box(0, 0, 50, 50)))
    ids = {t.id for t in tracker.update(faces(Box(0, 0, 50, 50), Box(300, 300, 40, 40)))}
    assert a.id in ids and len(ids) == 2


def test_a_track_survives_short_gaps_and_dies_after_long_ones() -> None:
    tracker = IouTracker(max_missed=2)
    (a,) = tracker.update(faces(Box(0, 0, 50, 50)))
    tracker.update([])
    tracker.update([])
    (again,) = tracker.update(faces(Box(2, 2, 50, 50)))
    assert again.id == a.id
    for _ in range(3):
        tracker.update([])
    (fresh,) = tracker.update(faces(Box(2, 2, 50, 50)))
    assert fresh.id != a.id


def test_fast_mover_is_matched_by_centre_distance() -> None:
    tracker = IouTracker()
    (a,) = tracker.update(faces(Box(0, 0, 40, 40)))
    (b,) = tracker.update(faces(Box(18, 0, 40, 40)))  # IoU below 0.3 but the centre moved < half a box
    assert b.id == a.id


def test_only_consecutive_detections_confirm_a_track() -> None:
    tracker = IouTracker(min_hits=2, max_missed=10)
    flicker = Box(400, 400, 26, 26)
    for frame in range(12):  # detected every third frame only: never twice in a row
        tracker.update(faces(flicker) if frame % 3 == 0 else [])
        (track,) = tracker.tracks
        assert not track.confirmed
    steady = IouTracker(min_hits=2)
    steady.update(faces(Box(0, 0, 50, 50)))
    (track,) = steady.update(faces(Box(1, 0, 50, 50)))
    assert track.confirmed
    steady.update([])
    assert steady.tracks[0].confirmed  # once confirmed, a short gap does not unconfirm it
