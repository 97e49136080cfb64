"""Lesson 5-2 tensorboard网络结构 — TensorBoard: the network's structure.

本课用 TensorBoard 看网络结构：3-2 的单层 softmax 网络（交叉熵），每一部分放在命名空间里
（input、layer/weights、layer/biases、layer/xw_plus_b、layer/softmax、loss、train、accuracy），
这样 TensorBoard 的 GRAPHS 面板画出的图和视频一样；训练 1 个周期并打印测试准确率。
与视频的不同：图写两次：logs/tf1 是视频的 TF1 写法（tf.compat.v1 的图 + Session +
FileWriter(logdir, sess.graph)），logs/tf2 是 TF2 写法（tf.function 训练步的图，用
tf.summary.graph 写出）；损失函数用 logits（视频做了两次 softmax），所以准确率比视频高。

3-2's one-layer softmax network, every part in a name scope so that TensorBoard's GRAPHS panel
draws it as the video does; one epoch (batch 100, gradient descent 0.2), then, like the video:

    Iter 0,Testing Accuracy 0.8234     (teacher's saved output; ours is higher: the loss is fixed)

The GRAPHS panel offers two runs: logs/tf1, the video's graph (placeholders; built, not
trained), and logs/tf2, the graph `tf.function` traced for one training step. TF2 has no global
graph: one graph per input signature, and its variables are captured inputs (`..._resource`)
read by `layer/weights/W`.

Run:
    python week05_tensorboard/5_2_tensorboard_graph.py
    python week05_tensorboard/5_2_tensorboard_graph.py --quick --data synthetic   # seconds
    tensorboard --logdir RUN_FOLDER --host 127.0.0.1      # the folder the lesson prints at the end

Differences from the course code (TensorFlow 1.x):
  - The loss takes the logits x W + b, not the softmax output (the course's double softmax).
  - Old event files in logs/tf1 and logs/tf2 are removed first (the teacher deleted logs/ by
    hand), so TensorBoard shows one graph per run folder.
"""
# %%
import shlex

import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import tensorflow as tf

parser = tfcourse.parser(__doc__, epochs=1, batch_size=100, lr=0.2, mnist=True)
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --epochs 3")
run = tfcourse.start(args, "week05_tensorboard/5_2_tensorboard_graph.py")

logdir = run.out / "logs"
if logdir.exists() and not logdir.is_dir():
    raise tfcourse.CourseError(f"{logdir} is a file: the event files go into a folder there.\n"
                               "Remedy: another --out folder, or move that file away.")
tf1_logdir, tf2_logdir = logdir / "tf1", logdir / "tf2"
for old in [*tf1_logdir.glob("events.out.tfevents.*"), *tf2_logdir.glob("events.out.tfevents.*")]:
    old.unlink()  # only the event files an earlier run left here

# %% [markdown]
# ## The TF1 way: the video's code on tf.compat.v1
# Build the graph in name scopes, open a Session, write `sess.graph` with a FileWriter.
# Nothing is trained here: the graph itself is what TensorBoard draws.

# %%
graph = tf.Graph()
with graph.as_default():
    with tf.name_scope("input"):
        x = tf.compat.v1.placeholder(tf.float32, [None, 784], name="x-input")
        y = tf.compat.v1.placeholder(tf.float32, [None, 10], name="y-input")
    with tf.name_scope("layer"):
        with tf.name_scope("weights"):
            W = tf.Variable(tf.zeros([784, 10]), name="W")
        with tf.name_scope("biases"):
            b = tf.Variable(tf.zeros([10]), name="b")
        with tf.name_scope("xw_plus_b"):
            logits = tf.matmul(x, W) + b
        with tf.name_scope("softmax"):
            prediction = tf.nn.softmax(logits)
    with tf.name_scope("loss"):
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
    with tf.name_scope("train"):
        tf.compat.v1.train.GradientDescentOptimizer(args.lr).minimize(loss)
    with tf.name_scope("accuracy"):
        with tf.name_scope("correct_prediction"):
            correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
        with tf.name_scope("accuracy"):
            tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    init = tf.compat.v1.global_variables_initializer()

