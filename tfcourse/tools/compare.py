"""`python -m tfcourse compare LESSON [RUN ...]`: the teacher's numbers beside a run's.

    python -m tfcourse compare 3-2            # the lesson's newest finished run
    python -m tfcourse compare 4-2 RUN RUN    # runs side by side (folders, or names under runs/)

Exit status 1 when a run differs in a way the project does not explain, or there is no run.
"""
import fnmatch
import json
import math
from pathlib import Path

from tfcourse.cli import latest_run, runs_folder
from tfcourse.errors import CourseError
from tfcourse.tools import command_parser, marks
from tfcourse.tools.lessons import is_lesson

TEACHER_FILE = Path(__file__).with_name("teacher.json")
SOURCES = {"saved": "the teacher's saved notebook output (the video)",
           "notes": "a learner's rerun quoted in the notes (not the video's own output)"}
SHAPE = {"flags": dict, "final": dict, "versions": dict, "progress": list}  # metrics.json's parts


def teacher():
    entries = json.loads(TEACHER_FILE.read_text(encoding="utf-8"))
    return {number: entry for number, entry in entries.items() if not number.startswith("_")}


def find_entry(name):
    """(lesson number, entry) for '3-2', 'lesson 3-2', a script's name or path."""
    entries = teacher()
    for number, entry in entries.items():
        if is_lesson(name, number, entry["script"]):
            return number, entry
    raise CourseError(f"No teacher's numbers for {name!r} (no such lesson, or its video prints "
                      f"none to compare with).\nRemedy: name one of {', '.join(entries)}.")


def load_run(name, number, entry):
    """A run's metrics.json, checked: from a folder, the file itself, or a folder under runs/."""
    path, runs = Path(name), runs_folder(entry["script"])
    if not path.exists() and (runs / name).exists():
        path = runs / name
    file = path if path.is_file() else path / "metrics.json"
    again = f"Remedy: run the lesson again (python {entry['script']}), or name another run."
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError(f"{file}: no such file.\nRemedy: name a run folder, e.g. in {runs}."
                          ) from None
    except (OSError, ValueError) as error:  # not JSON, not UTF-8, a folder, unreadable
        raise CourseError(f"{file} is not a readable metrics.json ({error}).\n{again}") from None
    wrong = ["not a JSON object"]
    if isinstance(record, dict):
        record = {**{key: kind() for key, kind in SHAPE.items()}, **record}
        wrong = [f"{key} is not a {kind.__name__}" for key, kind in SHAPE.items()
                 if not isinstance(record[key], kind)]
        if not wrong and not all(isinstance(p, dict) for p in record["progress"]):
            wrong = ["progress holds a point that is not a dict"]
    if wrong:
        raise CourseError(f"{file} is not a lesson's metrics.json (damaged: {wrong[0]}).\n{again}")
    if record.get("lesson") not in (None, number):
        raise CourseError(f"{file} is a run of lesson {record['lesson']}, not {number}.\n"
                          f"Remedy: python -m tfcourse compare {record['lesson']} {name}")
    return dict(record, _folder=file.parent)


def _number(value):
    """A finite number from a record as a float, else None (text, a list, NaN, true/false)."""
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return float(value) if number and math.isfinite(value) else None


def _matches(flags, when):
    return bool(when) and all(flags.get(key) == value for key, value in when.items())


def _tolerance(entry, metric):
    tolerance = entry["tolerance"]
    return tolerance.get(metric, 0.0) if isinstance(tolerance, dict) else tolerance


def _within(entry, metric, teacher_value, ours):
    return abs(ours - teacher_value) <= _tolerance(entry, metric) + 1e-12


def split_runs(entry, record):
    """One record per value of a flag the teacher's numbers depend on (4-2 --compare: keep_prob
    0.7 and 1.0; 4-1 --double-softmax: both losses), when a run holds several."""
    keys = {key for variant in entry.get("variants", []) for key in variant["when"]}
    keys |= set((entry.get("differs") or {}).get("when") or {})
    for key in sorted(keys):
        values = []
        for point in record["progress"]:
            if key in point and point[key] not in values:
                values.append(point[key])
        if len(values) > 1:
            return [dict(record, flags={**record["flags"], key: value}, _part=f"{key} {value}",
                         progress=[p for p in record["progress"] if p.get(key, value) == value])
                    for value in values]
    return [record]


def _ours(record, entry, point, metric):
    by = entry["by"]
    if by == "final" and metric in record["final"]:
        return _number(record["final"][metric])
    found = [p[metric] for p in record["progress"] if metric in p
             and (by == "final" or _number(p.get(by)) == point[by])]
    return _number(found[-1]) if found else None


