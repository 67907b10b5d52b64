#!/usr/bin/env bash
# Runs one training command on a lent GPU machine (Keras on JAX; it has no TensorFlow) and leaves the result in
# $OUT as weight parts of at most 16 MiB and the run's state; `python -m training.parts import --parts DIR` then makes
# the model folder here. Needs what scripts/gpu_pack.sh put in .gpu/ (the Keras wheels and a FER2013 bundle).
# Usage (on the GPU machine, from the repository root): bash scripts/gpu_train.sh [training.train arguments...]
set -euo pipefail
cd "$(dirname "$0")/.."
out=${OUT:?set OUT to the folder whose files come back}
lib=$(mktemp -d)
python3 -m pip install --quiet --no-deps --no-index --target "$lib" .gpu/wheels/*.whl
export PYTHONPATH="$lib:$PWD" KERAS_BACKEND=${KERAS_BACKEND:-jax} XLA_PYTHON_CLIENT_MEM_FRACTION=0.5
runs=$(mktemp -d)
python3 -m training.train --data .gpu/train.fer.xz --runs-dir "$runs/runs" --models-dir "$runs/models" --no-tflite \
  --cache-dir "$runs/cache" "$@" 2>&1 | tee "$out/train.log"
python3 -m training.parts export --run "$(ls -d "$runs"/runs/*/ | head -n 1)" --out "$out"
