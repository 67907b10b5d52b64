"""Train an architecture from the zoo on FER2013, resumable, and write models/<name>/ with its card.

python -m training.train --arch mini_xception --data ../shared/data/fer2013.csv.gz --name mini_xception
"""
from __future__ import annotations

import argparse
import json
import logging
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engine.card import ModelCard, write_card
from engine.preprocess import preprocess_faces
from engine.types import EMOTIONS
from training.batches import TrainBatches
from training.data import DatasetError, Split, load_dataset
from training.distill import load_teacher
from training.precision import POLICIES, float32_copy, global_policy_kept
from training.precision import apply as apply_precision

log = logging.getLogger("training.train")
# In a trial here a 0.2 M-parameter mini-Xception ran slower as dynamic-range-quantised TFLite than as float
# (XNNPACK's float kernels win on small models); large models shrink ~4x, so only they are quantised.
QUANTIZE_ABOVE_PARAMS = 5_000_000


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides a run; stored in the checkpoint folder and the model card."""

    arch: str
    name: str
    data: str
    input_size: int
    epochs: int = 60
    batch_size: int = 64
    optimizer: str = "sgd"
    lr: float = 0.01
    warmup_epochs: int = 2
    weight_decay: float = 5e-4
    label_smoothing: float = 0.1
    ferplus: str | None = None
    ferplus_weight: float = 0.0  # share of the FER+ vote distribution mixed into each target
    class_weight_power: float = 0.5  # 0: none, 1: inverse frequency; 0.5 lifts Disgust without wrecking accuracy
    teacher: str | None = None  # a model folder whose probabilities are mixed into the targets (distillation)
    teacher_weight: float = 0.0  # share of the teacher's probabilities in each target
    weights: str = "none"
    init: str | None = None  # a saved model whose weights start the run, layer by layer where the shapes fit
    head_epochs: int = 5  # transfer only: epochs with the backbone frozen
    patience: int = 15
    seed: int = 1337
    max_train_samples: int = 0  # 0: all; small values are for tests
    precision: str = "auto"  # auto: mixed_bfloat16 on a GPU or a CPU with bf16 instructions, else float32


def class_weights(labels: np.ndarray, power: float) -> np.ndarray:
    """Per-class weights (mean 1 over samples) proportional to frequency**-power."""
    counts = np.bincount(labels, minlength=len(EMOTIONS)).astype(np.float64)
    weights = np.where(counts > 0, (counts.max() / np.maximum(counts, 1)) ** power, 0.0)
    return (weights / (weights[labels].mean() or 1.0)).astype(np.float32)


def make_targets(split: Split, cfg: TrainConfig) -> np.ndarray:
    """One-hot targets, optionally mixed with FER+ vote distributions where a row has votes."""
    onehot = np.eye(len(EMOTIONS), dtype=np.float32)[split.labels]
    if split.soft_labels is None or cfg.ferplus_weight <= 0:
        return onehot
    soft = np.where(np.isnan(split.soft_labels), onehot, split.soft_labels)
    return (1 - cfg.ferplus_weight) * onehot + cfg.ferplus_weight * soft


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def parse_args(argv: list[str] | None) -> tuple[TrainConfig, argparse.Namespace]:
    p = argparse.ArgumentParser(prog="python -m training.train", description=__doc__.splitlines()[0])
    p.add_argument("--arch", required=True)
    p.add_argument("--data", required=True, help="FER2013 CSV (.csv or .csv.gz) or a folder with train/ and test/")
    p.add_argument("--name", help="model folder name under --models-dir (default: the architecture)")
    p.add_argument("--models-dir", default="models")
    p.add_argument("--runs-dir", default="runs", help="checkpoints and logs, one folder per --name")
    p.add_argument("--cache-dir", default="data/cache")
    p.add_argument("--input-size", type=int)
    for name, kind in (("epochs", int), ("batch-size", int), ("lr", float), ("warmup-epochs", int),
                       ("weight-decay", float), ("label-smoothing", float), ("ferplus-weight", float),
                       ("class-weight-power", float), ("head-epochs", int), ("patience", int), ("seed", int),
                       ("max-train-samples", int), ("teacher-weight", float)):
        p.add_argument(f"--{name}", type=kind)
    p.add_argument("--optimizer", choices=("sgd", "adam"))
    p.add_argument("--precision", choices=POLICIES, help="auto (default): mixed_bfloat16 where the hardware computes in "
                                                        "bf16 (a GPU, or a CPU listing amx_bf16/avx512_bf16), else float32")
    p.add_argument("--ferplus", help="fer2013new.csv, to mix FER+ vote distributions into the targets")
    p.add_argument("--teacher", help="a model folder (with model.keras) whose probabilities on each augmented face are "
                                     "mixed into the targets, --teacher-weight of them (knowledge distillation)")
    p.add_argument("--init", help="a .keras model (or a model folder) built by the same code whose weights start the "
                                  "run, every layer whose shapes fit: fine-tuning at another --input-size, or a narrower "
                                  "stem (mini_xception_lean from mini_xception)")
    p.add_argument("--weights", default="none", help="imagenet | none | PATH (transfer architectures only)")
    p.add_argument("--threads", type=int, default=0, help="TensorFlow CPU threads (0: all cores; TensorFlow backend only)")
    p.add_argument("--default", action="store_true", help="mark the written card as the default model")
    p.add_argument("--no-tflite", action="store_true", help="skip the TFLite export")
    p.add_argument("--quantize", choices=("auto", "dynamic", "none"), default="auto",
                   help="TFLite weights: auto quantises models above 5 M parameters only")
    p.add_argument("--fresh", action="store_true", help="ignore an existing checkpoint and start over")
    p.add_argument("--max-minutes", type=float, default=0.0,
                   help="stop after the epoch that leaves too little time for another (0: no limit); the run stays "
                        "resumable")
    p.add_argument("--workers", type=int, default=2, help="threads that prepare batches beside the training step")
    p.add_argument("--export-now", action="store_true",
                   help="train nothing: write the model folder from the run's best checkpoint so far (an unfinished "
                        "run included; its card records the epochs run and the run's own configuration)")
    args = p.parse_args(argv)
    from training.zoo import ARCHITECTURES

    if args.arch not in ARCHITECTURES:
        p.error(f"unknown architecture {args.arch!r}; known: {', '.join(sorted(ARCHITECTURES))}")
    overrides = {k: v for k, v in vars(args).items() if v is not None and k in TrainConfig.__dataclass_fields__}
    overrides.update(name=args.name or args.arch, input_size=args.input_size or ARCHITECTURES[args.arch].default_input)
    cfg = TrainConfig(**overrides)
    if (cfg.teacher is None) != (cfg.teacher_weight <= 0) or not 0 <= cfg.teacher_weight <= 1:
        p.error("--teacher and --teacher-weight (in (0, 1]) go together")
    return cfg, args


def build_datasets(splits: dict[str, Split], cfg: TrainConfig, epoch: int = 0, workers: int = 2):  # type: ignore[no-untyped-def]
    """Augmented, weighted (and distilled) training batches from `epoch` on, and the PublicTest arrays."""
    train = splits["Training"]
    if cfg.max_train_samples:
        train = Split(train.name, train.images[: cfg.max_train_samples], train.labels[: cfg.max_train_samples],
                      None if train.soft_labels is None else train.soft_labels[: cfg.max_train_samples])
    batches = TrainBatches(
        train.images, make_targets(train, cfg), class_weights(train.labels, cfg.class_weight_power)[train.labels],
        size=cfg.input_size, batch_size=cfg.batch_size, seed=cfg.seed, epoch=epoch,
        teacher=load_teacher(Path(cfg.teacher)) if cfg.teacher else None, teacher_weight=cfg.teacher_weight,
        workers=workers, max_queue_size=4,
    )
    val = splits.get("PublicTest")  # a bundle of Training alone has none: the run keeps its last epoch
    validation = None if val is None else (
        preprocess_faces(val.images, cfg.input_size), np.eye(len(EMOTIONS), dtype=np.float32)[val.labels])
    return batches, validation, len(train)


def make_optimizer(cfg: TrainConfig, steps_per_epoch: int, epochs: int, lr: float):  # type: ignore[no-untyped-def]
    import keras

    warmup = min(cfg.warmup_epochs * steps_per_epoch, max(epochs * steps_per_epoch - 1, 0))
    schedule = keras.optimizers.schedules.CosineDecay(
        initial_learning_rate=lr / 100 if warmup else lr, decay_steps=max(epochs * steps_per_epoch - warmup, 1),
        warmup_target=lr if warmup else None, warmup_steps=warmup, alpha=0.01,
    )
    if cfg.optimizer == "sgd":
        return keras.optimizers.SGD(schedule, momentum=0.9, nesterov=True, weight_decay=cfg.weight_decay)
    return keras.optimizers.AdamW(schedule, weight_decay=cfg.weight_decay)


def compile_model(model, cfg: TrainConfig, steps: int, epochs: int, lr: float) -> None:  # type: ignore[no-untyped-def]
    import keras

    model.compile(
        optimizer=make_optimizer(cfg, steps, epochs, lr),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=cfg.label_smoothing),
        metrics=[keras.metrics.CategoricalAccuracy(name="accuracy")],
    )


class RunState:
    """The checkpoint folder: config, per-epoch log, the last and the best model."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.last = folder / "last.keras"
        self.best = folder / "best.keras"
        self.state = folder / "state.json"

    def read(self) -> dict:  # type: ignore[type-arg]
        return json.loads(self.state.read_text()) if self.state.exists() else {}

    def write(self, **state: object) -> None:
        self.state.write_text(json.dumps(state, indent=2))


