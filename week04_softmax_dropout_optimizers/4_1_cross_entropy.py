"""Lesson 4-1 交叉熵 — the cross-entropy loss.

本课把 3-2 的二次代价函数换成交叉熵：对 softmax 输出，交叉熵的梯度是 (softmax(logits) - y)，
模型错得越自信梯度越大，所以比二次代价学得快。模型、学习率 0.2、每批 100、21 个周期都和 3-2 一样。
与视频的不同：视频先算 prediction = softmax(logits)，再把 prediction 当作 logits 传给
softmax_cross_entropy_with_logits，等于做了两次 softmax；
这里把 logits 传给损失函数（官方文档的要求）。
加 --double-softmax 先按视频的写法训练，再用修正后的损失在同样的批次上训练，
并打印两者的差别。

Lesson 3-2's model (784 -> 10 softmax, W and b start at zero, gradient descent 0.2, batches of
100, 21 epochs) with the quadratic loss replaced by the cross-entropy
    loss = -mean(sum(y * log(softmax(logits))))
whose gradient is (softmax(logits) - y): large when the model is confidently wrong, so it learns
faster than the quadratic loss. It prints, like the video:

    Iter 0,Testing Accuracy 0.8246        (learner's rerun in the notes; Iter 20: 0.9217)

Run:
    python week04_softmax_dropout_optimizers/4_1_cross_entropy.py
    python week04_softmax_dropout_optimizers/4_1_cross_entropy.py --double-softmax  # course's bug
    python week04_softmax_dropout_optimizers/4_1_cross_entropy.py --quick --data synthetic

Differences from the course code (TensorFlow 1.x):
  - Loss on the logits. The course passes probabilities as logits, so softmax runs twice; the
    loss can then never fall below log(1 + 9/e) = 1.4612, even for perfect predictions, and its
    gradients are several times smaller. `--double-softmax` trains the course's version, then the
    fixed one on the same batches, and prints the loss each minimised, the real cross-entropy, the
    gradient size and the test accuracy side by side (also saved as `double_softmax.json`).
  - No placeholder/Session: batches come from `tf.data`, and one `tf.function` runs a whole epoch
    (550 steps) as a graph, as in 3-2.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import json
import math

import tensorflow as tf

parser = tfcourse.parser(__doc__, epochs=21, batch_size=100, lr=0.2, mnist=True,
                         quick=dict(epochs=2))
parser.add_argument("--double-softmax", action="store_true",
                    help="train with the course's loss (softmax applied twice), then with the "
                         "fixed loss on the same batches, and compare the two")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --double-softmax")
run = tfcourse.start(args, "week04_softmax_dropout_optimizers/4_1_cross_entropy.py")

# %% [markdown]
# ## Data
# Images as 784-vectors in [0, 1], labels one-hot (as `input_data`'s `one_hot=True`).

# %%
mnist = tfcourse.load_mnist(args, one_hot=True)


def batches():
    """550 batches of 100 in a new order every epoch. A fresh pipeline repeats the same orders, so
    with --double-softmax both losses see the very same batches."""
    return (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
            .shuffle(len(mnist.x_train), seed=args.seed)
            .batch(args.batch_size, drop_remainder=True)
            .prefetch(tf.data.AUTOTUNE))


# %% [markdown]
# ## Model
# 3-2's single layer, zero-initialised. `model` returns the logits; softmax(logits) would be
# the prediction, but the loss below wants the logits themselves.

# %%
W = tf.Variable(tf.zeros([784, 10]), name="W")
b = tf.Variable(tf.zeros([10]), name="b")


def model(x):
    return tf.matmul(x, W) + b  # logits -> (batch, 10)


# %% [markdown]
# ## Loss
# Cross-entropy on the logits: its gradient is softmax(logits) - y. The course's version applies
# softmax first and then passes the probabilities as logits, so softmax runs twice and the loss
# can never go below FLOOR.

# %%
FLOOR = math.log(1 + 9 / math.e)  # lowest double-softmax loss with 10 classes: 1.4612


def cross_entropy(y, logits, double_softmax=False):
    """The lesson's loss, per example. double_softmax=True is the course's version."""
    if double_softmax:
        prediction = tf.nn.softmax(logits)  # the course passes probabilities where logits belong
        return tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=prediction)
    return tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits)


# %% [markdown]
# ## Training
# One graph call per epoch, as in 3-2. Each epoch also returns the mean loss the optimizer saw
# and the mean gradient size, to compare the two losses by value; the test set gives the
# accuracy and the real cross-entropy (softmax once).

# %%
def train(double_softmax):
    """Train from zero weights with the course's or the fixed loss; return the history."""
    W.assign(tf.zeros([784, 10]))
    b.assign(tf.zeros([10]))
    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)
    train_data = batches()

    @tf.function
    def train_epoch():
        total_loss, total_grad, steps = tf.constant(0.0), tf.constant(0.0), tf.constant(0.0)
        for x, y in train_data:  # (100, 784), (100, 10)
            with tf.GradientTape() as tape:
                loss = tf.reduce_mean(cross_entropy(y, model(x), double_softmax))
            grads = tape.gradient(loss, [W, b])
            optimizer.apply_gradients(zip(grads, [W, b]))
            total_loss += loss
            total_grad += tf.linalg.global_norm(grads)
            steps += 1.0
        return total_loss / steps, total_grad / steps

    @tf.function
    def evaluate(x, y):
        logits = model(x)
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(logits, 1))
        accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
        return accuracy, tf.reduce_mean(cross_entropy(y, logits))

    history = {"double_softmax": double_softmax, "loss": [], "test_cross_entropy": [],
               "grad_norm": [], "test_accuracy": []}
    for epoch in range(args.epochs):
        loss, grad_norm = train_epoch()
        run.check_finite(loss, f"epoch {epoch}")
        acc, test_cross_entropy = evaluate(mnist.x_test, mnist.y_test)
        history["loss"].append(float(loss))
        history["grad_norm"].append(float(grad_norm))
        history["test_accuracy"].append(float(acc))
        history["test_cross_entropy"].append(float(test_cross_entropy))
        print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(float(acc), 4)))
        run.log(epoch=epoch, test_accuracy=acc, loss=loss, double_softmax=double_softmax)
    return history


