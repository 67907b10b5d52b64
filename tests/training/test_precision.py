from pathlib import Path

import pytest

from training.precision import cpu_has_bf16, resolve


def test_auto_picks_bf16_only_where_the_hardware_computes_in_it() -> None:
    assert resolve("auto", cpu_bf16=False, accelerator=False) == "float32"
    assert resolve("auto", cpu_bf16=True, accelerator=False) == "mixed_bfloat16"
    assert resolve("auto", cpu_bf16=False, accelerator=True) == "mixed_bfloat16"
    assert resolve("float32", cpu_bf16=True, accelerator=True) == "float32"
    with pytest.raises(ValueError, match="unknown precision"):
        resolve("fp8")


def test_the_cpu_flags_are_read_from_cpuinfo(tmp_path: Path) -> None:
    info = tmp_path / "cpuinfo"
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 avx512f\n")
    assert not cpu_has_bf16(info)
    info.write_text("processor\t: 0\nflags\t\t: fpu sse avx2 amx_bf16 amx_tile\n")
    assert cpu_has_bf16(info)
    assert not cpu_has_bf16(tmp_path / "missing")
