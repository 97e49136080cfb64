"""Lesson 9-0 TensorFlow GPU版本安装与检查 — Check that TensorFlow uses your GPU.

第 9 周从安装 GPU 版 TensorFlow 开始。装好后运行本脚本：它打印 TensorFlow 的版本和编译信息（是否带
CUDA）、物理设备和逻辑设备、每块 GPU 的显存，以及同一个矩阵乘法在 CPU 和每块 GPU 上的速度（GFLOP/s）。
没有 GPU 时说明可能的原因和你的平台下一步该做什么。与视频的不同：视频手动安装 tensorflow-gpu、CUDA 和
cuDNN；现在 Linux 上 pip install "tensorflow[and-cuda]" 就带上 CUDA 库；原生 Windows 从 TF 2.10 起
没有 GPU 版，要用 WSL2。TF1 的 tf.ConfigProto(gpu_options=...) 变成 TF2 的 tf.config。

It prints the build, the devices, GPU memory and matmul GFLOP/s per device; without a GPU, why.
    python week09_gpu_transfer/9_0_check_gpu.py [--gpus 1 --memory-growth] [--platform windows]

Differences from the course (TF 1.x): `tf.ConfigProto(gpu_options=tf.GPUOptions(allow_growth=True))`
is `tf.config` now (set_visible_devices, set_memory_growth, set_logical_device_configuration: every
lesson's --gpus, --memory-growth, --memory-limit). GPU path written from the docs, tested on a CPU.
"""
import tfcourse  # quiet TensorFlow import, shared flags and device set-up
import tensorflow as tf

import importlib.util
import platform
import subprocess
import time

parser = tfcourse.make_parser(__doc__, quick=dict(size=256, seconds=0.05))
parser.add_argument("--size", type=tfcourse.positive_int, default=2048, metavar="N", help="N x N matrices")
parser.add_argument("--seconds", type=tfcourse.positive_float, default=1.0, help="least time per benchmark")
parser.add_argument("--platform", choices=["auto", "linux", "wsl", "windows", "macos"], default="auto",
                    help="whose next steps to print when no GPU is found (default: this machine's)")
parser.add_argument("--require-gpu", action="store_true", help="exit with status 1 without a usable GPU")

PIP = 'pip install "tensorflow[and-cuda]=={version}"'
NEXT_STEPS = {
    "linux": ["Check the driver: `nvidia-smi` must list your GPU; if it is missing, install the NVIDIA driver, reboot.",
              f"Install TensorFlow with its CUDA libraries (CUDA and cuDNN come as pip packages): {PIP}",
              "Run this script again: the GPU must be listed and its GFLOP/s well above the CPU's."],
    "wsl": ["Install the NVIDIA driver on Windows (not inside WSL); `nvidia-smi` in WSL must then list your GPU.",
            f"Inside WSL: {PIP}", "Run this script again inside WSL."],
    "windows": ["Native Windows has had no GPU build of TensorFlow since 2.10: on Windows, use the GPU via WSL2.",
                "In PowerShell as administrator: wsl --install, reboot; `nvidia-smi` in WSL must list your GPU.",
                f"In the WSL shell: {PIP}, then run this script there."],
    "macos": ["macOS has no CUDA. On Apple silicon `pip install tensorflow-metal` adds a GPU device (Apple's plugin).",
              "Run this script again."],
}


def nvidia_smi():
    """[(index, name, total MiB, used MiB, driver)] from nvidia-smi; [] if it fails; None without it."""
    try:
        result = subprocess.run(["nvidia-smi", "--query-gpu=index,name,memory.total,memory.used,driver_version",
                                 "--format=csv,noheader,nounits"], capture_output=True, text=True, timeout=20)
    except FileNotFoundError:  # not on the PATH: no NVIDIA driver
        return None
    except (OSError, subprocess.TimeoutExpired):
        return []
    return [tuple(part.strip() for part in line.split(",")) for line in result.stdout.splitlines()
            if line and result.returncode == 0]


