import json

import pytest

from benchmarks.train_speed import images_per_second, main


def test_throughput_leaves_out_the_warm_up_steps() -> None:
    assert images_per_second([10.0, 11.0, 12.0, 14.0], warmup=1, batch_size=8) == pytest.approx(8 * 3 / 4.0)
    with pytest.raises(ValueError, match="warm-up"):
        images_per_second([1.0, 2.0], warmup=2, batch_size=8)


def test_the_loop_and_the_bare_network_are_both_measured(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--arch", "mini_xception", "--batch-size", "16", "--steps", "2", "--warmup", "1", "--rounds", "1",
                 "--json"]) == 0
    result = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert result["teacher"] == "mini_xception" and result["input_size"] == 48
    assert result["loop_images_per_s"] > 0 and result["ceiling_images_per_s"] > 0
    loop, ceiling = result["loop_images_per_s"], result["ceiling_images_per_s"]  # each rounded to 0.1
    assert (loop - 0.05) / (ceiling + 0.05) - 0.0005 <= result["loop_share_of_ceiling"] <= \
        (loop + 0.05) / (ceiling - 0.05) + 0.0005  # the share, from the unrounded figures
    assert main(["--arch", "resnet9000"]) == 2
