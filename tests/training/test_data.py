from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pytest

from tests.training.conftest import SPLIT_SIZES, fer_frame
from training.data import FERPLUS_COLUMNS, DatasetError, load_dataset, load_fer2013, parse_pixels


def test_csv_loads_into_three_splits(fer_csv: Path) -> None:
    splits = load_fer2013(fer_csv)
    assert {k: len(v) for k, v in splits.items()} == SPLIT_SIZES
    train = splits["Training"]
    assert train.images.shape == (70, 48, 48) and train.images.dtype == np.uint8
    assert train.class_counts() == {"Angry": 10, "Disgust": 10, "Fear": 10, "Happy": 10, "Sad": 10,
                                    "Surprise": 10, "Neutral": 10}


def test_gzipped_csv_and_cache_give_the_same_data(fer_csv: Path, tmp_path: Path) -> None:
    gz = tmp_path / "fer2013.csv.gz"
    fer_frame().to_csv(gz, index=False)
    cache = tmp_path / "cache"
    first = load_fer2013(gz, cache)
    assert len(list(cache.glob("*.npz"))) == 1
    again = load_fer2013(gz, cache)
    np.testing.assert_array_equal(first["PublicTest"].images, again["PublicTest"].images)
    np.testing.assert_array_equal(first["Training"].labels, load_fer2013(fer_csv)["Training"].labels)


@pytest.mark.parametrize("mutate, message", [
    (lambda df: df.drop(columns=["Usage"]), "missing column"),
    (lambda df: df.assign(emotion=df["emotion"].where(df.index != 5, 9)), "row 5: unknown emotion label"),
    (lambda df: df.assign(Usage=df["Usage"].where(df.index != 3, "Validation")), "row 3: unknown Usage"),
    (lambda df: df.assign(pixels=df["pixels"].where(df.index != 7, "1 2 3")), "row 7: expected 2304 pixels"),
    (lambda df: df.assign(pixels=df["pixels"].where(df.index != 2, "a b c")), "row 2: pixels are not"),
])
def test_bad_rows_are_named(tmp_path: Path, mutate, message: str) -> None:  # type: ignore[no-untyped-def]
    path = tmp_path / "bad.csv"
    mutate(fer_frame()).to_csv(path, index=False)
    with pytest.raises(DatasetError, match=message):
        load_fer2013(path)


def test_pixel_values_out_of_range() -> None:
    with pytest.raises(DatasetError, match="0..255"):
        parse_pixels(" ".join(["300"] * 2304), 0)


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatasetError, match="no such file"):
        load_fer2013(tmp_path / "nope.csv")


def test_ferplus_votes_become_soft_labels(fer_csv: Path, tmp_path: Path) -> None:
    n = sum(SPLIT_SIZES.values())
    votes = pd.DataFrame({c: 0 for c in FERPLUS_COLUMNS}, index=range(n))
    votes["happiness"], votes["contempt"] = 6, 2  # contempt counts as Disgust
    votes.loc[0, :] = 0
    votes.loc[0, "NF"] = 10  # not a face: no usable vote
    votes.insert(0, "Image name", [f"fer{i:07d}.png" for i in range(n)])
    votes.insert(0, "Usage", fer_frame()["Usage"])
    ferplus = tmp_path / "fer2013new.csv"
    votes.to_csv(ferplus, index=False)
    soft = load_fer2013(fer_csv, ferplus=ferplus)["Training"].soft_labels
    assert soft is not None and np.isnan(soft[0]).all()
    np.testing.assert_allclose(soft[1], [0, 0.25, 0, 0.75, 0, 0, 0])


def test_image_folder_layout(tmp_path: Path) -> None:
    for split in ("train", "test"):
        for emotion in ("happy", "sad", "angry"):
            folder = tmp_path / split / emotion
            folder.mkdir(parents=True)
            for i in range(3):
                cv2.imwrite(str(folder / f"{i}.jpg"), np.full((64, 64, 3), 40 * i, np.uint8))
    splits = load_dataset(tmp_path)
    assert len(splits["Training"]) == 9 and splits["Training"].images.shape[1:] == (48, 48)
    assert set(splits["PublicTest"].class_counts().values()) == {0, 3}


def test_unknown_emotion_folder_is_named(tmp_path: Path) -> None:
    (tmp_path / "train" / "bored").mkdir(parents=True)
    with pytest.raises(DatasetError, match="unknown emotion folder 'bored'"):
        load_dataset(tmp_path)


def test_overview_writes_a_sample_grid_and_a_count_chart(fer_csv: Path, tmp_path: Path) -> None:
    from training.overview import main as overview
    from training.overview import sample_grid

    assert overview(["--data", str(fer_csv), "--out", str(tmp_path / "out"), "--cache-dir", str(tmp_path / "c")]) == 0
    for name in ("samples.png", "class_counts.png"):
        assert (tmp_path / "out" / name).stat().st_size > 2000
    grid = sample_grid(load_fer2013(fer_csv)["Training"], per_class=4)
    assert grid.shape == (7 * 48, 4 * 48)