with tf.compat.v1.Session(graph=graph) as sess:
    sess.run(init)
    writer = tf.compat.v1.summary.FileWriter(str(tf1_logdir), sess.graph)  # the video's line
    writer.close()

# %% [markdown]
# ## Data
# Now the same network in TF2, trained. Images as 784-vectors in [0, 1], labels one-hot;
# a new order every epoch, 550 batches of 100.

# %%
mnist = tfcourse.load_mnist(args, one_hot=True)
train_data = (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
              .shuffle(len(mnist.x_train), seed=args.seed)
              .batch(args.batch_size, drop_remainder=True)
              .prefetch(tf.data.AUTOTUNE))

# %% [markdown]
# ## Model
# The same scopes. The variables live outside the step; inside it, `tf.identity` reads them
# under the lesson's names, so the graph shows `layer/weights/W` as the video does.

# %%
with tf.name_scope("layer"):
    with tf.name_scope("weights"):
        W = tf.Variable(tf.zeros([784, 10]), name="W")  # -> layer/weights/W
    with tf.name_scope("biases"):
        b = tf.Variable(tf.zeros([10]), name="b")  # -> layer/biases/b


def model(x):
    with tf.name_scope("layer"):
        with tf.name_scope("weights"):
            weights = tf.identity(W, name="W")
        with tf.name_scope("biases"):
            biases = tf.identity(b, name="b")
        with tf.name_scope("xw_plus_b"):
            logits = tf.matmul(x, weights) + biases  # (batch, 784) @ (784, 10) -> (batch, 10)
        with tf.name_scope("softmax"):
            prediction = tf.nn.softmax(logits)
    return logits, prediction


# %% [markdown]
# ## Loss, optimizer and the training step
# One training step is one graph: this is what logs/tf2 shows.

# %%
optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)


@tf.function(input_signature=[tf.TensorSpec([None, 784], tf.float32),
                              tf.TensorSpec([None, 10], tf.float32)])
def train_step(x, y):
    with tf.name_scope("input"):
        x, y = tf.identity(x, name="x-input"), tf.identity(y, name="y-input")
    with tf.GradientTape() as tape:
        logits, prediction = model(x)
        with tf.name_scope("loss"):
            loss = tf.reduce_mean(
                tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
    with tf.name_scope("train"):
        optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
    with tf.name_scope("accuracy"):
        with tf.name_scope("correct_prediction"):
            correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
        with tf.name_scope("accuracy"):
            accuracy = tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
    return loss, accuracy


@tf.function
def accuracy(x, y):
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(model(x)[1], 1))
    return tf.reduce_mean(tf.cast(correct_prediction, tf.float32))


# The TF2 way: the graph tf.function traced for one training step, written by tf.summary.graph
with tf.summary.create_file_writer(str(tf2_logdir)).as_default():
    tf.summary.graph(train_step.get_concrete_function().graph)

# %% [markdown]
# ## Training
# One graph call per batch (550 per epoch), the test accuracy after each epoch.

# %%
for epoch in range(args.epochs):
    for x, y in train_data:
        loss, _ = train_step(x, y)
    run.check_finite(loss, f"epoch {epoch}")
    acc = float(accuracy(mnist.x_test, mnist.y_test))
    print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(acc, 4)))
    run.log(epoch=epoch, test_accuracy=acc)

# %% [markdown]
# ## Evaluation
# The test accuracy after the last epoch; then open the graphs in TensorBoard (GRAPHS, and
# choose the run logs/tf1 or logs/tf2).

# %%
print(f"graph written the TF1 way to {tf1_logdir} and the TF2 way to {tf2_logdir}; "
      "open it (GRAPHS):")
print(f"tensorboard --logdir {shlex.quote(str(run.out))} --host 127.0.0.1")
run.finish(test_accuracy=acc)
