"""Joining a recording's tracks into participants: cuts on a change of face, joins by look and by place."""
from __future__ import annotations

import numpy as np

from engine.identity import IdentityRules, Sighting, cut_tracks, identify, near, signature, similarity
from engine.types import Box

RNG = np.random.default_rng(7)
LOOKS = [RNG.normal(size=576).astype(np.float32) for _ in range(4)]  # four unrelated faces


def look(person: int, noise: float = 0.2) -> np.ndarray:
    return LOOKS[person] + noise * RNG.normal(size=576).astype(np.float32)


def sightings(track: int, person: int, times: range | list[float], box: Box, start: int) -> list[Sighting]:
    return [Sighting(start + i, track, float(t), box, look(person)) for i, t in enumerate(times)]


LEFT, RIGHT = Box(100, 100, 200, 200), Box(1100, 100, 200, 200)


def test_signature_is_normalised_and_recognises_the_same_face(astronaut_bgr: np.ndarray) -> None:
    face = Box(177, 66, 95, 95)
    a = signature(astronaut_bgr, face)
    assert a.shape == (576,) and abs(float(np.linalg.norm(a)) - 1) < 1e-5
    shifted = signature(astronaut_bgr, Box(180, 68, 93, 94))  # a detector's box a few pixels off
    darker = signature((astronaut_bgr * 0.6).astype(np.uint8), face)
    elsewhere = signature(astronaut_bgr, Box(300, 300, 95, 95))
    assert similarity(a, shifted) > 0.75 and similarity(a, darker) > 0.95
    assert similarity(a, elsewhere) < 0.45


def test_a_track_that_changes_face_is_cut() -> None:
    found = sightings(1, 0, range(0, 10), LEFT, 0) + sightings(1, 1, range(10, 20), LEFT, 10)
    pieces = cut_tracks(found, IdentityRules())
    assert [len(p.sightings) for p in pieces] == [10, 10]


def test_broken_tracks_of_one_face_are_one_participant() -> None:
    found = (sightings(1, 0, range(0, 10), LEFT, 0) + sightings(2, 0, range(15, 30), LEFT, 10)
             + sightings(3, 1, range(0, 30), RIGHT, 25))
    result = identify(found)
    assert result.participants == 2 and result.false_alarms == 0
    assert {result.participant_of[i] for i in range(25)} == {1}
    assert {result.participant_of[i] for i in range(25, 55)} == {2}


def test_a_face_that_moves_to_another_tile_is_recognised_by_its_look() -> None:
    found = (sightings(1, 0, range(0, 10), LEFT, 0) + sightings(2, 1, range(0, 10), RIGHT, 10)
             + sightings(3, 0, range(12, 20), RIGHT, 20) + sightings(4, 1, range(12, 20), LEFT, 28))
    result = identify(found)
    assert result.participants == 2
    assert result.participant_of[0] == result.participant_of[20] != result.participant_of[10] == result.participant_of[28]


def test_faces_seen_at_the_same_time_are_never_one_participant() -> None:
    found = sightings(1, 0, range(0, 10), LEFT, 0) + sightings(2, 0, range(0, 10), RIGHT, 10)  # twins on screen
    assert identify(found).participants == 2


def test_brief_false_alarms_are_not_participants() -> None:
    found = sightings(1, 0, range(0, 20), LEFT, 0) + sightings(9, 3, [5.0, 6.0], Box(900, 700, 40, 40), 20)
    result = identify(found)
    assert (result.participants, result.false_alarms, result.discarded_observations) == (1, 1, 2)
    assert 20 not in result.participant_of


def test_someone_else_in_a_tile_is_a_new_participant_even_there() -> None:
    found = sightings(1, 0, range(0, 10), LEFT, 0) + sightings(2, 2, range(20, 30), LEFT, 10)
    rules = IdentityRules()
    assert similarity(LOOKS[0], LOOKS[2]) < rules.same_place_look
    assert identify(found, rules).participants == 2


def test_near_means_same_place_and_size() -> None:
    assert near(LEFT, Box(140, 120, 210, 190))
    assert not near(LEFT, RIGHT)
    assert not near(LEFT, Box(100, 100, 400, 400))


def test_one_odd_sighting_does_not_cut_a_track() -> None:
    found = sightings(1, 0, range(0, 10), LEFT, 0)
    found[4] = Sighting(4, 1, 4.0, LEFT, look(3))  # a hand in front of the face, once
    assert [len(p.sightings) for p in cut_tracks(found, IdentityRules())] == [10]


def test_a_face_turned_aside_for_a_few_seconds_stays_one_piece_and_one_participant() -> None:
    """Turned aside, the face looks unlike itself (and the detector's box shrinks) for a few sightings, twice."""
    turned = Box(150, 130, 140, 140)
    found = (sightings(1, 0, range(0, 13), LEFT, 0) + sightings(1, 2, [14.0, 14.5], turned, 13)
             + sightings(1, 0, range(16, 28), LEFT, 15) + sightings(1, 2, [29.0, 29.5, 30.0, 30.5], turned, 27)
             + sightings(1, 0, range(32, 40), LEFT, 31))
    assert [len(p.sightings) for p in cut_tracks(found, IdentityRules())] == [len(found)]
    assert identify(found).participants == 1


def test_someone_else_in_the_tile_for_longer_than_a_glance_is_still_cut() -> None:
    found = (sightings(1, 0, range(0, 10), LEFT, 0) + sightings(1, 1, range(10, 20), LEFT, 10)
             + sightings(1, 0, range(20, 30), LEFT, 20))
    pieces = cut_tracks(found, IdentityRules())
    assert [len(p.sightings) for p in pieces] == [10, 10, 10]
    result = identify(found)
    assert result.participants == 2 and result.participant_of[0] == result.participant_of[25] != result.participant_of[15]