@dataclass
class Budget:
    """Wall-clock end of a run (None: none), and whether an epoch was left out for it."""

    deadline: float | None = None
    exhausted: bool = False


def make_callbacks(run: RunState, cfg: TrainConfig, stage: str, epoch_offset: int,  # type: ignore[no-untyped-def]
                   validated: bool = True, budget: Budget | None = None):
    import keras

    class Checkpoint(keras.callbacks.Callback):
        """Saves last/best every epoch and the resume state, so a killed run continues where it stopped; the state
        adds up the seconds spent in epochs, across resumptions."""

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:  # type: ignore[type-arg]
            self._began = time.time()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:  # type: ignore[type-arg]
            logs = logs or {}
            state = run.read()
            state["train_seconds"] = float(state.get("train_seconds", 0.0)) + time.time() - getattr(self, "_began", time.time())
            history = state.get("history", []) + [{"epoch": epoch + 1, "stage": stage, **{k: float(v) for k, v in logs.items()}}]
            best = state.get("best_val_accuracy", -1.0)
            if validated and logs.get("val_accuracy", -1.0) > best:
                best = float(logs["val_accuracy"])
                self.model.save(run.best)
                state["best_epoch"] = epoch + 1
            self.model.save(run.last)
            run.write(**{**state, "config": asdict(cfg), "stage": stage, "epoch": epoch + 1,
                         "best_val_accuracy": best, "history": history})
            log.info("epoch %d (%s): loss %.4f acc %.4f val_loss %.4f val_acc %.4f best %.4f",
                     epoch + 1, stage, logs.get("loss", np.nan), logs.get("accuracy", np.nan),
                     logs.get("val_loss", np.nan), logs.get("val_accuracy", np.nan), best)

    class Deadline(keras.callbacks.Callback):
        """Stops after the epoch that leaves too little time for another one like it (a lent machine's time limit)."""

        def on_epoch_begin(self, epoch: int, logs: dict | None = None) -> None:  # type: ignore[type-arg]
            self._began = time.time()

        def on_epoch_end(self, epoch: int, logs: dict | None = None) -> None:  # type: ignore[type-arg]
            if budget and budget.deadline is not None and 2 * time.time() - self._began > budget.deadline:
                log.info("stopping after epoch %d: another would pass --max-minutes", epoch + 1)
                budget.exhausted = self.model.stop_training = True

    callbacks = [Checkpoint(), Deadline(), keras.callbacks.CSVLogger(str(run.folder / "epochs.csv"), append=True)]
    if validated:
        callbacks.append(keras.callbacks.EarlyStopping("val_accuracy", patience=cfg.patience, mode="max",
                                                       start_from_epoch=epoch_offset))
    return callbacks


