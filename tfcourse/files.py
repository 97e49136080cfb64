"""Writing files so that a crash, a full disk or Ctrl-C never leaves half a file behind.

    atomic_write(path, text_or_bytes)          # a small file in one call
    with atomic_path(path) as tmp:             # anything that writes to a path (TF writers, savefig)
        tf.io.TFRecordWriter(str(tmp)) ...     # a file, or a whole folder (SavedModel, checkpoints)

The data goes to a temporary name beside the target and is renamed over it only when complete;
on any error the temporary file or folder is removed and the old target is left as it was.
"""
import contextlib
import os
import shutil
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside `path`; rename it to `path` when the block ends without error."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}{path.suffix}")
    try:
        yield tmp
        if tmp.is_dir():
            if path.is_dir() and not path.is_symlink():
                old = path.with_name(f".{path.name}.old{os.getpid()}")
                os.replace(path, old)
                os.replace(tmp, path)
                shutil.rmtree(old, ignore_errors=True)
            else:
                os.replace(tmp, path)
        else:
            os.replace(tmp, path)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        elif tmp.exists():
            tmp.unlink()


def atomic_write(path, data):
    """Write `data` (str as UTF-8, or bytes) to `path` atomically; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)
