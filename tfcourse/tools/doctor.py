"""`python -m tfcourse doctor`: is this machine ready for the course? One line per check.

    python -m tfcourse doctor                 # ✓ ready, ! works but differs, ✗ to fix (with how)
    python -m tfcourse doctor --offline       # no network checks at all
    python -m tfcourse doctor --data-dir DIR  # verify the MNIST files in DIR as a lesson reads them

Exit status 1 when something is ✗. TensorFlow starts (in a child) only where it may see a GPU.
"""
import collections
import importlib.metadata
import json
import os
import platform
import re
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit

from packaging.specifiers import SpecifierSet  # matplotlib's dependency, so always here
from packaging.version import Version

from tfcourse.cli import PROJECT_ROOT
from tfcourse.errors import CourseError
from tfcourse.tools import command_parser, marks

MIRROR_SECONDS = 3.0  # all mirrors together: offline is reported, not waited on
TF_SECONDS = 9.0      # TensorFlow's start in the child, counted from the doctor's start
PACKAGES = ("tensorflow", "keras", "tensorboard", "numpy", "pillow", "matplotlib", "captcha",
            "requests")  # checked against their pins in requirements.txt
TF_DISTS = ("tensorflow", "tensorflow-cpu", "tensorflow-macos", "tensorflow-intel", "tf-nightly")
INSTALL = "pip install -r requirements.txt (in the project folder)"
WHY = {"tensorflow": "the saved numbers were made with it; most lessons still run",
       "captcha": "0.7.1 draws its noise from `secrets`, so 10-1's --seed cannot repeat a data set"}
Check = collections.namedtuple("Check", "name status detail remedy", defaults=[""])  # ok|warn|error


def _project_file(name):
    path = PROJECT_ROOT / name
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def _installed(*names):
    for name in names:
        try:
            return name, importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return None, None


def check_python():
    found = re.search(r'requires-python\s*=\s*"([^"]+)"', _project_file("pyproject.toml"))
    spec, version = found[1] if found else ">=3.10,<3.14", platform.python_version()
    if version in SpecifierSet(spec):
        return Check("Python", "ok", f"{version} (supported: {spec})")
    return Check("Python", "error", f"{version}, but TensorFlow 2.21 and this course need {spec}",
                 f"conda create -n tfcourse python=3.12 (or python3.12 -m venv .venv); {INSTALL}")


def check_packages():
    requirements = _project_file("requirements.txt")
    pins = dict(re.findall(r"^([\w.-]+)\s*((?:==|>=)\s*[\d.]+)", requirements, re.M))
    checks = []
    for name in PACKAGES:
        want = pins.get(name, "").replace(" ", "")
        dist, version = _installed(*(TF_DISTS if name == "tensorflow" else [name]))
        label = name if dist in (None, name) else f"{name} ({dist})"
        tested, fix = f"(tested: {want.lstrip('=')})", f"pip install {name}{want}"
        if version is None:
            check = Check(label, "error", f"not installed {tested}", INSTALL)
        elif name == "keras" and Version(version).major < 3:
            check = Check(label, "error", f"{version} is Keras 2, the lessons need 3 {tested}", fix)
        elif version not in SpecifierSet(want):
            exact = want.startswith("==")
            why = WHY.get(name, "the README's numbers were made with it" if exact else "too old")
            check = Check(label, "warn" if exact else "error", f"{version} {tested}: {why}", fix)
        else:
            check = Check(label, "ok", f"{version} {tested}")
        checks.append(check)
    if os.environ.get("TF_USE_LEGACY_KERAS", "").lower() in ("1", "true", "yes"):
        checks.append(Check("tf_keras", "error", "TF_USE_LEGACY_KERAS is set: tf.keras is Keras 2",
                            "unset TF_USE_LEGACY_KERAS (Windows: set TF_USE_LEGACY_KERAS=)"))
    if _installed("tfcourse")[1] is None:
        checks.append(Check("tfcourse helper", "error", "not installed: a lesson run as `python "
                            "weekNN_.../lesson.py` cannot import it", INSTALL))
    return checks


def _tensorflow_gpus(result, deadline):
    """In a thread: the GPUs TensorFlow sees and its CUDA, from a child stopped at `deadline`."""
    code = ("import json, os; os.environ['TF_CPP_MIN_LOG_LEVEL'] = '3'; import tensorflow as tf; "
            "gpus = [d.name for d in tf.config.list_physical_devices('GPU')]; print(json.dumps("
            "dict(version=tf.__version__, gpus=gpus, cuda=tf.sysconfig.get_build_info()"
            ".get('cuda_version'))))")
    try:
        child = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                               timeout=max(0.1, deadline - time.monotonic()))
    except subprocess.TimeoutExpired:
        return  # no "gpus": reported as not checked
    if child.returncode == 0:
        result.update(json.loads(child.stdout.strip().splitlines()[-1]))
    else:  # a broken install: its last line says why
        result["error"] = (child.stderr.strip().splitlines() or ["no message"])[-1][:200]


