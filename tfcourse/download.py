"""The project's one download function, and safe extraction of downloaded archives.

A file at `dest` is always complete and verified: it is fetched into `dest.part` (resumed with an
HTTP Range request) and renamed only once its size, checksum and content are checked.
"""
import hashlib
import os
import sys
import tarfile
import time
from pathlib import Path

import requests

from tfcourse.errors import CourseError
from tfcourse.files import atomic_path

class DownloadError(CourseError):
    """No URL gave a verified file."""


def keras_dir(name):
    """$KERAS_HOME/<name>, else ~/.keras/<name>: where Keras itself keeps its downloads."""
    return Path(os.environ.get("KERAS_HOME") or Path.home() / ".keras") / name


def file_digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _human(n):
    if n >= 1e9:
        return f"{n / 1e9:.2f} GB"
    return f"{n / 1e6:.1f} MB" if n >= 1e6 else f"{n / 1e3:.0f} KB"


def _problem(path, size, sha256, md5, verify):
    """None when the file is good, else what is wrong with it."""
    if size is not None and path.stat().st_size != size:
        return f"size is {path.stat().st_size} bytes, expected {size}"
    for algorithm, published in (("sha256", sha256), ("md5", md5)):
        if published and (actual := file_digest(path, algorithm)) != published.lower():
            return f"{algorithm} {actual} does not match the published {published}"
    try:
        if verify is not None:
            verify(path)
    except (CourseError, ValueError, OSError, EOFError) as error:
        return f"content check failed: {error}"
    return None


def _fetch(url, part, quiet):
    """Fetch `url` into `part`, resuming from its current size. Raises on any failure."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    with requests.get(url, stream=True, timeout=30, headers=headers) as response:
        if have and response.status_code == 416:  # we already have every byte
            return
        response.raise_for_status()
        if response.status_code != 206:  # the server ignored the Range: start over
            have = 0
        length = response.headers.get("Content-Length")
        expected = have + int(length) if length is not None else None
        done, start, shown = have, time.monotonic(), 0.0
        with open(part, "ab" if have else "wb") as handle:
            try:
                for block in response.iter_content(1 << 14):  # a cut loses little
                    handle.write(block)
                    done += len(block)
                    if not quiet and (time.monotonic() - shown > 0.25 or done == expected):
                        shown = time.monotonic()
                        rate = (done - have) / max(shown - start, 1e-6)
                        of = f" / {_human(expected)} ({100 * done / expected:.0f}%)" if expected \
                            else ""
                        line = f"{_human(done)}{of} at {_human(rate)}/s"
                        sys.stderr.write(f"\r  {part.stem}: {line}   ")
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError):
                pass  # a cut connection: reported below in plain words, resumed on the next try
        if not quiet:
            sys.stderr.write("\n")
    if expected is not None and part.stat().st_size < expected:
        raise IOError(f"connection closed after {part.stat().st_size} of {expected} bytes")


def download(urls, dest, *, size=None, sha256=None, md5=None, verify=None, what=None,
             retries=3, backoff=1.0, quiet=False):
    """Download the first of `urls` (one or a list) that gives a verified file to `dest`; return
    `dest`.

    size/sha256/md5: what the file must match; verify(path): a content check that raises ValueError.
    A verified `dest` is reused without the network; a damaged one is deleted, with a note.
    If every URL fails, DownloadError names each with its error, and where to put the file by hand.
    """
    urls, dest = [urls] if isinstance(urls, str) else urls, Path(dest)
    what = what or dest.name
    if dest.exists():
        problem = _problem(dest, size, sha256, md5, verify)
        if problem is None:
            return dest
        print(f"注意 Note: {problem}. Deleted {dest}; downloading it again.")
        dest.unlink()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"Cannot create the folder {dest.parent} for {what}: "
                            f"{error.strerror}.") from None
    part = dest.with_name(dest.name + ".part")
    tried = []
    for url in urls:
        for attempt in range(1, retries + 1):
            if not quiet:
                again = f" (attempt {attempt})" if attempt > 1 else ""
                print(f"downloading {what} from {url}{again}")
            try:
                _fetch(url, part, quiet)
            except OSError as error:  # requests' errors are OSErrors too
                error_text = f"{type(error).__name__}: {error}"
                response = getattr(error, "response", None)  # falsy when its status >= 400
                refused = response is not None and 400 <= response.status_code < 500
                if refused or "NameResolutionError" in error_text \
                        or "Failed to resolve" in error_text:
                    break  # 403/404, offline or a wrong host: a retry only makes the learner wait
                if attempt < retries:
                    time.sleep(backoff * attempt)
                continue
            problem = _problem(part, size, sha256, md5, verify)
            if problem is None:
                os.replace(part, dest)
                return dest
            error_text = f"downloaded file rejected: {problem}"
            part.unlink(missing_ok=True)  # a wrong file must not be resumed
            break
        tried.append(f"  {url}\n      -> {error_text}")
    raise DownloadError(
        f"Could not download {what}.\nTried:\n" + "\n".join(tried) + "\n"
        f"Remedy: check your connection or name a mirror you can reach, or download the file by "
        f"hand and put it here:\n  {dest}")


def extract_tar(archive, dest):
    """Extract a .tar/.tgz into folder `dest`, which appears whole or not at all; return `dest`.
    Members with absolute paths or `..` are refused by name, links pointing outside by the 'data'
    filter."""
    archive, dest = Path(archive), Path(dest)
    remedy = "Delete it and download it again."
    try:
        with tarfile.open(archive) as tar:
            for name in tar.getnames():
                if name.startswith(("/", "\\")) or ".." in Path(name).parts:
                    raise CourseError(f"Refusing to extract {archive}: member {name!r} points "
                                      f"outside the target folder. It is not the expected "
                                      f"archive. {remedy}")
            with atomic_path(dest) as staging:
                staging.mkdir()
                tar.extractall(staging, filter="data")
    except tarfile.FilterError as error:
        raise CourseError(f"Refusing to extract {archive}: {error}. {remedy}") from None
    except (tarfile.TarError, EOFError, OSError) as error:
        raise CourseError(f"{archive} is not a readable tar archive ({error}). "
                          f"{remedy}") from None
    return dest
