"""Lesson 5-2 tensorboard网络结构 — TensorBoard: the network's structure.

3-2's one-layer softmax network with the cross-entropy loss, every part in a name scope so that
TensorBoard's GRAPHS panel draws it as the video does: `input` (x-input, y-input), `layer`
(weights, biases, xw_plus_b, softmax), `loss`, `train`, `accuracy`. It trains one epoch
(batch 100, gradient descent 0.2) and prints the test accuracy like the video:

    Iter 0,Testing Accuracy 0.8234        (teacher's saved output; ours is higher, ~0.91,
                                           because the loss is fixed: see below)

The graph is written twice, as two TensorBoard runs you can pick in the GRAPHS panel:
  - logs/tf1: the TF1 way the video shows: a `tf.compat.v1` graph with placeholders, opened in a
    `Session`, written by `tf.compat.v1.summary.FileWriter(logdir, sess.graph)`;
  - logs/tf2: the TF2 way: `tf.summary.trace_on(graph=True)` before the first call of the
    `tf.function` training step and `tf.summary.trace_export` after it record the graph that
    step actually ran.
At the end it prints the command that opens them.

Run:
    python week05_tensorboard/5_2_tensorboard_graph.py
    tensorboard --logdir runs/week05_tensorboard/5_2_tensorboard_graph --host 127.0.0.1
    python week05_tensorboard/5_2_tensorboard_graph.py --quick --data synthetic

Differences from the course code (TensorFlow 1.x):
  - The TF1 graph is built and written but not trained (it would train the same model again);
    the training and the printed accuracy come from the TF2 step. In TF2 there is no global
    graph: a `tf.function` makes one graph per input signature, and trace_export writes it.
  - In the TF2 graph the variables are captured inputs (`..._resource` nodes), read by
    `layer/weights/W` and `layer/biases/b`; the graph holds no Variable nodes of its own.
  - The course fed softmax output into `softmax_cross_entropy_with_logits` (softmax twice); here
    the loss takes the logits x W + b, as that function expects; softmax still gives `prediction`.
  - Old event files in logs/tf1 and logs/tf2 are removed first (the teacher deleted logs/ by hand).
"""
import shlex

import tfcourse  # quiet TensorFlow import, shared flags, MNIST
import tensorflow as tf
from tensorflow.python.eager import context as tf_context  # only for the fix after trace_export

parser = tfcourse.make_parser(__doc__, epochs=1, batch_size=100, lr=0.2, mnist=True)


def clear_old_events(folder):
    """Remove event files an earlier run left in `folder` (only those)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("events.out.tfevents.*"):
        old.unlink()


def write_tf1_graph(logdir, lr):
    """The video's code on tf.compat.v1: build the graph, open a Session, write sess.graph."""
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
                wx_plus_b = tf.matmul(x, W) + b
            with tf.name_scope("softmax"):
                prediction = tf.nn.softmax(wx_plus_b)
        with tf.name_scope("loss"):
            loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=wx_plus_b))
        with tf.name_scope("train"):
            tf.compat.v1.train.GradientDescentOptimizer(lr).minimize(loss)
        with tf.name_scope("accuracy"):
            with tf.name_scope("correct_prediction"):
                correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
            with tf.name_scope("accuracy"):
                tf.reduce_mean(tf.cast(correct_prediction, tf.float32))
        init = tf.compat.v1.global_variables_initializer()
    with tf.compat.v1.Session(graph=graph) as sess:
        sess.run(init)
        writer = tf.compat.v1.summary.FileWriter(str(logdir), sess.graph)  # the video's line
        writer.close()


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    epochs = 1 if args.quick else args.epochs
    tf1_logdir, tf2_logdir = run.out / "logs" / "tf1", run.out / "logs" / "tf2"
    clear_old_events(tf1_logdir)
    clear_old_events(tf2_logdir)

    # ## The TF1 way: a graph + Session, written with FileWriter(logdir, sess.graph)
    write_tf1_graph(tf1_logdir, args.lr)

    # ## Data: images as 784-vectors in [0, 1], labels one-hot
    mnist = tfcourse.load_mnist(args, one_hot=True)
    train_data = (tf.data.Dataset.from_tensor_slices((mnist.x_train, mnist.y_train))
                  .shuffle(len(mnist.x_train), seed=args.seed)
                  .batch(args.batch_size, drop_remainder=True)  # 550 batches of 100
                  .prefetch(tf.data.AUTOTUNE))

    # ## Model (TF2): the same network and scopes; the variables live outside the step
    with tf.name_scope("layer"):
        with tf.name_scope("weights"):
            W = tf.Variable(tf.zeros([784, 10]), name="W")  # -> layer/weights/W
        with tf.name_scope("biases"):
            b = tf.Variable(tf.zeros([10]), name="b")  # -> layer/biases/b
    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

    def model(x):
        with tf.name_scope("layer"):
            with tf.name_scope("weights"):  # the read of W: in the graph as layer/weights/W
                weights = tf.identity(W, name="W")
            with tf.name_scope("biases"):
                biases = tf.identity(b, name="b")
            with tf.name_scope("xw_plus_b"):
                wx_plus_b = tf.matmul(x, weights) + biases  # (batch, 784) @ (784, 10) -> (batch, 10)
            with tf.name_scope("softmax"):
                prediction = tf.nn.softmax(wx_plus_b)
        return wx_plus_b, prediction

    # One training step is one graph: this is what trace_export writes
    @tf.function(input_signature=[tf.TensorSpec([None, 784], tf.float32),
                                  tf.TensorSpec([None, 10], tf.float32)])
    def train_step(x, y):
        with tf.name_scope("input"):
            x = tf.identity(x, name="x-input")
            y = tf.identity(y, name="y-input")
        with tf.GradientTape() as tape:
            wx_plus_b, prediction = model(x)
            with tf.name_scope("loss"):
                loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=wx_plus_b))
        with tf.name_scope("train"):
            optimizer.apply_gradients(zip(tape.gradient(loss, [W, b]), [W, b]))
        with tf.name_scope("accuracy"):
            with tf.name_scope("correct_prediction"):
                correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(prediction, 1))
            with tf.name_scope("accuracy"):
                return tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    @tf.function
    def accuracy(x, y):
        correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(model(x)[1], 1))
        return tf.reduce_mean(tf.cast(correct_prediction, tf.float32))

    # ## Training: the first call is traced into a graph and written, then the rest of the epoch
    writer = tf.summary.create_file_writer(str(tf2_logdir))
    traced = False
    for epoch in range(epochs):
        for x, y in train_data:  # 550 calls of a graph; 5-3 moves the whole epoch into one
            if not traced:
                tf.summary.trace_on(graph=True, profiler=False)
                train_step(x, y)
                with writer.as_default():
                    tf.summary.trace_export(name="train_step", step=0)
                # TF 2.21's trace_export/trace_off leave graph collection on, so every later
                # function would keep its graph in memory and a second trace in this process
                # would export them all; switch it off (no public API does it)
                tf_context.context().disable_graph_collection()
                traced = True
            else:
                train_step(x, y)
        acc = float(accuracy(mnist.x_test, mnist.y_test))
        print("Iter " + str(epoch) + ",Testing Accuracy " + str(round(acc, 4)))
    writer.close()

    print(f"device: {run.device}" + ("; trained on SYNTHETIC digits" if mnist.synthetic else ""))
    print(f"graph written the TF1 way to {tf1_logdir} and the TF2 way to {tf2_logdir}")
    print("open it (then GRAPHS, and pick the run tf1 or tf2):")
    print(f"tensorboard --logdir {shlex.quote(str(run.out))} --host 127.0.0.1")
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
