"""The shared flags, the run folder and its record, and the clean-error wrapper of every lesson.

    parser = tfcourse.make_parser(__doc__, epochs=21, lr=0.2, mnist=True, quick=dict(epochs=2))
    run = tfcourse.setup(args, __file__)        # devices, seed, runs/<week>/<lesson>/<date-time>/
    run.record(epoch=epoch, test_accuracy=acc)  # one progress point, saved to metrics.json at once
    run.finish(test_accuracy=acc)               # the one end-of-run line
    tfcourse.run_main(main)                     # a CourseError becomes one message, no traceback
"""
import argparse
import atexit
import contextlib
import dataclasses
import json
import math
import os
import platform
import random
import shutil
import sys
import time
from pathlib import Path

import numpy as np

from tfcourse.errors import CourseError
from tfcourse.files import atomic_write

PROJECT_ROOT = Path(__file__).resolve().parent.parent
SYNTHETIC_DATA = {"synthetic", "shapes"}  # --data values that are drawn, not real


def _number(kind, test, wanted):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = math.nan
        if not (math.isfinite(value) and test(value)):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value
    parse.__name__ = wanted  # argparse names the type in its messages
    return parse


positive_int = _number(int, lambda v: v > 0, "a whole number above 0")
non_negative_int = _number(int, lambda v: v >= 0, "a whole number, 0 or more")
positive_float = _number(float, lambda v: v > 0, "a finite number above 0")
probability = _number(float, lambda v: 0 < v <= 1, "a number in (0, 1]")


class CourseParser(argparse.ArgumentParser):
    """The one `--quick` rule: `quick_defaults` replace the lesson's defaults; typed flags still win."""

    quick_defaults = {}

    def parse_args(self, args=None, namespace=None):
        parsed = super().parse_args(args, namespace)
        if not getattr(parsed, "quick", False) or not self.quick_defaults:
            return parsed
        saved = {key: self.get_default(key) for key in self.quick_defaults}
        self.set_defaults(**self.quick_defaults)
        try:
            return super().parse_args(args, namespace)
        finally:
            self.set_defaults(**saved)


def make_parser(doc, *, epochs=None, steps=None, batch_size=None, lr=None, mnist=False, quick=None):
    """The shared flags, with `doc` as --help; --epochs/--steps/--batch-size/--lr where a default is given."""
    first, _, rest = (doc or "").strip().partition("\n")
    parser = CourseParser(description=first or None, epilog=rest.strip() or None,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.quick_defaults = dict(quick or {})
    for flag, value, kind, about in (("--epochs", epochs, positive_int, "training epochs"),
                                     ("--steps", steps, positive_int, "training steps"),
                                     ("--batch-size", batch_size, positive_int, "examples per step"),
                                     ("--lr", lr, positive_float, "learning rate")):
        if value is not None:
            parser.add_argument(flag, type=kind, default=value, help=f"{about} (lesson: {value})")
    smaller = [f"--{k.replace('_', '-')} {v}" for k, v in parser.quick_defaults.items()]
    smaller += ["5000/500/1000 train/validation/test images"] if mnist else []
    parser.add_argument("--seed", type=int, default=0, help="random seed for data order and weights (default 0)")
    parser.add_argument("--quick", action="store_true",
                        help=f"a run of seconds to check that everything works: {', '.join(smaller)}; flags "
                             f"you type still win" if smaller else "changes nothing here: no epochs, steps or data to cut")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="run folder for the log, metrics, checkpoints and plots "
                             "(default: a new runs/<week>/<lesson>/<date-time>/)")
    parser.add_argument("--show", action="store_true", help="also open plot windows (plots are always saved as PNG)")
    if mnist:
        group = parser.add_argument_group("MNIST data (数据)")
        group.add_argument("--data", choices=["mnist", "synthetic"], default="mnist",
                           help="mnist: the real data set (default); synthetic: drawn stand-in digits, "
                                "for a run with no data at all (labelled as such in the output)")
        group.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                           help="folder with the four MNIST IDX files (.gz or not, the course's MNIST_data/) "
                                "or Keras's mnist.npz; nothing is downloaded then")
        group.add_argument("--mirror", default=None, metavar="URL",
                           help="a mirror to try first: a URL folder holding mnist.npz or the IDX files "
                                "(also the TFCOURSE_MIRROR environment variable)")
    from tfcourse.devices import add_device_flags  # imports TensorFlow: not needed by latest_run
    add_device_flags(parser)
    return parser


def runs_folder(script):
    """runs/<week>/<lesson>/ for a lesson script (a path, or 'week08_.../8_1_saver_save.py')."""
    return PROJECT_ROOT / "runs" / Path(script).parent.name / Path(script).stem


