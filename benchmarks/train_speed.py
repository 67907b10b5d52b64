"""Training throughput: images/s of training.train's own loop (batches, augmentation, targets, teacher) against the
bare network on in-memory batches (the ceiling a training loop can reach on this machine), in steady state.

python -m benchmarks.train_speed --arch inceptionv3 --input-size 75 [--batch-size 64] [--steps 12] [--rounds 2]
                                 [--teacher models/mini_xception | --no-teacher] [--precision auto] [--json]

Both are timed with Keras `fit` on one compiled model, in turn for --rounds rounds, after --warmup steps each; each
figure is the median over the rounds. The faces are synthetic (the loop's cost does not depend on what they show).
"""
from __future__ import annotations

import argparse
import logging
import statistics
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks.common import emit
from engine.types import EMOTIONS

log = logging.getLogger("benchmarks.train_speed")


def synthetic_splits(n: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """FER2013-shaped Training and PublicTest splits of random faces, with FER+-like soft labels."""
    from training.data import Split

    rng = np.random.default_rng(seed)

    def split(name: str, count: int) -> Split:
        soft = rng.dirichlet(np.ones(len(EMOTIONS)), count).astype(np.float32)
        return Split(name, rng.integers(0, 256, (count, 48, 48), dtype=np.uint8),
                     rng.integers(0, len(EMOTIONS), count), soft)

    return {"Training": split("Training", n), "PublicTest": split("PublicTest", 256)}


def step_clock() -> Any:
    """A Keras callback that keeps the time at the end of every training step in `.times`."""
    import keras

    class StepClock(keras.callbacks.Callback):
        def __init__(self) -> None:
            super().__init__()
            self.times: list[float] = []

        def on_train_batch_end(self, batch: int, logs: dict | None = None) -> None:  # type: ignore[type-arg]
            self.times.append(time.perf_counter())

    return StepClock()


def images_per_second(times: list[float], warmup: int, batch_size: int) -> float:
    """Steady-state throughput from step end times, leaving out the first `warmup` steps."""
    if len(times) <= warmup:
        raise ValueError(f"{len(times)} steps timed; need more than the {warmup} warm-up steps")
    return batch_size * (len(times) - warmup) / (times[-1] - times[warmup - 1] if warmup else times[-1] - times[0])


def measure(args: argparse.Namespace) -> dict[str, object]:
    import keras

    from training.precision import apply as apply_precision
    from training.train import TrainConfig, build_datasets, compile_model
    from training.zoo import ARCHITECTURES, build

    policy = apply_precision(args.precision)
    size = args.input_size or ARCHITECTURES[args.arch].default_input
    steps = args.warmup + args.steps
    cfg = TrainConfig(arch=args.arch, name="speed", data="synthetic", input_size=size, batch_size=args.batch_size,
                      ferplus_weight=0.3, teacher=None if args.no_teacher else args.teacher,
                      teacher_weight=0.0 if args.no_teacher else 0.5)
    splits = synthetic_splits(args.batch_size * steps)
    batches, _validation, _n = build_datasets(splits, cfg)
    model = build(args.arch, size, len(EMOTIONS))
    compile_model(model, cfg, steps, 1000, cfg.lr)
    rng = np.random.default_rng(1)
    x = rng.random((args.batch_size * steps, size, size, 1), dtype=np.float32)
    y = np.eye(len(EMOTIONS), dtype=np.float32)[rng.integers(0, len(EMOTIONS), len(x))]
    w = np.ones(len(x), np.float32)
    loop: list[float] = []
    ceiling: list[float] = []
    for r in range(args.rounds):
        for name, samples in (("ceiling", ceiling), ("loop", loop)):
            clock = step_clock()
            if name == "loop":
                model.fit(batches, epochs=1, steps_per_epoch=steps, verbose=0, callbacks=[clock])
                batches.on_epoch_end()
            else:
                model.fit(x, y, sample_weight=w, batch_size=args.batch_size, epochs=1, shuffle=False, verbose=0,
                          callbacks=[clock])
            samples.append(images_per_second(clock.times, args.warmup, args.batch_size))
            log.info("round %d %s: %.1f images/s", r + 1, name, samples[-1])
    loop_ips, ceiling_ips = statistics.median(loop), statistics.median(ceiling)
    return {
        "arch": args.arch, "input_size": size, "batch_size": args.batch_size, "precision": policy,
        "backend": keras.backend.backend(), "teacher": None if args.no_teacher else Path(args.teacher).name,
        "loop_images_per_s": round(loop_ips, 1), "ceiling_images_per_s": round(ceiling_ips, 1),
        "loop_share_of_ceiling": round(loop_ips / ceiling_ips, 3),
        "epoch_minutes_fer2013": round(28709 / loop_ips / 60, 1),
        "rounds": {"loop": [round(v, 1) for v in loop], "ceiling": [round(v, 1) for v in ceiling]},
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m benchmarks.train_speed", description=__doc__.splitlines()[0])
    p.add_argument("--arch", default="inceptionv3")
    p.add_argument("--input-size", type=int)
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--steps", type=int, default=12, help="timed steps per measurement")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps before them")
    p.add_argument("--rounds", type=int, default=2)
    p.add_argument("--teacher", default="models/mini_xception", help="teacher model folder, as in the training recipe")
    p.add_argument("--no-teacher", action="store_true")
    p.add_argument("--precision", default="auto", choices=("auto", "float32", "mixed_bfloat16"))
    p.add_argument("--json", action="store_true")
    args = p.parse_args(argv)
    if args.steps < 1 or args.warmup < 1 or args.rounds < 1:
        p.error("--steps, --warmup and --rounds must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    args = parse_args(argv)
    from training.zoo import ARCHITECTURES

    if args.arch not in ARCHITECTURES:
        log.error("unknown architecture %r; known: %s", args.arch, ", ".join(sorted(ARCHITECTURES)))
        return 2
    result = measure(args)
    table = (f"{result['arch']} {result['input_size']}px batch {result['batch_size']} {result['precision']} "
             f"({result['backend']}, teacher {result['teacher']})\n"
             f"  training loop  {result['loop_images_per_s']:8.1f} images/s  ({result['epoch_minutes_fer2013']} min per "
             f"FER2013 epoch)\n"
             f"  bare network   {result['ceiling_images_per_s']:8.1f} images/s\n"
             f"  loop / ceiling {result['loop_share_of_ceiling']:8.3f}")
    emit(result, table, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
