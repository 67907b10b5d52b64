"""One participant per person in a recorded lesson, from the tracks a tracker produced.

A tracker's track breaks whenever the detector misses a face for long enough, and a gallery that reorders its tiles
puts another person where a track was following someone. Offline, with the whole recording analysed, each track is
cut where its face's appearance changes abruptly (someone else sits in that tile now; a stretch of a few seconds
that looks different between two that look alike is the same person turned away, and is not cut), and the pieces are
joined into participants: a piece joins the participant it looks like, or the one last seen in the same place when it
looks at least somewhat alike; two pieces seen at the same moment are never one person. A participant seen for
less than `min_seen_s` in the whole recording (a detector's false alarm on a poster or a pattern) is discarded.

The appearance signature is a small, contrast-normalised grey patch of the face: enough to tell the handful of
people of one lesson apart, and nothing that identifies anyone outside it. Signatures live only in memory during
the analysis and are never stored.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from engine.types import Box

SIGNATURE_SIDE = 24


def signature(frame: np.ndarray, box: Box) -> np.ndarray:
    """The face's centre (its inner 70 %, little background) as a zero-mean, unit-norm grey 24 x 24 patch."""
    inset_x, inset_y = round(box.w * 0.15), round(box.h * 0.15)
    y0, x0 = max(box.y + inset_y, 0), max(box.x + inset_x, 0)
    patch = frame[y0 : max(box.y + box.h - inset_y, y0 + 1), x0 : max(box.x + box.w - inset_x, x0 + 1)]
    if patch.ndim == 3:
        patch = cv2.cvtColor(patch, cv2.COLOR_BGR2GRAY)
    small = cv2.resize(patch, (SIGNATURE_SIDE, SIGNATURE_SIDE), interpolation=cv2.INTER_AREA).astype(np.float32)
    small -= small.mean()
    norm = float(np.linalg.norm(small))
    return (small / norm if norm > 0 else small).ravel()


def similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Normalised correlation of two signatures (1: the same patch; about 0: unrelated)."""
    na, nb = float(np.linalg.norm(a)), float(np.linalg.norm(b))
    return float(np.dot(a, b) / (na * nb)) if na > 0 and nb > 0 else 0.0


@dataclass(frozen=True)
class Sighting:
    """One analysed face: its observation's index, when and where it was, and how it looked."""

    index: int
    track_id: int
    t: float
    box: Box
    signature: np.ndarray


@dataclass
class Piece:
    """Consecutive sightings of one track that look alike."""

    sightings: list[Sighting] = field(default_factory=list)
    total: np.ndarray | None = None  # the sum of their signatures

    def add(self, sighting: Sighting) -> None:
        self.sightings.append(sighting)
        self.total = sighting.signature.copy() if self.total is None else self.total + sighting.signature

    @property
    def first(self) -> float:
        return self.sightings[0].t

    @property
    def last(self) -> float:
        return self.sightings[-1].t

    def look(self) -> np.ndarray:
        assert self.total is not None
        return self.total / len(self.sightings)


@dataclass
class Participant:
    """The pieces judged to be one person."""

    number: int
    pieces: list[Piece] = field(default_factory=list)

    def overlaps(self, piece: Piece) -> bool:
        return any(p.first <= piece.last and piece.first <= p.last for p in self.pieces)

    def look(self) -> np.ndarray:
        return sum(p.total for p in self.pieces if p.total is not None) / max(self.sightings, 1)  # type: ignore[return-value]

    def last_seen_before(self, t: float) -> Sighting | None:
        earlier = [s for p in self.pieces for s in p.sightings if s.t <= t]
        return max(earlier, key=lambda s: s.t) if earlier else None

    @property
    def seen_s(self) -> float:
        return sum(p.last - p.first for p in self.pieces)

    @property
    def sightings(self) -> int:
        return sum(len(p.sightings) for p in self.pieces)


def near(a: Box, b: Box, max_shift: float = 0.5, max_scale: float = 1.5) -> bool:
    """Roughly the same place and size: centres within `max_shift` of a face width, sizes within `max_scale`."""
    (ax, ay), (bx, by) = a.center, b.center
    side = max(a.w, b.w, 1)
    scale = max(a.w, b.w) / max(min(a.w, b.w), 1)
    return ((ax - bx) ** 2 + (ay - by) ** 2) ** 0.5 <= max_shift * side and scale <= max_scale


