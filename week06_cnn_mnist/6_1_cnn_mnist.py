"""Lesson 6-1 卷积神经网络应用于MNIST数据集分类 — CNN on MNIST.

The lesson's convolutional network: conv 5x5x32 -> max-pool 2 -> conv 5x5x64 -> max-pool 2 ->
fully connected 1024 -> dropout (keep_prob 0.7) -> fully connected 10, SAME padding, weights from
truncated_normal(stddev=0.1), biases 0.1, Adam 1e-4, batches of 100, 21 epochs. After each epoch
it prints the test accuracy like the video:

    Iter 0, Testing Accuracy= 0.8637        (learner's rerun in the notes; Iter 20: 0.991)

It also shows what the network learned: the layer shapes and parameter counts (the arithmetic the
notes do by hand, e.g. 7*7*64 = 3136 -> 1024), a picture of the first layer's 32 filters
(`filters.png`) and the feature maps of one test image after each conv/pool layer
(`feature_maps.png`), both in the run folder.

Run:
    python week06_cnn_mnist/6_1_cnn_mnist.py                          # the lesson (downloads MNIST once)
    python week06_cnn_mnist/6_1_cnn_mnist.py --data-dir MNIST_data    # the course's folder
    python week06_cnn_mnist/6_1_cnn_mnist.py --quick --data synthetic # seconds, no data needed
    python week06_cnn_mnist/6_1_cnn_mnist.py --mixed-precision        # bfloat16 on CPU, float16 on GPU
    python week06_cnn_mnist/6_1_cnn_mnist.py --strategy mirrored      # one replica per visible GPU
    python week06_cnn_mnist/6_1_cnn_mnist.py --logical-cpus 2 --strategy mirrored  # try it without GPUs
    TF_CONFIG='{"cluster": {"worker": ["host1:12345", "host2:12345"]}, "task": {"type": "worker", "index": 0}}' \\
        python week06_cnn_mnist/6_1_cnn_mnist.py --strategy multiworker   # on each machine, its own index

--batch-size is per replica: with N replicas each step trains on a global batch of N x 100
examples, so an epoch has 550/N steps (the lesson's 55000 images). --strategy multiworker cannot
be combined with --threads, --logical-cpus, --gpus or --memory-* (TensorFlow must not have started).
On a CPU with bfloat16 support --mixed-precision measured 1.45x faster per step here and
reached 0.9908 after 21 epochs (best 0.9929); float32 reached 0.9915.

Differences from the course code (TensorFlow 1.x):
  - Keras 3 layers (`Conv2D`, `MaxPooling2D`, `Dense`, `Dropout`) with the lesson's initial
    values replace the hand-made `weight_variable`/`conv2d`/`max_pool_2x2` helpers; `Dropout(0.3)`
    is the lesson's keep_prob 0.7 (Keras takes the rate to DROP). Conv2D and Dense come from
    `tfcourse.layers`: Keras's, with gradients that run faster on a CPU.
  - The course applies softmax and then `softmax_cross_entropy_with_logits` (softmax twice). Fixed:
    the loss is computed on the logits; softmax only where probabilities are wanted.
  - No placeholder/feed_dict/Session: batches come from `tf.data`, a `tf.function` graph runs 5
    steps per call, and Adam is Keras's on the course's fused kernel (`tfcourse.optimizers.Adam`).
    `python bench/bench_week06_cnn.py` times it against the course's loop on `tf.compat.v1`.
  - New: --mixed-precision, --strategy (MirroredStrategy / MultiWorkerMirroredStrategy), the
    layer table and the pictures of filters and feature maps.
"""
import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf

import json
import os
import time
import warnings

import numpy as np

parser = tfcourse.make_parser(__doc__, epochs=21, batch_size=100, lr=1e-4, mnist=True)
parser.add_argument("--keep-prob", type=float, default=0.7, help="dropout keep probability (lesson: 0.7)")
parser.add_argument("--mixed-precision", action="store_true",
                    help="compute in float16 (GPU) or bfloat16 (CPU), keep weights and the loss in float32")
