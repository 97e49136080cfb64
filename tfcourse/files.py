"""Files and folders written whole: a crash, a full disk or Ctrl-C never leaves half of one; a
picture read as a viewer shows it."""
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


def as_shown(data):
    """A picture file's bytes as a viewer shows the picture: turned upright when its EXIF tag says
    a phone stored it turned, on white where it is transparent (TensorFlow's decoders do neither:
    they give the stored pixels, and black or any colour under a clear background). Such a
    picture comes back as a JPEG; any other `data` as it is."""
    from PIL import Image, ImageOps
    try:
        with Image.open(io.BytesIO(data)) as image:
            turned = image.getexif().get(0x0112, 1) != 1
            if not (turned or "A" in image.getbands() or "transparency" in image.info):
                return data
            rgba = ImageOps.exif_transpose(image).convert("RGBA")
        if not turned and rgba.getchannel("A").getextrema()[0] == 255:  # nothing clear
            return data
    except (OSError, ValueError, SyntaxError):  # not a picture: the lesson's decoder says so
        return data
    shown = Image.alpha_composite(Image.new("RGBA", rgba.size, "white"), rgba).convert("RGB")
    jpeg = io.BytesIO()
    shown.save(jpeg, format="JPEG", quality=95)
    return jpeg.getvalue()
