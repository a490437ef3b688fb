"""Hostile input through the module: every refusal is a lockstep.Error (never RuntimeError,
TypeError or a crash), and one Detector shared by threads gives the single-threaded results."""

import json
import math
import threading

import numpy as np
import pytest

import lockstep
from conftest import SSD_V1, asset

SPEC = {"schema": "lockstep.pipeline/v1", "name": "hostile",
        "normalize": {"mean": [127.5, 127.5, 127.5], "std": [127.5, 127.5, 127.5]}}

DATASET = {"images": [{"id": 1, "file_name": "a.jpg", "width": 640, "height": 480}],
           "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40],
                            "area": 1200, "iscrowd": 0}],
           "categories": [{"id": 1, "name": "person"}]}


def detection(**changes):
    return dict({"image_id": 1, "category_id": 1, "bbox": [10, 20, 30, 40], "score": 0.9},
                **changes)


@pytest.mark.parametrize("value", [math.nan, math.inf, -math.inf])
def test_non_finite_number_in_a_spec_dict_is_an_error(value):
    spec = dict(SPEC, normalize={"mean": [0, value, 0], "std": [1, 1, 1]})
    with pytest.raises(lockstep.Error):
        lockstep.Spec(spec)
    with pytest.raises(lockstep.Error):
        lockstep.Spec.from_dict(spec)


def test_lone_surrogate_in_a_spec_is_an_error():
    with pytest.raises(lockstep.Error):
        lockstep.Spec(dict(SPEC, name="bad \ud800 name"))
    with pytest.raises(lockstep.Error):
        lockstep.Spec.from_json(json.dumps(SPEC)[:-1] + ', "x": "\ud800"}')
    with pytest.raises(lockstep.Error):
        lockstep.Spec.from_json('{"name": "\ud800"}')


def test_number_beyond_double_range_in_spec_json_is_an_error():
    text = json.dumps(SPEC).replace("127.5, 127.5, 127.5]}", "127.5, 1e400, 127.5]}", 1)
    assert "1e400" in text
    with pytest.raises(lockstep.Error, match=r"\$\.normalize\.std\[1\]"):
        lockstep.Spec.from_json(text)


def test_deep_and_duplicate_json_are_errors():
    with pytest.raises(lockstep.Error, match="at most 64 deep"):
        lockstep.Spec.from_json('{"name": ' + "[" * 100000 + "]" * 100000 + "}")
    with pytest.raises(lockstep.Error, match="each key once"):
        lockstep.Spec.from_json('{"schema": "lockstep.pipeline/v1", "name": "a", "name": "b"}')


@pytest.mark.parametrize("bad", [detection(score=math.nan), detection(bbox=[10, math.nan, 30, 40]),
                                 detection(bbox=[10, 20, math.inf, 40])])
def test_non_finite_detection_in_evaluate_is_an_error(bad):
    with pytest.raises(lockstep.Error):
        lockstep.evaluate(DATASET, [bad])
    assert lockstep.evaluate(DATASET, [detection()]).stats_array[0] == pytest.approx(1.0)


def test_number_beyond_double_range_in_coco_json_text_is_an_error():
    text = json.dumps(DATASET).replace("[10, 20, 30, 40]", "[10, 20, 1e400, 40]")
    with pytest.raises(lockstep.Error, match=r"bbox\[2\]"):
        lockstep.evaluate(text, [detection()])


@pytest.mark.parametrize("threshold", [math.nan, -1.0, 2.0, math.inf])
def test_detector_score_threshold_outside_zero_to_one_is_an_error(threshold):
    with pytest.raises(lockstep.Error, match="score_threshold"):
        lockstep.Detector(asset(SSD_V1), score_threshold=threshold)


def test_errors_with_cut_utf8_text_are_valid_str():
    # 3-byte characters cut at a fixed byte count used to end in half a character.
    spec = dict(SPEC, geometry={"mode": "\u20ac" * 40})
    with pytest.raises(lockstep.Error) as caught:
        lockstep.Spec(spec)
    message = str(caught.value)
    assert "$.geometry.mode" in message
    message.encode("utf-8")  # a str that was decoded from valid UTF-8


IMAGES = ["images/coral/cat.bmp", "images/dog_vs_cat/image2.jpg",
          "datasets/coco128/train2017/000000000086.jpg", "images/tflite_support/sparrow.png"]


def on_eight_threads(call, count):
    """Runs call(i) for 12 indices per thread on 8 threads (i cycling through range(count));
    returns the (i, result) pairs; any exception on a thread fails the test."""
    failures, results = [], []

    def work(offset):
        try:
            for k in range(12):
                i = (offset + k) % count
                results.append((i, call(i)))
        except Exception as e:  # noqa: BLE001 - reported below, not swallowed
            failures.append(repr(e))

    threads = [threading.Thread(target=work, args=(t,)) for t in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == []
    assert len(results) == 8 * 12
    return results


def test_one_detector_shared_by_eight_threads_gives_the_single_threaded_results():
    images = [str(asset(i)) for i in IMAGES]
    detector = lockstep.Detector(asset(SSD_V1), score_threshold=0.1)
    expected = [detector.detect(image).to_dict() for image in images]
    for i, found in on_eight_threads(lambda i: detector.detect(images[i]).to_dict(), len(images)):
        assert found == expected[i]


def test_one_engine_shared_by_eight_threads_gives_the_single_threaded_outputs():
    model = asset(SSD_V1)
    engine = lockstep.Engine(model)
    inputs = [lockstep.preprocess(asset(i), None, model).tensor for i in IMAGES]
    expected = [engine.run(t) for t in inputs]
    for i, outputs in on_eight_threads(lambda i: engine.run(inputs[i]), len(inputs)):
        assert all(np.array_equal(a, b) for a, b in zip(outputs, expected[i]))