parser.add_argument("--strategy", choices=["none", "mirrored", "multiworker"], default="none",
                    help="none (default); mirrored: one replica per visible GPU, or per logical CPU "
                         "(--logical-cpus N); multiworker: several machines, described by TF_CONFIG")


# tf.data may warn about its options when a distributed dataset is iterated; harmless.
warnings.filterwarnings("ignore", message="To make it possible to preserve tf.data options")


def make_strategy(name):
    """The tf.distribute strategy for --strategy (the default strategy is 'no distribution')."""
    if name == "mirrored":
        gpus = tf.config.list_logical_devices("GPU")
        if gpus:
            return tf.distribute.MirroredStrategy([d.name for d in gpus])
        cpus = tf.config.list_logical_devices("CPU")  # several only with --logical-cpus N
        # NCCL needs GPUs: on CPUs the gradients are summed on one device instead.
        return tf.distribute.MirroredStrategy([d.name for d in cpus],
                                              cross_device_ops=tf.distribute.ReductionToOneDevice())
    if name == "multiworker":
        try:
            cluster = json.loads(os.environ.get("TF_CONFIG") or "{}")
        except json.JSONDecodeError as error:
            raise tfcourse.CourseError(f"TF_CONFIG is not valid JSON ({error}).\nRemedy: see --help "
                                       "for an example with two workers.") from None
        if not cluster:
            print("Note: TF_CONFIG is not set, so MultiWorkerMirroredStrategy runs as one worker.")
        try:
            return tf.distribute.MultiWorkerMirroredStrategy()
        except (RuntimeError, ValueError) as error:
            raise tfcourse.CourseError(f"MultiWorkerMirroredStrategy could not start: {error}\n"
                                       "Remedy: check TF_CONFIG (cluster, task type and index) and "
                                       "run the script in a fresh process on every worker.") from None
    return tf.distribute.get_strategy()


def compute_policy(mixed_precision):
    if not mixed_precision:
        return "float32"
    return "mixed_float16" if tf.config.list_logical_devices("GPU") else "mixed_bfloat16"


def build_model(policy="float32", keep_prob=0.7):
    """The lesson's network; every layer computes in `policy`, the logits come out in float32."""
    layers = tf.keras.layers
    # tfcourse.layers.Conv2D and Dense are Keras's, with the same weights and outputs, and
    # gradients that run faster on a CPU (their docstring says how much, and why)
    fast = tfcourse.layers
    weights = dict(kernel_initializer=tf.keras.initializers.TruncatedNormal(stddev=0.1),
                   bias_initializer=tf.keras.initializers.Constant(0.1), dtype=policy)
    return tf.keras.Sequential([
        tf.keras.Input((28, 28, 1)),
        fast.Conv2D(32, 5, padding="same", activation="relu", name="conv1", **weights),    # -> (28, 28, 32)
        layers.MaxPooling2D(2, padding="same", name="pool1", dtype=policy),                # -> (14, 14, 32)
        fast.Conv2D(64, 5, padding="same", activation="relu", name="conv2", **weights),    # -> (14, 14, 64)
        layers.MaxPooling2D(2, padding="same", name="pool2", dtype=policy),                # -> (7, 7, 64)
        layers.Flatten(name="flatten", dtype=policy),                                      # -> (3136,)
        fast.Dense(1024, activation="relu", name="fc1", **weights),                        # -> (1024,)
        layers.Dropout(1 - keep_prob, name="dropout", dtype=policy),
        # float32 logits: softmax and the loss are not safe in 16 bits
        fast.Dense(10, name="fc2", **dict(weights, dtype="float32")),                      # -> (10,)
    ], name="cnn")


