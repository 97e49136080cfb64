"""`python -m tfcourse compare`: the teacher's numbers beside a run's record, and the record."""

import json

import pytest

from tfcourse import cli
from tfcourse.tools.lessons import lesson_files
from tfcourse.__main__ import main as command
from tfcourse.tools import compare
from lesson_runner import PROJECT_ROOT

TEACHER = compare.teacher()


def made_run(folder, lesson, progress, flags=None, **extra):
    """A metrics.json as a lesson writes it, with the given progress points."""
    folder.mkdir(parents=True, exist_ok=True)
    record = {
        "lesson": lesson,
        "flags": {"quick": False, **(flags or {})},
        "data": "mnist",
        "synthetic": False,
        "status": "finished",
        "seed": 0,
        "versions": {"tensorflow": "2.21.0"},
        "device": "CPU",
        "command": [],
        "progress": progress,
        **extra,
    }
    (folder / "metrics.json").write_text(json.dumps(record), encoding="utf-8")
    return folder


def near_teacher(lesson, shift=0.0, at=None, **point_extra):
    """Points on the teacher's own numbers, `shift` added at epoch `at` (every point if None)."""
    entry = TEACHER[lesson]
    return [
        {
            **p,
            **{
                k: v + (shift if at in (None, p[entry["by"]]) else 0.0)
                for k, v in p.items()
                if k != entry["by"]
            },
            **point_extra,
        }
        for p in entry["points"]
    ]


def compare_main(capsys, *argv):
    code = command(["compare", *map(str, argv)])  # as `python -m tfcourse compare ...`
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


def test_the_verdict_follows_the_tolerance(tmp_path, capsys):
    tolerance = TEACHER["3-2"]["tolerance"]
    close = made_run(tmp_path / "close", "3-2", near_teacher("3-2", tolerance / 2))
    code, out, _ = compare_main(capsys, "3-2", close)
    assert code == 0 and "✓ 结论 Verdict: matches the teacher within ±0.01 at 3 of 3" in out
    assert "Iter 20   teacher 0.9134   ours 0.9184   +0.0050   ✓" in out

    for shift, word in [(2 * tolerance, "(ours is better)"), (-2 * tolerance, "ours is worse")]:
        far = made_run(tmp_path / f"far{shift}", "3-2", near_teacher("3-2", shift, at=20))
        code, out, _ = compare_main(capsys, "3-2", far)
        assert (
            code == 1 and "✗ 结论 Verdict: differs beyond ±0.01 at Iter 20" in out and word in out
        )
        assert out.count("✓") == 2 and out.count("✗") == 2  # Iter 0 and 10 still match


def test_a_quick_run_is_not_comparable_and_gets_no_mark_per_row(tmp_path, capsys):
    far = made_run(tmp_path / "quick", "3-2", near_teacher("3-2", -0.3), flags={"quick": True})
    code, out, _ = compare_main(capsys, "3-2", far)
    assert "not comparable: a --quick run" in out
    assert "Iter 20   teacher 0.9134   ours 0.6134   -0.3000" in out  # the numbers, still shown
    assert "✓" not in out and "✗" not in out  # no verdict per row that the run's verdict takes back


TEXT_DATA = [("waimai", False), ("my_reviews.CSV", False), ("rt-polaritydata", True),
             ("polarity", True)]


@pytest.mark.parametrize("lesson, datasets", [("11-2", TEXT_DATA), ("12-1", TEXT_DATA),
                                              ("12-2", [("own", False), ("urbansound8k", True)])])
def test_a_run_on_other_data_than_the_teachers_is_not_compared(lesson, datasets, tmp_path,
                                                               capsys):
    """11-2 and 12-1 also read Chinese reviews and a learner's CSV, 12-2 a learner's own sounds:
    the teacher's number is for the course's data, so it says so rather than 'ours is better,
    check the flags'."""
    metric = next(iter(TEACHER[lesson]["points"][0]))
    for data, comparable in datasets:
        run = made_run(tmp_path / data, lesson, [], flags={"data": data}, data=data,
                       final={metric: TEACHER[lesson]["points"][0][metric] + 0.15})
        code, out, _ = compare_main(capsys, lesson, run)
        if comparable:
            assert code == 1 and "differs beyond ±0.0" in out, data
        else:
            data = "your own data" if data == "own" else data
            assert f"not comparable: this run read {data}; the teacher's number is for " \
                   f"{TEACHER[lesson]['data']}" in out, data
            assert "✗" not in out


def test_10_4_on_your_own_picture_is_not_compared(tmp_path, capsys):
    run = made_run(tmp_path / "own", "10-4", [], flags={"image": "1234.png"}, data=None,
                   final={"read": "1234"})
    code, out, _ = compare_main(capsys, "10-4", run)
    assert "not comparable: this run read your own picture (--image); the teacher's number is " \
           "for 10-2's test captchas." in out
    assert "cannot compare" not in out and "✗" not in out and code == 0


