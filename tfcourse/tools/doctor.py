"""`python -m tfcourse doctor`: is this machine ready for the course? One line per check.

    python -m tfcourse doctor                  # ✓ ready, ! works but differs or is missing something optional, ✗ to fix
    python -m tfcourse doctor --json           # the same report for a program
    python -m tfcourse doctor --offline        # no network checks at all
    python -m tfcourse doctor --data-dir DIR   # also verify the MNIST files in DIR (the course's MNIST_data/)

Exit status 0 when nothing is ✗, 1 otherwise. It takes a few seconds: the mirrors get 3 s in all,
asked in parallel, and TensorFlow is imported once, in the background, to see the GPUs.
"""
import argparse
import dataclasses
import importlib.metadata
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from tfcourse.tools.lessons import PROJECT_ROOT
from tfcourse.tools import marks

MIRROR_SECONDS = 3.0   # all mirrors together: offline is reported, not waited on
TF_SECONDS = 9.0       # TensorFlow's import, counted from the doctor's start
TESTED = {"tensorflow": "==2.21.0", "keras": "==3.15.1", "numpy": ">=1.26", "pillow": ">=10.0",
          "matplotlib": ">=3.8", "captcha": "==0.7.0", "requests": ">=2.31", "tensorboard": "==2.21.0"}
INSTALL = "pip install -r requirements.txt (in the project folder)"
TF_DISTS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel", "tf-nightly")  # one of them


@dataclasses.dataclass
class Check:
    name: str
    status: str          # ok | warn | error
    detail: str
    remedy: str = ""


def _version(text):
    return tuple(int(part) for part in re.findall(r"\d+", text)[:3])


def _in_range(version, spec):
    """version (a tuple) against a spec such as '>=3.10,<3.14' or '==2.21.0'."""
    tests = {">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b, "==": lambda a, b: a == b,
             ">": lambda a, b: a > b, "<": lambda a, b: a < b}
    for op, bound in re.findall(r"(>=|<=|==|>|<)\s*([\d.]+)", spec):
        size = len(_version(bound))
        if not tests[op](tuple(version[:size]), _version(bound)):
            return False
    return True


