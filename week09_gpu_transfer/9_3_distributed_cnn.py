"""Lesson 9-3 多设备分布式训练与混合精度 — The 6-1 CNN on several devices, in mixed precision.

本课把第 6 周的卷积网络（6-1）放到多个设备上训练：MirroredStrategy 在每个 GPU（没有 GPU 时在
--logical-cpus 切出的逻辑 CPU）上各放一份模型，每步把一批数据分给各副本，再把梯度加起来；
MultiWorkerMirroredStrategy 把同样的事情扩展到多台机器（TF_CONFIG 描述集群）。--mixed-precision
用 16 位计算、32 位保存权值：GPU 上 float16，CPU 上 bfloat16；bfloat16 只有在 CPU 有相应指令
（AMX 或 AVX512_BF16）时才更快，本课会检查并说明。视频里没有这一课。

Each step splits the global batch (replicas x --batch-size) over the replicas, sums their
gradients and updates once; per epoch, 6-1's line (`Iter 20, Testing Accuracy= 0.991`).

    python week09_gpu_transfer/9_3_distributed_cnn.py --quick --logical-cpus 2  # 2 replicas
    python week09_gpu_transfer/9_3_distributed_cnn.py --mixed-precision
Several machines, each with the code, the data and its own task index (start all; 0 is chief):
    export TF_CONFIG='{"cluster": {"worker": ["10.0.0.1:12345", "10.0.0.2:12345"]},
                       "task": {"type": "worker", "index": 0}}'
    python week09_gpu_transfer/9_3_distributed_cnn.py --strategy multiworker --out runs/worker0

Differences from the course code: no such lesson in the course. The GPU paths (NCCL, float16
loss scaling) are written from the TensorFlow guides, tested on CPUs only (split CPU, bfloat16).
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import tensorflow as tf

import time
from pathlib import Path

parser = tfcourse.parser(__doc__, epochs=21, batch_size=100, lr=1e-4, mnist=True,
                         quick=dict(epochs=1))
parser.add_argument("--strategy", choices=["mirrored", "multiworker"], default="mirrored",
                    help="mirrored (default): one replica per GPU or logical CPU; "
                         "multiworker: the machines in TF_CONFIG")
parser.add_argument("--mixed-precision", action="store_true",
                    help="compute in float16 (GPU) or bfloat16 (CPU); weights, loss in float32")
parser.add_argument("--logical-cpus", type=tfcourse.number(int, 1, 64), metavar="N",
                    help="without GPUs: split the CPU into N logical devices, one replica each")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick")

# %% [markdown]
# ## The strategy: where the replicas of the model live
# Devices are configured before TensorFlow starts them (the first op starts them): the CPU split
# into logical devices, and MultiWorkerMirroredStrategy, which reads the cluster from TF_CONFIG
# (without one it runs as a single worker). So both come before `tfcourse.start`, which applies
# the device flags; with multiworker those flags would start the devices, so they are refused.

# %%
strategy = None
if args.strategy == "multiworker":
    clash = []
    for flag in ("threads", "logical_cpus", "memory_limit", "memory_growth", "gpus"):
        if getattr(args, flag):
            clash.append("--" + flag.replace("_", "-"))
    if clash:
        raise tfcourse.CourseError(
            f"--strategy multiworker cannot be combined with {', '.join(clash)}.\n"
            "Remedy: leave them out; pick each worker's GPUs with CUDA_VISIBLE_DEVICES.")
    try:
        strategy = tf.distribute.MultiWorkerMirroredStrategy()
    except (RuntimeError, ValueError) as error:  # ValueError: also TF_CONFIG that is not JSON
        raise tfcourse.CourseError(
            f"MultiWorkerMirroredStrategy could not start from TF_CONFIG: {error}\n"
            "Remedy: TF_CONFIG must be JSON like the example in --help (cluster, task type and "
            "index); start each worker in a fresh process.") from None
elif args.logical_cpus:  # N logical CPUs, for MirroredStrategy on a machine without GPUs
    try:
        tf.config.set_logical_device_configuration(
            tf.config.list_physical_devices("CPU")[0],
            [tf.config.LogicalDeviceConfiguration()] * args.logical_cpus)
    except RuntimeError:  # e.g. the lesson's cells run a second time in one notebook kernel
        raise tfcourse.CourseError("--logical-cpus must be applied before TensorFlow starts; "
                                   "run this lesson in a fresh Python process.") from None
run = tfcourse.start(args, "week09_gpu_transfer/9_3_distributed_cnn.py")  # --threads N, ...
gpus = tf.config.list_logical_devices("GPU")
if strategy is None and gpus:  # all visible GPUs, NCCL all-reduce between them
    strategy = tf.distribute.MirroredStrategy()
elif strategy is None:  # one replica per logical CPU (several with --logical-cpus N)
    cpus = [device.name for device in tf.config.list_logical_devices("CPU")]
    strategy = tf.distribute.MirroredStrategy(
        cpus, cross_device_ops=tf.distribute.ReductionToOneDevice())
global_batch = args.batch_size * strategy.num_replicas_in_sync  # --batch-size is per replica

# %% [markdown]
# ## Precision: 16-bit compute where the device has it
# The CPU's instruction sets (Linux names them in /proc/cpuinfo) say whether bfloat16 runs in
# hardware; this is checked, not promised.

# %%
policy = "float32"
if args.mixed_precision and gpus:
    policy = "mixed_float16"
    note = "float16 is fast on GPUs with tensor cores (compute capability 7.0 or more)"
elif args.mixed_precision:
    policy = "mixed_bfloat16"
    try:
        cpu_flags = set(Path("/proc/cpuinfo").read_text().split()) & {"amx_bf16", "avx512_bf16"}
    except OSError:
        cpu_flags = None
    if cpu_flags is None:
        note = "no /proc/cpuinfo to check: compare the ms per step with and without it"
    elif cpu_flags:
        note = (f"this CPU has {' and '.join(sorted(cpu_flags))}: bfloat16 runs in hardware, "
                "often faster than float32")
    else:
        note = ("this CPU has no amx_bf16/avx512_bf16: bfloat16 is emulated, likely no faster "
                "than float32")
if args.mixed_precision:
    print(f"precision {policy}: {note}")

# %% [markdown]
# ## Data: each global batch is split into one slice per replica

# %%
mnist = tfcourse.load_mnist(args, one_hot=True, flatten=False)  # images (n, 28, 28, 1)
n_batch = len(mnist.x_train) // global_batch  # 550 steps per epoch with one replica
if n_batch == 0:
    raise tfcourse.CourseError(
        f"A global batch of {global_batch} ({args.batch_size} per replica x "
        f"{strategy.num_replicas_in_sync} replicas) is more than the {len(mnist.x_train)} "
        f"training images.\nRemedy: a smaller --batch-size, at most "
        f"{len(mnist.x_train) // strategy.num_replicas_in_sync}.")
train_data = (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
              .shuffle(len(mnist.x_train), seed=args.seed)
              .batch(global_batch, drop_remainder=True)
              .prefetch(tf.data.AUTOTUNE))
train_data = strategy.experimental_distribute_dataset(train_data)
test_data = tf.data.Dataset.from_tensor_slices((mnist.x_test, mnist.y_test)).batch(1000)

# %% [markdown]
# ## Model: 6-1's network, built inside the strategy's scope
# Its variables are then mirrored on every replica. Every layer computes in `policy`; the logits
# come out in float32.

# %%
init = dict(kernel_initializer=tf.keras.initializers.TruncatedNormal(stddev=0.1),
            bias_initializer=tf.keras.initializers.Constant(0.1))
layers = tf.keras.layers
with strategy.scope():
    model = tf.keras.Sequential([
        tf.keras.Input((28, 28, 1)),
        layers.Conv2D(32, 5, padding="same", activation="relu", name="conv1", dtype=policy,
                      **init),                                              # -> (28, 28, 32)
        layers.MaxPooling2D(2, padding="same", name="pool1", dtype=policy),  # -> (14, 14, 32)
        layers.Conv2D(64, 5, padding="same", activation="relu", name="conv2", dtype=policy,
                      **init),                                              # -> (14, 14, 64)
        layers.MaxPooling2D(2, padding="same", name="pool2", dtype=policy),  # -> (7, 7, 64)
        layers.Flatten(name="flatten", dtype=policy),                       # -> (3136,)
        layers.Dense(1024, activation="relu", name="fc1", dtype=policy, **init),  # -> (1024,)
        layers.Dropout(0.3, name="dropout", dtype=policy),                  # keep_prob 0.7
        layers.Dense(10, name="fc2", dtype="float32", **init),              # logits -> (10,)
    ], name="cnn")
conv1, fc2 = model.get_layer("conv1"), model.get_layer("fc2")
print(f"conv1 computes in {conv1.compute_dtype} and keeps its weights in {conv1.kernel.dtype}; "
      f"fc2 (the logits) computes in {fc2.compute_dtype}")

# %% [markdown]
# ## Loss and optimizer
# Each replica averages its loss over the GLOBAL batch, so the summed gradients are the mean.
# float16 gradients can underflow: the loss is scaled up, and the gradients back down.

# %%
with strategy.scope():
    optimizer = tf.keras.optimizers.Adam(learning_rate=args.lr)
    if policy == "mixed_float16":
        optimizer = tf.keras.optimizers.LossScaleOptimizer(optimizer)


def replica_step(x, y):  # runs on every replica with its slice of the batch
    with tf.GradientTape() as tape:
        logits = model(x, training=True)
        per_example = tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits)
        loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
        scaled_loss = optimizer.scale_loss(loss)  # = loss, except with float16 loss scaling
    gradients = tape.gradient(scaled_loss, model.trainable_variables)
    optimizer.apply(gradients, model.trainable_variables)  # the replicas' gradients, summed
    return loss


@tf.function
def train_step(x, y):
    losses = strategy.run(replica_step, args=(x, y))
    return strategy.reduce(tf.distribute.ReduceOp.SUM, losses, axis=None)


@tf.function
def count_correct(x, y):  # on the first replica's variables (all replicas hold the same)
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(model(x, training=False), 1))
    return tf.reduce_sum(tf.cast(correct_prediction, tf.float32))

# %% [markdown]
# ## Training: one line per epoch, as 6-1

# %%
for epoch in range(args.epochs):
    start = time.perf_counter()
    for x, y in train_data:
        loss = train_step(x, y)
    ms_per_step = 1000 * (time.perf_counter() - start) / n_batch  # epoch 0 includes tracing
    run.check_finite(loss, f"epoch {epoch}")
    acc = sum(float(count_correct(x, y)) for x, y in test_data) / len(mnist.x_test)
    print("Iter " + str(epoch) + ", Testing Accuracy= " + str(round(acc, 4)), flush=True)
    run.log(epoch=epoch, test_accuracy=acc, loss=float(loss))

# %% [markdown]
# ## Evaluation: where it ran, and how fast

# %%
print(f"{strategy.num_replicas_in_sync} replica(s) ran "
      f"({', '.join(strategy.extended.worker_devices)}); global batch {global_batch}, "
      f"{n_batch} steps per epoch; precision {policy}; last epoch {ms_per_step:.1f} ms per step")
run.finish(test_accuracy=acc)
