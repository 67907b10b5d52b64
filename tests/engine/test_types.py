from engine.types import EMOTIONS, Box, Prediction


def test_iou_of_identical_boxes_is_one() -> None:
    assert Box(0, 0, 10, 10).iou(Box(0, 0, 10, 10)) == 1.0


def test_iou_of_disjoint_boxes_is_zero() -> None:
    assert Box(0, 0, 10, 10).iou(Box(20, 20, 5, 5)) == 0.0


def test_iou_of_half_overlap() -> None:
    assert abs(Box(0, 0, 10, 10).iou(Box(5, 0, 10, 10)) - 50 / 150) < 1e-9


def test_scaled_box() -> None:
    assert Box(10, 20, 30, 40).scaled(2.0) == Box(20, 40, 60, 80)


def test_prediction_top_label() -> None:
    p = Prediction(EMOTIONS, (0.1, 0.0, 0.0, 0.6, 0.1, 0.1, 0.1))
    assert p.label == "Happy" and p.confidence == 0.6
    assert list(p.as_dict()) == list(EMOTIONS)
