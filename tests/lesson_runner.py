"""Run a lesson script inside the test process (TensorFlow is imported once, not per test)."""
import contextlib
import io
import logging
import runpy
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class _Warnings(logging.Handler):
    """TensorFlow's own WARNING lines (deprecations and the like): its logger writes them to the
    process's stderr, past redirect_stderr, so a learner sees them though the test would not."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.lines = []

    def emit(self, record):
        line = record.getMessage().splitlines()[0]
        # TensorFlow counts traces by a function's code: this process runs the same lesson many
        # times, a learner's terminal once
        if "triggered tf.function retracing" not in line:
            self.lines.append(line)


def run_lesson(script, *args, tf_warns=()):
    """Run `script` (path relative to the project root) as __main__ with `args`.

    Returns (exit code, stdout text, stderr text). A CourseError, Ctrl-C or SIGTERM shows as
    exit code and stderr through the same `report` as in a terminal; any other exception is
    raised, so the test fails with its traceback. A WARNING from TensorFlow's logger fails the
    test (a learner would take it for a problem), unless it holds one of the phrases `tf_warns`.
    """
    from tfcourse.cli import report
    path = PROJECT_ROOT / script
    stdout, stderr = io.StringIO(), io.StringIO()
    warned = _Warnings()
    logging.getLogger("tensorflow").addHandler(warned)
    old_argv, old_path = sys.argv, list(sys.path)
    sys.argv = [str(path)] + [str(a) for a in args]
    sys.path.insert(0, str(path.parent))  # as `python script.py` does: a week's _helpers import
    code = 0
    try:
        with contextlib.redirect_stdout(stdout), contextlib.redirect_stderr(stderr):
            try:
                runpy.run_path(str(path), run_name="__main__")
            except SystemExit as done:
                code = done.code if isinstance(done.code, int) else (0 if done.code is None else 1)
                if isinstance(done.code, str):
                    print(done.code, file=sys.stderr)
            except BaseException as error:
                code = report(error)
                if code is None:
                    raise
    finally:
        sys.argv, sys.path[:] = old_argv, old_path
        logging.getLogger("tensorflow").removeHandler(warned)
        import matplotlib.pyplot as plt
        plt.close("all")
    unexpected = [line for line in warned.lines if not any(p in line for p in tf_warns)]
    assert not unexpected, f"{script} {args}: TensorFlow warned {unexpected}"
    return code, stdout.getvalue(), stderr.getvalue()


def run_keeping_globals(monkeypatch, script, *flags):
    """run_lesson, and the lesson's top-level names afterwards (its model, as a notebook has)."""
    kept, real_run_path = {}, runpy.run_path

    def run_path(*args, **kwargs):
        kept.update(real_run_path(*args, **kwargs))
        return kept
    monkeypatch.setattr(runpy, "run_path", run_path)
    return (*run_lesson(script, *flags), kept)
