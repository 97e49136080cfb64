"""Files and folders written whole: a crash, a full disk or Ctrl-C never leaves half of one behind.

    atomic_write(path, text_or_bytes)
    with atomic_path(path) as tmp:        # a file or a folder (TFRecordWriter, SavedModel, savefig)
        ...                               # renamed to `path` only if the block ends without error
"""
import contextlib
import os
import shutil
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """A temporary path beside `path`, renamed to it at the end; removed on error or interruption
    (the old target stays)."""
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
