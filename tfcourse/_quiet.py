"""Silence the C++ lines TensorFlow writes straight to file descriptor 2 while it starts."""
import contextlib
import os
import sys
import tempfile


@contextlib.contextmanager
def quiet_stderr(replay=True):
    """Send fd 2 to a scratch file, shown if the block raises (replay=False: not even then, for an
    error the caller reports in its own words). TFCOURSE_VERBOSE=1: show all."""
    sys.stderr.flush()
    try:
        saved = None if os.environ.get("TFCOURSE_VERBOSE") else os.dup(2)
    except OSError:  # no real stderr (e.g. some IDEs): nothing to silence
        saved = None
    if saved is None:
        yield
        return
    with tempfile.TemporaryFile() as scratch:
        os.dup2(scratch.fileno(), 2)
        try:
            yield
        except BaseException:
            sys.stderr.flush()
            os.dup2(saved, 2)
            scratch.seek(0)
            if replay:
                sys.stderr.write(scratch.read().decode("utf-8", "replace"))
            raise
        finally:
            sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
