"""`python -m tfcourse compare LESSON [RUN ...]`: the teacher's numbers beside a run's.

    python -m tfcourse compare 3-2            # the lesson's newest finished run
    python -m tfcourse compare 4-2 RUN RUN    # runs side by side (folders, or names under runs/)

The teacher's numbers (teacher.json, each with its source) beside ours (the run's metrics.json)
at each epoch or step the teacher printed, with a verdict. Exit status 0: within the lesson's
tolerance, or a difference the project knows and explains, or a run not made to be compared
(synthetic data, --quick); 1: a run differs otherwise, or there is none.
"""
import json
import math
from pathlib import Path

from tfcourse.cli import latest_run, runs_folder
from tfcourse.errors import CourseError
from tfcourse.tools import command_parser, marks
from tfcourse.tools.lessons import PROJECT_ROOT, read_header

TEACHER_FILE = Path(__file__).with_name("teacher.json")
SOURCES = {"saved": "the teacher's saved notebook output (the video)",
           "notes": "a learner's rerun quoted in the notes (not the video's own output)"}
SHAPE = {"flags": dict, "final": dict, "versions": dict, "progress": list}  # metrics.json's parts


def teacher():
    entries = json.loads(TEACHER_FILE.read_text(encoding="utf-8"))
    return {number: entry for number, entry in entries.items() if not number.startswith("_")}


def find_entry(name):
    """(lesson number, entry) for '3-2', 'lesson 3-2', a script's name or path."""
    entries, key = teacher(), name.strip().lower().removeprefix("lesson").strip()
    for number, entry in entries.items():
        if key in (number, Path(entry["script"]).stem) or \
                Path(name).as_posix().endswith(entry["script"]):
            return number, entry
    raise CourseError(f"No teacher's numbers for {name!r}: the course prints none to compare "
                      "with in that lesson, or there is no such lesson.\nRemedy: name one of "
                      f"{', '.join(entries)} (`python -m tfcourse lessons` lists every lesson).")


def load_run(name, number, entry):
    """A run's metrics.json: from a folder, the file itself, or a folder name under runs/."""
    path = Path(name)
    if not path.exists() and (runs_folder(entry["script"]) / name).exists():
        path = runs_folder(entry["script"]) / name
    file = path if path.is_file() else path / "metrics.json"
    again = f"Remedy: run the lesson again (python {entry['script']}), or name another run."
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError(f"{file}: no such file.\nRemedy: name a run folder (one holding "
                          f"metrics.json), e.g. in {runs_folder(entry['script'])}.") from None
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
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        return float(value) if math.isfinite(float(value)) else None
    except ValueError:
        return None


def _matches(flags, when):
    return bool(when) and all(flags.get(k) == v if _number(v) is None else
                              _number(flags.get(k)) == _number(v) for k, v in when.items())


def _tolerance(entry, metric):
    tolerance = entry["tolerance"]
    return tolerance.get(metric, 0.0) if isinstance(tolerance, dict) else tolerance


def _within(entry, metric, teacher_value, ours):
    return abs(ours - teacher_value) <= _tolerance(entry, metric) + 1e-12


def split_runs(entry, record):
    """A run holding several values of a flag the teacher's numbers depend on (4-2 --compare:
    keep_prob 0.7 and 1.0; 4-1 --double-softmax: both losses) becomes one record per value."""
    keys = {k for v in entry.get("variants", []) for k in v["when"]}
    keys |= set((entry.get("differs") or {}).get("when") or {})
    for key in sorted(keys):
        values = []
        for point in record["progress"]:
            values += [point[key]] if key in point and point[key] not in values else []
        if len(values) > 1:
            return [dict(record, flags={**record["flags"], key: value},
                         _part=f"{key} {value}",
                         progress=[p for p in record["progress"] if p.get(key, value) == value])
                    for value in values]
    return [record]