def _label(entry, n):
    return "end of run" if entry["by"] == "final" else entry.get("label", "Iter {n}").format(n=n)


def _fmt(value, sign="", like=None):
    """4 decimals, or 4 significant digits for tiny numbers (a learning rate) or like `like`."""
    if value is None:
        return "—"
    scale = value if like is None else like
    return f"{value:{sign}.4e}" if scale and abs(scale) < 1e-3 else f"{value:{sign}.4f}"


def _teacher(value):
    return "—" if value is None else f"{value:.6g}"  # as the teacher printed it


def compare_run(entry, record):
    """Rows [(n, metric, teacher, ours)], the verdict (kind, text) and notes for one run."""
    by, flags, differs = entry["by"], record["flags"], entry.get("differs") or {}
    points = next((v["points"] for v in entry.get("variants", []) if _matches(flags, v["when"])),
                  entry["points"])
    rows = [(point.get(by), metric, value, _ours(record, entry, point, metric))
            for point in points for metric, value in point.items() if metric != by]
    recorded = {key for p in record["progress"] for key in p} | set(record["final"])
    notes = [f"this run recorded no {metric!r} (it has: {', '.join(sorted(recorded)) or 'nothing'})"
             for metric in dict.fromkeys(m for _, m, _, _ in rows) if metric not in recorded]
    missing = [n for n, metric, _, ours in rows if ours is None and metric in recorded]
    if missing and by != "final":
        last = [p[by] for p in record["progress"] if by in p]
        stopped = f" (it stopped at {_label(entry, last[-1])})" if last else ""
        notes.append(f"this run has no {_label(entry, missing[0])}{stopped}")
    if record.get("status") not in (None, "finished"):
        killed = ": still going, or killed" if record["status"] == "running" else ""
        notes.append(f"this run did not finish (status: {record['status']}{killed})")
    compared = [row for row in rows if row[3] is not None]
    outside = [row for row in compared if not _within(entry, *row[1:])]
    where = ", ".join(dict.fromkeys(_label(entry, n) for n, *_ in outside))
    if isinstance(entry["tolerance"], dict):
        tolerance = ", ".join(f"±{_tolerance(entry, m):g} ({m.replace('_', ' ')})"
                              for m in sorted({m for _, m, _, _ in rows}))
    else:
        tolerance = f"±{entry['tolerance']:g}"
    own = [(p.get(by), m, v, _ours(record, entry, p, m))  # the project's own run on real data
           for p in differs.get("ours", []) for m, v in p.items() if m != by]
    own = [row for row in own if row[3] is not None]
    own_off = [row for row in own if not _within(entry, *row[1:])]
    said = ", ".join(f"{_label(entry, n)} {_teacher(v)}" for n, _, v, _ in (own_off or own))
    expected = differs and not _matches(flags, differs.get("when"))
    check = "the flags this run was made with"
    doctor = f"{check}, then `python -m tfcourse doctor`"
    data = str(flags.get("data") or "")  # 11-2 and 12-1 also read Chinese reviews, a CSV file
    if record.get("synthetic") or record.get("data") == "SYNTHETIC":
        verdict = "none", ("not comparable: SYNTHETIC data (a drawn stand-in) shows that the code "
                           "runs, not how it learns. Run it without --data synthetic.")
    elif entry.get("own_flag") and flags.get(entry["own_flag"]):  # 10-4 --image: one picture
        verdict = "none", (f"not comparable: this run read your own picture "
                           f"(--{entry['own_flag']}); the teacher's number is for {entry['data']}.")
    elif any(fnmatch.fnmatch(data.lower(), other) for other in entry.get("other_data", [])):
        data = "your own data" if data == "own" else data  # 12-2 --data own
        verdict = "none", (f"not comparable: this run read {data}; the teacher's number is for "
                           f"{entry['data']}: run it on that data (the default) to compare.")
    elif flags.get("quick"):
        verdict = "none", "not comparable: a --quick run (less data, fewer steps); drop --quick."
    elif not compared:
        verdict = "error", "cannot compare: " + ("; ".join(notes) or "nothing recorded") + "."
    elif not outside:
        verdict = "ok", (f"matches the teacher within {tolerance} at {len(compared)} of "
                         f"{len(rows)} numbers.")
    elif expected and own_off:
        verdict = "error", (f"differs from the teacher at {where}, as expected ({differs['why']}), "
                            f"but also from the project's own run ({said}): check {doctor}.")
    elif expected:
        ours = f" The project's own run: {said}; this one is within {tolerance}." if own else ""
        how = (f"To reproduce the video: python {entry['script']} {differs['flag']}"
               if differs.get("flag") else "No flag reproduces the video's version of this.")
        verdict = "expected", (f"differs beyond {tolerance} at {where}, as expected: "
                               f"{differs['why']}{ours} {how}")
    else:
        even = f" even with {differs['flag']}" if differs.get("flag") else ""
        better = all((ours < value) == ("loss" in metric) for _, metric, value, ours in outside)
        advice = f": ours is worse. Check {doctor}"
        if better:
            advice = f" (ours is better): check {check}"
        verdict = "error", f"differs beyond {tolerance} at {where}{even}{advice}."
    return rows, verdict, notes


