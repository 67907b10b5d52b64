"""Drawing face boxes and labels onto frames."""
from __future__ import annotations

import cv2
import numpy as np

from engine.types import FaceResult

# BGR colours per label; attention-only boxes are grey.
COLOURS: dict[str, tuple[int, int, int]] = {
    "Angry": (40, 40, 220), "Disgust": (40, 140, 60), "Fear": (160, 60, 160), "Happy": (40, 200, 250),
    "Sad": (200, 120, 40), "Surprise": (220, 200, 60), "Neutral": (200, 200, 200),
}
NO_LABEL = (160, 160, 160)


def caption(result: FaceResult) -> str:
    if result.prediction is None:
        return "face" if result.track_id is None else f"#{result.track_id}"
    return f"{result.prediction.label} {result.prediction.confidence:.0%}"


def draw_faces(frame: np.ndarray, results: list[FaceResult]) -> np.ndarray:
    """Boxes and captions drawn in place on a BGR frame, which is also returned."""
    scale = max(frame.shape[1] / 640, 0.5)
    for result in results:
        b = result.box
        colour = COLOURS.get(result.prediction.label, NO_LABEL) if result.prediction else NO_LABEL
        cv2.rectangle(frame, (b.x, b.y), (b.x + b.w, b.y + b.h), colour, max(1, round(2 * scale)))
        text = caption(result)
        (tw, th), base = cv2.getTextSize(text, cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, 1)
        top = max(b.y - th - base - 4, 0)
        cv2.rectangle(frame, (b.x, top), (b.x + tw + 4, top + th + base + 4), colour, -1)
        cv2.putText(frame, text, (b.x + 2, top + th + 2), cv2.FONT_HERSHEY_SIMPLEX, 0.5 * scale, (20, 20, 20), 1,
                    cv2.LINE_AA)
    return frame
