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


def test_attention_signals_round_trip_and_read_older_records() -> None:
    from engine.types import AttentionSignals

    signals = AttentionSignals(ear=0.31234, eyes_open=True, yaw=12.345, pitch=-21.0, looking_away=False,
                               looking_down=True, blinks_per_minute=14.0)
    stored = signals.as_dict()
    assert stored == {"ear": 0.3123, "eyes_open": True, "yaw": 12.3, "pitch": -21.0, "looking_away": False,
                      "looking_down": True, "blinks_per_minute": 14.0}
    assert AttentionSignals.from_dict(stored) == AttentionSignals(0.3123, True, 12.3, -21.0, False, True, 14.0)
    older = {"ear": 0.3, "eyes_open": False, "yaw": 1.0, "pitch": 0.0, "looking_away": False}  # before looking down
    assert AttentionSignals.from_dict(older) == AttentionSignals(0.3, False, 1.0, 0.0, False, False, None)
    assert "blinks_per_minute" not in AttentionSignals(0.3, True, 0.0, 0.0, False).as_dict()
    assert AttentionSignals.from_dict({"note": "not attention"}) is None


def test_attention_states_partition_the_signals() -> None:
    from engine.types import ATTENTION_STATES, AttentionSignals

    def state(eyes_open: bool, away: bool, down: bool) -> str:
        return AttentionSignals(0.3 if eyes_open else 0.05, eyes_open, 0.0, -10.0, away, down).state

    assert state(True, False, False) == "attentive" and state(False, False, False) == "eyes_closed"
    assert state(False, False, True) == "looking_down"  # reading with lowered lids is not eyes closed
    assert state(True, True, True) == state(False, True, False) == "looking_away"
    assert {state(o, a, d) for o in (True, False) for a in (True, False) for d in (True, False)} == set(ATTENTION_STATES)