def report(number, entry, records):
    """Print the comparison of one or several runs; return True when none differs unexpectedly."""
    sign, one = marks(), len(records) == 1
    print(f"Lesson {number} ({entry['script']})\nteacher: {SOURCES[entry['source']]}")
    for i, record in enumerate(records, 1):
        flags = " ".join(map(str, record.get("command") or [])) or "the lesson's defaults"
        tf = record["versions"].get("tensorflow")
        about = (f"{record.get('status')}, data {record.get('data')}, seed {record.get('seed')}, "
                 f"TF {tf}, {record.get('device')}, flags: {flags}")
        part = f" [{record['_part']}]" if record.get("_part") else ""
        variant = next((v["about"] for v in entry.get("variants", [])
                        if _matches(record["flags"], v["when"])), None)
        numbers = f"; teacher's numbers for {variant}" if variant else ""
        print(f"{'ours' if one else f'run {i}'}: {record['_folder']}{part} ({about}){numbers}")
    results = [compare_run(entry, record) for record in records]
    cells = [{(n, m): (t, o) for n, m, t, o in rows} for rows, _, _ in results]
    keys = list(dict.fromkeys(key for run in cells for key in run))
    width = max((len(_label(entry, n)) for n, _ in keys), default=0)
    named = len({metric for _, metric in keys}) > 1  # then each row names its metric
    words = ("teacher ", "ours ") if one else ("", "")  # one run: no header
    table = [] if one else [[""] + [cell for i in range(1, len(records) + 1)
                                    for cell in ("teacher", f"run {i}", "diff", "")]]
    for n, metric in keys:
        line = [_label(entry, n).ljust(width) + (f"  {metric.replace('_', ' ')}" if named else "")]
        for run, (_, (kind, _), _) in zip(cells, results):
            t, o = run.get((n, metric), (None, None))
            diff = _fmt(None if None in (t, o) else o - t, "+", like=t)
            mark = ""
            if kind != "none" and None not in (t, o):
                mark = sign["ok" if _within(entry, metric, t, o) else "error"]
            line += [words[0] + _teacher(t), words[1] + _fmt(o), diff, mark]
        table.append(line)
    widths = [max(len(cell) for cell in column) for column in zip(*table)]
    print()
    for row in table:  # words left (teacher 0.907, ours 0.9057), numbers and headers right
        print("   ".join(cell.ljust(w) if c == 0 or (one and cell[:1].isalpha()) else cell.rjust(w)
                         for c, (cell, w) in enumerate(zip(row, widths))).rstrip())
    print()
    for i, (_, (kind, text), notes) in enumerate(results, 1):
        for note in notes:
            print(f"note: {note}.")
        print(f"{sign[kind]} 结论 Verdict{'' if one else f' run {i}'}: {text}")
    return all(kind != "error" for _, (kind, _), _ in results)


def main(argv=()):
    parser = command_parser(__doc__, "compare")
    parser.add_argument("lesson", help="a lesson number, e.g. 3-2 (or the script's path)")
    parser.add_argument("runs", nargs="*", metavar="RUN",
                        help="run folders (default: the lesson's newest finished run)")
    args = parser.parse_args(list(argv))
    number, entry = find_entry(args.lesson)
    if not args.runs:
        newest = latest_run(entry["script"])
        if newest is None:
            print(f"No finished run of lesson {number} in {runs_folder(entry['script'])}/ yet.\n"
                  f"Make one: python {entry['script']}\nthen: python -m tfcourse compare {number}")
            return 1
        args.runs = [newest]
    records = [part for name in args.runs
               for part in split_runs(entry, load_run(name, number, entry))]
    return 0 if report(number, entry, records) else 1