def test_a_known_difference_says_why_and_names_the_flag(tmp_path, capsys):
    fixed = made_run(
        tmp_path / "fixed", "4-3", near_teacher("4-3", -0.0128, at=20, double_softmax=False)
    )
    code, out, _ = compare_main(capsys, "4-3", fixed)
    assert (
        code == 0
        and "≈" in out
        and "as expected" in out
        and "softmax twice" not in out.split("Verdict")[0]
    )
    assert (
        "To reproduce the video: python "
        "week04_softmax_dropout_optimizers/4_3_optimizers.py --double-softmax"
        in out
    )
    own = json.loads((PROJECT_ROOT / "tfcourse/tools/teacher.json").read_text(encoding="utf-8"))
    own = next(entry for key, entry in own.items() if key == "4-3")["differs"]["ours"][0][
        "test_accuracy"
    ]
    assert f"The project's own run: Iter 20 {own}" in out
    broken = made_run(
        tmp_path / "broken", "4-3", near_teacher("4-3", -0.08, at=20, double_softmax=False)
    )
    code, out, _ = compare_main(
        capsys, "4-3", broken
    )  # far from the video AND from the project's own run
    assert code == 1 and "✗ 结论 Verdict" in out and "but also from the project's own run" in out

    # a run that trained both losses (4-1 --double-softmax records both, marked): side by side
    course = near_teacher("4-3", 0.001, double_softmax=True) + near_teacher(
        "4-3", -0.0128, at=20, double_softmax=False
    )
    both = made_run(tmp_path / "both", "4-3", course, flags={"double_softmax": True})
    code, out, _ = compare_main(capsys, "4-3", both)
    assert (
        code == 0 and "both [double_softmax True]" in out and "both [double_softmax False]" in out
    )
    assert (
        "✓ 结论 Verdict run 1: matches the teacher" in out
        and "≈ 结论 Verdict run 2: differs" in out
    )
    worse = made_run(
        tmp_path / "worse",
        "4-3",
        near_teacher("4-3", -0.05, double_softmax=True),
        flags={"double_softmax": True},
    )
    code, out, _ = compare_main(capsys, "4-3", worse)
    assert code == 1 and "even with --double-softmax" in out


def test_several_runs_side_by_side_with_their_own_teacher_numbers(tmp_path, capsys):
    progress = [{"epoch": e, "test_accuracy": 0.95, "train_accuracy": 0.96} for e in range(30)]
    dropout = made_run(
        tmp_path / "keep07",
        "4-2",
        progress + [{"epoch": 30, "test_accuracy": 0.9805}],
        flags={"keep_prob": 0.7},
    )
    none = made_run(
        tmp_path / "keep10",
        "4-2",
        progress + [{"epoch": 30, "test_accuracy": 0.9788, "train_accuracy": 1.0}],
        flags={"keep_prob": 1.0},
    )
    code, out, _ = compare_main(capsys, "4-2", dropout, none)
    assert code == 0
    assert "run 1:" in out and "run 2:" in out and "teacher's numbers for keep_prob 1.0" in out
    row = next(line for line in out.splitlines() if line.startswith("Iter 30  test"))
    assert row.split()[4:] == [
        "0.971",
        "0.9805",
        "+0.0095",
        "✓",
        "0.9722",
        "0.9788",
        "+0.0066",
        "✓",
    ]
    assert "train_accuracy" not in out.split("note:")[0]  # the missing value is a dash, then a note
    assert "this run has no Iter 30" in out  # run 1 recorded no train accuracy at Iter 30


def test_a_record_without_the_key_or_the_points_is_a_clear_message(tmp_path, capsys):
    other = made_run(tmp_path / "other", "3-2", [{"epoch": 0, "accuracy": 0.83}])
    code, out, _ = compare_main(capsys, "3-2", other)
    assert code == 1 and "recorded no 'test_accuracy' (it has: accuracy, epoch)" in out
    short = made_run(tmp_path / "short", "3-2", near_teacher("3-2")[:1], status="interrupted")
    code, out, _ = compare_main(capsys, "3-2", short)
    assert code == 0 and "this run has no Iter 10 (it stopped at Iter 0)" in out
    assert "did not finish (status: interrupted)" in out
    killed = made_run(tmp_path / "killed", "3-2", near_teacher("3-2")[:2], status="running")
    code, out, _ = compare_main(capsys, "3-2", killed)  # a SIGKILL leaves "running" behind
    assert code == 0 and "did not finish (status: running: still going, or killed)" in out
    code, _, err = compare_main(capsys, "3-2", tmp_path / "nothing-here")
    assert code == 1 and "no such file" in err
    (tmp_path / "bad").mkdir()
    (tmp_path / "bad" / "metrics.json").write_text("{cut", encoding="utf-8")
    code, _, err = compare_main(capsys, "3-2", tmp_path / "bad")
    assert code == 1 and "not a readable metrics.json" in err
    code, _, err = compare_main(capsys, "4-1", short)
    assert code == 1 and "a run of lesson 3-2, not 4-1" in err