@dataclass(frozen=True)
class IdentityRules:
    """Thresholds on signature similarity (`python -m benchmarks.video` shows how they separate its faces)."""

    cut_below: float = 0.7  # a track's sightings this unlike its piece so far start a new piece
    same_look: float = 0.8  # a piece this like a participant joins it wherever it is
    same_place_look: float = 0.65  # a piece near where a participant was last seen joins it from this likeness
    min_seen_s: float = 2.0  # a participant seen for less is a false alarm
    min_sightings: int = 3  # ... or seen fewer times
    max_glance_s: float = 5.0  # a track's different-looking stretch this short, between two alike, is not cut


def cut_tracks(sightings: list[Sighting], rules: IdentityRules) -> list[Piece]:
    """Each track's sightings in time order, cut where the face's look changes for good: two sightings in a row
    unlike the piece so far and like each other. A single unlike sighting (a blink, a turn, a hand) stays, and so
    does a short unlike stretch followed by the first look again (`rejoin_glances`)."""
    pieces: list[Piece] = []
    by_track: dict[int, list[Sighting]] = {}
    for s in sorted(sightings, key=lambda s: (s.t, s.index)):
        by_track.setdefault(s.track_id, []).append(s)
    for track in by_track.values():
        cut: list[Piece] = []
        piece, pending = Piece(), list[Sighting]()
        piece.add(track[0])
        for s in track[1:]:
            if similarity(piece.look(), s.signature) >= rules.cut_below:
                for held in [*pending, s]:
                    piece.add(held)
                pending = []
                continue
            pending.append(s)
            if len(pending) >= 2 and similarity(pending[-2].signature, s.signature) >= rules.cut_below:
                for held in pending[:-2]:
                    piece.add(held)
                cut.append(piece)
                piece = Piece()
                for held in pending[-2:]:
                    piece.add(held)
                pending = []
        for held in pending:
            piece.add(held)
        pieces += rejoin_glances([*cut, piece], rules)
    return pieces


def rejoin_glances(track: list[Piece], rules: IdentityRules) -> list[Piece]:
    """One track's pieces with every short stretch that looks different between two pieces that look alike (A, B, A:
    a head turned aside, a hand before the face) joined back into one piece."""
    joined = [track[0]]
    i = 1
    while i < len(track):
        glance, after = track[i], track[i + 1] if i + 1 < len(track) else None
        if (after is not None and glance.last - glance.first <= rules.max_glance_s
                and similarity(joined[-1].look(), after.look()) >= rules.same_look):
            for held in [*glance.sightings, *after.sightings]:
                joined[-1].add(held)
            i += 2
        else:
            joined.append(glance)
            i += 1
    return joined


@dataclass(frozen=True)
class Identities:
    """Which participant (numbered from 1) each sighting's observation belongs to; false alarms have none."""

    participant_of: dict[int, int]  # observation index -> participant number
    participants: int
    false_alarms: int  # discarded would-be participants
    discarded_observations: int


def identify(sightings: list[Sighting], rules: IdentityRules | None = None) -> Identities:
    """Join the tracks' pieces into participants (see the module's docstring)."""
    rules = rules or IdentityRules()
    people: list[Participant] = []
    for piece in sorted(cut_tracks(sightings, rules), key=lambda p: (p.first, p.sightings[0].index)):
        look, best, best_score = piece.look(), None, 0.0
        for person in people:
            if person.overlaps(piece):
                continue
            score = similarity(person.look(), look)
            previous = person.last_seen_before(piece.first)
            placed = previous is not None and near(previous.box, piece.sightings[0].box)
            if (score >= rules.same_look or (placed and score >= rules.same_place_look)) and score > best_score:
                best, best_score = person, score
        if best is None:
            best = Participant(len(people) + 1)
            people.append(best)
        best.pieces.append(piece)
    kept = [p for p in people if p.seen_s >= rules.min_seen_s and p.sightings >= rules.min_sightings]
    mapping = {s.index: number for number, person in enumerate(kept, 1) for piece in person.pieces for s in piece.sightings}
    return Identities(mapping, len(kept), len(people) - len(kept), len(sightings) - len(mapping))
