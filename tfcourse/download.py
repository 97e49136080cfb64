"""The project's one download function, and safe extraction of downloaded archives. A file at
`dest` is always complete and verified: it is fetched into `dest.part` (resumed with an HTTP Range
request after a cut) and renamed only once its size, checksum and content are checked."""
import hashlib
import os
import sys
import tarfile
import time
from pathlib import Path

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


def _fetch(url, part):
    """Fetch `url` into `part`, resuming from its current size. Raises on any failure."""
    import requests  # here, not at the top: a lesson with its data at hand starts 0.1 s sooner
    have = part.stat().st_size if part.exists() else 0
    with requests.get(url, stream=True, timeout=30,
                      headers={"Range": f"bytes={have}-"} if have else {}) as response:
        if have and response.status_code == 416:  # we already have every byte
            return
        response.raise_for_status()
        have = have if response.status_code == 206 else 0  # 200: the Range was ignored, restart
        length = response.headers.get("Content-Length")
        total, shown = have + int(length) if length is not None else None, 0.0
        with open(part, "ab" if have else "wb") as handle:
            try:
                for block in response.iter_content(1 << 16):  # a cut loses little
                    handle.write(block)
                    if time.monotonic() - shown > 0.5 or handle.tell() == total:
                        shown, of = time.monotonic(), f" of {total / 1e6:.1f}" if total else ""
                        sys.stderr.write(f"\r  {part.stem}: {handle.tell() / 1e6:.1f}{of} MB  ")
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError):
                pass  # a cut connection: reported below in plain words, resumed on the next try
        sys.stderr.write("\n")
    if total is not None and part.stat().st_size < total:
        raise IOError(f"connection closed after {part.stat().st_size} of {total} bytes")


def download(urls, dest, *, size=None, sha256=None, md5=None, verify=None, what=None,
             retries=3, backoff=1.0):
    """Download the first of `urls` (one or a list) that gives a verified file to `dest`; return
    `dest`. size/sha256/md5: what the file must match; verify(path): a content check that raises
    ValueError. A verified `dest` is reused without the network; a damaged one is deleted, with a
    note. If every URL fails, DownloadError names each with its error, and where to put the file.
    """
    urls, dest = [urls] if isinstance(urls, str) else urls, Path(dest)
    what, part, tried = what or dest.name, dest.with_name(dest.name + ".part"), []
    if dest.exists():
        if (problem := _problem(dest, size, sha256, md5, verify)) is None:
            return dest
        print(f"注意 Note: {problem}. Deleted {dest}; downloading it again.")
        dest.unlink()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"Cannot create the folder {dest.parent} for {what}: "
                            f"{error.strerror}.") from None
    for url in urls:
        for attempt in range(1, retries + 1):
            again = f" (attempt {attempt})" if attempt > 1 else ""
            print(f"downloading {what} from {url}{again}")
            try:
                _fetch(url, part)
            except OSError as error:  # requests' errors are OSErrors too
                error_text = f"{type(error).__name__}: {error}"
                status = getattr(getattr(error, "response", None), "status_code", 0)
                if 400 <= status < 500 or "Failed to resolve" in error_text:
                    break  # 403/404, offline or a wrong host: a retry only makes the learner wait
                if attempt < retries:
                    time.sleep(backoff * attempt)
                continue
            if (problem := _problem(part, size, sha256, md5, verify)) is None:
                os.replace(part, dest)
                return dest
            error_text = f"downloaded file rejected: {problem}"
            part.unlink()  # a wrong file must not be resumed
            break
        tried.append(f"  {url}\n      -> {error_text}")
    raise DownloadError(
        f"Could not download {what}.\nTried:\n" + "\n".join(tried) + "\nRemedy: check your "
        f"connection or name a mirror you can reach, or download the file by hand and put it "
        f"here:\n  {dest}")


def extract_tar(archive, dest):
    """Extract a .tar/.tgz into folder `dest`, which appears whole or not at all; return `dest`.
    Members named with an absolute path or `..` are refused, links outside by the 'data' filter."""
    archive, dest, remedy = Path(archive), Path(dest), "Delete it and download it again."
    try:
        with tarfile.open(archive) as tar:
            for name in tar.getnames():
                if name.startswith(("/", "\\")) or ".." in Path(name).parts:
                    raise CourseError(f"Refusing to extract {archive}: member {name!r} points "
                                      f"outside the target folder. {remedy}")
            with atomic_path(dest) as staging:
                staging.mkdir()
                tar.extractall(staging, filter="data")
    except tarfile.FilterError as error:
        raise CourseError(f"Refusing to extract {archive}: {error}. {remedy}") from None
    except (tarfile.TarError, EOFError, OSError) as error:
        raise CourseError(f"{archive} is not a readable tar archive ({error}). {remedy}") from None
    return dest