def print_layers(model):
    """Layer by layer: output shape and parameters, with the arithmetic the notes do by hand."""
    print(f"{'layer':8s} {'output shape':16s} {'parameters':>10s}")
    for layer in model.layers:
        shape = str(tuple(layer.output.shape[1:]))
        params = layer.count_params()
        how = ""
        if layer.weights:
            kernel, bias = layer.kernel.shape, layer.bias.shape
            how = f"  = {'*'.join(str(d) for d in kernel)} + {bias[0]}"
        print(f"{layer.name:8s} {shape:16s} {params:10d}{how}")
    print(f"total parameters: {model.count_params()}")


# Several training steps per graph call, as Keras's `steps_per_execution` does: between two calls
# Python fetches the next batch while the CPU cores wait (measured: 5 steps per call 3-7% faster).
STEPS_PER_CALL = 5


def make_train_steps(model, optimizer, strategy, global_batch):
    """Return train_steps(iterator, steps): that many training steps on the iterator's batches."""
    def train_step(x, y):
        with tf.GradientTape() as tape:
            prediction = model(x, training=True)  # logits, float32
            per_example = tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=prediction)
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
            scaled_loss = optimizer.scale_loss(loss)  # = loss unless float16 loss scaling
        gradients = tape.gradient(scaled_loss, model.trainable_variables)
        # = apply_gradients(zip(...)); with a strategy it sums the gradients of all replicas first
        optimizer.apply(gradients, model.trainable_variables)
        return loss

    @tf.function
    def train_steps(iterator, steps):
        for _ in range(steps):  # a Python loop: traced into `steps` copies of the step
            strategy.run(train_step, args=next(iterator))  # on every replica

    return train_steps