def fit_stage(model, run: RunState, cfg: TrainConfig, data, stage: str, start: int, end: int, lr: float,  # type: ignore[no-untyped-def]
              budget: Budget | None = None) -> None:
    batches, validation, _n = data
    if start == 0 or not run.last.exists():
        compile_model(model, cfg, len(batches), end, lr)
    model.fit(batches, validation_data=validation, validation_batch_size=256, epochs=end, initial_epoch=start,
              verbose=2, callbacks=make_callbacks(run, cfg, stage, start, validation is not None, budget))


def train(cfg: TrainConfig, args: argparse.Namespace) -> Path:
    """Run (or resume) training, then write the model folder with the best PublicTest checkpoint."""
    with global_policy_kept():  # the run's precision (bfloat16 where the hardware has it) ends with the run
        return _train(cfg, args)


def _train(cfg: TrainConfig, args: argparse.Namespace) -> Path:
    import keras

    from training.zoo import backbone_layers, build, copy_weights, set_trainable_top

    run = RunState(Path(args.runs_dir) / cfg.name)
    if args.export_now:
        return export_now(run, cfg, args)
    run.folder.mkdir(parents=True, exist_ok=True)
    state = {} if args.fresh else run.read()
    if state.get("config") and state["config"].get("arch") != cfg.arch:
        raise SystemExit(f"{run.folder} holds a run of another architecture; use --fresh or another --name")
    run.write(**{**state, "precision": apply_precision(cfg.precision)})
    done = int(state.get("epoch", 0)) if state and run.last.exists() else 0
    keras.utils.set_random_seed(cfg.seed + done)
    splits = load_dataset(Path(cfg.data), Path(args.cache_dir), Path(cfg.ferplus) if cfg.ferplus else None)
    # batches are drawn per epoch: a resumed run goes on, not over
    data = build_datasets(splits, cfg, epoch=done, workers=args.workers)
    started = time.time()
    budget = Budget(started + args.max_minutes * 60 if args.max_minutes else None)
    transfer = cfg.weights != "none"
    if done:
        log.info("resuming %s from epoch %d (%s)", cfg.name, done, state.get("stage"))
        model = keras.models.load_model(run.last)
    else:
        model = build(cfg.arch, cfg.input_size, len(EMOTIONS), cfg.weights)
        if cfg.init:
            copy_weights(model, Path(cfg.init))
    backbone = backbone_layers(model)
    if transfer and backbone is not None and done < cfg.head_epochs:
        backbone.trainable = False
        fit_stage(model, run, cfg, data, "head", done, cfg.head_epochs, cfg.lr, budget)
        set_trainable_top(backbone)
        compile_model(model, cfg, len(data[0]), cfg.epochs, cfg.lr / 10)
        done = cfg.head_epochs
    if done < cfg.epochs and not budget.exhausted:
        fit_stage(model, run, cfg, data, "finetune" if transfer else "full", done, cfg.epochs,
                  cfg.lr / 10 if transfer else cfg.lr, budget)
    elapsed = float(run.read().get("train_seconds", time.time() - started))  # the epochs' seconds, all resumptions
    best = keras.models.load_model(run.best if run.best.exists() else run.last, compile=False)
    return write_model_folder(best, cfg, args, run, elapsed)


