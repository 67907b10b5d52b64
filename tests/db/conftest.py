from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from engine.types import EMOTIONS, Box, Observation, Prediction


def make_observation(label: str = "Happy", ts: datetime | None = None, track_id: int = 1,
                     emotion: bool = True) -> Observation:
    probs = tuple(0.7 if e == label else 0.05 for e in EMOTIONS)
    return Observation(ts or datetime.now(UTC), track_id, Box(1, 2, 30, 30),
                       Prediction(EMOTIONS, probs) if emotion else None, "test-model")


@pytest.fixture
def fake_observation() -> Callable[..., Observation]:
    return make_observation