def matmul_gflops(device, dtype, n, min_seconds):
    """GFLOP/s of N x N matrix multiplies on `device`, and the device the result came from."""
    with tf.device(device):
        a, b = tf.random.normal([n, n], dtype=dtype), tf.random.normal([n, n], dtype=dtype)

        @tf.function
        def repeat(k):
            total = tf.constant(0.0)
            for _ in tf.range(k):  # each product feeds the sum, so none can be skipped
                total += tf.cast(tf.reduce_sum(tf.matmul(a, b)), tf.float32)
            return total

        repeat(tf.constant(1)).numpy()  # warm-up: tracing, kernel choice, memory allocation
        k, elapsed = 1, 0.0
        while elapsed < min_seconds and k < 1 << 16:  # twice as many products until it lasts long enough
            k *= 2
            start = time.perf_counter()
            repeat(tf.constant(k)).numpy()  # .numpy() waits until the device has finished
            elapsed = time.perf_counter() - start
        where = tf.matmul(a[:2], b[:, :2]).device
    return 2.0 * n ** 3 * k / elapsed / 1e9, where.split("device:")[-1]


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)

    # ## 1. Which TensorFlow, built for which CUDA
    info = tf.sysconfig.get_build_info()
    print(f"TensorFlow {tf.__version__} (Python {platform.python_version()}, {platform.system()} {platform.machine()})")
    print(f"Built with CUDA {info.get('cuda_version', '?')} and cuDNN {info.get('cudnn_version', '?')}" if info.get(
        "is_cuda_build") else "Built WITHOUT CUDA: this TensorFlow uses only the CPU (or a plugin: tensorflow-metal).")

    # ## 2. Devices: physical (what exists) and logical (what TensorFlow made of them)
    with tfcourse.quiet_stderr():
        physical = tf.config.list_physical_devices()
        gpus = [d.name.replace("/device:", "") for d in tf.config.list_logical_devices("GPU")]
    print("Physical devices: " + ", ".join(d.name.replace("/physical_device:", "") for d in physical))
    print("Logical devices:  " + ", ".join(d.name.replace("/device:", "") for d in tf.config.list_logical_devices()))

    # ## 3. The GPUs and their memory
    smi = nvidia_smi()
    for gpu in tf.config.list_physical_devices("GPU"):
        details = tf.config.experimental.get_device_details(gpu)
        print(f"{gpu.name.replace('/physical_device:', '')}: {details.get('device_name', 'GPU')}, compute "
              f"capability {'.'.join(map(str, details.get('compute_capability', ()))) or '?'}")
    for index, name, total, used, driver in smi or []:
        print(f"  nvidia-smi GPU {index} {name}: {used} MiB used of {total} MiB (driver {driver})")

    # ## 4. The same matrix multiply on the CPU and on every GPU
    n = args.size
    print(f"\nMatrix multiply benchmark, {n} x {n} matrices ({2 * n ** 3 / 1e9:.2f} GFLOP per product):")
    speed = {}  # float16 on GPUs too: what --mixed-precision uses (9-3)
    for device, dtype in [("CPU:0", "float32")] + [(gpu, dt) for gpu in gpus for dt in ("float32", "float16")]:
        speed[device, dtype], where = matmul_gflops(device, dtype, n, args.seconds)
        print(f"  {device:8s} {dtype:8s} {speed[device, dtype]:10.1f} GFLOP/s   (result computed on {where})")
        run.record(device=device, dtype=dtype, gflops=speed[device, dtype])
    for gpu in gpus:
        print(f"  {gpu} float32 is {speed[gpu, 'float32'] / speed['CPU:0', 'float32']:.1f}x the CPU, float16 "
              f"{speed[gpu, 'float16'] / speed['CPU:0', 'float32']:.1f}x; memory taken: peak "
              f"{tf.config.experimental.get_memory_info(gpu)['peak'] / 2 ** 20:.0f} MiB")

    # ## No GPU: why, and what to do on this platform
    if gpus:
        print(f"\nOK: TensorFlow uses {len(gpus)} GPU(s). Choose one with --gpus 1 (or CUDA_VISIBLE_DEVICES=1), "
              "share it with --memory-growth or --memory-limit MB.")
    elif tf.config.list_physical_devices("GPU"):
        print("\nThe GPU(s) exist but this run hid them (--device cpu or --gpus); run without those flags.")
    else:
        print("\nNo GPU: TensorFlow sees none, everything runs on the CPU.")
        where = args.platform if args.platform != "auto" else {"Windows": "windows", "Darwin": "macos"}.get(
            platform.system(), "wsl" if "microsoft" in platform.release().lower() else "linux")
        if args.platform == "auto" and where in ("linux", "wsl"):
            if not info.get("is_cuda_build"):
                print("Why: this TensorFlow build has no CUDA support (tensorflow-cpu?).")
            elif smi is None:
                print("Why: `nvidia-smi` is not found, so no NVIDIA driver is installed (or no NVIDIA GPU).")
            elif not smi:
                print("Why: `nvidia-smi` fails: the driver is not working (reboot after installing it?).")
            elif importlib.util.find_spec("nvidia") is None:
                print("Why: the driver is there but the CUDA libraries are not (the [and-cuda] extra is missing).")
        print(f"Next steps ({where}):")
        for number, step in enumerate(NEXT_STEPS[where], 1):
            print(f"  {number}. {step.format(version=tf.__version__.split('-')[0])}")
        print("The CPU runs every lesson of this course; only the big models of weeks 8-10 are slow on it.")
    run.finish(cpu_gflops=speed["CPU:0", "float32"], gpus=len(gpus))
    return 1 if args.require_gpu and not gpus else 0


if __name__ == "__main__":
    tfcourse.run_main(main)
