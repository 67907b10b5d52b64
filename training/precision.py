"""Which floating-point policy training uses: bfloat16 mixed precision where the hardware runs it fast."""
from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)
POLICIES: tuple[str, ...] = ("auto", "float32", "mixed_bfloat16")
BF16_CPU_FLAGS: frozenset[str] = frozenset({"amx_bf16", "avx512_bf16"})


def cpu_has_bf16(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether the CPU lists an instruction set that computes in bfloat16 (without one, bf16 is emulated and slower)."""
    try:
        text = cpuinfo.read_text()
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(BF16_CPU_FLAGS & set(line.split(":", 1)[-1].split()))
    return False


def has_accelerator() -> bool:
    """Whether the Keras backend in use sees a GPU or TPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        return jax.devices()[0].platform in ("gpu", "tpu")
    if backend == "torch":
        import torch

        return bool(torch.cuda.is_available())
    if backend == "tensorflow":
        import tensorflow as tf

        return bool(tf.config.list_physical_devices("GPU"))
    return False


def resolve(requested: str, *, cpu_bf16: bool | None = None, accelerator: bool | None = None) -> str:
    """The policy for `requested` ("auto": mixed_bfloat16 on an accelerator or a bf16 CPU, else float32)."""
    if requested not in POLICIES:
        raise ValueError(f"unknown precision {requested!r}; known: {', '.join(POLICIES)}")
    if requested != "auto":
        return requested
    fast = (has_accelerator() if accelerator is None else accelerator) or (cpu_has_bf16() if cpu_bf16 is None else cpu_bf16)
    return "mixed_bfloat16" if fast else "float32"


def apply(requested: str) -> str:
    """Set Keras's global dtype policy (before any model is built or loaded) and return the one chosen."""
    import keras

    policy = resolve(requested)
    keras.mixed_precision.set_global_policy(policy)
    log.info("precision: %s", policy)
    return policy


MIXED = frozenset({"mixed_bfloat16", "mixed_float16", "bfloat16", "float16"})


def _float32_config(value: object, key: str = "") -> object:
    """A Keras config with every layer's dtype policy made float32 (nested models included)."""
    if key == "dtype":
        if isinstance(value, str) and value in MIXED:
            return "float32"
        if isinstance(value, dict) and "Policy" in str(value.get("class_name", "")):
            return {**value, "config": {**value.get("config", {}), "name": "float32"}}
    if isinstance(value, dict):
        return {k: _float32_config(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_float32_config(v) for v in value]
    return value


def float32_copy(model):  # type: ignore[no-untyped-def]
    """`model` itself when every layer computes in float32, else a float32 copy with its weights (mixed precision
    keeps the weights in float32, so they carry over exactly). Serving files are written from this: TFLite has no
    bfloat16 kernels, and a CPU without bf16 instructions would emulate them."""
    import keras

    if all(layer.dtype_policy.name == "float32" for layer in model._flatten_layers(include_self=True)):
        return model
    serialized = _float32_config(keras.saving.serialize_keras_object(model))
    with global_policy_kept():
        keras.mixed_precision.set_global_policy("float32")  # for what the config leaves to the default (inputs)
        copy = keras.saving.deserialize_keras_object(serialized)
    copy.set_weights(model.get_weights())
    return copy


@contextmanager
def global_policy_kept() -> Iterator[None]:
    """Restores Keras's global dtype policy after the block: a training run in a process that goes on (a test, a
    notebook) leaves no bfloat16 default behind for the models built after it."""
    import keras

    previous = keras.mixed_precision.global_policy()
    try:
        yield
    finally:
        keras.mixed_precision.set_global_policy(previous)