def main(argv=None):
    args = parser.parse_args(argv)
    if not 0 < args.keep_prob <= 1:
        raise tfcourse.CourseError(f"--keep-prob must be in (0, 1], not {args.keep_prob}.")
    strategy = None
    if args.strategy == "multiworker":
        # its collective ops must be set up before TensorFlow starts its devices (setup does that),
        # so the device flags that need a not-yet-started TensorFlow cannot be combined with it
        device_flags = [f for f in ("threads", "logical_cpus", "memory_limit", "memory_growth", "gpus")
                        if getattr(args, f)] + (["device"] if args.device == "cpu" else [])
        if device_flags:
            raise tfcourse.CourseError(
                "--strategy multiworker cannot be combined with --" + ", --".join(
                    f.replace("_", "-") for f in device_flags) + ".\n"
                "Remedy: leave those flags out; choose each worker's GPUs with CUDA_VISIBLE_DEVICES.")
        strategy = make_strategy("multiworker")
    run = tfcourse.setup(args, __file__)
    epochs = 2 if args.quick else args.epochs
    strategy = strategy or make_strategy(args.strategy)
    replicas = strategy.num_replicas_in_sync
    global_batch = args.batch_size * replicas  # --batch-size is per replica
    policy = compute_policy(args.mixed_precision)

    # ## Data: 28x28x1 images in [0, 1] (the course reshaped its 784-vectors with tf.reshape)
    mnist = tfcourse.load_mnist(args, one_hot=True, flatten=False)
    n_batch = len(mnist.x_train) // global_batch  # 550 steps per epoch with one replica
    train_data = (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
                  .shuffle(len(mnist.x_train), seed=args.seed)
                  .batch(global_batch, drop_remainder=True)
                  .prefetch(tf.data.AUTOTUNE))
    test_data = tf.data.Dataset.from_tensor_slices((mnist.x_test, mnist.y_test)).batch(1000)
    train_data = strategy.experimental_distribute_dataset(train_data)  # splits each batch per replica

    # ## Model and optimizer: created inside the strategy's scope so their variables are mirrored
    with strategy.scope():
        model = build_model(policy, args.keep_prob)
        # Keras's Adam on the fused kernel of the course's tf.train.AdamOptimizer (1 ms a step faster)
        optimizer = tfcourse.optimizers.Adam(learning_rate=args.lr)
        if policy == "mixed_float16":  # float16 gradients can underflow: scale the loss up, then back
            optimizer = tf.keras.optimizers.LossScaleOptimizer(optimizer)
    print_layers(model)
    train_steps = make_train_steps(model, optimizer, strategy, global_batch)

    @tf.function
    def count_correct(x, y):
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(model(x, training=False), 1))
        return tf.reduce_sum(tf.cast(correct_prediction, tf.float32))

    def accuracy():
        return sum(float(count_correct(x, y)) for x, y in test_data) / len(mnist.x_test)

    history, start, cpu_start = [], time.perf_counter(), time.process_time()
    for epoch in range(epochs):
        # 550 steps as 110 graph calls of 5 steps (a tf.data loop inside one tf.function per
        # epoch, a tf.while_loop, measured about 15% slower here: bench/bench_week06_cnn.py)
        batches = iter(train_data)
        for first in range(0, n_batch, STEPS_PER_CALL):
            train_steps(batches, min(STEPS_PER_CALL, n_batch - first))
        acc = accuracy()
        history.append(acc)
        print("Iter " + str(epoch) + ", Testing Accuracy= " + str(round(acc, 4)), flush=True)
    seconds, cpu_seconds = time.perf_counter() - start, time.process_time() - cpu_start

    where = (", ".join(strategy.extended.worker_devices) if args.strategy != "none"
             else "no tf.distribute strategy")
    print(f"{replicas} replica(s) ran ({where}); "
          f"global batch {global_batch}, {n_batch} steps per epoch; precision {policy}; device: {run.device}")
    print(f"trained {epochs} epochs in {seconds:.1f} s ({1000 * seconds / (epochs * n_batch):.1f} ms per step "
          f"including the test after each epoch; {cpu_seconds:.0f} s of CPU time on all cores); "
          f"final test accuracy {history[-1]:.4f}"
          + (" on SYNTHETIC digits" if mnist.synthetic else ""))

    # ## What the CNN learned: the first layer's filters and one image's feature maps
    import matplotlib.pyplot as plt
    kernel = model.get_layer("conv1").kernel.numpy()[:, :, 0, :]  # (5, 5, 32)
    fig, axes = plt.subplots(4, 8, figsize=(8, 4.4))
    for i, ax in enumerate(axes.flat):
        ax.imshow(kernel[:, :, i], cmap="gray")
        ax.set_title(str(i), fontsize=7)
        ax.axis("off")
    fig.suptitle("conv1: the 32 learned 5x5 filters (light = positive weight)")
    tfcourse.save_figure(fig, run.path("filters.png"), show=args.show)

    image = mnist.x_test[:1]
    names = ["conv1", "pool1", "conv2", "pool2"]
    probe = tf.keras.Model(model.inputs[0], [model.get_layer(n).output for n in names])
    maps = [np.asarray(m[0], dtype=np.float32) for m in probe(image)]
    fig, axes = plt.subplots(1, 5, figsize=(17, 4), gridspec_kw={"width_ratios": [1, 2, 2, 2, 2]})
    axes[0].imshow(image[0, :, :, 0], cmap="gray")
    axes[0].set_title(f"test image (label {int(np.argmax(mnist.y_test[0]))})")
    for ax, name, fmap in zip(axes[1:], names, maps):
        h, w, c = fmap.shape
        rows = 4 if c == 32 else 8
        # tile the c channels into a rows x (c/rows) mosaic, one pixel of gap between maps
        tiles = np.full((rows * (h + 1), (c // rows) * (w + 1)), np.nan, dtype=np.float32)
        for k in range(c):
            r, col = divmod(k, c // rows)
            tiles[r * (h + 1):r * (h + 1) + h, col * (w + 1):col * (w + 1) + w] = fmap[:, :, k]
        ax.imshow(tiles, cmap="viridis")
        ax.set_title(f"{name}: {c} maps of {h}x{w}")
    for ax in axes:
        ax.axis("off")
    fig.suptitle("Feature maps of one test image after each conv/pool layer (ReLU outputs)")
    tfcourse.save_figure(fig, run.path("feature_maps.png"), show=args.show)
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
