"""Lesson 9-0 TensorFlow GPU版本安装与检查 — Check that TensorFlow uses your GPU.

第 9 周从安装 GPU 版 TensorFlow 开始。装好后运行本课：它打印 TensorFlow 的版本和编译信息（是否带
CUDA）、物理设备和逻辑设备、每块 GPU 的显存，以及同一个矩阵乘法在 CPU 和每块 GPU 上的速度
（GFLOP/s）。没有 GPU 时说明可能的原因和你的平台下一步该做什么。与视频的不同：视频手动安装
tensorflow-gpu、CUDA 和 cuDNN；现在 Linux 上 pip install "tensorflow[and-cuda]" 就带上 CUDA 库；
原生 Windows 从 TF 2.10 起没有 GPU 版，要用 WSL2。TF1 的 tf.ConfigProto(gpu_options=...) 变成
TF2 的 tf.config。

It prints the build, the devices, GPU memory and matmul GFLOP/s per device; without a GPU, why.
    python week09_gpu_transfer/9_0_check_gpu.py [--gpus 1 --memory-growth] [--platform windows]
    python week09_gpu_transfer/9_0_check_gpu.py --require-gpu   # exit status 1 without a GPU

Differences from the course (TF 1.x): `tf.ConfigProto(gpu_options=tf.GPUOptions(allow_growth=
True))` is `tf.config` now (set_visible_devices, set_memory_growth,
set_logical_device_configuration: every lesson's --gpus, --memory-growth, --memory-limit).
The GPU path is written from the docs and tested on a CPU.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the device flags, the run folder
import tensorflow as tf

import importlib.util
import platform
import subprocess
import time

parser = tfcourse.parser(__doc__, quick=dict(size=256, seconds=0.05))
parser.add_argument("--size", type=tfcourse.number(int, 1, 16384), default=2048, metavar="N",
                    help="N x N matrices, 1-16384 (default 2048)")
parser.add_argument("--seconds", type=tfcourse.number(float, 0, 60, low_open=True), default=1.0,
                    help="least time per benchmark, up to 60 (default 1)")
parser.add_argument("--platform", choices=["auto", "linux", "wsl", "windows", "macos"],
                    default="auto",
                    help="whose next steps to print when no GPU is found (default: this machine's)")
parser.add_argument("--require-gpu", action="store_true",
                    help="end with exit status 1 when no GPU is usable (for install scripts)")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick")
run = tfcourse.start(args, "week09_gpu_transfer/9_0_check_gpu.py")

# %% [markdown]
# ## 1. Which TensorFlow, built for which CUDA

# %%
info = tf.sysconfig.get_build_info()
print(f"TensorFlow {tf.__version__} (Python {platform.python_version()}, "
      f"{platform.system()} {platform.machine()})")
if info.get("is_cuda_build"):
    print(f"Built with CUDA {info.get('cuda_version', '?')} "
          f"and cuDNN {info.get('cudnn_version', '?')}")
else:
    print("Built WITHOUT CUDA: this TensorFlow uses only the CPU (or a plugin: tensorflow-metal).")

# %% [markdown]
# ## 2. Devices: physical (what exists) and logical (what TensorFlow made of them)
# The device flags (--gpus, --memory-growth, --memory-limit) were applied by `tfcourse.start`
# with `tf.config`, before TensorFlow created its logical devices.

# %%
with tfcourse.quiet_stderr():
    physical = tf.config.list_physical_devices()
    gpus = [d.name.replace("/device:", "") for d in tf.config.list_logical_devices("GPU")]
print("Physical devices: "
      + ", ".join(d.name.replace("/physical_device:", "") for d in physical))
print("Logical devices:  "
      + ", ".join(d.name.replace("/device:", "") for d in tf.config.list_logical_devices()))

# %% [markdown]
# ## 3. The GPUs and their memory (TensorFlow's view, then the driver's: nvidia-smi)

# %%
def nvidia_smi():
    """[(index, name, total MiB, used MiB, driver)]; [] if it fails; None when it is missing."""
    query = "--query-gpu=index,name,memory.total,memory.used,driver_version"
    try:
        result = subprocess.run(["nvidia-smi", query, "--format=csv,noheader,nounits"],
                                capture_output=True, text=True, timeout=20)
    except FileNotFoundError:  # not on the PATH: no NVIDIA driver
        return None
    except (OSError, subprocess.TimeoutExpired):
        return []
    if result.returncode != 0:
        return []
    return [tuple(part.strip() for part in line.split(","))
            for line in result.stdout.splitlines() if line]


smi = nvidia_smi()
for gpu in tf.config.list_physical_devices("GPU"):
    details = tf.config.experimental.get_device_details(gpu)
    capability = ".".join(map(str, details.get("compute_capability", ()))) or "?"
    print(f"{gpu.name.replace('/physical_device:', '')}: {details.get('device_name', 'GPU')}, "
          f"compute capability {capability}")
for index, name, total, used, driver in smi or []:
    print(f"  nvidia-smi GPU {index} {name}: {used} MiB used of {total} MiB (driver {driver})")

# %% [markdown]
# ## 4. The same matrix multiply on the CPU and on every GPU
# float16 on the GPUs too: what 9-3's --mixed-precision computes in.

# %%
def matmul_gflops(device, dtype, n, min_seconds):
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
        k, elapsed = 1, 0.0
        while elapsed < min_seconds and k < 1 << 16:  # twice as many products until long enough
            k *= 2
            start = time.perf_counter()
            repeat(tf.constant(k)).numpy()  # .numpy() waits until the device has finished
            elapsed = time.perf_counter() - start
        where = tf.matmul(a[:2], b[:, :2]).device
    return 2.0 * n ** 3 * k / elapsed / 1e9, where.split("device:")[-1]


n = args.size
print(f"\nMatrix multiply benchmark, {n} x {n} matrices "
      f"({2 * n ** 3 / 1e9:.2f} GFLOP per product):")
benchmarks = [("CPU:0", "float32")]
for gpu in gpus:
    benchmarks += [(gpu, "float32"), (gpu, "float16")]
speed = {}
for device, dtype in benchmarks:
    speed[device, dtype], where = matmul_gflops(device, dtype, n, args.seconds)
    print(f"  {device:8s} {dtype:8s} {speed[device, dtype]:10.1f} GFLOP/s   "
          f"(result computed on {where})")
    run.log(device=device, dtype=dtype, gflops=speed[device, dtype])
for gpu in gpus:
    cpu = speed["CPU:0", "float32"]
    peak = tf.config.experimental.get_memory_info(gpu)["peak"] / 2 ** 20
    print(f"  {gpu} float32 is {speed[gpu, 'float32'] / cpu:.1f}x the CPU, "
          f"float16 {speed[gpu, 'float16'] / cpu:.1f}x; memory taken: peak {peak:.0f} MiB")

# %% [markdown]
# ## 5. No GPU: why, and what to do on this platform

# %%
PIP = f'pip install "tensorflow[and-cuda]=={tf.__version__.split("-")[0]}"'
NEXT_STEPS = {
    "linux": ["Check the driver: `nvidia-smi` must list your GPU; if it is missing, install the "
              "NVIDIA driver, reboot.",
              f"Install TensorFlow with its CUDA libraries (CUDA and cuDNN come as pip packages): "
              f"{PIP}",
              "Run this script again: the GPU must be listed, its GFLOP/s well above the CPU's."],
    "wsl": ["Install the NVIDIA driver on Windows (not inside WSL); `nvidia-smi` in WSL must then "
            "list your GPU.",
            f"Inside WSL: {PIP}",
            "Run this script again inside WSL."],
    "windows": ["Native Windows has had no GPU build of TensorFlow since 2.10: on Windows, use the "
                "GPU via WSL2.",
                "In PowerShell as administrator: wsl --install, reboot; `nvidia-smi` in WSL must "
                "list your GPU.",
                f"In the WSL shell: {PIP}, then run this script there."],
    "macos": ["macOS has no CUDA. On Apple silicon `pip install tensorflow-metal` adds a GPU "
              "device (Apple's plugin).",
              "Run this script again."],
}
if gpus:
    print(f"\nOK: TensorFlow uses {len(gpus)} GPU(s). Choose one with --gpus 1 (or "
          "CUDA_VISIBLE_DEVICES=1), share it with --memory-growth or --memory-limit MB.")
elif tf.config.list_physical_devices("GPU"):
    print("\nThe GPU(s) exist but this run hid them (--device cpu or --gpus); run without those.")
else:
    print("\nNo GPU: TensorFlow sees none, everything runs on the CPU.")
    where = args.platform
    if where == "auto":
        where = {"Windows": "windows", "Darwin": "macos"}.get(platform.system(), "linux")
        if where == "linux" and "microsoft" in platform.release().lower():
            where = "wsl"
        if where in ("linux", "wsl"):  # the reason can be found on this machine
            if not info.get("is_cuda_build"):
                print("Why: this TensorFlow build has no CUDA support (tensorflow-cpu?).")
            elif smi is None:
                print("Why: `nvidia-smi` is not found, so no NVIDIA driver is installed "
                      "(or no NVIDIA GPU).")
            elif not smi:
                print("Why: `nvidia-smi` fails: the driver is not working "
                      "(reboot after installing it?).")
            elif importlib.util.find_spec("nvidia") is None:
                print("Why: the driver is there but the CUDA libraries are not "
                      "(the [and-cuda] extra is missing).")
    print(f"Next steps ({where}):")
    for number, step in enumerate(NEXT_STEPS[where], 1):
        print(f"  {number}. {step}")
    print("The CPU runs every lesson of this course; only the big models of weeks 8-10 are slow.")

# %%
run.finish(cpu_gflops=speed["CPU:0", "float32"], gpus=len(gpus))
if args.require_gpu and not gpus:
    raise tfcourse.CourseError("No usable GPU (--require-gpu).\n"
                               "Remedy: follow the next steps above, then run this again.")
