"""Lesson 3-2 MNIST数据集分类简单版本 — MNIST, the simple version.

本课用一层 softmax 回归（784 个像素 -> 10 类）识别手写数字：W 和 b 从零开始，二次代价函数，
梯度下降（学习率 0.2），每批 100 张，训练 21 个周期，每个周期后打印测试准确率，格式和视频一样。
与视频的不同：TF2 写法（tf.Variable、GradientTape、tf.function），没有 placeholder 和 Session；
数据由 tfcourse.load_mnist 提供（同样的 55000/5000/10000 划分）。

One layer, 784 pixels -> 10 classes: prediction = softmax(x W + b), W and b start at zero, the
quadratic loss mean((y - prediction)^2), plain gradient descent with learning rate 0.2, batches
of 100, 21 epochs. After each epoch it prints the test accuracy exactly like the video:

    Iter 0,Testing Accuracy 0.8304        (teacher's saved output; Iter 20: 0.9134)

Run:
    python week03_regression/3_2_mnist_simple.py                        # downloads MNIST once
    python week03_regression/3_2_mnist_simple.py --data-dir MNIST_data  # the course's folder
    python week03_regression/3_2_mnist_simple.py --quick --data synthetic

Differences from the course code (TensorFlow 1.x):
  - `tensorflow.examples.tutorials.mnist.input_data` is gone: `tfcourse.load_mnist` gives the
    same 55000/5000/10000 split, downloads with checksums, and reads the course's MNIST_data/.
  - No placeholder/Session: W and b are `tf.Variable`s, batches come from `tf.data`, and one
    `tf.function` runs a whole epoch (550 batches) as a graph, like `sess.run` in a loop but
    without returning to Python between batches.
  - Same model, loss, optimizer and schedule, so the numbers land close to the teacher's.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import tensorflow as tf

parser = tfcourse.parser(__doc__, epochs=21, batch_size=100, lr=0.2, mnist=True,
                         quick=dict(epochs=2))
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --epochs 3")
run = tfcourse.start(args, "week03_regression/3_2_mnist_simple.py")

# %% [markdown]
# ## Data
# Images as 784-vectors in [0, 1], labels one-hot (as `input_data`'s `one_hot=True`).
# A new order every epoch; 550 batches of 100.

# %%
mnist = tfcourse.load_mnist(args, one_hot=True)
train_data = (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
              .shuffle(len(mnist.x_train), seed=args.seed)
              .batch(args.batch_size, drop_remainder=True)
              .prefetch(tf.data.AUTOTUNE))

# %% [markdown]
# ## Model
# A single softmax layer, zero-initialised as in the lesson: `prediction` is probabilities.

# %%
W = tf.Variable(tf.zeros([784, 10]), name="W")
b = tf.Variable(tf.zeros([10]), name="b")


def model(x):
    return tf.nn.softmax(tf.matmul(x, W) + b)  # prediction


# %% [markdown]
# ## Loss and optimizer
# The lesson's quadratic loss and plain gradient descent.

# %%
def loss_fn(y, prediction):
    return tf.reduce_mean(tf.square(y - prediction))


optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

# %% [markdown]
# ## Training
# One step per batch; one graph call per epoch (AutoGraph turns the `for` into a graph loop).

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


for epoch in range(args.epochs):
    loss = train_epoch()
    run.check_finite(loss, f"epoch {epoch}")
    acc = float(accuracy(mnist.x_test, mnist.y_test))
    print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(acc, 4)))
    run.log(epoch=epoch, test_accuracy=acc)

# %% [markdown]
# ## Evaluation
# The test accuracy after the last epoch is the lesson's number (teacher: 0.9134).

# %%
run.finish(test_accuracy=acc)
