#!/usr/bin/env bash
# Packs what a lent GPU machine lacks into .gpu/ (git-ignored; pass it with the run's `carry`): the Keras wheel and
# its missing dependencies for Python 3.12, and FER2013's Training split as a bundle (45.3 MiB).
# Usage: bash scripts/gpu_pack.sh path/to/your/fer2013.csv.gz [path/to/fer2013new.csv]
set -euo pipefail
cd "$(dirname "$0")/.."
data=${1:?usage: bash scripts/gpu_pack.sh fer2013.csv.gz [fer2013new.csv]}
bash scripts/env.sh
mkdir -p .gpu/wheels
.venv/bin/python -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.12 \
  --platform manylinux_2_17_x86_64 -d .gpu/wheels "keras==$(.venv/bin/python -c 'import keras; print(keras.__version__)')" namex optree
[ -f .gpu/train.fer.xz ] || .venv/bin/python -m training.bundle --data "$data" ${2:+--ferplus "$2"} --splits Training \
  --out .gpu/train.fer.xz
du -sh .gpu
