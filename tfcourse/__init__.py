"""tfcourse — the small shared helper behind every lesson of tf-course-companion.

Import it before TensorFlow; it imports TensorFlow for you without the C++ start-up noise:

    import tfcourse  # quiet TensorFlow import, shared flags, MNIST, downloads
    import tensorflow as tf

What lives here (and only here): MNIST loading (`load_mnist`), downloads (`download`),
the shared command-line flags and device set-up (`make_parser`, `setup`, `run_main`),
a whole training epoch in one graph (`epoch_runner`), Keras layers and Adam with the same maths,
faster on a CPU (`tfcourse.layers`, `tfcourse.optimizers`),
plots saved as PNG (`save_figure`) and the lesson map (`python -m tfcourse lessons`).
"""
import sys

from tfcourse._quiet import quiet_stderr
from tfcourse.errors import CourseError

# `python -m tfcourse lessons` only reads files: skip the TensorFlow import (seconds) there.
# While `-m` locates the package, Python sets sys.argv[0] to "-m".
if sys.argv[:1] != ["-m"]:
    with quiet_stderr():
        import tensorflow as tf  # noqa: F401  (imported here so the start-up lines stay hidden)
        tf.config.list_physical_devices()  # the first device query prints CUDA driver lines too

    from tfcourse.cli import make_parser, setup, run_main, Run  # noqa: E402
    from tfcourse.mnist import load_mnist, MNIST  # noqa: E402
    from tfcourse.download import download, extract_tar, DownloadError  # noqa: E402
    from tfcourse.plots import save_figure  # noqa: E402
    from tfcourse.training import epoch_runner  # noqa: E402
    from tfcourse import layers, optimizers  # noqa: E402,F401  (tfcourse.layers.Conv2D, .optimizers.Adam)

__all__ = [
    "CourseError", "DownloadError", "MNIST", "Run", "download", "epoch_runner", "extract_tar", "load_mnist",
    "make_parser", "quiet_stderr", "run_main", "save_figure", "setup",
]