def latest_run(script, need=None):
    """The newest finished run folder of a lesson (holding the file `need`, if given), or None."""
    folder = runs_folder(script)
    runs = sorted((p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()), reverse=True) \
        if folder.is_dir() else []
    for run in runs:
        try:
            status = json.loads((run / "metrics.json").read_text(encoding="utf-8")).get("status")
        except (OSError, ValueError):
            continue
        if status == "finished" and (need is None or (run / need).exists()):
            return run
    return None


def _point_latest(folder):
    """runs/<week>/<lesson>/latest -> the newest finished run (best effort: Windows may refuse links)."""
    link, newest = folder / "latest", latest_run(f"{folder.parent.name}/{folder.name}.py")
    try:
        if link.is_symlink():
            link.unlink()
        if newest is not None and not link.exists():
            link.symlink_to(newest.name, target_is_directory=True)
    except OSError:
        pass


class _Tee:
    """Writes to the terminal and to log.txt, line by line, so a crash keeps what was printed."""

    def __init__(self, stream, log):
        self.stream, self.log, self.progress = stream, log, ""

    def write(self, text):
        self.stream.write(text)
        if "\r" in text and "\n" not in text:  # a progress update in place: the log keeps the last one
            self.progress = text.replace("\r", "")
        elif not self.log.closed:
            self.log.write(self.progress + text)
            self.log.flush()
            self.progress = ""
        return len(text)

    def __getattr__(self, name):  # flush, isatty, encoding, ...
        return getattr(self.stream, name)


def _plain(value):
    """A number JSON can hold: tensors and NumPy scalars become float or int."""
    value = value.numpy() if hasattr(value, "numpy") else value
    return value.item() if isinstance(value, (np.generic, np.ndarray)) else value


@dataclasses.dataclass
class Run:
    """What `setup` hands back: the run folder, the device in use, and the run's record."""
    out: Path
    device: str
    args: argparse.Namespace
    lesson: str = ""
    synthetic: bool = False
    started: float = dataclasses.field(default_factory=time.perf_counter)
    record_data: dict = dataclasses.field(default_factory=dict)
    owned: bool = False  # the folder was made by this run (removed again if it fails empty)
    lock: Path = None
    streams: tuple = None

    def path(self, *parts):
        """A path inside the run folder; its parent folders are created."""
        target = self.out.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def record(self, **values):
        """Save one progress point, e.g. record(epoch=3, test_accuracy=0.91): metrics.json at once."""
        self.record_data["progress"].append({k: _plain(v) for k, v in values.items()})
        self.save()

    def check_finite(self, value, where):
        """Stop with a clear message when a loss became NaN or infinite."""
        if not math.isfinite(float(value)):
            lr = getattr(self.args, "lr", None)
            raise CourseError(f"The loss became {float(value)} at {where}: training diverged.\n"
                              "Remedy: a smaller learning rate" + (f" than --lr {lr}" if lr else "") +
                              ", or the lesson's defaults.")

    def finish(self, **final):
        """Print the one end-of-run line (lesson, device, time, final metric, data) and save it."""
        seconds, final = time.perf_counter() - self.started, {k: _plain(v) for k, v in final.items()}
        def shown(value):  # 4 decimals, as the course prints accuracies; 1 for big numbers (GFLOP/s)
            if not isinstance(value, float):
                return str(value)
            return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"
        metrics = "".join(f" | {name.replace('_', ' ')} {shown(v)}" for name, v in final.items())
        data = "SYNTHETIC (drawn stand-in, not the real data set)" if self.synthetic else getattr(self.args, "data", None)
        print(f"完成 Done: lesson {self.lesson} | {self.device} | {seconds:.1f} s{metrics}"
              + (f" | data {data}" if data else ""))  # lessons without a data set (week 2) say none
        self.record_data.update(status="finished", seconds=round(seconds, 2), final=final)
        self.save()
        print(f"run folder: {self.out}")

    def save(self):
        self.record_data["synthetic"] = self.synthetic  # a lesson may learn it late (9-2-train's drawn shards)
        atomic_write(self.out / "metrics.json", json.dumps(self.record_data, indent=1, ensure_ascii=False,
                                                           default=str))  # e.g. a list of Paths (nargs="+")

    def close(self, status):
        """End of the run, normal or not: stop logging, release the lock, drop a folder that holds nothing."""
        if self.record_data.get("status") == "running":
            self.record_data["status"] = status
            empty = {p.name for p in self.out.iterdir()} <= {"log.txt", "metrics.json", ".lock"}
            if status != "finished" and self.owned and not self.record_data["progress"] and empty:
                self._restore_streams()
                shutil.rmtree(self.out, ignore_errors=True)
                _point_latest(self.out.parent)
                return
            try:
                self.save()
            except OSError:
                pass
        self._restore_streams()
        if self.lock is not None:
            self.lock.unlink(missing_ok=True)
            self.lock = None

    def _restore_streams(self):
        if self.streams:
            log = sys.stdout.log if isinstance(sys.stdout, _Tee) else None
            sys.stdout, sys.stderr = self.streams
            self.streams = None
            if log is not None:
                log.close()


