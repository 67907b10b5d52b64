"""A small IoU tracker that keeps one stable id per face across the frames of one stream."""
from __future__ import annotations

from dataclasses import dataclass

from engine.types import Box, Face, Prediction


@dataclass
class Track:
    """One face followed over time; mutable because it lives across frames of a single stream."""

    id: int
    box: Box
    score: float = 1.0
    missed: int = 0  # consecutive frames without a matching detection
    hits: int = 1
    streak: int = 1  # consecutive frames with a matching detection
    confirmed: bool = False  # seen in `min_hits` consecutive frames at least once
    prediction: Prediction | None = None
    next_analysis: float | None = None  # monotonic seconds when the next analysis is due (None: at once)


def match(tracks: list[Track], faces: list[Face], min_iou: float, max_center_shift: float) -> list[tuple[int, int]]:
    """Greedy (track index, face index) pairs: highest IoU first, then near centres for fast movers."""
    scored = []
    for ti, track in enumerate(tracks):
        for fi, face in enumerate(faces):
            iou = track.box.iou(face.box)
            (tx, ty), (fx, fy) = track.box.center, face.box.center
            shift = ((tx - fx) ** 2 + (ty - fy) ** 2) ** 0.5 / max(track.box.w, track.box.h, 1)
            if iou >= min_iou or shift <= max_center_shift:
                scored.append((iou, -shift, ti, fi))
    pairs, used_t, used_f = [], set(), set()
    for _iou, _shift, ti, fi in sorted(scored, reverse=True):
        if ti not in used_t and fi not in used_f:
            pairs.append((ti, fi))
            used_t.add(ti)
            used_f.add(fi)
    return pairs


class IouTracker:
    """Assigns track ids to detections; a track survives `max_missed` frames without a detection.

    A track is confirmed once it was matched in `min_hits` consecutive frames (as in SORT), so a detector's
    false alarm that flickers in now and then never becomes confirmed.
    """

    def __init__(self, min_iou: float = 0.3, max_center_shift: float = 0.5, max_missed: int = 10, min_hits: int = 2) -> None:
        self.min_iou, self.max_center_shift, self.max_missed, self.min_hits = min_iou, max_center_shift, max_missed, min_hits
        self.tracks: list[Track] = []
        self._next_id = 1

    def update(self, faces: list[Face]) -> list[Track]:
        """Match this frame's faces to tracks; returns the tracks seen in this frame."""
        pairs = match(self.tracks, faces, self.min_iou, self.max_center_shift)
        matched_t = {ti for ti, _ in pairs}
        matched_f = {fi for _, fi in pairs}
        for ti, fi in pairs:
            track = self.tracks[ti]
            track.box, track.score, track.missed = faces[fi].box, faces[fi].score, 0
            track.hits, track.streak = track.hits + 1, track.streak + 1
        for ti, track in enumerate(self.tracks):
            if ti not in matched_t:
                track.missed, track.streak = track.missed + 1, 0
        for fi, face in enumerate(faces):
            if fi not in matched_f:
                self.tracks.append(Track(self._next_id, face.box, face.score))
                self._next_id += 1
        for track in self.tracks:
            track.confirmed = track.confirmed or track.streak >= self.min_hits
        self.tracks = [t for t in self.tracks if t.missed <= self.max_missed]
        return [t for t in self.tracks if t.missed == 0]