def _nvidia_smi():
    """{'gpus': [...], 'driver': '550.54', 'cuda': '12.4'} from nvidia-smi, or None without one."""
    for smi in ("nvidia-smi", "/usr/lib/wsl/lib/nvidia-smi"):  # WSL2 keeps the driver's tools there
        query = [smi, "--query-gpu=name,driver_version", "--format=csv,noheader"]
        try:
            listed = subprocess.run(query, capture_output=True, text=True, timeout=5).stdout
            table = subprocess.run([smi], capture_output=True, text=True, timeout=5).stdout
        except FileNotFoundError:
            continue
        except (OSError, subprocess.SubprocessError):
            return {"gpus": [], "driver": None, "cuda": None}
        rows = [line.split(",") for line in listed.splitlines() if "," in line]
        cuda = re.search(r"CUDA Version:\s*([\d.]+)", table)
        return {"gpus": [row[0].strip() for row in rows], "cuda": cuda[1] if cuda else None,
                "driver": rows[0][1].strip() if rows else None}
    return None


def check_gpu(tf, smi, system=None):
    shows = f"nvidia-smi shows {', '.join(smi['gpus'])}" if smi and smi["gpus"] else ""
    if not tf:
        return Check("GPU", "warn", "not checked: TensorFlow is not installed")
    if "error" in tf:
        return Check("GPU", "error", f"TensorFlow does not import: {tf['error']}", INSTALL)
    if "gpus" not in tf:
        return Check("GPU", "warn", f"not checked: TensorFlow took over {TF_SECONDS:g} s to start"
                     + (f"; {shows}" if shows else ""),
                     "python week09_gpu_transfer/9_0_check_gpu.py takes its time and shows all")
    if tf["gpus"]:
        return Check("GPU", "ok", f"TensorFlow sees {len(tf['gpus'])}: " + ", ".join(tf["gpus"]))
    if (system or platform.system()) == "Windows":
        return Check("GPU", "warn" if smi else "ok", "none: TensorFlow has had no GPU build for "
                     "native Windows since 2.10; the lessons run on the CPU", "for the GPU, "
                     "install in WSL2 (9_0_check_gpu.py says how)" if smi else "")
    if not shows:
        why = "nvidia-smi " + ("not found" if smi is None else "lists no GPU")
        return Check("GPU", "ok", f"none (no NVIDIA driver: {why}); the lessons run on the CPU")
    built, driver = tf.get("cuda"), smi.get("cuda")
    old = bool(built and driver) and Version(driver).release[:2] < Version(built).release[:2]
    return Check("GPU", "warn", f"{shows} (driver {smi['driver']}, CUDA up to {driver}), but "
                 f"TensorFlow sees none; TensorFlow {tf.get('version')} was built for CUDA {built}",
                 f"update the NVIDIA driver to one for CUDA {built} or newer" if old else
                 'pip install "tensorflow[and-cuda]==2.21.0" (CUDA and cuDNN as pip packages)')


def _probe(url, answers):
    """In a thread: does `url` serve its file? (GET, headers only: the body is not read)"""
    import requests
    try:
        with requests.get(url, timeout=(MIRROR_SECONDS, MIRROR_SECONDS), stream=True) as reply:
            answers[url] = None if reply.status_code < 400 else f"HTTP {reply.status_code}"
    except requests.RequestException as error:
        answers[url] = type(error).__name__


def check_mirrors(mirror, offline):
    """The mirrors' line, and whether one answers (None: not asked)."""
    from tfcourse import mnist
    if offline:
        return Check("mirrors", "warn", "not checked (--offline)"), None
    mine = mirror or os.environ.get("TFCOURSE_MIRROR")
    urls = [mine.rstrip("/") + "/" + mnist.NPZ_NAME] if mine else []
    urls += mnist.NPZ_URLS + [u + "t10k-labels-idx1-ubyte.gz" for u in mnist.IDX_MIRRORS]
    answers, deadline = {}, time.monotonic() + MIRROR_SECONDS + 0.5
    probes = [threading.Thread(target=_probe, args=(url, answers), daemon=True) for url in urls]
    for thread in probes:
        thread.start()
    for thread in probes:
        thread.join(max(0.0, deadline - time.monotonic()))
    good, bad = [], []
    for url in urls:  # a probe still running past its time counts as no answer
        problem = answers.get(url, f"no answer within {MIRROR_SECONDS:g} s")
        if problem is None:
            good.append(urlsplit(url).netloc)
        else:
            bad.append(f"{urlsplit(url).netloc} ({problem})")
    if good:
        not_these = "; not: " + ", ".join(bad) if bad else ""
        return Check("mirrors", "ok", "answering: " + ", ".join(good) + not_these), True
    return Check("mirrors", "warn", f"offline: none answers ({', '.join(bad)})", "fine once MNIST "
                 "is in the cache; else name your own: --mirror URL or TFCOURSE_MIRROR=URL"), False


