"""Lesson 9-0 TensorFlow GPU版本安装与检查 — Check that TensorFlow uses your GPU.

Week 9 starts with installing the GPU build. Run this script right after installing: it prints
  1. the TensorFlow version and how it was built (`tf.sysconfig.get_build_info()`: with CUDA or
     not, and for which CUDA / cuDNN versions),
  2. the physical devices TensorFlow found and the logical devices it made of them,
  3. each GPU's name, compute capability and memory (total/used from `nvidia-smi`, and what this
     process took, from `tf.config.experimental.get_memory_info`),
  4. a matrix-multiply benchmark with the same N x N matrices on the CPU and on every GPU, in
     GFLOP/s, and the device the result was computed on, so you see the GPU really did the work.
Without a GPU it says so, tells why as far as it can (a build without CUDA, no driver, no CUDA
libraries) and prints the next steps for your platform (`--platform` shows another's).

Run:
    python week09_gpu_transfer/9_0_check_gpu.py
    python week09_gpu_transfer/9_0_check_gpu.py --gpus 1 --memory-growth   # choose and share a GPU
    python week09_gpu_transfer/9_0_check_gpu.py --platform windows         # the steps for Windows

Differences from the course (TensorFlow 1.x, 2017):
  - The video installs `tensorflow-gpu` with a CUDA toolkit and cuDNN by hand. Today on Linux one
    command brings the matching CUDA and cuDNN as pip packages: pip install "tensorflow[and-cuda]".
    Native Windows has had no GPU build since TensorFlow 2.10: use WSL2.
  - TF1 chose devices and memory with `tf.ConfigProto(gpu_options=tf.GPUOptions(allow_growth=True,
    per_process_gpu_memory_fraction=0.5))` passed to `tf.Session`. TF2 uses `tf.config`
    (`set_visible_devices`, `set_memory_growth`, `set_logical_device_configuration`), which every
    script here applies for you through --gpus, --memory-growth and --memory-limit.
"""
import tfcourse  # quiet TensorFlow import, shared flags and device set-up
import tensorflow as tf

import importlib.util
import platform
import shutil
import subprocess
import time

parser = tfcourse.make_parser(__doc__)
parser.add_argument("--size", type=int, default=2048, metavar="N",
                    help="N for the N x N matrix multiply benchmark (default 2048; --quick: 256)")
parser.add_argument("--seconds", type=float, default=1.0,
                    help="time each benchmark for at least this long (default 1.0)")
parser.add_argument("--platform", choices=["auto", "linux", "wsl", "windows", "macos"], default="auto",
                    help="whose next steps to print when no GPU is found (default: this machine's)")
parser.add_argument("--require-gpu", action="store_true",
                    help="exit with status 1 when no GPU is usable (for install scripts)")

NEXT_STEPS = {
    "linux": [
        "Check the driver: `nvidia-smi` must list your GPU. If the command is missing, install the "
        "NVIDIA driver (your distribution's package, or nvidia.com) and reboot.",
        'Install TensorFlow with its CUDA libraries: pip install "tensorflow[and-cuda]=={version}" '
        "(CUDA and cuDNN come as pip packages; no CUDA toolkit install is needed).",
        "Run this script again: the GPU must be listed and its GFLOP/s well above the CPU's.",
    ],
    "wsl": [
        "Install the NVIDIA driver on Windows (not inside WSL); `nvidia-smi` in this WSL shell must "
        "then list your GPU.",
        'Inside WSL: pip install "tensorflow[and-cuda]=={version}".',
        "Run this script again inside WSL.",
    ],
    "windows": [
        "Native Windows has had no GPU build of TensorFlow since 2.10: on Windows the GPU is used "
        "through WSL2.",
        "In PowerShell as administrator: wsl --install (Ubuntu), reboot; keep the NVIDIA Windows driver "
        "up to date (`nvidia-smi` in the WSL shell must list your GPU).",
        'In the WSL shell: pip install "tensorflow[and-cuda]=={version}", then run this script there.',
    ],
    "macos": [
        "macOS has no CUDA. On Apple silicon, `pip install tensorflow-metal` adds a GPU device "
        "(Apple's Metal plugin); Intel Macs run TensorFlow on the CPU only.",
        "Run this script again: a GPU device should be listed.",
    ],
}


def this_platform():
    system = platform.system()
    if system == "Linux":
        return "wsl" if "microsoft" in platform.release().lower() else "linux"
    return {"Windows": "windows", "Darwin": "macos"}.get(system, "linux")