def _ours(record, entry, point, metric):
    by, progress = entry["by"], record["progress"]
    if by == "final" and metric in record["final"]:
        return _number(record["final"][metric])
    found = [p[metric] for p in progress if metric in p
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
        notes.append(f"this run has no {_label(entry, missing[0])}"
                     + (f" (it stopped at {_label(entry, last[-1])})" if last else ""))
    if record.get("status") not in (None, "finished"):
        notes.append(f"this run did not finish (status: {record['status']}"
                     + (": still going, or killed" if record["status"] == "running" else "") + ")")
    compared = [row for row in rows if row[3] is not None]
    outside = [row for row in compared if not _within(entry, *row[1:])]
    where = ", ".join(dict.fromkeys(_label(entry, n) for n, *_ in outside))
    metrics = sorted({m for _, m, _, _ in rows})
    tolerance = (f"±{entry['tolerance']:g}" if not isinstance(entry["tolerance"], dict) else ", "
                 .join(f"±{_tolerance(entry, m):g} ({m.replace('_', ' ')})" for m in metrics))
    own = [(p.get(by), m, v, _ours(record, entry, p, m))
           for p in differs.get("ours", []) for m, v in p.items() if m != by]
    own = [row for row in own if row[3] is not None]  # the project's own run on real data
    own_off = [row for row in own if not _within(entry, *row[1:])]
    said = ", ".join(f"{_label(entry, n)} {_teacher(v)}" for n, _, v, _ in (own_off or own))
    check = "check the flags this run was made with"
    if record.get("synthetic") or record.get("data") == "SYNTHETIC":
        return rows, ("none", "not comparable: this run used SYNTHETIC data (a drawn stand-in, "
                      "not the real data set), which shows that the code runs, not how it "
                      "learns. Run it without --data synthetic."), notes
    if flags.get("quick"):
        return rows, ("none", "not comparable: a --quick run (less data, fewer epochs or steps)."
                      " Run it without --quick."), notes
    if not compared:
        return rows, ("error", "cannot compare: " + ("; ".join(notes) or "nothing recorded")
                      + "."), notes
    if not outside:
        return rows, ("ok", f"matches the teacher within {tolerance} at {len(compared)} of "
                      f"{len(rows)} numbers."), notes
    if differs and not _matches(flags, differs.get("when")):
        if own_off:
            return rows, ("error", f"differs from the teacher at {where}, which is expected "
                          f"({differs['why']}), but also from the project's own run ({said}) "
                          f"beyond {tolerance}: {check}, then `python -m tfcourse doctor`."), notes
        how = (f"To reproduce the video: python {entry['script']} {differs['flag']}"
               if differs.get("flag") else "No flag reproduces the video's version of this.")
        return rows, ("expected", f"differs beyond {tolerance} at {where}, as expected: "
                      f"{differs['why']}" + (f" The project's own run: {said}; this one is "
                                             f"within {tolerance} of it." if own else "")
                      + f" {how}"), notes
    better = all((row[3] < row[2]) == ("loss" in row[1]) for row in outside)
    return rows, ("error", f"differs beyond {tolerance} at {where}"
                  + (" even with " + differs["flag"] if differs.get("flag") else "")
                  + (f" (ours is better): {check}." if better else
                     f": ours is worse. {check.capitalize()}, then `python -m tfcourse doctor`."
                     )), notes


def _describe(record):
    bits = [record.get("status"), f"data {record.get('data')}", f"seed {record.get('seed')}",
            f"TF {record['versions'].get('tensorflow')}", record.get("device")]
    if _number(record.get("seconds")) is not None:
        bits.append(f"{_number(record['seconds']):.0f} s")
    if record.get("command"):
        bits.append("flags: " + " ".join(map(str, record["command"])))
    return ", ".join(map(str, bits))


def report(number, entry, records):
    """Print the comparison of one or several runs; return True when none differs unexpectedly."""
    sign, one = marks(), len(records) == 1
    try:
        title = " " + (read_header(PROJECT_ROOT / entry["script"]) or ["", ""])[1]
    except (OSError, SyntaxError, ValueError):  # the lesson's file is being edited
        title = ""
    print(f"Lesson {number}{title}\nteacher: {SOURCES[entry['source']]}")
    results = [compare_run(entry, record) for record in records]
    for i, record in enumerate(records, 1):
        variant = next((v.get("about") for v in entry.get("variants", [])
                        if _matches(record["flags"], v["when"])), None)
        part = f" [{record['_part']}]" if record.get("_part") else ""
        print(f"{'ours' if one else f'run {i}'}: {record['_folder']}{part} "
              f"({_describe(record)})" + (f"; teacher's numbers for {variant}" if variant else ""))
    keys = list(dict.fromkeys((n, m) for rows, _, _ in results for n, m, _, _ in rows))
    found = {key: [next(((t, o) for rn, rm, t, o in rows if (rn, rm) == key), (None, None))
                   for rows, _, _ in results] for key in keys}
    one_teacher = all(len({t for t, _ in pairs}) == 1 for pairs in found.values())
    width = max((len(_label(entry, n)) for n, _ in keys), default=0)
    table = [] if one else [[""] + [cell for i in range(1, len(records) + 1) for cell in
                                    (["teacher"] if i == 1 or not one_teacher else [])
                                    + [f"run {i}", "diff", ""]]]
    for (n, metric), pairs in found.items():
        line = [_label(entry, n).ljust(width)
                + (f"  {metric.replace('_', ' ')}" if len({m for _, m in keys}) > 1 else "")]
        for j, (t, o) in enumerate(pairs):
            comparable = results[j][1][0] != "none" and None not in (t, o)
            line += ([f"teacher {_teacher(t)}", f"ours {_fmt(o)}"] if one else
                     ([_teacher(t)] if j == 0 or not one_teacher else []) + [_fmt(o)])
            line += [_fmt(None if None in (t, o) else o - t, "+", like=t),
                     sign["ok" if _within(entry, metric, t, o) else "error"] if comparable else ""]
        table.append(line)
    widths = [max(len(row[c]) for row in table if c < len(row)) for c in range(len(table[0]))]
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
            print(f"No finished run of lesson {number} yet (looked in "
                  f"{runs_folder(entry['script'])}/).\nMake one:\n  python "
                  f"{entry['script']}\nthen: python -m tfcourse compare {number}")
            return 1
        args.runs = [newest]
    records = [part for name in args.runs for part in split_runs(entry, load_run(name, number,
                                                                                  entry))]
    return 0 if report(number, entry, records) else 1