if args.double_softmax:
    print("-- the course's loss: softmax, then softmax_cross_entropy_with_logits "
          "(softmax twice) --")
    course = train(double_softmax=True)
    print("-- for comparison, the fixed loss (on the logits) --")
fixed = train(double_softmax=False)

# %% [markdown]
# ## Evaluation
# The last test accuracy is the lesson's number (notes: 0.9217 at Iter 20). With
# --double-softmax: what the second softmax changed, value by value, also saved as JSON.

# %%
if args.double_softmax:
    last = args.epochs - 1
    shown = sorted({0, last // 2, last})
    rows = [("loss minimised (train)", "loss"), ("cross-entropy (test)", "test_cross_entropy"),
            ("gradient norm per step", "grad_norm"), ("test accuracy", "test_accuracy")]
    print("\nWhat --double-softmax changed (same data, same batches, same seed):")
    print(f"{'':42s}" + "".join(f"{'Iter ' + str(e):>10s}" for e in shown))
    for title, key in rows:
        print(f"{title:23s}{'course (2x softmax)':19s}"
              + "".join(f"{course[key][e]:10.4f}" for e in shown))
        print(f"{'':23s}{'fixed (on logits)':19s}"
              + "".join(f"{fixed[key][e]:10.4f}" for e in shown))
    print(f"The course's loss cannot go below log(1 + 9/e) = {FLOOR:.4f}, even for perfect "
          f"predictions; at Iter {last} it is {course['loss'][last]:.4f} against "
          f"{fixed['loss'][last]:.4f} for the fixed loss.")
    course_grad = sum(course["grad_norm"]) / len(course["grad_norm"])
    fixed_grad = sum(fixed["grad_norm"]) / len(fixed["grad_norm"])
    print(f"Mean gradient norm over the run: {course_grad:.4f} (course) vs {fixed_grad:.4f} "
          f"(fixed); test accuracy at Iter {last}: {course['test_accuracy'][last]:.4f} vs "
          f"{fixed['test_accuracy'][last]:.4f}.")
    report = json.dumps({"floor": FLOOR, "course": course, "fixed": fixed}, indent=1)
    print(f"saved: {tfcourse.atomic_write(run.path('double_softmax.json'), report)}")
run.finish(test_accuracy=fixed["test_accuracy"][-1])
