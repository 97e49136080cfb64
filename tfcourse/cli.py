"""Common command-line options, the run folder and the clean-error wrapper every lesson uses.

A lesson does:

    parser = tfcourse.make_parser(__doc__, epochs=21, batch_size=100, lr=0.2, mnist=True,
                                  quick=dict(epochs=2))
    def main(argv=None):
        args = parser.parse_args(argv)       # --quick changes defaults only; typed flags win
        run = tfcourse.setup(args, __file__)  # devices, seed, run folder, log.txt, metrics.json
        ...
        run.record(epoch=epoch, test_accuracy=acc)   # one progress value, saved at once
        run.finish(test_accuracy=acc)                # the one end-of-run line
    if __name__ == "__main__":
        tfcourse.run_main(main)

Every run gets its own folder, runs/<week>/<lesson>/<date-time>/, and `latest` beside it names
the newest; `--out DIR` picks the folder instead (two runs cannot share one: the second is refused).
"""
import argparse
import atexit
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


# ---------------------------------------------------------------- numbers checked at parse time

def _number(kind, test, wanted):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}") from None
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
    """argparse with one `--quick` rule: `quick_defaults` replace the lesson's defaults, and only
    those; a flag the learner types always wins."""

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
    """A parser with the shared flags; `doc` (the lesson's docstring) is its --help text.

    --epochs/--steps/--batch-size/--lr appear when the lesson passes its default for them; the
    MNIST flags (--data, --data-dir, --mirror) with `mnist=True`. `quick` is the dict of defaults
    `--quick` uses (a run of seconds), e.g. dict(epochs=2).
    """
    lines = (doc or "").strip().splitlines()
    parser = CourseParser(description=lines[0] if lines else None,
                          epilog="\n".join(lines[1:]).strip() or None,
                          formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.quick_defaults = dict(quick or {})
    if epochs is not None:
        parser.add_argument("--epochs", type=positive_int, default=epochs, help=f"training epochs (lesson: {epochs})")
    if steps is not None:
        parser.add_argument("--steps", type=positive_int, default=steps, help=f"training steps (lesson: {steps})")
    if batch_size is not None:
        parser.add_argument("--batch-size", type=positive_int, default=batch_size,
                            help=f"examples per step (lesson: {batch_size})")
    if lr is not None:
        parser.add_argument("--lr", type=positive_float, default=lr, help=f"learning rate (lesson: {lr})")
    parser.add_argument("--seed", type=int, default=0, help="random seed for data order and weights (default 0)")
    parser.add_argument("--quick", action="store_true",
                        help="a run of seconds to check that everything works: smaller defaults "
                             f"({_describe_quick(parser.quick_defaults)}); flags you type still win")
    parser.add_argument("--out", type=Path, default=None, metavar="DIR",
                        help="run folder for the log, metrics, checkpoints and plots "
                             "(default: a new runs/<week>/<lesson>/<date-time>/)")
    parser.add_argument("--show", action="store_true",
                        help="also open plot windows (plots are always saved as PNG)")
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


def _describe_quick(quick):
    return ", ".join(f"--{key.replace('_', '-')} {value}" for key, value in quick.items()) or "less data"


# ---------------------------------------------------------------- the run folder and its record

def lesson_number(script):
    from tfcourse.lessons import read_header
    header = read_header(Path(script))
    return header[0] if header else Path(script).stem


def runs_folder(script):
    """runs/<week>/<lesson>/ for a lesson script (a path, or 'week08_.../8_1_saver_save.py')."""
    script = Path(script)
    return PROJECT_ROOT / "runs" / script.parent.name / script.stem


def latest_run(script, need=None):
    """The newest finished run folder of a lesson (holding `need`, a file name, when given), or None."""
    folder = runs_folder(script)
    if not folder.is_dir():
        return None
    for run in sorted((p for p in folder.iterdir() if p.is_dir() and not p.is_symlink()), reverse=True):
        try:
            status = json.loads((run / "metrics.json").read_text(encoding="utf-8")).get("status")
        except (OSError, ValueError):
            continue
        if status == "finished" and (need is None or (run / need).exists()):
            return run
    return None


def _new_run_folder(script):
    base = runs_folder(script)
    stamp = time.strftime("%Y%m%d-%H%M%S")
    for n in range(1000):
        out = base / (stamp if n == 0 else f"{stamp}-{n}")
        try:
            out.mkdir(parents=True, exist_ok=False)
            return out, True
        except FileExistsError:
            continue
    raise CourseError(f"Cannot make a new run folder under {base}.")


class _Tee:
    """Writes to the terminal and to log.txt, line by line, so a crash keeps what was printed."""

    def __init__(self, stream, log):
        self.stream, self.log = stream, log

    def write(self, text):
        self.stream.write(text)
        if not self.log.closed:
            self.log.write(text.replace("\r", "\n") if "\r" in text and "\n" not in text else text)
            self.log.flush()
        return len(text)

    def flush(self):
        self.stream.flush()

    def __getattr__(self, name):
        return getattr(self.stream, name)


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
    _owned: bool = False  # the folder was made by this run (removed again if it fails empty)
    _lock: Path = None
    _streams: tuple = None

    def path(self, *parts):
        """A path inside the run folder; its parent folders are created."""
        target = self.out.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def record(self, **values):
        """Save one progress point, e.g. record(epoch=3, test_accuracy=0.91): metrics.json at once."""
        point = {k: _plain(v) for k, v in values.items()}
        self.record_data["progress"].append(point)
        self._save()

    def check_finite(self, value, where):
        """Stop with a clear message when a loss became NaN or infinite."""
        value = float(value)
        if not math.isfinite(value):
            lr = getattr(self.args, "lr", None)
            raise CourseError(f"The loss became {value} at {where}: training diverged.\n"
                              "Remedy: a smaller learning rate" + (f" than --lr {lr}" if lr else "") +
                              ", or the lesson's defaults.")

    def finish(self, **final):
        """Print the one end-of-run line (lesson, device, time, final metric, data) and save it."""
        seconds = time.perf_counter() - self.started
        metrics = "".join(f" | {name.replace('_', ' ')} {_fmt(value)}" for name, value in final.items())
        data = "SYNTHETIC (drawn stand-in, not the real data set)" if self.synthetic else getattr(self.args, "data", None)
        print(f"完成 Done: lesson {self.lesson} | {self.device} | {seconds:.1f} s{metrics}"
              + (f" | data {data}" if data else ""))  # lessons without a data set (week 2) say none
        self.record_data.update(status="finished", seconds=round(seconds, 2),
                                final={k: _plain(v) for k, v in final.items()})
        self._save()
        print(f"run folder: {self.out}")

    def _save(self):
        atomic_write(self.out / "metrics.json", json.dumps(self.record_data, indent=1, ensure_ascii=False,
                                                           default=str))  # e.g. a list of Paths (nargs="+")

    def _close(self, status):
        """End of the run (normal or not): stop logging, release the lock, drop an empty folder."""
        if self.record_data.get("status") == "running":
            self.record_data["status"] = status
            if status != "finished" and self._owned and not self.record_data["progress"] and \
                    {p.name for p in self.out.iterdir()} <= {"log.txt", "metrics.json", ".lock"}:
                self._restore_streams()
                shutil.rmtree(self.out, ignore_errors=True)
                _point_latest(self.out.parent)
                return
            try:
                self._save()
            except OSError:
                pass
        self._restore_streams()
        if self._lock is not None:
            self._lock.unlink(missing_ok=True)
            self._lock = None

    def _restore_streams(self):
        if self._streams:
            log = sys.stdout.log if isinstance(sys.stdout, _Tee) else None
            sys.stdout, sys.stderr = self._streams
            self._streams = None
            if log is not None:
                log.close()


def _plain(value):
    """A number JSON can hold: tensors and NumPy scalars become float or int."""
    value = value.numpy() if hasattr(value, "numpy") else value
    if isinstance(value, (np.integer, np.bool_)):
        return int(value)
    return float(value) if isinstance(value, (float, np.floating, np.ndarray)) else value


def _fmt(value):
    return f"{value:.4f}" if isinstance(value, float) else str(value)


def _point_latest(folder):
    """runs/<week>/<lesson>/latest -> the newest finished run (best effort: Windows may refuse links)."""
    link = folder / "latest"
    newest = latest_run(folder.parent.name + "/" + folder.name + ".py")
    try:
        if link.is_symlink():
            link.unlink()
        if newest is not None and not link.exists():
            link.symlink_to(newest.name, target_is_directory=True)
    except OSError:
        pass


def _take_lock(out):
    lock = out / ".lock"
    for _ in range(2):
        try:
            fd = os.open(lock, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            try:
                pid = int(lock.read_text().strip() or 0)
            except (OSError, ValueError):
                pid = 0
            if pid and _alive(pid):
                raise CourseError(f"Another run (process {pid}) is writing to {out}.\n"
                                  "Remedy: wait for it to end, or give this run another --out folder "
                                  "(without --out every run gets a new folder).") from None
            lock.unlink(missing_ok=True)  # left by a run that crashed
            continue
        with os.fdopen(fd, "w") as handle:
            handle.write(str(os.getpid()))
        return lock
    raise CourseError(f"Cannot lock the run folder {out}.")


def _alive(pid):
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True


_current = []  # the Run of this process, closed by run_main (or at exit)


def setup(args, script, *, needs_mb=50):
    """Apply device flags, seed every random generator, make the run folder; return a `Run`.

    The folder is checked before any work: writable, with `needs_mb` MB free. The run's
    printed lines go to log.txt, and metrics.json holds its flags, versions and progress.
    """
    from tfcourse.devices import apply_device_flags
    device = apply_device_flags(args)
    seed_everything(getattr(args, "seed", 0))
    if not getattr(args, "show", False):
        import matplotlib
        matplotlib.use("Agg")  # headless by default: plots are files
    try:
        if getattr(args, "out", None):
            out, owned = Path(args.out), not Path(args.out).exists()
            out.mkdir(parents=True, exist_ok=True)
        else:
            out, owned = _new_run_folder(script)
        lock = _take_lock(out)
    except OSError as error:
        raise CourseError(f"Cannot write to the run folder {getattr(error, 'filename', None) or args.out}: "
                          f"{error.strerror}.\nRemedy: pass a folder you can write to with --out DIR.") from None
    free_mb = shutil.disk_usage(out).free / 2**20
    if free_mb < needs_mb:
        lock.unlink(missing_ok=True)
        raise CourseError(f"Only {free_mb:.0f} MB free where the run writes ({out}); this lesson needs "
                          f"about {needs_mb} MB.\nRemedy: free some space, or pass another folder with --out DIR.")
    synthetic = getattr(args, "data", None) in SYNTHETIC_DATA
    run = Run(out=out, device=device, args=args, lesson=lesson_number(script), synthetic=synthetic,
              _owned=owned, _lock=lock)
    run.record_data = {
        "lesson": run.lesson, "script": Path(script).resolve().relative_to(PROJECT_ROOT).as_posix()
        if Path(script).resolve().is_relative_to(PROJECT_ROOT) else str(script),
        "command": sys.argv[1:], "flags": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "versions": _versions(), "device": device, "seed": getattr(args, "seed", None),
        "data": "SYNTHETIC" if synthetic else getattr(args, "data", None), "synthetic": synthetic,
        "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "status": "running", "progress": []}
    try:
        run._save()
        log = open(out / "log.txt", "w", encoding="utf-8")
    except OSError as error:
        lock.unlink(missing_ok=True)
        raise CourseError(f"Cannot write to the run folder {out}: {error.strerror}.\n"
                          "Remedy: pass a folder you can write to with --out DIR.") from None
    run._streams = (sys.stdout, sys.stderr)
    sys.stdout, sys.stderr = _Tee(sys.stdout, log), _Tee(sys.stderr, log)
    for old in _current:
        old._close("replaced")
    _current[:] = [run]
    return run


def _versions():
    import tensorflow as tf
    versions = {"python": platform.python_version(), "tensorflow": tf.__version__, "numpy": np.__version__}
    try:
        import keras
        versions["keras"] = keras.__version__
    except ImportError:
        pass
    return versions


def seed_everything(seed):
    import tensorflow as tf
    random.seed(seed)
    np.random.seed(seed)
    tf.keras.utils.set_random_seed(seed)


def _close_current(status):
    while _current:
        run = _current.pop()
        run._close(status)
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
