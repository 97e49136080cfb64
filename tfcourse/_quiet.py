"""Silence the C++ start-up lines TensorFlow writes straight to file descriptor 2.

TF 2.21 prints oneDNN/CUDA lines ("Could not find cuda drivers", ...) before Python's logging
exists, so no environment variable hides them all: fd 2 goes to a scratch file while TensorFlow
imports and first looks for devices, replayed only on an error. oneDNN stays on: off, the CNN
lessons are about 2.7x slower on a CPU.
"""
import contextlib
import os
import sys
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # hides the Python-side INFO/WARNING lines


@contextlib.contextmanager
def quiet_stderr():
    """Send fd 2 to a scratch file; on an exception, print what was captured, then re-raise."""
    if os.environ.get("TFCOURSE_VERBOSE"):
        yield
        return
    sys.stderr.flush()
    try:
        saved_fd = os.dup(2)
    except OSError:  # no real stderr (e.g. some IDEs): nothing to silence
        yield
        return
    with tempfile.TemporaryFile(mode="w+b") as scratch:
        os.dup2(scratch.fileno(), 2)
        try:
            yield
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            scratch.seek(0)
            sys.stderr.write(scratch.read().decode("utf-8", "replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved_fd, 2)
            os.close(saved_fd)


class _QuietImports:
    """The first import of tensorflow or keras runs inside `quiet_stderr`: the lesson's own import is
    silent while `import tfcourse` itself stays cheap (no TensorFlow)."""

    def find_spec(self, name, path=None, target=None):
        if name not in ("tensorflow", "keras"):
            return None
        import importlib.machinery
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is None or spec.loader is None:
            return spec
        exec_module = spec.loader.exec_module  # the loader is this spec's own: safe to wrap

        def quiet_exec_module(module):
            with quiet_stderr():
                exec_module(module)
                if name == "tensorflow":
                    module.config.list_physical_devices()  # the first device query prints CUDA lines too
        spec.loader.exec_module = quiet_exec_module
        return spec


def quiet_tensorflow_imports():
    if not any(isinstance(finder, _QuietImports) for finder in sys.meta_path):
        sys.meta_path.insert(0, _QuietImports())
