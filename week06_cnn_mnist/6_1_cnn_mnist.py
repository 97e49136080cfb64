"""Lesson 6-1 卷积神经网络应用于MNIST数据集分类 — CNN on MNIST.

本课用卷积神经网络识别手写数字：两层 5x5 卷积（32、64 个卷积核）各接 2x2 最大池化，再接
1024 个神经元的全连接层、dropout（keep_prob 0.7）和 10 类输出；权值 truncated_normal(0.1)，
偏置 0.1，Adam 1e-4，每批 100 张，训练 21 个周期，每个周期后打印测试准确率，格式和视频一样。
与视频的不同：用 Keras 3 的层代替手写的 weight_variable/conv2d/max_pool_2x2；视频里 softmax
之后再算 softmax_cross_entropy_with_logits（两次 softmax），这里直接用 logits 计算损失。
多设备、混合精度见 9-3。

The lesson's network: conv 5x5x32 -> max-pool 2 -> conv 5x5x64 -> max-pool 2 -> fully connected
1024 -> dropout (keep_prob 0.7) -> fully connected 10, SAME padding, weights truncated_normal
(stddev 0.1), biases 0.1, Adam 1e-4, batches of 100, 21 epochs. It prints the layer table with
the notes' arithmetic (flatten (3136,) = 7*7*64, fc1 = 3136*1024 + 1024), then after each epoch
the test accuracy:

    Iter 0, Testing Accuracy= 0.8637        (learner's rerun in the notes; Iter 20: 0.991)

and draws conv1's 32 filters (`filters.png`) and one digit's maps per layer (`feature_maps.png`).

Run:
    python week06_cnn_mnist/6_1_cnn_mnist.py                         # downloads MNIST once
    python week06_cnn_mnist/6_1_cnn_mnist.py --data-dir MNIST_data   # the course's folder
    python week06_cnn_mnist/6_1_cnn_mnist.py --quick --data synthetic  # seconds, no data needed

Differences from the course code (TensorFlow 1.x):
  - Keras layers (`Conv2D`, `MaxPooling2D`, `Dense`, `Dropout`) with the lesson's initial values
    replace the hand-made helpers; `Dropout(0.3)` is keep_prob 0.7 (Keras takes the rate to DROP).
  - The loss is computed on the logits (the course applied softmax twice); argmax needs no
    softmax.
  - No placeholder/feed_dict/Session: `tf.data` batches, one `tf.function` call per step, and
    Adam's update compiled by XLA (`jit_compile=True`).
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import numpy as np
import tensorflow as tf

parser = tfcourse.parser(__doc__, epochs=21, batch_size=100, lr=1e-4, mnist=True,
                         quick=dict(epochs=1))
parser.add_argument("--keep-prob", type=tfcourse.probability, default=0.7,
                    help="dropout keep probability, above 0 up to 1 (lesson: 0.7)")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --epochs 3")
run = tfcourse.start(args, "week06_cnn_mnist/6_1_cnn_mnist.py")

# %% [markdown]
# ## Data
# 28x28x1 images in [0, 1] (the course reshaped its 784-vectors with tf.reshape), labels
# one-hot; a new order every epoch, 550 batches of 100.

# %%
mnist = tfcourse.load_mnist(args, one_hot=True, flatten=False)
train_data = (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
              .shuffle(len(mnist.x_train), seed=args.seed)
              .batch(args.batch_size, drop_remainder=True)
              .prefetch(tf.data.AUTOTUNE))
test_data = tf.data.Dataset.from_tensor_slices((mnist.x_test, mnist.y_test)).batch(1000)

# %% [markdown]
# ## Model
# conv 5x5x32 -> pool -> conv 5x5x64 -> pool -> fc 1024 -> dropout -> fc 10 (`logits`).
# SAME padding keeps 28x28 through a convolution; each pooling halves it: 28 -> 14 -> 7.

# %%
layers = tf.keras.layers
weights = dict(kernel_initializer=tf.keras.initializers.TruncatedNormal(stddev=0.1),
               bias_initializer=tf.keras.initializers.Constant(0.1))
model = tf.keras.Sequential([
    tf.keras.Input((28, 28, 1)),                                          # -> (28, 28, 1)
    layers.Conv2D(32, 5, padding="same", activation="relu", name="conv1",
                  **weights),                                             # -> (28, 28, 32)
    layers.MaxPooling2D(2, padding="same", name="pool1"),                 # -> (14, 14, 32)
    layers.Conv2D(64, 5, padding="same", activation="relu", name="conv2",
                  **weights),                                             # -> (14, 14, 64)
    layers.MaxPooling2D(2, padding="same", name="pool2"),                 # -> (7, 7, 64)
    layers.Flatten(name="flatten"),                                       # -> (3136,)
    layers.Dense(1024, activation="relu", name="fc1", **weights),         # -> (1024,)
    layers.Dropout(1 - args.keep_prob, name="dropout"),                   # keeps 70%
    layers.Dense(10, name="fc2", **weights),                              # logits -> (10,)
], name="cnn")

# The layer table: output shape and parameters, with the arithmetic the notes do by hand
print(f"{'layer':8s} {'output shape':16s} {'parameters':>10s}")
for layer in model.layers:
    arithmetic = ""
    if layer.weights:  # kernel h*w*in*out (or in*out) + one bias per output
        kernel_shape = "*".join(str(n) for n in layer.kernel.shape)
        arithmetic = f"  = {kernel_shape} + {layer.bias.shape[0]}"
    shape = str(tuple(layer.output.shape[1:]))
    print(f"{layer.name:8s} {shape:16s} {layer.count_params():10d}{arithmetic}")
print(f"total parameters: {model.count_params()}")

# %% [markdown]
# ## Loss and optimizer
# Cross-entropy on the logits (the course took a softmax first, then this: softmax twice).

# %%
def loss_fn(y, logits):
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))


optimizer = tf.keras.optimizers.Adam(learning_rate=args.lr)

# %% [markdown]
# ## Training
# One graph call per batch, the test accuracy after each epoch. XLA fuses Adam's ten or so
# passes over each weight (3.2M in fc1) into one: the step ran 1.10-1.15x faster on a CPU
# (bench/bench_week06_cnn.py); the layers stay on TensorFlow's own kernels.

# %%
@tf.function(jit_compile=True)
def apply_gradients(gradients):
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))


@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        logits = model(x, training=True)  # dropout on
        loss = loss_fn(y, logits)
    apply_gradients(tape.gradient(loss, model.trainable_variables))
    return loss


@tf.function
def count_correct(x, y):
    logits = model(x, training=False)  # dropout off (the course fed keep_prob 1.0)
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(logits, 1))
    return tf.reduce_sum(tf.cast(correct_prediction, tf.float32))


for epoch in range(args.epochs):
    for x, y in train_data:
        loss = train_step(x, y)
    run.check_finite(loss, f"epoch {epoch}")
    acc = sum(float(count_correct(x, y)) for x, y in test_data) / len(mnist.x_test)
    print("Iter " + str(epoch) + ", Testing Accuracy= " + str(round(acc, 4)), flush=True)
    run.log(epoch=epoch, test_accuracy=acc, loss=loss)

# %% [markdown]
# ## Evaluation
# The test accuracy after the last epoch is the lesson's number (notes: 0.991 after 21).

# %%
print(f"test accuracy after {args.epochs} epoch(s): {acc:.4f}")

# %% [markdown]
# ## Pictures: what the CNN learned
# conv1's 32 filters, and one test digit's feature maps after each conv and pool layer, each
# set of maps tiled into one picture with a blank line between them.

# %%
import matplotlib.pyplot as plt  # noqa: E402 -- here, where the pictures start


def mosaic(maps, rows):
    """(h, w, c) maps tiled as rows x (c / rows) in one picture, a blank pixel (NaN) between."""
    h, w, c = maps.shape
    cols = c // rows
    tiles = np.full((rows * (h + 1), cols * (w + 1)), np.nan, dtype=np.float32)
    for k in range(c):
        r, col = divmod(k, cols)
        tiles[r * (h + 1):r * (h + 1) + h, col * (w + 1):col * (w + 1) + w] = maps[:, :, k]
    return tiles


kernel = model.get_layer("conv1").kernel.numpy()[:, :, 0, :]  # (5, 5, 1, 32) -> (5, 5, 32)
fig, ax = plt.subplots(figsize=(8, 4.4))
ax.imshow(mosaic(kernel, rows=4), cmap="gray")
ax.set_title("conv1: the 32 learned 5x5 filters (light = positive weight)")
ax.axis("off")
tfcourse.save_figure(fig, run.path("filters.png"), show=args.show)

# %%
image, names = mnist.x_test[:1], ["conv1", "pool1", "conv2", "pool2"]
probe = tf.keras.Model(model.inputs[0], [model.get_layer(n).output for n in names])
fig, axes = plt.subplots(1, 5, figsize=(17, 4), gridspec_kw={"width_ratios": [1, 2, 2, 2, 2]})
axes[0].imshow(image[0, :, :, 0], cmap="gray")
axes[0].set_title(f"test image (label {int(np.argmax(mnist.y_test[0]))})")
for ax, name, maps in zip(axes[1:], names, probe(image)):
    h, w, c = maps.shape[1:]
    ax.imshow(mosaic(maps[0].numpy(), rows=4 if c == 32 else 8), cmap="viridis")
    ax.set_title(f"{name}: {c} maps of {h}x{w}")
for ax in axes:
    ax.axis("off")
fig.suptitle("Feature maps of one test image after each conv/pool layer (ReLU outputs)")
tfcourse.save_figure(fig, run.path("feature_maps.png"), show=args.show)

run.finish(test_accuracy=acc)
