"""tfcourse — the small shared helper behind every lesson of tf-course-companion: plumbing only.

    import tfcourse          # first: it quiets TensorFlow's C++ start-up lines
    import tensorflow as tf

What lives here: MNIST loading (`load_mnist`), downloads (`download`, `extract_tar`), the shared
flags and the run folder (`make_parser`, `setup`, `run_main`, `latest_run`), files written whole
(`atomic_write`, `atomic_path`), plots saved as PNG (`save_figure`) and the learner's commands
(`python -m tfcourse lessons`). Nothing a lesson teaches (a model, a loop, an optimizer) is here.

Attributes load on first use, so `python -m tfcourse lessons` starts without TensorFlow.
"""
import importlib
import os

from tfcourse._quiet import quiet_tensorflow_imports

quiet_tensorflow_imports()  # the lesson's `import tensorflow` on the next line starts silently

# `tfcourse.download` names the function, not its module (imported first, so that later imports
# of the submodule do not rebind the name). No TensorFlow in there.
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
