"""Silence the C++ lines TensorFlow writes straight to file descriptor 2 while it starts."""
import contextlib
import os
import sys
import tempfile


@contextlib.contextmanager
def quiet_stderr():
    """Send fd 2 to a scratch file; on an exception, print what was captured, then re-raise.
    TFCOURSE_VERBOSE=1 shows everything."""
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
