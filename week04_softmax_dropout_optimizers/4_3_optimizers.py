"""Lesson 4-3 优化器 — optimizers: 3-2's model trained with Adam.

本课讲优化器。这一课的程序把 4-1 的模型（784 -> 10 softmax，W、b 从零开始，交叉熵，每批 100）
换成 Adam 优化器（学习率 1e-2）训练 21 个周期，每个周期后打印测试准确率。与视频的不同：损失函数
用 logits；视频的 0.9316 来自两次 softmax 的写法（有界的损失让 Adam 不把权重推得太大），
加 --double-softmax 可以复现视频的结果。课上比较的七种优化器和“长峡谷”“鞍点”动画在 4-3b。

Lesson 4-1's model (784 -> 10 softmax, zero-initialised, cross-entropy, batches of 100) trained
with Adam, learning rate 1e-2, for 21 epochs. It prints, like the video:

    Iter 0,Testing Accuracy 0.9165        (teacher's saved output; Iter 20: 0.9316, peak 0.9338)

The lesson also compares SGD, Momentum, NAG, Adagrad, RMSprop, Adadelta and Adam, on MNIST and on
a long valley and a saddle: that is lesson 4-3b, `4_3b_optimizer_race.py`.

Run:
    python week04_softmax_dropout_optimizers/4_3_optimizers.py
    python week04_softmax_dropout_optimizers/4_3_optimizers.py --double-softmax  # video's run
    python week04_softmax_dropout_optimizers/4_3_optimizers.py --quick --data synthetic

Differences from the course code (TensorFlow 1.x):
  - `tf.train.AdamOptimizer(1e-2)` is `tf.keras.optimizers.Adam(1e-2)`.
  - Loss on the logits, not after a second softmax (see 4-1). For this run that costs accuracy:
    with Adam 1e-2 the fixed loss ends at 0.9146 at Iter 20 (seeds 0-5: 0.9146-0.9184, mean
    0.9165), while the course's bounded double-softmax loss keeps the weights small and ends at
    0.9316, as the teacher's did (`--double-softmax` reproduces the video's run). No usual
    optimizer setting tried got the fixed loss to 0.93 on this model
    (bench/bench_week04_fixed_loss_ceiling.py).
  - Batches come from `tf.data`; one `tf.function` runs a whole epoch, as in 3-2.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import tensorflow as tf

parser = tfcourse.parser(__doc__, epochs=21, batch_size=100, lr=1e-2, mnist=True,
                         quick=dict(epochs=2))
parser.add_argument("--double-softmax", action="store_true",
                    help="the course's loss (softmax applied twice), as in the video")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --epochs 3")
run = tfcourse.start(args, "week04_softmax_dropout_optimizers/4_3_optimizers.py")

# %% [markdown]
# ## Data
# Images as 784-vectors in [0, 1], labels one-hot; 550 batches of 100, a new order every epoch.

# %%
mnist = tfcourse.load_mnist(args, one_hot=True)
train_data = (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
              .shuffle(len(mnist.x_train), seed=args.seed)
              .batch(args.batch_size, drop_remainder=True)
              .prefetch(tf.data.AUTOTUNE))

# %% [markdown]
# ## Model
# 3-2's single layer, zero-initialised; `model` returns the logits.

# %%
W = tf.Variable(tf.zeros([784, 10]), name="W")
b = tf.Variable(tf.zeros([10]), name="b")


def model(x):
    return tf.matmul(x, W) + b  # logits -> (batch, 10)


# %% [markdown]
# ## Loss and optimizer
# Cross-entropy on the logits (4-1), or with --double-softmax the course's version. The
# lesson's new part: Adam, learning rate 1e-2, instead of plain gradient descent.

# %%
def loss_fn(y, logits):
    if args.double_softmax:  # the course's bug: probabilities passed where logits belong
        prediction = tf.nn.softmax(logits)
        return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=prediction))
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))


optimizer = tf.keras.optimizers.Adam(learning_rate=args.lr)

# %% [markdown]
# ## Training
# One step per batch; one graph call per epoch, as in 3-2.

# %%
def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x))
    optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
    return loss


@tf.function
def train_epoch():
    loss = tf.constant(0.0)
    for x, y in train_data:
        loss = train_step(x, y)
    return loss  # the last batch's loss


@tf.function
def accuracy(x, y):
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(model(x), 1))
    return tf.reduce_mean(tf.cast(correct_prediction, tf.float32))


history = []
for epoch in range(args.epochs):
    loss = train_epoch()
    run.check_finite(loss, f"epoch {epoch}")
    acc = float(accuracy(mnist.x_test, mnist.y_test))
    history.append(acc)
    print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(acc, 4)))
    run.log(epoch=epoch, test_accuracy=acc)

# %% [markdown]
# ## Evaluation
# The last epoch's test accuracy is the lesson's number (teacher: 0.9316, with the course's
# double softmax).

# %%
print(f"best test accuracy {max(history):.4f}; the loss was "
      + ("the course's double softmax" if args.double_softmax else "on the logits (fixed)"))
if not args.double_softmax:
    print("(the video's 0.9316 came from the course's double softmax: --double-softmax "
          "reproduces it)")
run.finish(test_accuracy=acc)