def _take_lock(out):
    """out/.lock holding our process id; a lock left by a run that is gone is taken over."""
    lock = out / ".lock"
    for _ in range(2):
        try:
            with open(lock, "x") as handle:
                handle.write(str(os.getpid()))
            return lock
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip())
                os.kill(pid, 0)  # raises ProcessLookupError when that run is gone
            except PermissionError:
                pass  # alive, another user's
            except (OSError, ValueError):
                lock.unlink(missing_ok=True)
                continue
            raise CourseError(f"Another run (process {pid}) is writing to {out}.\n"
                              "Remedy: wait for it to end, or give this run another --out folder "
                              "(without --out every run gets a new folder).") from None
    raise CourseError(f"Cannot lock the run folder {out}.")


def _unwritable(where, error):
    return CourseError(f"Cannot write to the run folder {where}: {error.strerror}.\n"
                       "Remedy: pass a folder you can write to with --out DIR.")


_current = []  # the Run of this process, closed by run_main (or at exit)


def setup(args, script, *, needs_mb=50):
    """Apply the device flags, seed every generator, make and check the run folder (writable,
    `needs_mb` MB free), tee what is printed to log.txt; return the `Run`."""
    from tfcourse.devices import apply_device_flags
    from tfcourse.tools.lessons import read_header
    import keras
    import tensorflow as tf
    device = apply_device_flags(args)
    seed = getattr(args, "seed", 0)
    random.seed(seed)
    np.random.seed(seed)
    tf.keras.utils.set_random_seed(seed)
    if not getattr(args, "show", False):
        import matplotlib
        matplotlib.use("Agg")  # headless by default: plots are files
    out, owned = getattr(args, "out", None), False
    try:
        if out:
            out, owned = Path(out), not Path(out).exists()
            out.mkdir(parents=True, exist_ok=True)
        else:
            stamp, owned = runs_folder(script) / time.strftime("%Y%m%d-%H%M%S"), True
            for n in range(1000):  # two runs started in the same second get -1, -2, ...
                out = stamp.with_name(f"{stamp.name}-{n}") if n else stamp
                with contextlib.suppress(FileExistsError):
                    out.mkdir(parents=True)
                    break
        lock = _take_lock(out)
        free_mb = shutil.disk_usage(out).free / 2**20
    except OSError as error:
        raise _unwritable(getattr(error, "filename", None) or out, error) from None
    if free_mb < needs_mb:
        lock.unlink(missing_ok=True)
        raise CourseError(f"Only {free_mb:.0f} MB free where the run writes ({out}); this lesson needs "
                          f"about {needs_mb} MB.\nRemedy: free some space, or pass another folder with --out DIR.")
    synthetic = getattr(args, "data", None) in SYNTHETIC_DATA
    header, script_path = read_header(Path(script)), Path(script).resolve()
    run = Run(out=out, device=device, args=args, lesson=header[0] if header else Path(script).stem,
              synthetic=synthetic, owned=owned, lock=lock)
    run.record_data = {
        "lesson": run.lesson, "script": script_path.relative_to(PROJECT_ROOT).as_posix()
        if script_path.is_relative_to(PROJECT_ROOT) else str(script),
        "command": sys.argv[1:], "flags": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
        "versions": {"python": platform.python_version(), "tensorflow": tf.__version__,
                     "keras": keras.__version__, "numpy": np.__version__},
        "device": device, "seed": seed, "data": "SYNTHETIC" if synthetic else getattr(args, "data", None),
        "synthetic": synthetic, "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "status": "running", "progress": []}
    try:
        run.save()
        log = open(out / "log.txt", "w", encoding="utf-8")
    except OSError as error:
        lock.unlink(missing_ok=True)
        raise _unwritable(out, error) from None
    run.streams = (sys.stdout, sys.stderr)
    sys.stdout, sys.stderr = _Tee(sys.stdout, log), _Tee(sys.stderr, log)
    _close_current("replaced")
    _current.append(run)
    return run


def _close_current(status):
    while _current:
        run = _current.pop()
        run.close(status)
        if status == "finished":
            _point_latest(run.out.parent)


atexit.register(_close_current, "crashed")


def run_main(main, argv=None):
    """Run `main(argv)`; a CourseError becomes one clear message and a non-zero exit."""
    status, code = "crashed", 1
    try:
        code = main(argv)
        status = "finished"
    except CourseError as error:
        sys.stdout.flush()
        print(f"\n错误 Error: {error}", file=sys.stderr)
        status, code = "failed", error.exit_code
    except KeyboardInterrupt:
        sys.stdout.flush()
        print("\n已中断 Interrupted.", file=sys.stderr)
        status, code = "interrupted", 130
    finally:
        _close_current(status)
    sys.exit(code or 0)