def nvidia_smi():
    """[(index, name, total MiB, used MiB, driver)] from nvidia-smi, or None without it."""
    if shutil.which("nvidia-smi") is None:
        return None
    try:
        result = subprocess.run(
            ["nvidia-smi", "--query-gpu=index,name,memory.total,memory.used,driver_version",
             "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return []
    return [tuple(part.strip() for part in line.split(",")) for line in result.stdout.splitlines() if line]


def matmul_gflops(device, n, dtype, min_seconds):
    """GFLOP/s of N x N matrix multiplies on `device`, and the device the result came from."""
    with tf.device(device):
        a = tf.random.normal([n, n], dtype=dtype)
        b = tf.random.normal([n, n], dtype=dtype)

        @tf.function
        def repeat(k):
            total = tf.constant(0.0)
            for _ in tf.range(k):  # each product feeds the sum, so none can be skipped
                total += tf.cast(tf.reduce_sum(tf.matmul(a, b)), tf.float32)
            return total

        repeat(tf.constant(1)).numpy()  # warm-up: tracing, kernel choice, memory allocation
        k = 1
        while True:
            start = time.perf_counter()
            repeat(tf.constant(k)).numpy()  # .numpy() waits until the device has finished
            elapsed = time.perf_counter() - start
            if elapsed >= min_seconds or k >= 1 << 16:
                break
            k = max(k * 2, int(k * 1.2 * min_seconds / max(elapsed, 1e-6)))
        where = tf.matmul(a[:2], b[:, :2]).device
    return 2.0 * n ** 3 * k / elapsed / 1e9, where


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    n = 256 if args.quick else args.size
    min_seconds = 0.05 if args.quick else args.seconds

    # ## 1. Which TensorFlow, built for which CUDA
    info = tf.sysconfig.get_build_info()
    print(f"TensorFlow {tf.__version__} (Python {platform.python_version()}, "
          f"{platform.system()} {platform.machine()})")
    if info.get("is_cuda_build"):
        print(f"Built with CUDA {info.get('cuda_version', '?')} and cuDNN {info.get('cudnn_version', '?')}"
              f" for compute capabilities {', '.join(info.get('cuda_compute_capabilities', []))}")
    elif info.get("is_rocm_build"):
        print(f"Built with ROCm {info.get('rocm_version', '?')} (AMD GPUs)")
    else:
        print("Built WITHOUT CUDA: this TensorFlow can only use the CPU (or a plugin such as tensorflow-metal).")

    # ## 2. Devices: physical (what exists) and logical (what TensorFlow made of them)
    with tfcourse.quiet_stderr():
        physical = tf.config.list_physical_devices()
        gpus = tf.config.list_logical_devices("GPU")
    print("Physical devices: " + ", ".join(d.name.replace("/physical_device:", "") for d in physical))
    print("Logical devices:  " + ", ".join(d.name.replace("/device:", "") for d in tf.config.list_logical_devices()))
    print(f"This run uses: {run.device}")

    # ## 3. The GPUs and their memory
    smi = nvidia_smi()
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        capability = ".".join(map(str, details.get("compute_capability", ()))) or "?"
        print(f"{gpu.name.replace('/physical_device:', '')}: {details.get('device_name', 'GPU')}, "
              f"compute capability {capability}")
    for index, name, total, used, driver in smi or []:
        print(f"  nvidia-smi GPU {index} {name}: {used} MiB used of {total} MiB (driver {driver})")

    # ## 4. The same matrix multiply on the CPU and on every GPU
    rows = [("CPU:0", "float32")] + [(g.name.replace("/device:", ""), dt) for g in gpus
                                      for dt in ("float32", "float16")]
    print(f"\nMatrix multiply benchmark, {n} x {n} matrices "
          f"({2 * n ** 3 / 1e9:.2f} GFLOP per product):")
    results = {}
    for device, dtype in rows:
        gflops, where = matmul_gflops(device, n, tf.as_dtype(dtype), min_seconds)
        results[(device, dtype)] = gflops
        print(f"  {device:8s} {dtype:8s} {gflops:10.1f} GFLOP/s   (result computed on {where.split('device:')[-1]})")
    cpu = results[("CPU:0", "float32")]
    for gpu in gpus:
        name = gpu.name.replace("/device:", "")
        print(f"  {name} float32 is {results[(name, 'float32')] / cpu:.1f}x the CPU; float16 "
              f"(what --mixed-precision uses) {results[(name, 'float16')] / cpu:.1f}x")
        memory = tf.config.experimental.get_memory_info(name)
        print(f"  {name} memory taken by this process: peak {memory['peak'] / 2 ** 20:.0f} MiB")
    if gpus and tf.config.experimental.tensor_float_32_execution_enabled():
        print("  (float32 products on Ampere and newer GPUs use TF32 tensor cores; "
              "tf.config.experimental.enable_tensor_float_32_execution(False) turns that off)")

    if gpus:
        print(f"\nOK: TensorFlow uses {len(gpus)} GPU(s). Choose one with --gpus 1 (or CUDA_VISIBLE_DEVICES=1), "
              "share it with --memory-growth or --memory-limit MB.")
        return 0

    # ## No GPU: why, and what to do on this platform
    if tf.config.list_physical_devices("GPU"):
        print("\nThe GPU(s) exist but this run hid them (--device cpu or --gpus); run without those flags.")
        return 1 if args.require_gpu else 0
    print("\nNo GPU: TensorFlow sees none, everything runs on the CPU.")
    where = this_platform() if args.platform == "auto" else args.platform
    if args.platform == "auto":
        if where in ("linux", "wsl") and not info.get("is_cuda_build"):
            print("Why: this TensorFlow build has no CUDA support (tensorflow-cpu?).")
        elif where in ("linux", "wsl") and smi is None:
            print("Why: `nvidia-smi` is not found, so no NVIDIA driver is installed (or no NVIDIA GPU).")
        elif where in ("linux", "wsl") and not smi:
            print("Why: `nvidia-smi` fails: the driver is not working (reboot after installing it?).")
        elif where in ("linux", "wsl") and importlib.util.find_spec("nvidia") is None:
            print("Why: the driver is there but the CUDA libraries are not (the [and-cuda] extra is missing).")
    print(f"Next steps ({where}):")
    for number, step in enumerate(NEXT_STEPS[where], 1):
        print(f"  {number}. {step.format(version=tf.__version__.split('-')[0])}")
    print("The CPU runs every lesson of this course; only the big models of weeks 8-10 are slow on it.")
    return 1 if args.require_gpu else 0


if __name__ == "__main__":
    tfcourse.run_main(main)
