"""tfcourse: the shared plumbing of every lesson (MNIST, downloads, flags, devices, the run
folder, files written whole, plots). Nothing a lesson teaches (a model, a loop, a loss) is here.
Import it before TensorFlow: TensorFlow then starts without its C++ start-up lines."""
import gc
import os
import sys

from tfcourse._quiet import quiet_stderr
from tfcourse.cli import (CourseError, existing_file, folder, latest_run, non_negative_int,
                          number, parse, parser, positive_float, positive_int, probability,
                          read_record, start)
from tfcourse.cli import install_handlers as _install_handlers
from tfcourse.download import DownloadError, download, extract_tar
from tfcourse.files import as_shown, atomic_path, atomic_write

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow's Python-side INFO/WARNING lines
_install_handlers()

# TF 2.21 writes oneDNN/CUDA lines to file descriptor 2 before any log setting applies, so the
# first import runs with fd 2 set aside. `python -m tfcourse` (argv[0] is "-m" while the package
# loads) needs no TensorFlow. The garbage collector pauses during the import: TensorFlow makes
# about a million objects that live as long as the process, and collecting among them while they
# are made costs about a second; gc.freeze() then leaves them out of later collections too.
if "tensorflow" not in sys.modules and sys.argv[:1] != ["-m"]:
    gc.disable()
    try:
        with quiet_stderr():
            import tensorflow
            tensorflow.config.list_physical_devices()  # the first device query prints CUDA lines
    except ModuleNotFoundError as error:  # `pip install -e .` alone, or another Python
        raise CourseError(f"{error.name} is not installed in this Python ({sys.executable}).\n"
                          "Remedy: pip install -r requirements.txt in the project folder, or run "
                          "the Python you installed it in.") from None
    finally:
        gc.enable()
    gc.freeze()
    tensorflow.get_logger().setLevel("WARNING")  # a Jupyter kernel would show TF's INFO lines

from tfcourse.mnist import load_mnist  # noqa: E402
from tfcourse.plots import save_figure  # noqa: E402

__all__ = ["CourseError", "DownloadError", "as_shown", "atomic_path", "atomic_write", "download",
           "existing_file", "extract_tar", "folder", "latest_run", "load_mnist", "non_negative_int",
           "number", "parse", "parser", "positive_float", "positive_int", "probability",
           "quiet_stderr", "read_record", "save_figure", "start"]