def check_mnist(data_dir, reachable):
    """What a lesson then does, found with the lessons' own readers: --data-dir is read as given;
    from the cache a lesson deletes a damaged file and downloads what is missing."""
    from tfcourse import mnist
    if data_dir is not None:
        try:
            source = mnist.read_folder(data_dir)[1]
        except CourseError as error:
            detail, _, remedy = str(error).partition("\nRemedy: ")
            return Check("MNIST", "error", detail.replace("\n", " "), remedy)
        return Check("MNIST", "ok", f"verified {source}: pass --data-dir {data_dir} to lessons")
    cache = mnist.keras_cache_dir()
    npz, folder, damaged = cache / mnist.NPZ_NAME, cache / "mnist", []
    found = mnist._idx_files(folder)  # the file a lesson reads for each of the four
    try:
        if npz.is_file() and mnist.read_npz(npz):
            return Check("MNIST", "ok", f"{npz} (checksum verified)")
    except (OSError, ValueError) as error:
        damaged.append(str(error))
    try:
        if len(found) == 4:
            for stem in mnist.IDX_FILES:  # each raises if its file is damaged
                mnist.read_idx(found[stem], stem)
            return Check("MNIST", "ok", f"IDX files in {folder} (verified)")
    except (OSError, ValueError) as error:
        damaged.append(str(error))
    parent = next(p for p in [cache, *cache.parents] if p.exists())
    if not parent.is_dir() or not os.access(parent, os.W_OK):
        kind = "read-only" if parent.is_dir() else "a file"
        return Check("MNIST", "error", f"not verified in {cache}, which cannot be written "
                     f"({parent} is {kind}): a lesson cannot download MNIST there",
                     "set KERAS_HOME to a folder you can write to, or pass --data-dir FOLDER "
                     "(the course's MNIST_data/) to the lessons")
    if damaged:
        detail = f"damaged in {cache}: " + "; ".join(damaged)
        step = "the next MNIST lesson deletes the damaged file and downloads MNIST again"
    elif found:
        missing = [stem + ".gz" for stem in mnist.IDX_FILES if stem not in found]
        detail = f"incomplete in {folder}: missing {', '.join(missing)}"
        step = "the next MNIST lesson downloads MNIST (11 MB)"
    else:
        detail, step = f"not in {cache} yet", "the first MNIST lesson downloads it (11 MB)"
    if reachable:
        return Check("MNIST", "warn", f"{detail}: {step}")
    asked = ("no mirror answers" if reachable is False else
             f"mirrors not checked (--offline): {step} if one answers")
    return Check("MNIST", "warn" if reachable is None else "error", f"{detail}, and {asked}",
                 f"copy mnist.npz into {cache}/ or the four IDX files into {folder}/, or pass "
                 "--data-dir FOLDER (the course's MNIST_data/) or --mirror URL to the lessons")


def check_font():
    from tfcourse.plots import INSTALL_HINT, cjk_font
    name = cjk_font()
    if name:
        return Check("Chinese font", "ok", f"{name} (plots draw Chinese labels)")
    return Check("Chinese font", "warn", "none: plots show Chinese text as ?", INSTALL_HINT)


def main(argv=()):
    parser = command_parser(__doc__, "doctor")
    parser.add_argument("--offline", action="store_true", help="skip the mirror checks")
    parser.add_argument("--data-dir", type=Path, metavar="DIR", help="also verify MNIST in DIR")
    parser.add_argument("--mirror", metavar="URL", help="a MNIST mirror to check first")
    args = parser.parse_args(list(argv))
    started, tf, smi = time.monotonic(), {}, _nvidia_smi()
    # TensorFlow may see a GPU only with an NVIDIA driver or Apple's plugin: only then is it
    # started, in a child process, while the rest is checked (a child too slow leaves no "gpus").
    look = bool(smi and smi["gpus"]) or bool(_installed("tensorflow-metal")[1])
    version = _installed(*TF_DISTS)[1]
    if version:
        tf.update(version=version, **({} if look else {"gpus": []}))
    child = threading.Thread(target=_tensorflow_gpus, args=(tf, started + TF_SECONDS), daemon=True)
    if look:
        child.start()
    mirrors, reachable = check_mirrors(args.mirror, args.offline)
    checks = [check_python(), *check_packages()]
    if look:
        child.join(max(0.0, started + TF_SECONDS + 0.5 - time.monotonic()))
    checks += [check_gpu(dict(tf), smi), check_mnist(args.data_dir, reachable), mirrors,
               check_font()]
    sign = marks()
    print("python -m tfcourse doctor: is this machine ready for the course?")
    for check in checks:
        print(f"{sign[check.status]} {check.name}: {check.detail}")
        if check.remedy and check.status != "ok":
            print(f"    {sign['arrow']} {check.remedy}")
    errors, warnings = (sum(c.status == s for c in checks) for s in ("error", "warn"))
    print("\n" + (f"Not ready: {errors} to fix ({sign['error']})" if errors else "Ready")
          + (f", {warnings} warning(s) (!)" if warnings else "")
          + f". ({time.monotonic() - started:.1f} s)")
    return 1 if errors else 0
