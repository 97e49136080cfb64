"""The one download function, and safe extraction of archives. A file at `dest` is complete and
verified: it is fetched into `dest.part` (resumed after a cut) and renamed once it is checked."""
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
        while block := handle.read(1 << 20):
            digest.update(block)
    return digest.hexdigest()


def _fetch(url, part):
    """Fetch `url` into `part`, resuming with an HTTP Range request from the bytes it has."""
    import requests  # here, not at the top: a lesson with its data at hand starts 0.1 s sooner
    have = part.stat().st_size if part.exists() else 0
    headers = {"Range": f"bytes={have}-"} if have else {}
    with requests.get(url, headers=headers, stream=True, timeout=30) as response:
        if have and response.status_code == 416:  # it has every byte already
            return
        response.raise_for_status()
        if response.status_code != 206:  # the whole file, not the rest of it: start again
            have = 0
        total = have + int(response.headers.get("Content-Length", 0))
        shown, of = 0.0, f" of {total / 1e6:.1f}" if total > have else ""
        with open(part, "ab" if have else "wb") as handle:
            try:
                for block in response.iter_content(1 << 16):
                    handle.write(block)
                    if time.monotonic() - shown > 0.5 or handle.tell() == total:
                        shown = time.monotonic()
                        sys.stderr.write(f"\r  {part.stem}: {handle.tell() / 1e6:.1f}{of} MB ")
            except (requests.exceptions.ChunkedEncodingError, requests.exceptions.ConnectionError):
                pass  # a cut connection: reported below in plain words, resumed on the next try
        sys.stderr.write("\n")
    if part.stat().st_size < total:
        raise OSError(f"connection closed after {part.stat().st_size} of {total} bytes")


def download(urls, dest, *, size=None, sha256=None, md5=None, verify=None, what=None,
             retries=3, backoff=1.0):
    """Download the first of `urls` (one or a list) that gives a verified file to `dest`; return
    `dest`. A good `dest` is kept, a damaged one fetched again. verify(path) raises if wrong."""
    urls = [urls] if isinstance(urls, str) else urls
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    what = what or dest.name

    def problem(path):  # None when the file is good, else what is wrong with it
        if size is not None and path.stat().st_size != size:
            return f"size is {path.stat().st_size} bytes, expected {size}"
        for algorithm, published in (("sha256", sha256), ("md5", md5)):
            if published and (actual := file_digest(path, algorithm)) != published.lower():
                return f"{algorithm} {actual} does not match the published {published}"
        try:
            if verify is not None:
                verify(path)
        except Exception as error:  # whatever the content check raises, the file is wrong
            return f"content check failed: {error}"

    if dest.exists():
        failure = problem(dest)
        if failure is None:
            return dest
        print(f"注意 Note: {failure}. Deleted {dest}; downloading it again.")
        dest.unlink()
    try:
        dest.parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise DownloadError(f"Cannot make the folder {dest.parent} for {what}: {error.strerror}.\n"
                            "Remedy: name a folder you can write to (or set KERAS_HOME to one)."
                            ) from None
    tried = []
    for url in urls:
        for attempt in range(retries):
            time.sleep(backoff * attempt)  # none before the first try
            print(f"downloading {what} from {url} (attempt {attempt + 1} of {retries})")
            try:
                _fetch(url, part)
            except OSError as error:  # requests' errors are OSErrors too
                failure = f"{type(error).__name__}: {error}"
                status = getattr(getattr(error, "response", None), "status_code", 0)
                if 400 <= status < 500 or "Failed to resolve" in failure:
                    break  # 403/404, offline or a wrong host: a retry only makes the learner wait
                continue
            failure = problem(part)
            if failure is None:
                os.replace(part, dest)
                return dest
            failure = f"downloaded file rejected: {failure}"
            part.unlink()  # a wrong file must not be resumed
            break
        tried.append(f"  {url}\n      -> {failure}")
    raise DownloadError(f"Could not download {what}.\nTried:\n" + "\n".join(tried) + "\nRemedy: "
                        f"check your connection or name a mirror, or put the file here:\n  {dest}")


def extract_tar(archive, dest):
    """Extract a .tar/.tgz into folder `dest`, which appears whole or not at all; return `dest`."""
    try:
        with tarfile.open(archive) as tar:
            for name in tar.getnames():  # the data filter would extract /etc/x as etc/x
                if name.startswith(("/", "\\")) or ".." in Path(name).parts:
                    raise tarfile.FilterError(f"member {name!r} points outside the folder")
            with atomic_path(dest) as staging:
                staging.mkdir()
                tar.extractall(staging, filter="data")  # and refuses links that point outside
    except (tarfile.TarError, EOFError, OSError) as error:
        raise CourseError(f"Cannot extract {archive}: {error}.\n"
                          "Remedy: delete it and download it again.") from None
    return Path(dest)