def export_now(run: RunState, cfg: TrainConfig, args: argparse.Namespace) -> Path:
    """The model folder from the best checkpoint so far, with the configuration the run was started with (a run
    still training in another process is left alone: it reads and writes only its own checkpoint folder)."""
    import keras

    state = run.read()
    checkpoint = run.best if run.best.exists() else run.last
    if not state or not checkpoint.exists():
        raise FileNotFoundError(f"no checkpoint to export in {run.folder}")
    if state.get("config", {}).get("arch") != cfg.arch:
        raise ValueError(f"{run.folder} holds a run of another architecture")
    run_cfg = TrainConfig(**state["config"])
    log.info("exporting %s: best PublicTest epoch %s of %s run so far (%s planned)", run_cfg.name,
             state.get("best_epoch"), state.get("epoch"), run_cfg.epochs)
    model = keras.models.load_model(checkpoint, compile=False)
    seconds = state.get("train_seconds")
    return write_model_folder(model, run_cfg, args, run, float(seconds) if seconds is not None else None)


def write_model_folder(model, cfg: TrainConfig, args: argparse.Namespace, run: RunState,  # type: ignore[no-untyped-def]
                       seconds: float | None) -> Path:
    from training.export import export_tflite

    model = float32_copy(model)  # served in float32, whatever the run computed in (the card records that)
    folder = Path(args.models_dir) / cfg.name
    folder.mkdir(parents=True, exist_ok=True)
    model.save(folder / "model.keras")
    files = {"keras": "model.keras"}
    quantized = False
    if not args.no_tflite:
        quantized = args.quantize == "dynamic" or (args.quantize == "auto" and model.count_params() > QUANTIZE_ABOVE_PARAMS)
        export_tflite(model, folder / "model.tflite", quantize=quantized)
        files["tflite"] = "model.tflite"
    state = run.read()
    card = ModelCard(
        name=cfg.name, architecture=cfg.arch, labels=EMOTIONS, input_size=cfg.input_size, files=files,
        runtime="tflite" if "tflite" in files else "keras", default=args.default, parameters=int(model.count_params()),
        training={**asdict(cfg), "best_epoch": state.get("best_epoch"), "epochs_run": state.get("epoch"),
                  "train_seconds": round(seconds, 1) if seconds is not None else None, "git_commit": git_commit(),
                  "pretrained": _pretrained(cfg), "precision": state.get("precision", "float32"),
                  "tflite": "dynamic-range quantised" if quantized else "float32"},
        data={"source": Path(cfg.data).name, "train_split": "Training", "selection_split": "PublicTest",
              "ferplus": Path(cfg.ferplus).name if cfg.ferplus else None,
              "teacher": Path(cfg.teacher).name if cfg.teacher else None},
        metrics={"PublicTest": {"accuracy": state.get("best_val_accuracy")}},
        description=f"{cfg.arch} trained on FER2013 by training.train",
    )
    write_card(folder, card)
    log.info("wrote %s", folder)
    return folder


def _pretrained(cfg: TrainConfig) -> str:
    """The card's account of where the weights started."""
    if cfg.weights != "none":
        return cfg.weights
    if cfg.init:
        return f"none (started from {Path(cfg.init).name}, trained here on FER2013)"
    return "none (trained from scratch)"


def keras_backend() -> str:
    import keras

    return str(keras.backend.backend())


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    cfg, args = parse_args(argv)
    if args.threads and keras_backend() == "tensorflow":
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(args.threads)
        tf.config.threading.set_inter_op_parallelism_threads(args.threads)
    try:
        folder = train(cfg, args)
    except (DatasetError, FileNotFoundError, ValueError) as exc:
        log.error("%s", exc)
        return 2
    print(folder)
    return 0


if __name__ == "__main__":
    sys.exit(main())
