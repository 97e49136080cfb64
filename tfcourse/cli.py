"""The shared flags and the run folder runs/<week>/<lesson>/<date-time>/: log.txt (what was
printed) and metrics.json (flags, versions, progress, status), which `compare` reads. A CourseError,
Ctrl-C, SIGTERM or SIGHUP ends a run with one message (`report`) and a non-zero exit."""
import argparse
import atexit
import json
import math
import os
import platform
import random
import shlex
import shutil
import signal
import sys
import time
from pathlib import Path

import numpy as np

from tfcourse.errors import CourseError
from tfcourse.files import atomic_write

PROJECT_ROOT = Path(__file__).resolve().parent.parent


# ## Flag types with ranges: a value out of range is argparse's one-line error (exit 2)
def number(kind, low=None, high=None, low_open=False):
    """A flag type: `kind` (int or float) in [low, high] (low excluded when `low_open`)."""
    wanted = f"a {'whole number' if kind is int else 'finite number'}"
    if low is not None:
        wanted += f" {'above' if low_open else 'from'} {low}"
    if high is not None:
        wanted += f" {'up to' if low is None or low_open else 'to'} {high}"

    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            value = math.nan
        too_low = low is not None and (value < low or (value == low and low_open))
        if not math.isfinite(value) or too_low or (high is not None and value > high):
            raise argparse.ArgumentTypeError(f"expected {wanted}, got {text!r}")
        return value
    parse.__name__ = wanted  # argparse names the type in its messages
    return parse


positive_int = number(int, 0, low_open=True)
non_negative_int = number(int, 0)
positive_float = number(float, 0, low_open=True)
probability = number(float, 0, 1, low_open=True)


def folder(text):
    """A flag type for a folder: an existing file there is one message, not a later traceback."""
    path = Path(text).expanduser()
    if path.exists() and not path.is_dir():
        raise argparse.ArgumentTypeError(f"{text} is a file, not a folder")
    return path


def existing_file(text):
    """A flag type for a file to read."""
    path = Path(text).expanduser()
    if not path.is_file():
        raise argparse.ArgumentTypeError(
            f"{text} is a folder, not a file" if path.is_dir() else f"no such file: {text}")
    return path


class CourseParser(argparse.ArgumentParser):
    """`--quick` replaces the lesson's defaults with `quick_defaults`; flags typed still win."""

    quick_defaults = {}

    def exit(self, status=0, message=None):  # in a notebook: one message, not a SystemExit
        if not in_notebook():
            super().exit(status, message)
        if status == 0:  # --help, printed above
            raise CourseError('--help lists the flags above; the lesson stops here.\nRemedy: '
                              'name the flags you want, e.g. tfcourse.parse(parser, "--quick").')
        problem = (message or "").strip().removeprefix(f"{self.prog}: error: ")
        raise CourseError(f"{problem}.\nRemedy: fix the flags in tfcourse.parse(parser, "
                          '"..."); "--help" lists them.')

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


