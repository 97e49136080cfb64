"""Files and folders written whole: a crash, a full disk or Ctrl-C never leaves half of one; a
phone's photo read upright."""
import contextlib
import io
import os
import shutil
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path):
    """A temporary path beside `path` (for a file or a folder), renamed to `path` when the block
    ends without error; removed otherwise, and the old `path` stays."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}{path.suffix}")
    old = path.with_name(f".{path.name}.old{os.getpid()}")
    try:
        yield tmp
        if tmp.is_dir() and path.is_dir() and not path.is_symlink():
            os.replace(path, old)  # a folder cannot be renamed over a folder that holds files
        os.replace(tmp, path)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)


def atomic_write(path, data):
    """Write `data` (str as UTF-8, or bytes) to `path` atomically; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_bytes(data.encode("utf-8") if isinstance(data, str) else data)
    return Path(path)


def upright(data):
    """A picture file's bytes, turned upright (as JPEG) when its EXIF Orientation tag says it was
    stored turned, as phones store photos: TensorFlow's decoders ignore the tag. Else `data`."""
    from PIL import Image, ImageOps
    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.getexif().get(0x0112, 1) == 1:
                return data
            turned = ImageOps.exif_transpose(image).convert("RGB")
    except (OSError, ValueError, SyntaxError):  # not a picture: the lesson's decoder says so
        return data
    jpeg = io.BytesIO()
    turned.save(jpeg, format="JPEG", quality=95)
    return jpeg.getvalue()
