"""tfcourse — the shared plumbing of every lesson: MNIST, downloads, flags, devices, the run folder,
files written whole, plots. Nothing a lesson teaches (a model, a loop, an optimizer) is here.

    import tfcourse          # first: it quiets TensorFlow's C++ start-up lines
    import tensorflow as tf

Attributes load on first use, so `python -m tfcourse lessons` starts without TensorFlow.
"""
import importlib
import os

from tfcourse._quiet import quiet_tensorflow_imports

quiet_tensorflow_imports()  # the lesson's `import tensorflow` on the next line starts silently

# Imported now, so that `tfcourse.download` stays the function, not its submodule. No TensorFlow in it.
from tfcourse.download import DownloadError, download, extract_tar  # noqa: E402

_WHERE = {
    "CourseError": "errors",
    "MNIST": "mnist", "load_mnist": "mnist", "make_parser": "cli", "setup": "cli", "run_main": "cli",
    "Run": "cli", "latest_run": "cli", "positive_int": "cli", "non_negative_int": "cli",
    "positive_float": "cli", "probability": "cli", "atomic_write": "files", "atomic_path": "files",
    "save_figure": "plots", "quiet_stderr": "_quiet",
}
__all__ = sorted(_WHERE) + ["DownloadError", "download", "extract_tar"]


def __getattr__(name):
    if name not in _WHERE:
        raise AttributeError(f"module 'tfcourse' has no attribute {name!r}")
    value = getattr(importlib.import_module(f"tfcourse.{_WHERE[name]}"), name)
    globals()[name] = value
    return value
