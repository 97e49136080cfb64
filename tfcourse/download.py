"""The one download function of the project, and safe extraction of downloaded archives.

`download(urls, dest, ...)` streams with `requests`, shows size and rate, retries, resumes a
partial file with an HTTP Range request, checks size and checksum, and only then renames
`dest.part` to `dest`: a file at `dest` is always complete and verified. When every URL fails it
raises `DownloadError` naming each URL and its error, and the exact path where the learner can
put the file by hand.
"""
import hashlib
import os
import shutil
import sys
import tarfile
import tempfile
import time
from pathlib import Path

import requests

from tfcourse.errors import CourseError

CHUNK = 1 << 14  # small blocks: a cut connection loses little, a resume starts close


class DownloadError(CourseError):
    """No URL gave a verified file."""


def file_digest(path, algorithm):
    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _human(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024


class _Progress:
    """One status line on stderr: name, bytes so far / total, percent, rate."""

    def __init__(self, name, total, start_at, quiet):
        self.name, self.total, self.done, self.quiet = name, total, start_at, quiet
        self.start, self.start_at, self.last = time.monotonic(), start_at, 0.0

    def update(self, n, final=False):
        self.done += n
        now = time.monotonic()
        if self.quiet or (not final and now - self.last < 0.25):
            return
        self.last = now
        rate = (self.done - self.start_at) / max(now - self.start, 1e-6)
        total = f" / {_human(self.total)} ({100 * self.done / self.total:.0f}%)" if self.total else ""
        end = "\n" if final else ""
        sys.stderr.write(f"\r  {self.name}: {_human(self.done)}{total} at {_human(rate)}/s   {end}")
        sys.stderr.flush()


def _verify(path, size, sha256, md5, verify):
    """Return None when the file is good, else the reason it is not."""
    actual_size = path.stat().st_size
    if size is not None and actual_size != size:
        return f"size is {actual_size} bytes, expected {size}"
    if sha256 and file_digest(path, "sha256") != sha256.lower():
        return f"sha256 {file_digest(path, 'sha256')} does not match the published {sha256}"
    if md5 and file_digest(path, "md5") != md5.lower():
        return f"md5 {file_digest(path, 'md5')} does not match the published {md5}"
    if verify is not None:
        try:
            verify(path)
        except (CourseError, ValueError, OSError, EOFError) as error:
            return f"content check failed: {error}"
    return None


def _fetch_once(url, part, timeout, name, quiet):
    """Fetch `url` into `part`, resuming from its current size. Raises on any failure."""
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    with requests.get(url, stream=True, timeout=timeout, headers=headers) as response:
        if have and response.status_code == 416:  # we already have every byte
            return
        response.raise_for_status()
        if have and response.status_code != 206:  # server ignored the Range: start over
            have = 0
        length = response.headers.get("Content-Length")
        expected = have + int(length) if length is not None else None
        progress = _Progress(name, expected, have, quiet)
        with open(part, "ab" if have else "wb") as handle:
            try:
                for block in response.iter_content(CHUNK):
                    handle.write(block)
                    progress.update(len(block))
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError):
                pass  # a cut connection: reported below in plain words, resumed on the next try
        progress.update(0, final=True)
    got = part.stat().st_size
    if expected is not None and got < expected:
        raise IOError(f"connection closed after {got} of {expected} bytes")


def download(urls, dest, *, size=None, sha256=None, md5=None, verify=None, what=None,
             timeout=30, retries=3, backoff=1.0, quiet=False):
    """Download the first URL that gives a verified file to `dest`; return `dest`.

    urls: one URL or a list, tried in order. size/sha256/md5: what the file must match;
    verify(path): an extra content check that raises ValueError. An existing verified `dest`
    is reused without any network access. A partial `dest.part` is resumed.
    """
    if isinstance(urls, str):
        urls = [urls]
    dest = Path(dest)
    what = what or dest.name
    if dest.exists() and _verify(dest, size, sha256, md5, verify) is None:
        return dest
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"Cannot create the folder {dest.parent} for {what}: {error.strerror}.") from None
    part = dest.with_name(dest.name + ".part")
    tried = []
    for url in urls:
        error_text = None
        for attempt in range(1, retries + 1):
            if not quiet:
                print(f"downloading {what} from {url}" + (f" (attempt {attempt})" if attempt > 1 else ""))
            try:
                _fetch_once(url, part, timeout, dest.name, quiet)
            except (requests.RequestException, IOError) as error:
                error_text = f"{type(error).__name__}: {error}"
                if isinstance(error, requests.HTTPError) and error.response is not None \
                        and 400 <= error.response.status_code < 500 and error.response.status_code != 416:
                    break  # 403/404 will not change on retry
                if "NameResolutionError" in error_text or "Failed to resolve" in error_text:
                    break  # offline or a wrong host name: retrying only makes the learner wait
                if attempt < retries:
                    time.sleep(backoff * attempt)
                continue
            problem = _verify(part, size, sha256, md5, verify)
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
    """Extract a .tar/.tgz into folder `dest` safely; return `dest`.

    Members with absolute paths, `..`, or links pointing outside are refused (tarfile's 'data'
    filter plus our own check, so the message names the member). Extraction goes to a temporary
    folder that is renamed at the end: `dest` is never left half-filled.
    """
    archive, dest = Path(archive), Path(dest)
    try:
        with tarfile.open(archive) as tar:
            for member in tar.getmembers():
                name = member.name
                if name.startswith(("/", "\\")) or os.path.isabs(name) or ".." in Path(name).parts:
                    raise CourseError(f"Refusing to extract {archive}: member {name!r} points outside "
                                      f"the target folder. The archive is not the expected one; delete it "
                                      f"and download it again.")
            dest.parent.mkdir(parents=True, exist_ok=True)
            staging = Path(tempfile.mkdtemp(prefix=dest.name + ".", suffix=".partial", dir=dest.parent))
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(staging, 0o777 & ~umask)  # mkdtemp makes it 0700: the extracted folder keeps normal rights
            try:
                tar.extractall(staging, filter="data")
                if dest.exists():
                    shutil.rmtree(dest)
                os.replace(staging, dest)
            except BaseException:
                shutil.rmtree(staging, ignore_errors=True)
                raise
    except tarfile.FilterError as error:
        raise CourseError(f"Refusing to extract {archive}: {error}. Delete it and download it again.") from None
    except (tarfile.TarError, EOFError, OSError) as error:
        raise CourseError(f"{archive} is not a readable tar archive ({error}). "
                          f"Delete it and download it again.") from None
    return dest