# Issue 22 class 6: a damaged record is one message naming the file, never a traceback
@pytest.mark.parametrize(
    "content, phrase",
    [
        (b'{"lesson": "3-2", "progress": [{"epoch": 0', "not a readable metrics.json"),
        (b"\xff\xfe garbage", "not a readable metrics.json"),
        (b"[1, 2, 3]", "damaged: not a JSON object"),
        (b'{"lesson": "3-2", "progress": {"epoch": 0}}', "damaged: progress is not a list"),
        (
            b'{"lesson": "3-2", "progress": [0.9]}',
            "damaged: progress holds a point that is not a dict",
        ),
        (b'{"lesson": "3-2", "flags": "--quick", "progress": []}', "damaged: flags is not a dict"),
        (b'{"lesson": "3-2", "final": [0.9], "progress": []}', "damaged: final is not a dict"),
        (None, "not a readable metrics.json"),  # metrics.json is a folder
    ],
)
def test_a_damaged_record_is_one_message(content, phrase, tmp_path, capsys):
    record = tmp_path / "run" / "metrics.json"
    record.parent.mkdir()
    record.mkdir() if content is None else record.write_bytes(content)
    code, out, err = compare_main(capsys, "3-2", record.parent)
    assert code == 1 and err.count("错误 Error:") == 1 and phrase in err, err
    assert "Remedy: run the lesson again (python week03_regression/3_2_mnist_simple.py)" in err


def test_a_tolerance_per_metric_is_named_per_metric(tmp_path, capsys):
    close = made_run(tmp_path / "close", "5-1", near_teacher("5-1"))  # learning rate: ±1e-09
    code, out, _ = compare_main(capsys, "5-1", close)
    assert code == 0 and "within ±1e-09 (learning rate), ±0.005 (test accuracy)" in out
    assert "learning rate   teacher 7.6945e-05" in out  # a tiny number in 4 significant digits


def test_odd_values_in_a_record_are_no_numbers_not_a_crash(tmp_path, capsys):
    odd = made_run(
        tmp_path / "odd",
        "3-2",
        [
            {"epoch": 0, "test_accuracy": "high"},
            {"epoch": [10], "test_accuracy": None},
            {"epoch": 20, "test_accuracy": 0.9134},
        ],
        seconds="long",
        versions={},
        status=["?"],
    )
    code, out, _ = compare_main(capsys, "3-2", odd)
    assert code == 0 and "Iter 0    teacher 0.8304   ours —" in out
    assert "Iter 20   teacher 0.9134   ours 0.9134   +0.0000   ✓" in out


def test_without_a_run_it_prints_the_command_that_makes_one(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(cli, "PROJECT_ROOT", tmp_path)  # an empty runs/ folder
    code, out, _ = compare_main(capsys, "3-2")
    assert code == 1 and "python week03_regression/3_2_mnist_simple.py" in out

    runs = tmp_path / "runs" / "week03_regression" / "3_2_mnist_simple"
    made_run(runs / "20260101-000000", "3-2", near_teacher("3-2"))
    made_run(runs / "20260102-000000", "3-2", near_teacher("3-2", 0.001), status="crashed")
    code, out, _ = compare_main(capsys, "3-2")  # the newest FINISHED run
    assert code == 0 and "20260101-000000" in out and "ours 0.9134" in out

    for lesson in ("3-9", "9-0"):  # no such lesson; a lesson whose video prints no numbers
        code, _, err = compare_main(capsys, lesson)
        assert code == 1 and f"No teacher's numbers for '{lesson}'" in err and "3-2, 4-1" in err


def test_teacher_entries_name_real_lessons_sources_and_flags():
    for number, entry in TEACHER.items():
        assert entry["script"] in lesson_files(), number
        assert entry["source"] in compare.SOURCES and entry["by"] in ("epoch", "step", "final")
        for point in entry["points"] + [p for v in entry.get("variants", []) for p in v["points"]]:
            assert all(isinstance(v, (int, float)) for v in point.values()), number
            assert all(compare._tolerance(entry, k) > 0 for k in point if k != entry["by"]), number
        flag = (entry.get("differs") or {}).get("flag")
        script = PROJECT_ROOT / entry["script"]
        if flag and script.exists():  # the flag that reproduces the video must exist in the lesson
            assert f'"{flag.split()[0]}"' in script.read_text(encoding="utf-8"), (number, flag)
