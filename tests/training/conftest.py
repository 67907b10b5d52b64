from pathlib import Path

import numpy as np
import pandas as pd
import pytest

SPLIT_SIZES = {"Training": 70, "PublicTest": 21, "PrivateTest": 14}


def fer_frame(seed: int = 0) -> pd.DataFrame:
    """A small FER2013-format table: every class in every split, random 48x48 faces."""
    rng = np.random.default_rng(seed)
    rows = []
    for usage, n in SPLIT_SIZES.items():
        for i in range(n):
            pixels = " ".join(str(v) for v in rng.integers(0, 256, 48 * 48))
            rows.append({"emotion": i % 7, "pixels": pixels, "Usage": usage})
    return pd.DataFrame(rows)


@pytest.fixture
def fer_csv(tmp_path: Path) -> Path:
    path = tmp_path / "fer2013.csv"
    fer_frame().to_csv(path, index=False)
    return path
