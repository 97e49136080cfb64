"""The device flags (made in cli.parser), applied before TensorFlow creates its devices; a mistake
is one message, not a CUDA stack trace."""
import tensorflow as tf

from tfcourse._quiet import quiet_stderr
from tfcourse.errors import CourseError


def apply_device_flags(args):
    """Apply the device flags; return a short description such as 'CPU' or 'GPU: GPU:0'."""
    device, wanted = getattr(args, "device", "auto"), getattr(args, "gpus", None)
    growth, limit = getattr(args, "memory_growth", False), getattr(args, "memory_limit", None)
    threads, logical_cpus = getattr(args, "threads", None), getattr(args, "logical_cpus", None)
    with quiet_stderr():  # the first device query prints CUDA driver lines on CPU-only machines
        gpus = tf.config.list_physical_devices("GPU")
    if (device == "gpu" or wanted) and not gpus:
        found = ", ".join(d.name for d in tf.config.list_physical_devices()) or "none"
        raise CourseError(
            f"A GPU was asked for (--device gpu / --gpus) but TensorFlow sees none; found: {found}."
            "\nRemedy: run without --device gpu (or with --device cpu), or install GPU support "
            "(Linux: pip install \"tensorflow[and-cuda]==2.21.0\"; Windows: use WSL2) and check "
            "the driver with `nvidia-smi`. `python week09_gpu_transfer/9_0_check_gpu.py` tells "
            "more.")
    chosen = [] if device == "cpu" else gpus
    if wanted:
        indices = str(wanted).replace(",", " ").split()
        if not all(index.isdigit() and int(index) < len(gpus) for index in indices):
            raise CourseError(f"--gpus {wanted}: there is no such GPU. Found: "
                              f"{', '.join(g.name for g in gpus)} (indices 0..{len(gpus) - 1}).")
        chosen = [gpus[int(index)] for index in indices]
    if (growth or limit) and not gpus:
        print("Note: --memory-growth/--memory-limit only apply to GPUs; none is present, so they "
              "are ignored.")
    try:  # each call raises RuntimeError once TensorFlow's devices exist
        if gpus and chosen != gpus:
            tf.config.set_visible_devices(chosen, "GPU")
        for gpu in chosen:
            if growth:
                tf.config.experimental.set_memory_growth(gpu, True)
            if limit:
                tf.config.set_logical_device_configuration(
                    gpu, [tf.config.LogicalDeviceConfiguration(memory_limit=limit)])
        if logical_cpus and logical_cpus > 1:
            cpu = tf.config.list_physical_devices("CPU")[0]
            split = [tf.config.LogicalDeviceConfiguration()] * logical_cpus
            tf.config.set_logical_device_configuration(cpu, split)
        if threads:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(min(threads, 2))
    except RuntimeError:  # e.g. a second lesson run in one Python process, as the tests do
        raise CourseError("Device flags must be applied before TensorFlow starts; "
                          "run this lesson in a fresh Python process.") from None
    with quiet_stderr():
        logical_gpus = tf.config.list_logical_devices("GPU")
    if logical_gpus:
        return "GPU: " + ", ".join(g.name.replace("/device:", "") for g in logical_gpus)
    cpus = tf.config.list_logical_devices("CPU")
    return "CPU" if len(cpus) == 1 else f"CPU split into {len(cpus)} logical devices"