def _tested():
    """The pins of requirements.txt (what the saved numbers came from), else the ones known here."""
    tested = dict(TESTED)
    try:
        for line in (PROJECT_ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
            match = re.match(r"\s*([A-Za-z0-9_.-]+)\s*((?:==|>=)\s*[\d.]+)", line)
            if match and match[1].lower() in tested:
                tested[match[1].lower()] = match[2].replace(" ", "")
    except OSError:
        pass
    return tested


def _installed(*names):
    for name in names:
        try:
            return name, importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None, None


def check_python():
    spec = ">=3.10,<3.14"
    try:
        found = re.search(r'requires-python\s*=\s*"([^"]+)"', (PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))
        spec = found[1] if found else spec
    except OSError:
        pass
    version = platform.python_version()
    if _in_range(sys.version_info[:3], spec):
        return Check("Python", "ok", f"{version} (supported: {spec})")
    return Check("Python", "error", f"{version}, but TensorFlow 2.21 and this course need {spec}",
                 "make an environment with Python 3.12: conda create -n tfcourse python=3.12 "
                 "(then conda activate tfcourse), or python3.12 -m venv .venv; then " + INSTALL)


def check_packages():
    tested, checks = _tested(), []
    for name, dists in [("tensorflow", TF_DISTS),
                        ("keras", ("keras",)), ("numpy", ("numpy",)), ("pillow", ("pillow",)),
                        ("matplotlib", ("matplotlib",)), ("captcha", ("captcha",)), ("requests", ("requests",))]:
        dist, version = _installed(*dists)
        want = tested[name]
        label = name if dist in (None, name) else f"{name} ({dist})"
        if version is None:
            checks.append(Check(label, "error", f"not installed (tested: {want.lstrip('=')})", INSTALL))
        elif name == "keras" and _version(version) < (3,):
            checks.append(Check(label, "error", f"{version} is Keras 2; the lessons need Keras 3 (tested: {want.lstrip('=')})",
                                f"pip install keras{want}"))
        elif not _in_range(_version(version), want):
            exact = want.startswith("==")
            why = {"tensorflow": "the saved numbers were made with it; most lessons still run",
                   "captcha": "0.7.1 draws its noise from `secrets`, so 10-1's --seed cannot reproduce a data set",
                   }.get(name, "the numbers in the README were made with it" if exact else "too old for the lessons")
            checks.append(Check(label, "warn" if exact else "error", f"{version} (tested: {want.lstrip('=')}): {why}",
                                f"pip install {name}{want}"))
        else:
            checks.append(Check(label, "ok", f"{version} (tested: {want.lstrip('=')})"))
    legacy = os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes")
    tf_keras = _installed("tf_keras", "tf-keras")[1]
    if legacy:
        checks.append(Check("tf_keras", "error", "TF_USE_LEGACY_KERAS is set, so tf.keras is Keras 2 (tf_keras"
                            + (f" {tf_keras}" if tf_keras else ", not even installed") + ")",
                            "unset TF_USE_LEGACY_KERAS (Windows: set TF_USE_LEGACY_KERAS=) in this shell and its profile"))
    elif tf_keras:
        checks[1].detail += f"; tf_keras {tf_keras} is installed too (unused: TF_USE_LEGACY_KERAS is not set)"
    if _installed("tfcourse")[1] is None:
        checks.append(Check("tfcourse helper", "warn", "not installed: lessons find it only when run from the project folder",
                            INSTALL))
    return checks


def check_tensorboard():
    try:
        import tensorboard  # noqa: F401  (it does not import TensorFlow)
    except Exception as error:  # ImportError, or a broken install
        return Check("TensorBoard", "error", f"cannot be imported ({type(error).__name__}: {error})",
                     f"pip install tensorboard{_tested()['tensorboard']}")
    version = _installed("tensorboard")[1] or "?"
    return Check("TensorBoard", "ok", f"{version} imports (its `failed call to cuInit` start-up line is harmless without a GPU)")


def _build_info():
    """tf.sysconfig.get_build_info() without importing TensorFlow (it is a generated file of literals)."""
    import ast
    import importlib.util
    try:
        spec = importlib.util.find_spec("tensorflow")
        text = (Path(spec.submodule_search_locations[0]) / "python" / "platform" / "build_info.py").read_text()
        info = dict(ast.literal_eval(re.search(r"OrderedDict\((\[.*\])\)", text, re.S)[1]))
    except (AttributeError, ImportError, OSError, TypeError, ValueError, SyntaxError):
        return {}
    return {"cuda": info.get("cuda_version"), "cudnn": info.get("cudnn_version"), "cuda_build": info.get("is_cuda_build"),
            "version": _installed(*TF_DISTS)[1]}


def _tensorflow_gpus(result, deadline):
    """In a thread: the GPUs TensorFlow sees, asked in a child process that is stopped at `deadline`."""
    code = ("import json, os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'; import tensorflow as tf; "
            "print(json.dumps([d.name for d in tf.config.list_physical_devices('GPU')]))")
    try:
        child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return  # no "gpus": reported as not checked
    if child.returncode == 0:
        result["gpus"] = json.loads(child.stdout.strip().splitlines()[-1])
    else:  # a broken install: its last line says why
        result["error"] = (child.stderr.strip().splitlines() or ["no message"])[-1][:200]


def _nvidia_smi():
    """{'gpus': [...], 'driver': '550.54', 'cuda': '12.4'} from nvidia-smi, or None when there is none."""
    wsl = Path("/usr/lib/wsl/lib/nvidia-smi")  # WSL2 keeps the Windows driver's tools here
    smi = shutil.which("nvidia-smi") or (str(wsl) if wsl.is_file() else None)
    if smi is None:
        return None
    try:
        query = subprocess.run([smi, "--query-gpu=name,driver_version", "--format=csv,noheader"],
                               capture_output=True, text=True, timeout=5)
        table = subprocess.run([smi], capture_output=True, text=True, timeout=5).stdout
    except (OSError, subprocess.SubprocessError) as error:
        return {"gpus": [], "driver": None, "cuda": None, "error": str(error)}
    rows = [line.split(",") for line in query.stdout.splitlines() if line.strip()]
    cuda = re.search(r"CUDA Version:\s*([\d.]+)", table)
    return {"gpus": [row[0].strip() for row in rows], "driver": rows[0][1].strip() if rows and len(rows[0]) > 1 else None,
            "cuda": cuda[1] if cuda else None, "error": None if query.returncode == 0 else query.stderr.strip()[:200]}


def check_gpu(tf_info, smi, system=None, machine=None):
    system, machine = system or platform.system(), machine or platform.machine()
    if not tf_info:
        return [Check("GPU", "warn", "not checked: TensorFlow is not installed")]
    built = (f"TensorFlow {tf_info.get('version')} was built for CUDA {tf_info.get('cuda')}, cuDNN {tf_info.get('cudnn')}"
             if tf_info.get("cuda_build") else f"TensorFlow {tf_info.get('version')} has no CUDA build here")
    if "error" in tf_info:
        checks = [Check("GPU", "error", f"TensorFlow does not import: {tf_info['error']}", INSTALL)]
    elif "gpus" not in tf_info:
        checks = [Check("GPU", "warn", f"not checked: TensorFlow took more than {TF_SECONDS:g} s to start"
                        + (f"; nvidia-smi shows {', '.join(smi['gpus'])}" if smi and smi["gpus"] else ""),
                        "python week09_gpu_transfer/9_0_check_gpu.py takes its time and shows every device")]
    elif tf_info["gpus"]:
        checks = [Check("GPU", "ok", f"TensorFlow sees {len(tf_info['gpus'])}: " + ", ".join(tf_info["gpus"]))]
    elif system == "Windows":
        checks = [Check("GPU", "warn" if smi else "ok", "none for TensorFlow: native Windows has had no GPU build "
                        "since TensorFlow 2.10; the lessons run on the CPU",
                        "for the GPU, install in WSL2 (week09_gpu_transfer/9_0_check_gpu.py prints the steps)" if smi else "")]
    elif system == "Darwin":
        checks = [Check("GPU", "ok", "none for TensorFlow" + (" (Apple silicon: the lessons run on the CPU; "
                        "tensorflow-metal adds the GPU, not tested with this course)" if machine == "arm64" else
                        "; the lessons run on the CPU"))]
    elif smi and smi["gpus"]:
        checks = [Check("GPU", "warn", f"nvidia-smi shows {', '.join(smi['gpus'])}, but TensorFlow sees none; {built}",
                        'pip install "tensorflow[and-cuda]==2.21.0" (the CUDA and cuDNN libraries as pip packages)')]
    else:
        checks = [Check("GPU", "ok", "none (no NVIDIA driver: " + ("nvidia-smi not found" if smi is None else
                        "nvidia-smi lists no GPU") + "); the lessons run on the CPU. " + built)]
    if smi and smi.get("cuda") and tf_info.get("cuda_build") and tf_info.get("cuda"):
        old = _version(smi["cuda"])[:2] < _version(tf_info["cuda"])[:2]
        checks.append(Check("CUDA", "warn" if old else "ok",
                            f"driver {smi['driver']} supports CUDA up to {smi['cuda']}; {built}",
                            f"update the NVIDIA driver to one for CUDA {tf_info['cuda']} or newer" if old else ""))
    return checks


def _probe(url, answers):
    """In a thread: does `url` serve its file? (GET, headers only: the body is not read)."""
    import requests
    try:
        with requests.get(url, timeout=(MIRROR_SECONDS, MIRROR_SECONDS), stream=True) as reply:
            answers[url] = None if reply.status_code < 400 else f"HTTP {reply.status_code}"
    except requests.RequestException as error:
        answers[url] = type(error).__name__


def mirror_urls(mirror=None):
    from tfcourse import mnist
    urls = [u.rstrip("/") + "/" + mnist.NPZ_NAME for u in [mirror or os.environ.get("TFCOURSE_MIRROR")] if u]
    return urls + list(mnist.NPZ_URLS) + [u + "t10k-labels-idx1-ubyte.gz" for u in mnist.IDX_MIRRORS]


def check_mirrors(answers, urls, offline):
    if offline:
        return Check("mirrors", "warn", "not checked (--offline)")
    host = lambda url: re.sub(r"^\w+://([^/]+).*", r"\1", url)  # noqa: E731
    good = [host(u) for u in urls if u in answers and answers[u] is None]
    bad = [f"{host(u)} ({answers.get(u) or f'no answer within {MIRROR_SECONDS:g} s'})" for u in urls
           if answers.get(u, "") is not None]
    if good:
        return Check("mirrors", "ok", "answering: " + ", ".join(good) + ("; not: " + ", ".join(bad) if bad else ""))
    return Check("mirrors", "warn", "offline: none answers (" + ", ".join(bad) + ")",
                 "fine once MNIST is in the cache; behind a firewall name your own: --mirror URL or TFCOURSE_MIRROR=URL")


def check_mnist(data_dir, reachable):
    from tfcourse import mnist
    cache = mnist.keras_cache_dir()
    npz, idx = cache / mnist.NPZ_NAME, cache / "mnist"
    try:
        if data_dir is not None:
            folder = Path(data_dir)
            if not folder.exists():
                return Check("MNIST", "error", f"--data-dir {folder}: no such folder", "name the folder that holds "
                             "the four MNIST files (the course's MNIST_data/) or mnist.npz")
            if folder.is_dir() and not (folder / mnist.NPZ_NAME).is_file() and \
                    not all(mnist._find_idx(folder, stem) for stem in mnist.IDX_FILES):
                return Check("MNIST", "error", f"no MNIST in {folder}: expected the four IDX files "
                             f"({', '.join(mnist.IDX_FILES)}, .gz or not) or {mnist.NPZ_NAME}", "")
            try:
                mnist.read_idx_folder(folder)  # FileNotFoundError when an IDX file is not there
            except FileNotFoundError:
                mnist.read_npz(folder / mnist.NPZ_NAME if folder.is_dir() else folder)
            return Check("MNIST", "ok", f"verified in {folder} (pass --data-dir {folder} to the lessons)")
        if npz.is_file():
            from tfcourse.download import file_digest
            if file_digest(npz, "sha256") != mnist.NPZ_SHA256:
                raise ValueError(f"{npz} has the wrong checksum")
            return Check("MNIST", "ok", f"{npz} (checksum verified)")
        if idx.is_dir() and any(idx.iterdir()):
            mnist.read_idx_folder(idx)
            return Check("MNIST", "ok", f"IDX files in {idx} (verified)")
    except (OSError, ValueError) as error:
        return Check("MNIST", "error", f"damaged: {error}", "delete the file; the next MNIST lesson downloads it "
                     "again (or pass --data-dir FOLDER with good files)")
    remedy = (f"copy mnist.npz into {cache}/, or pass --data-dir FOLDER (the course's MNIST_data/) to the lessons, "
              "or --mirror URL; --data synthetic runs a lesson with drawn digits")
    if reachable is None:
        return Check("MNIST", "warn", f"not in {cache}; whether a mirror answers was not checked (--offline)", remedy)
    if reachable:
        return Check("MNIST", "warn", f"not in {cache} yet: the first MNIST lesson downloads it (11 MB)")
    return Check("MNIST", "error", f"not in {cache}, and no mirror answers", remedy)


def check_inception():
    from tfcourse import inception
    folders = [inception.default_dir(), inception.default_dir() / inception.FOLDER_NAME,
               PROJECT_ROOT / "week08_save_inception" / "inception_model"]
    for folder in folders:
        if all((folder / name).is_file() for name in inception.NEEDED_FILES):
            return Check("Inception-v3", "ok", f"extracted in {folder}")
    archive = inception.default_dir() / inception.ARCHIVE_NAME
    if archive.is_file():
        if archive.stat().st_size == inception.ARCHIVE_SIZE:
            return Check("Inception-v3", "ok", f"{archive} (8-3 extracts it)")
        return Check("Inception-v3", "warn", f"{archive} is incomplete ({archive.stat().st_size:,} of "
                     f"{inception.ARCHIVE_SIZE:,} bytes)", "run 8-3 again: it resumes the download")
    return Check("Inception-v3", "warn", f"not downloaded (weeks 8-9 need it; 8-3 downloads it, "
                 f"{inception.ARCHIVE_SIZE / 1e6:.0f} MB, into {inception.default_dir()})",
                 f"offline: get {inception.URL} elsewhere and pass --archive FILE to 8-3")


def check_font():
    from tfcourse.plots import INSTALL_HINT, cjk_font
    name = cjk_font()
    if name:
        return Check("Chinese font", "ok", f"{name} (plots draw Chinese labels)")
    return Check("Chinese font", "warn", "none: plots write English labels instead of Chinese", INSTALL_HINT)


def check_disk():
    runs = PROJECT_ROOT / "runs"
    where = next(p for p in [runs, *runs.parents] if p.exists())
    free = shutil.disk_usage(where).free
    status = "ok" if free > 2e9 else "warn" if free > 2e8 else "error"
    return Check("disk", status, f"{free / 1e9:.1f} GB free for the run folders ({runs})",
                 "" if status == "ok" else "free some space (runs/ holds every run's checkpoints and plots; old runs can go)")


def run_checks(data_dir=None, mirror=None, offline=False):
    started = time.monotonic()
    tf_info, answers, threads = {}, {}, []
    smi = _nvidia_smi()
    # TensorFlow is imported (seconds) only where it may see a GPU: an NVIDIA driver, or Apple's plugin.
    # Without a driver it cannot, and its build information is read from its files.
    look = bool(smi and smi["gpus"]) or bool(_installed("tensorflow-metal")[1])
    if _installed(*TF_DISTS)[1]:
        tf_info.update(_build_info(), **({} if look else {"gpus": []}))
    urls = [] if offline else mirror_urls(mirror)
    for target, args in [(_probe, (url, answers)) for url in urls] + \
            [(_tensorflow_gpus, (tf_info, started + TF_SECONDS))] * look:
        threads.append(threading.Thread(target=target, args=args, daemon=True))
        threads[-1].start()
    first = [check_python(), *check_packages(), check_tensorboard()]
    for thread in threads[:len(urls)]:
        thread.join(max(0.0, started + MIRROR_SECONDS + 0.5 - time.monotonic()))
    answers = dict(answers)  # a probe still running past its time counts as no answer
    reachable = None if offline else any(v is None for v in answers.values())
    last = [check_mnist(data_dir, reachable), check_mirrors(answers, urls, offline),
            check_inception(), check_font(), check_disk()]
    for thread in threads[len(urls):]:
        thread.join(max(0.0, started + TF_SECONDS + 0.5 - time.monotonic()))
    return first + check_gpu(dict(tf_info), smi) + last, time.monotonic() - started


def main(argv=()):
    parser = argparse.ArgumentParser(prog="python -m tfcourse doctor", description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    parser.add_argument("--offline", action="store_true", help="skip the mirror checks")
    parser.add_argument("--data-dir", type=Path, default=None, metavar="DIR", help="also verify MNIST in DIR")
    parser.add_argument("--mirror", default=None, metavar="URL", help="a MNIST mirror to check first")
    args = parser.parse_args(list(argv))
    checks, seconds = run_checks(args.data_dir, args.mirror, args.offline)
    ready = all(check.status != "error" for check in checks)
    if args.json:
        print(json.dumps({"ready": ready, "seconds": round(seconds, 1),
                          "checks": [dataclasses.asdict(c) for c in checks]}, indent=1, ensure_ascii=False))
        return 0 if ready else 1
    sign = marks()
    arrow = "→" if sign["ok"] == "✓" else "->"
    print("python -m tfcourse doctor: is this machine ready for the course?")
    for check in checks:
        print(f"{sign[check.status]} {check.name}: {check.detail}")
        if check.remedy and check.status != "ok":
            print(f"    {arrow} {check.remedy}")
    errors = sum(c.status == "error" for c in checks)
    warnings = sum(c.status == "warn" for c in checks)
    verdict = "Ready" if ready else f"Not ready: {errors} to fix ({sign['error']})"
    print(f"\n{verdict}" + (f", {warnings} warning(s) (!)" if warnings else "") + f". ({seconds:.1f} s)")
    return 0 if ready else 1
