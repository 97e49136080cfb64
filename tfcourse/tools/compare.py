"""`python -m tfcourse compare LESSON [RUN ...]`: the teacher's numbers beside a run's, with a verdict.

    python -m tfcourse compare 3-2                 # the lesson's newest finished run
    python -m tfcourse compare 4-2 RUN RUN         # runs side by side (folders, or names under runs/)
    python -m tfcourse compare 3-2 --plot          # also teacher-vs-ours curves as a PNG

At every epoch or step the teacher printed: `Iter 20   teacher 0.9134   ours 0.9140   +0.0006   ✓`.
The numbers are in teacher.json beside this file, each lesson marked with its source (the saved
notebook output, or a learner's rerun in the notes); ours are read from the run's metrics.json.
Exit status 0: every run matches within the lesson's tolerance, or differs where the project
knowingly differs (the verdict says why and names the flag that reproduces the video), or was not
made to be compared (synthetic data, --quick). 1: a run differs otherwise, or there is no run yet.
"""
import argparse
import json
import math
import os
from pathlib import Path

from tfcourse.cli import latest_run, runs_folder
from tfcourse.errors import CourseError
from tfcourse.tools import marks

TEACHER_FILE = Path(__file__).with_name("teacher.json")
SOURCES = {"saved": "the teacher's saved notebook output (the video)",
           "notes": "a learner's rerun quoted in the notes (not the video's own output)"}


def teacher():
    entries = json.loads(TEACHER_FILE.read_text(encoding="utf-8"))
    return {number: entry for number, entry in entries.items() if not number.startswith("_")}


def find_entry(name):
    """(lesson number, entry) for '3-2', 'lesson 3-2', a script's name or path."""
    entries = teacher()
    key = name.strip().lower().removeprefix("lesson").strip()
    for number, entry in entries.items():
        if key in (number, Path(entry["script"]).stem) or Path(name).as_posix().endswith(entry["script"]):
            return number, entry
    from tfcourse.tools.lessons import COURSE_ORDER, PROJECT_ROOT, read_header
    numbers = set()
    for script in COURSE_ORDER:
        try:
            numbers.add((read_header(PROJECT_ROOT / script) or [None])[0])
        except (OSError, SyntaxError, ValueError):  # not written yet, or being edited
            continue
    if key in numbers:
        raise CourseError(f"Lesson {key} has no teacher's numbers in {TEACHER_FILE.name} (the course prints none to compare a run with).\n"
                          f"Lessons with numbers: {', '.join(entries)}.")
    raise CourseError(f"No lesson {name!r} with teacher's numbers.\nRemedy: name one of {', '.join(entries)} "
                      "(`python -m tfcourse lessons` lists every lesson).", exit_code=2)


