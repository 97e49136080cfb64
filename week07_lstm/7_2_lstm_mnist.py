"""Lesson 7-2 递归神经网络RNN（LSTM） — An LSTM reads MNIST row by row.

本课把每张 28x28 的图片看成 28 个时间步、每步 28 个像素的序列，用一个 100 单元的 LSTM 逐行读入，
最后的隐藏状态 h 接一个全连接层分成 10 类；Adam 1e-4，每批 50 张，训练 6 个周期，每个周期后打印
测试准确率，格式和视频一样。与视频的不同：tf.contrib.rnn.BasicLSTMCell + dynamic_rnn 换成
Keras 3 的 LSTM 层；视频里 softmax 之后再算 softmax_cross_entropy_with_logits（两次 softmax），
这里的损失直接用 logits 计算。

Each 28x28 image is a sequence of 28 steps (max_time = 28 rows) of 28 inputs (n_inputs = 28
pixels). One LSTM of 100 units (lstm_size) reads the rows; its final hidden state (the lesson's
`final_state[1]`, h) goes through one dense layer to 10 classes. Adam 1e-4, batches of 50,
6 epochs. After each epoch it prints the test accuracy like the video:

    Iter 0, Testing Accuracy= 0.7221        (teacher's saved output; Iter 5: 0.9311)

Run:
    python week07_lstm/7_2_lstm_mnist.py
    python week07_lstm/7_2_lstm_mnist.py --quick --data synthetic    # seconds, no data needed

Differences from the course code (TensorFlow 1.x):
  - `tf.contrib.rnn.BasicLSTMCell` + `tf.nn.dynamic_rnn` become the Keras 3 layer `LSTM(100)`,
    which returns the final hidden state h. (`tf.compat.v1.nn.rnn_cell` would need the legacy
    Keras 2 package and is not used.) Its forget-gate bias starts at 1 like the lesson's
    `forget_bias=1.0`; its weights start Glorot-uniform/orthogonal instead of the old cell's
    defaults. The output layer keeps the lesson's truncated_normal(0.1) weights, bias 0.1.
  - The course applies softmax and then `softmax_cross_entropy_with_logits` (softmax twice).
    Fixed: the loss is computed on the logits.
  - No placeholder/feed_dict/Session: batches come from `tf.data` and each step is one call of a
    `tf.function` graph in which the 28 steps are written out (`unroll=True`) instead of the
    while loop of `dynamic_rnn` (`--no-unroll`). Both choices measured faster here
    (`python bench/bench_week07_lstm.py` times them).
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, MNIST, the run folder
import tensorflow as tf

parser = tfcourse.parser(__doc__, epochs=6, batch_size=50, lr=1e-4, mnist=True,
                         quick=dict(epochs=2))
parser.add_argument("--lstm-size", type=tfcourse.number(int, 1, 4096), default=100,
                    help="LSTM units, 1 to 4096 (lesson: 100)")
parser.add_argument("--no-unroll", action="store_true",
                    help="run the 28 steps in a while loop (dynamic_rnn's way), not written out")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --epochs 3")
run = tfcourse.start(args, "week07_lstm/7_2_lstm_mnist.py")

n_inputs = 28  # one row of 28 pixels per step
max_time = 28  # 28 rows: 28 steps
n_classes = 10

# %% [markdown]
# ## Data
# Each image as 28 rows of 28 pixels (a sequence of 28 steps), labels one-hot.
# A new order every epoch; 1100 batches of 50.

# %%
mnist = tfcourse.load_mnist(args, one_hot=True)
x_train = mnist.x_train.reshape(-1, max_time, n_inputs)  # (55000, 784) -> (55000, 28, 28)
x_test = mnist.x_test.reshape(-1, max_time, n_inputs)
train_data = (tf.data.Dataset.from_tensor_slices((x_train, mnist.y_train))
              .shuffle(len(x_train), seed=args.seed)
              .batch(args.batch_size, drop_remainder=True)
              .prefetch(tf.data.AUTOTUNE))
test_data = tf.data.Dataset.from_tensor_slices((x_test, mnist.y_test)).batch(1000)

# %% [markdown]
# ## Model
# LSTM(100) reads the 28 rows; its final h goes through one dense layer to 10 `logits`.

# %%
model = tf.keras.Sequential([
    tf.keras.Input((max_time, n_inputs)),                                # -> (28 steps, 28)
    tf.keras.layers.LSTM(args.lstm_size, unroll=not args.no_unroll,      # final h -> (100,)
                         name="lstm"),
    tf.keras.layers.Dense(n_classes, name="output",                      # logits -> (10,)
                          kernel_initializer=tf.keras.initializers.TruncatedNormal(stddev=0.1),
                          bias_initializer=tf.keras.initializers.Constant(0.1)),
], name="lstm_mnist")
lstm = model.get_layer("lstm")
print(f"LSTM input: {max_time} steps x {n_inputs} inputs; "
      f"kernel {tuple(lstm.cell.kernel.shape)}, "
      f"recurrent kernel {tuple(lstm.cell.recurrent_kernel.shape)} "
      f"(4 gates x {args.lstm_size}); {model.count_params()} parameters")

# %% [markdown]
# ## Loss and optimizer
# Cross-entropy on the logits (the course took a softmax first, then this: softmax twice).

# %%
def loss_fn(y, logits):
    return tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))


optimizer = tf.keras.optimizers.Adam(learning_rate=args.lr)

# %% [markdown]
# ## Training
# One graph call per batch (1100 per epoch); iterating tf.data inside one tf.function measured
# slower for this model.

# %%
@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss


@tf.function
def count_correct(x, y):
    logits = model(x, training=False)
    correct_prediction = tf.equal(tf.argmax(y, 1), tf.argmax(logits, 1))  # argmax: no softmax
    return tf.reduce_sum(tf.cast(correct_prediction, tf.float32))


for epoch in range(args.epochs):
    for x, y in train_data:
        loss = train_step(x, y)
    run.check_finite(loss, f"epoch {epoch}")
    acc = sum(float(count_correct(x, y)) for x, y in test_data) / len(x_test)
    print("Iter " + str(epoch) + ", Testing Accuracy= " + str(round(acc, 4)), flush=True)
    run.log(epoch=epoch, test_accuracy=acc, loss=float(loss))

# %% [markdown]
# ## Evaluation
# The test accuracy after the last epoch is the lesson's number (teacher: 0.9311).

# %%
run.finish(test_accuracy=acc)
