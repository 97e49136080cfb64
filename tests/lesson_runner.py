"""Run a lesson script inside the test process (TensorFlow is imported once, not per test)."""
import contextlib
import io
import runpy
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


def run_lesson(script, *args):
    """Run `script` (path relative to the project root) as __main__ with `args`.

    Returns (exit code, stdout text, stderr text). A CourseError, Ctrl-C or SIGTERM shows as
    exit code and stderr through the same `report` as in a terminal; any other exception is
    raised, so the test fails with its traceback.
    """
    from tfcourse.cli import report
    path = PROJECT_ROOT / script
    stdout, stderr = io.StringIO(), io.StringIO()
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
        import matplotlib.pyplot as plt
        plt.close("all")
    return code, stdout.getvalue(), stderr.getvalue()


def run_keeping_globals(monkeypatch, script, *flags):
    """run_lesson, and the lesson's top-level names afterwards (its model, as a notebook has)."""
    kept, real_run_path = {}, runpy.run_path

    def run_path(*args, **kwargs):
        kept.update(real_run_path(*args, **kwargs))
        return kept
    monkeypatch.setattr(runpy, "run_path", run_path)
    return (*run_lesson(script, *flags), kept)