def load_run(name, number, entry):
    """A run's metrics.json (from a folder, the file itself, or a folder name under the lesson's runs/)."""
    path = Path(name)
    if not path.exists() and (runs_folder(entry["script"]) / name).exists():
        path = runs_folder(entry["script"]) / name
    file = path if path.is_file() else path / "metrics.json"
    try:
        record = json.loads(file.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise CourseError(f"{file}: no such file.\nRemedy: name a run folder (one holding metrics.json), "
                          f"e.g. one under {runs_folder(entry['script'])}.") from None
    except (OSError, ValueError) as error:
        raise CourseError(f"{file} is not a readable metrics.json ({error}).") from None
    if not isinstance(record, dict) or not isinstance(record.get("progress", []), list):
        raise CourseError(f"{file} is not a lesson's metrics.json (no progress list).")
    if record.get("lesson") not in (None, number):
        raise CourseError(f"{file} is a run of lesson {record['lesson']}, not {number}.\n"
                          f"Remedy: python -m tfcourse compare {record['lesson']} {name}")
    record["_folder"] = file.parent
    return record


def _number(value):
    if isinstance(value, bool) or value is None:
        return None
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _matches(flags, when):
    return bool(when) and all(_number(flags.get(k)) == _number(v) if _number(v) is not None else flags.get(k) == v
                              for k, v in when.items())


def _tolerance(entry, metric):
    tolerance = entry["tolerance"]
    return tolerance.get(metric, 0.0) if isinstance(tolerance, dict) else tolerance


def split_runs(entry, record):
    """One record per value of a flag the teacher's numbers depend on, where one run holds several
    (4-2 --compare trains keep_prob 0.7 and 1.0, 4-1 --double-softmax both losses): side by side."""
    keys = {k for v in entry.get("variants", []) for k in v["when"]} | set((entry.get("differs") or {}).get("when") or {})
    progress = [p for p in record.get("progress", []) if isinstance(p, dict)]
    for key in sorted(keys):
        values = list(dict.fromkeys(p[key] for p in progress if key in p))
        if len(values) > 1:
            return [dict(record, flags={**(record.get("flags") or {}), key: value}, _part=f"{key} {value}",
                         progress=[p for p in progress if p.get(key, value) == value]) for value in values]
    return [record]


def _ours(record, entry, point, metric):
    progress = [p for p in record.get("progress", []) if isinstance(p, dict)]
    if entry["by"] == "final":
        final = record.get("final") or {}
        if metric in final:
            return _number(final[metric])
        return next((_number(p[metric]) for p in reversed(progress) if metric in p), None)
    found = [p[metric] for p in progress if _number(p.get(entry["by"])) == point[entry["by"]] and metric in p]
    return _number(found[-1]) if found else None


def compare_run(number, entry, record):
    """Rows [(n, metric, teacher, ours)] and the verdict (kind, text) for one run."""
    flags = record.get("flags") or {}
    differs = entry.get("differs") or {}
    reproduced = _matches(flags, differs.get("when"))
    points = next((v["points"] for v in entry.get("variants", []) if _matches(flags, v["when"])), entry["points"])
    by = entry["by"]
    rows = [(point.get(by), metric, value, _ours(record, entry, point, metric))
            for point in points for metric, value in point.items() if metric != by]
    recorded = {key for p in record.get("progress", []) if isinstance(p, dict) for key in p}
    recorded |= set(record.get("final") or {})
    notes = [f"this run recorded no {metric!r} (it has: {', '.join(sorted(recorded)) or 'nothing yet'})"
             for metric in dict.fromkeys(m for _, m, _, _ in rows) if metric not in recorded]
    missing = [n for n, metric, _, ours in rows if ours is None and metric in recorded and n is not None]
    if missing:
        last = [p.get(by) for p in record.get("progress", []) if isinstance(p, dict) and by in p]
        notes.append(f"this run has no {_label(entry, missing[0])}" + (f" (it stopped at {_label(entry, last[-1])})" if last else ""))
    if record.get("status") == "running" and not _alive(record["_folder"]):
        notes.append("this run stopped without finishing (killed, or the machine stopped): its record ends there")
    elif record.get("status") not in (None, "finished"):
        notes.append(f"this run did not finish (status: {record.get('status')})")
    compared = [row for row in rows if row[3] is not None]
    outside = [row for row in compared if abs(row[3] - row[2]) > _tolerance(entry, row[1]) + 1e-12]
    where = ", ".join(dict.fromkeys(_label(entry, n) for n, *_ in outside))
    tolerance = _tolerance_text(entry, {m for _, m, _, _ in rows})
    command = "python " + entry["script"] + (" " + differs["flag"] if differs.get("flag") else "")
    if record.get("synthetic") or record.get("data") == "SYNTHETIC":
        verdict = ("none", "not comparable: this run used SYNTHETIC data (a drawn stand-in, not the real data set), which shows "
                           "that the code runs, not how it learns. Run it without --data synthetic.")
    elif flags.get("quick"):
        verdict = ("none", "not comparable: a --quick run (less data, fewer epochs or steps). Run it without --quick.")
    elif not compared:
        verdict = ("error", "cannot compare: " + ("; ".join(notes) or "the run recorded nothing yet") + ".")
    elif not outside:
        verdict = ("ok", f"matches the teacher within {tolerance} at {len(compared)} of {len(rows)} numbers.")
    elif differs and not reproduced:
        how = (f"To reproduce the video: {command}" if differs.get("flag")
               else "No flag reproduces the video's version of this.")
        own = [(p.get(by), m, v, _ours(record, entry, p, m)) for p in differs.get("ours", []) for m, v in p.items() if m != by]
        own = [row for row in own if row[3] is not None]  # the project's own run on real data (README)
        off = [row for row in own if abs(row[3] - row[2]) > _tolerance(entry, row[1]) + 1e-12]
        said = ", ".join(f"{_label(entry, n)} {_teacher(v)}" for n, _, v, _ in (off or own))
        if off:
            verdict = ("error", f"differs from the teacher at {where}, which is expected ({differs['why']}), but also "
                       f"from the project's own run ({said}) beyond {tolerance}: check the flags this run was made "
                       "with, then `python -m tfcourse doctor`.")
        else:
            verdict = ("expected", f"differs beyond {tolerance} at {where}, as expected: {differs['why']}"
                       + (f" The project's own run: {said}; this one is within {tolerance} of it." if own else "")
                       + f" {how}")
    else:
        better = all((row[3] < row[2]) == ("loss" in row[1]) for row in outside)
        verdict = ("error", f"differs beyond {tolerance} at {where}" +
                   (" even with " + differs["flag"] if reproduced else "") +
                   (" (ours is better): check the flags this run was made with." if better else
                    ": ours is worse. Check the flags this run was made with, then `python -m tfcourse doctor`."))
    return rows, verdict, notes


def _alive(folder):
    """Is the process that holds the run folder's lock still there?"""
    try:
        os.kill(int((Path(folder) / ".lock").read_text().strip()), 0)
    except (OSError, ValueError):
        return False
    return True


def _label(entry, n):
    return "end of run" if entry["by"] == "final" else entry.get("label", "Iter {n}").format(n=n)


def _tolerance_text(entry, metrics):
    if not isinstance(entry["tolerance"], dict):
        return f"±{entry['tolerance']:g}"
    return ", ".join(f"±{_tolerance(entry, m):g} ({m.replace('_', ' ')})" for m in sorted(metrics))


def _fmt(value, sign="", like=None):
    """4 decimals, or 4 significant digits for tiny numbers (a learning rate); `like`: the scale to follow."""
    if value is None:
        return "—"
    scale = value if like is None else like
    return f"{value:{sign}.4e}" if scale and abs(scale) < 1e-3 else f"{value:{sign}.4f}"


def _teacher(value):
    return "—" if value is None else f"{value:.6g}"  # as the teacher printed it


def _describe(record):
    versions = record.get("versions") or {}
    bits = [record.get("status") or "?", f"data {record.get('data') or '?'}", f"seed {record.get('seed')}",
            f"TF {versions.get('tensorflow', '?')}", record.get("device") or "?"]
    if record.get("seconds") is not None:
        bits.append(f"{record['seconds']:.0f} s")
    if record.get("command"):
        bits.append("flags: " + " ".join(map(str, record["command"])))
    return ", ".join(bits)


def _where(folder):
    try:
        return str(Path(folder).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(folder)


def report(number, entry, records):
    """Print the comparison of one or several runs; return True when none differs unexpectedly."""
    sign = marks()
    title = ""
    from tfcourse.tools.lessons import PROJECT_ROOT, read_header
    try:
        title = " " + (read_header(PROJECT_ROOT / entry["script"]) or ("", "", ""))[1]
    except (OSError, SyntaxError, ValueError):  # a lesson not written yet (its runs may still be compared)
        pass
    print(f"Lesson {number}{title}")
    print(f"teacher: {SOURCES[entry['source']]}")
    results = [compare_run(number, entry, record) for record in records]
    comparable = [kind != "none" for _, (kind, _), _ in results]  # "not comparable": no mark per row
    for i, record in enumerate(records, 1):
        variant = next((v.get("about") for v in entry.get("variants", []) if _matches(record.get("flags") or {}, v["when"])), None)
        part = f" [{record['_part']}]" if record.get("_part") else ""
        print(f"{'ours' if len(records) == 1 else f'run {i}'}: {_where(record['_folder'])}{part} ({_describe(record)})"
              + (f"; teacher's numbers for {variant}" if variant else ""))
    print()
    keys = list(dict.fromkeys((n, metric) for rows, _, _ in results for n, metric, _, _ in rows))
    several_metrics = len({metric for _, metric in keys}) > 1
    table = []
    width = max(len(_label(entry, n)) for n, _ in keys) if keys else 0
    for n, metric in keys:
        line = [_label(entry, n).ljust(width) + (f"  {metric.replace('_', ' ')}" if several_metrics else "")]
        found = [next(((t, o) for rn, rm, t, o in rows if (rn, rm) == (n, metric)), (None, None)) for rows, _, _ in results]
        one_teacher = len({t for t, _ in found}) == 1
        for j, (t, o) in enumerate(found):
            if len(records) == 1:
                line += [f"teacher {_teacher(t)}", f"ours {_fmt(o)}"]
            elif j == 0 or not one_teacher:
                line += [_teacher(t), _fmt(o)]
            else:
                line += [_fmt(o)]
            ok = None if o is None or t is None or not comparable[j] else abs(o - t) <= _tolerance(entry, metric) + 1e-12
            line += [_fmt(None if o is None or t is None else o - t, "+", like=t),
                     "" if ok is None else sign["ok" if ok else "error"]]
        table.append(line)
    if len(records) > 1:
        one_teacher = all(len({next((t for rn, rm, t, _ in rows if (rn, rm) == key), None) for rows, _, _ in results}) == 1
                          for key in keys)
        head = [""]
        for i in range(1, len(records) + 1):
            head += (["teacher"] if i == 1 or not one_teacher else []) + [f"run {i}", "diff", ""]
        table.insert(0, head)
    widths = [max(len(row[c]) for row in table if c < len(row)) for c in range(max(map(len, table)))]
    for row in table:  # words left (teacher 0.907, ours 0.9057), numbers and headers right
        print("   ".join(cell.ljust(w) if c == 0 or (cell[:1].isalpha() and len(records) == 1) else cell.rjust(w) for c, (cell, w) in enumerate(zip(row, widths))).rstrip())
    print()
    for i, (rows, (kind, text), notes) in enumerate(results, 1):
        for note in notes:
            print(f"note: {note}.")
        name = "结论 Verdict" + ("" if len(records) == 1 else f" run {i}")
        print(f"{sign[kind]} {name}: {text}")
    return all(kind != "error" for _, (kind, _), _ in results)


def plot(number, entry, records, path):
    """Teacher's points and our curves, one panel per metric, saved as a PNG."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from tfcourse.plots import label, save_figure
    by = entry["by"]
    metrics = list(dict.fromkeys(m for p in entry["points"] + [q for v in entry.get("variants", []) for q in v["points"]]
                                 for m in p if m != by))
    fig, axes = plt.subplots(1, len(metrics), figsize=(5.5 * len(metrics), 3.8), squeeze=False)
    for ax, metric in zip(axes[0], metrics):
        for i, record in enumerate(records, 1):
            name = label("我们", "ours") + ("" if len(records) == 1 else f" {i}")
            rows, _, _ = compare_run(number, entry, record)
            if by == "final":
                line, = ax.plot([i], [next((o for _, m, _, o in rows if m == metric), math.nan)], "o", label=name)
            else:
                points = [p for p in record.get("progress", []) if isinstance(p, dict) and by in p and metric in p]
                line, = ax.plot([p[by] for p in points], [_number(p[metric]) for p in points], label=name)
            teacher_points = [(n if by != "final" else i, t) for n, m, t, _ in rows if m == metric]
            if teacher_points:
                ax.plot(*zip(*teacher_points), "x", markersize=10, mew=2,  # each run's teacher in its colour
                        color="k" if len(records) == 1 else line.get_color(),
                        label=label("老师", "teacher") + ("" if len(records) == 1 else f" ({i})"))
        ax.set_ylabel(metric.replace("_", " "))
        ax.set_xlabel(label("周期" if by == "epoch" else "步数", by) if by != "final" else label("运行", "run"))
        ax.grid(alpha=0.3)
        ax.legend()
        ax.xaxis.get_major_locator().set_params(integer=True)  # epochs and steps are whole numbers
    fig.suptitle(f"{number}: " + label("老师的数字与我们的", "teacher's numbers and ours"))
    return save_figure(fig, path)


def main(argv=()):
    parser = argparse.ArgumentParser(prog="python -m tfcourse compare", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("lesson", help="a lesson number, e.g. 3-2 (or the script's path)")
    parser.add_argument("runs", nargs="*", metavar="RUN",
                        help="run folders (default: the lesson's newest finished run)")
    parser.add_argument("--plot", nargs="?", const="", default=None, metavar="FILE.png",
                        help="also draw teacher-vs-ours curves (default file: compare.png in the first run's folder)")
    args = parser.parse_args(list(argv))
    try:
        number, entry = find_entry(args.lesson)
        if not args.runs:
            newest = latest_run(entry["script"])
            if newest is None:
                print(f"No finished run of lesson {number} yet (looked in {_where(runs_folder(entry['script']))}/).\n"
                      f"Make one:\n  python {entry['script']}\nthen: python -m tfcourse compare {number}")
                return 1
            args.runs = [str(newest)]
        records = [part for name in args.runs for part in split_runs(entry, load_run(name, number, entry))]
        good = report(number, entry, records)
        if args.plot is not None:
            plot(number, entry, records, Path(args.plot) if args.plot else records[0]["_folder"] / "compare.png")
    except CourseError as error:
        print(f"错误 Error: {error}", file=__import__("sys").stderr)
        return error.exit_code
    return 0 if good else 1
