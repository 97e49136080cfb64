"""The device flags (made in cli.parser), applied before TensorFlow creates its devices; a mistake
is one message, not a CUDA stack trace."""
import tensorflow as tf

from tfcourse._quiet import quiet_stderr
from tfcourse.errors import CourseError


def apply_device_flags(args):
    """Apply the device flags; return a short description such as 'CPU' or 'GPU: GPU:0'."""
    device, wanted = getattr(args, "device", "auto"), getattr(args, "gpus", None)
    limit = getattr(args, "memory_limit", None)
    with quiet_stderr():  # the first device query prints CUDA driver lines on CPU-only machines
        gpus = tf.config.list_physical_devices("GPU")
    if (device == "gpu" or wanted) and not gpus:
        found = ", ".join(d.name for d in tf.config.list_physical_devices())
        raise CourseError(
            f"A GPU was asked for (--device gpu / --gpus) but TensorFlow sees none; found: {found}."
            "\nRemedy: run with --device cpu, or install GPU support (Linux: pip install "
            "\"tensorflow[and-cuda]==2.21.0\"; Windows: WSL2) and check the driver with "
            "`nvidia-smi`; `python week09_gpu_transfer/9_0_check_gpu.py` tells more.")
    chosen = [] if device == "cpu" else gpus
    if wanted:
        indices = str(wanted).replace(",", " ").split()
        if not all(index.isdigit() and int(index) < len(gpus) for index in indices):
            raise CourseError(f"--gpus {wanted}: there is no such GPU. Found: "
                              f"{', '.join(g.name for g in gpus)} (indices 0..{len(gpus) - 1}).")
        chosen = [gpus[int(index)] for index in indices]
    try:  # each call raises RuntimeError once TensorFlow's devices exist
        if chosen != gpus:
            tf.config.set_visible_devices(chosen, "GPU")
        for gpu in chosen:
            if getattr(args, "memory_growth", False):
                tf.config.experimental.set_memory_growth(gpu, True)
            if limit:
                tf.config.set_logical_device_configuration(
                    gpu, [tf.config.LogicalDeviceConfiguration(memory_limit=limit)])
        if getattr(args, "threads", None):
            tf.config.threading.set_intra_op_parallelism_threads(args.threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(args.threads, 2))
    except RuntimeError:  # e.g. a second lesson run in one Python process, as the tests do
        raise CourseError("Device flags must be applied before TensorFlow starts; "
                          "run this lesson in a fresh Python process.") from None
    with quiet_stderr():
        logical_gpus = tf.config.list_logical_devices("GPU")
    if logical_gpus:
        return "GPU: " + ", ".join(g.name.replace("/device:", "") for g in logical_gpus)
    cpus = tf.config.list_logical_devices("CPU")
    return "CPU" if len(cpus) == 1 else f"CPU split into {len(cpus)} logical devices"