def parser(doc, *, epochs=None, steps=None, batch_size=None, lr=None, mnist=False, quick=None):
    """The shared flags, `doc` as --help; --epochs/--steps/--batch-size/--lr where given."""
    first, _, rest = (doc or "").strip().partition("\n")
    made = CourseParser(description=first or None, epilog=rest.strip() or None,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    made.quick_defaults = dict(quick or {})
    for flag, value, kind, about in (("--epochs", epochs, positive_int, "training epochs"),
                                     ("--steps", steps, positive_int, "training steps"),
                                     ("--batch-size", batch_size, positive_int, "examples a step"),
                                     ("--lr", lr, positive_float, "learning rate")):
        if value is not None:
            made.add_argument(flag, type=kind, default=value, help=f"{about} (lesson: {value})")
    smaller = [f"--{k.replace('_', '-')} {v}" for k, v in made.quick_defaults.items()]
    smaller += ["5000/500/1000 train/validation/test images"] if mnist else []
    add = made.add_argument
    add("--seed", type=number(int, 0, 2**32 - 1), default=0, help="random seed (default 0)")
    add("--quick", action="store_true",
        help=f"a run of seconds: {', '.join(smaller)}; flags you type still win" if smaller
        else "changes nothing here: no epochs, steps or data to cut")
    add("--out", type=folder, metavar="DIR",
        help="run folder (default: a new runs/<week>/<lesson>/<date-time>/)")
    add("--show", action="store_true", help="also open plot windows (plots are saved as PNG)")
    if mnist:
        add = made.add_argument_group("MNIST data (数据)").add_argument
        add("--data", choices=["mnist", "synthetic"], default="mnist",
            help="the real data set (default), or drawn stand-in digits, labelled as such")
        add("--data-dir", type=folder, metavar="DIR", help="a folder with the four MNIST IDX "
            "files (.gz or not: the course's MNIST_data/) or mnist.npz; nothing is downloaded")
        add("--mirror", metavar="URL", help="a folder URL with mnist.npz or the IDX files, "
            "tried first (also TFCOURSE_MIRROR)")
    add = made.add_argument_group("device (设备)").add_argument
    add("--device", choices=["auto", "cpu", "gpu"], default="auto",
        help="gpu when one is present (auto), or force cpu/gpu")
    add("--gpus", metavar="0,1", help="the GPUs this run may see, by index")
    add("--memory-growth", action="store_true", help="take GPU memory as needed, not all at once")
    add("--memory-limit", type=positive_int, metavar="MB", help="cap the memory of each GPU")
    add("--threads", type=positive_int, metavar="N", help="CPU threads for ops (default: all)")
    return made


def in_notebook():
    """True inside a Jupyter kernel (VS Code, PyCharm, Colab): sys.argv is the kernel's own."""
    return "ipykernel" in sys.modules and "-f" in sys.argv[1:]


_typed = {}  # the flags of the last parse, for the run's record (a kernel's argv is its own)


def parse(made, flags=None):
    """The flags: from the command line, else from `flags` ("--quick --epochs 2"), else defaults."""
    if flags is not None:
        typed = shlex.split(flags)
    elif in_notebook():
        print("notebook: the lesson's defaults; to change them: "
              'args = tfcourse.parse(parser, "--quick --epochs 2")')
        typed = []
    else:
        typed = sys.argv[1:]
    _typed["flags"] = typed
    return made.parse_args(typed)


def runs_folder(script):
    """runs/<week>/<lesson>/ for a lesson script (a path, or 'week08_.../8_1_saver_save.py')."""
    return PROJECT_ROOT / "runs" / Path(script).parent.name / Path(script).stem


def read_record(run_dir):
    """A run folder's metrics.json as a dict, or None when it is missing or not a record."""
    try:
        record = json.loads((Path(run_dir) / "metrics.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) else None


def latest_run(script, need=None):
    """The newest finished run folder of a lesson (holding the file `need`, if given), or None."""
    found = runs_folder(script)
    for run in sorted(found.iterdir(), reverse=True) if found.is_dir() else []:
        record = read_record(run)
        if record and record.get("status") == "finished" and (not need or (run / need).exists()):
            return run
    return None


class _Tee:
    """Writes to the terminal and to log.txt, line by line (of a line rewritten with "\\r", the
    last version), so a crash keeps what was printed."""

    def __init__(self, stream, log):
        self.stream, self.log, self.progress = stream, log, ""

    def write(self, text):
        self.stream.write(text)
        if "\r" in text and "\n" not in text:
            self.progress = text.replace("\r", "")
        elif not self.log.closed:
            self.log.write(self.progress + text)
            self.log.flush()
            self.progress = ""
        return len(text)

    def __getattr__(self, name):  # flush, isatty, encoding, ...
        return getattr(self.stream, name)


def plain(value):
    """A number JSON can hold: tensors and NumPy scalars become float or int."""
    value = value.numpy() if hasattr(value, "numpy") else value
    return value.item() if isinstance(value, (np.generic, np.ndarray)) else value


def shown(value):
    """4 decimals, as the course prints accuracies; 1 for big numbers (9-0's GFLOP/s)."""
    if not isinstance(value, float):
        return str(value)
    return f"{value:.4f}" if abs(value) < 100 else f"{value:.1f}"


class Run:
    """What `start` returns: the run folder `out`, the `device` in use, and the run's record."""

    def __init__(self, out, device, args, record, owned):
        self.out, self.device, self.args, self.record, self.owned = out, device, args, record, owned
        self.lesson, self.synthetic = record["lesson"], record["data"] == "SYNTHETIC"
        self.started, self.streams = time.perf_counter(), None

    def path(self, *parts):
        """A path inside the run folder; its parent folders are created."""
        target = self.out.joinpath(*parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        return target

    def log(self, **values):
        """A progress point beside the printed line, e.g. run.log(epoch=3, test_accuracy=0.91)."""
        self.record["progress"].append({k: plain(v) for k, v in values.items()})
        self.save()

    def check_finite(self, loss, where):
        """Stop with a clear message when the loss became NaN or infinite."""
        if not math.isfinite(float(loss)):
            lr = getattr(self.args, "lr", None)
            raise CourseError(f"The loss became {float(loss)} at {where}: training diverged.\n"
                              "Remedy: a smaller learning rate" + (f" than --lr {lr}" if lr else "")
                              + ", or the lesson's defaults.")

    def finish(self, **final):
        """Print the one end-of-run line (lesson, device, time, final numbers, data); save it."""
        seconds, final = time.perf_counter() - self.started, {k: plain(v) for k, v in final.items()}
        line = f"完成 Done: lesson {self.lesson} | {self.device} | {seconds:.1f} s"
        line += "".join(f" | {name.replace('_', ' ')} {shown(v)}" for name, v in final.items())
        data = getattr(self.args, "data", None)
        if self.synthetic:
            data = "SYNTHETIC (drawn stand-in, not the real data set)"
        print(line + (f" | data {data}" if data else ""))
        self.record.update(status="finished", seconds=round(seconds, 2), final=final)
        print(f"run folder: {self.out}")
        self.close("finished")

    def save(self):
        self.record["synthetic"] = self.synthetic  # a lesson may learn it late (9-2-train)
        atomic_write(self.out / "metrics.json",
                     json.dumps(self.record, indent=1, ensure_ascii=False, default=str))

    def close(self, status):
        """The end of the run, normal or not: save the status and stop logging. A run that failed
        before writing anything of its own leaves no folder behind."""
        if self in _current:
            _current.remove(self)
        if self.record["status"] == "running":
            self.record["status"] = status
        if self.streams:
            if isinstance(sys.stdout, _Tee):
                sys.stdout.log.close()
            sys.stdout, sys.stderr = self.streams
            self.streams = None
        mine = {p.name for p in self.out.iterdir()} - {"log.txt", "metrics.json"}
        if status != "finished" and self.owned and not mine and not self.record["progress"]:
            shutil.rmtree(self.out, ignore_errors=True)
        else:
            try:
                self.save()
            except OSError:
                pass


_current = []  # the open Run of this process


def run_folder(args, script):
    """(folder, made here?): --out, else a new runs/<week>/<lesson>/<date-time>[-n]/. A folder
    given again keeps its earlier record as metrics.N.json and log.N.txt."""
    if args.out:
        out, owned = Path(args.out), not Path(args.out).exists()
        out.mkdir(parents=True, exist_ok=True)
    else:
        stamp, owned = runs_folder(script) / time.strftime("%Y%m%d-%H%M%S"), True
        for n in range(1000):  # two runs started in the same second get -1, -2, ...
            out = stamp.with_name(f"{stamp.name}-{n}") if n else stamp
            try:
                out.mkdir(parents=True)
                break
            except FileExistsError:
                continue
    if (out / "metrics.json").exists():
        n = 1
        while (out / f"metrics.{n}.json").exists() or (out / f"log.{n}.txt").exists():
            n += 1
        os.replace(out / "metrics.json", out / f"metrics.{n}.json")
        if (out / "log.txt").exists():
            os.replace(out / "log.txt", out / f"log.{n}.txt")
        print(f"注意 Note: {out} held an earlier run; its record is kept as metrics.{n}.json "
              f"and log.{n}.txt.")
    return out, owned


def start(args, script):
    """Apply the device flags, seed every generator, make the run folder and copy what is
    printed to its log.txt. `script` is the lesson's path from the project folder (a notebook
    has no __file__). Returns the `Run`."""
    import keras
    import tensorflow as tf

    from tfcourse.devices import apply_device_flags
    from tfcourse.tools.lessons import read_header
    device = apply_device_flags(args)
    random.seed(args.seed)
    np.random.seed(args.seed)
    tf.keras.utils.set_random_seed(args.seed)
    if not getattr(args, "show", False) and not in_notebook():
        import matplotlib
        matplotlib.use("Agg")  # headless by default: plots are files
    try:
        out, owned = run_folder(args, script)
        log = open(out / "log.txt", "w", encoding="utf-8")
    except OSError as error:
        raise CourseError(f"Cannot write to the run folder {args.out or runs_folder(script)}: "
                          f"{error.strerror}.\nRemedy: pass a folder you can write to with --out "
                          "DIR.") from None
    header = read_header(PROJECT_ROOT / script) if (PROJECT_ROOT / script).is_file() else None
    data = getattr(args, "data", None)
    record = {"lesson": header[0] if header else Path(script).stem, "script": script,
              "command": _typed.get("flags", sys.argv[1:]), "device": device, "seed": args.seed,
              "flags": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
              "versions": {"python": platform.python_version(), "tensorflow": tf.__version__,
                           "keras": keras.__version__, "numpy": np.__version__},
              "data": "SYNTHETIC" if data in ("synthetic", "shapes") else data,
              "started": time.strftime("%Y-%m-%dT%H:%M:%S"), "status": "running", "progress": []}
    for old in list(_current):  # a notebook that starts the lesson again
        old.close("replaced")
    run = Run(out, device, args, record, owned)
    run.save()
    run.streams = (sys.stdout, sys.stderr)
    sys.stdout, sys.stderr = _Tee(sys.stdout, log), _Tee(sys.stderr, log)
    _current.append(run)
    return run


# ## How a run ends when it does not finish: one message, the record says why, exit non-zero
class Stopped(KeyboardInterrupt):
    """SIGTERM (kill, an IDE's stop button) or SIGHUP (a closed terminal), raised like Ctrl-C so
    that every `finally` and `with` block cleans up what it was writing."""


def _stop(signum, frame):
    raise Stopped(signal.Signals(signum).name)


def report(error):
    """Say how the run ended; return the exit code. CourseError: one message (1); Ctrl-C,
    SIGTERM, SIGHUP: one line (130); anything else: None (the caller shows the traceback)."""
    if isinstance(error, BrokenPipeError):  # `python lesson.py | head`: the reader has gone
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.__stdout__.fileno())
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except OSError:
            pass
    if isinstance(error, BrokenPipeError):
        status, code, text = "interrupted", 1, None
    elif isinstance(error, CourseError):
        status, code, text = "failed", 1, f"\n错误 Error: {error}"
    elif isinstance(error, KeyboardInterrupt):
        why = f" ({error.args[0]})" if isinstance(error, Stopped) and error.args else ""
        status, code, text = "interrupted", 130, f"\n已中断 Interrupted{why}."
    else:
        status, code, text = "crashed", None, None
    for run in list(_current):
        run.close(status)
    if text:
        print(text, file=sys.stderr)
    return code


def _excepthook(kind, error, traceback):
    if report(error) is None:
        sys.__excepthook__(kind, error, traceback)


def install_handlers():
    """At `import tfcourse`: the one-message hook for scripts and IPython, SIGTERM/SIGHUP as
    Ctrl-C (outside a kernel, which has its own), and output that never fails on a character the
    console cannot encode (a GBK console gets '?')."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    sys.excepthook = _excepthook
    try:
        shell = get_ipython()  # noqa: F821 -- defined inside IPython only
    except NameError:
        shell = None
    if shell is not None:  # the kernel's stop button is a KeyboardInterrupt: the run ends too
        def show(shell, kind, error, traceback, tb_offset=None):
            report(error)
        shell.set_custom_exc((CourseError, KeyboardInterrupt), show)
    elif not in_notebook():
        for name in ("SIGTERM", "SIGHUP"):
            if hasattr(signal, name):
                try:
                    signal.signal(getattr(signal, name), _stop)
                except ValueError:  # not the main thread
                    pass


atexit.register(lambda: [run.close("crashed") for run in list(_current)])
