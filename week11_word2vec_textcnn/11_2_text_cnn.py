"""Lesson 11-2 CNN文本分类 — A CNN for sentence classification (Kim 2014).

本课用卷积神经网络判断影评句子是正面还是负面（Kim 2014，课程用的 cnn-text-classification-tf）：每个词变成
128 维词向量，3、4、5 个词宽的卷积核各 128 个，每个卷积核在整句上取最大值，拼成 384 维，dropout（keep 0.5）
后接 2 类输出。数据是 sentence polarity（5331 正 + 5331 负），按课程的固定种子打乱，10% 做验证集；每批 64，
Adam 1e-3，每步打印 `step N, loss X, acc Y`，每 100 步在验证集上评估一次，和视频一样。
与视频的不同：TF2 写法（Keras 层、tf.function），词表由 Keras 的 TextVectorization 建立（只看训练集）。

It prints the course's line for every training step, and for the dev set every 100 steps:
    <date-time>: step 100, loss X, acc Y         (the notes: dev accuracy about 0.73)

Run:
    python week11_word2vec_textcnn/11_2_text_cnn.py       # downloads rt-polaritydata.tar.gz once
    python week11_word2vec_textcnn/11_2_text_cnn.py --quick --data synthetic

--steps 30000 is the course's num_epochs 200 x 150 batches; dev accuracy peaks far earlier (the
network overfits), which the end-of-run line reports as the best dev step.

Differences from the course code (TensorFlow 1.x):
  - `learn.preprocessing.VocabularyProcessor` is gone: `keras.layers.TextVectorization` maps words
    to indices and pads every sentence to the longest one's length (adapted on the training split).
  - conv2d over the [words, 128, 1] "image" with filters [h, 128] is `Conv1D(128, h)` over
    [words, 128], the same arithmetic; max_pool over the whole length is `GlobalMaxPooling1D`.
  - The loss is on the logits (the course's `scores`), as the course did here: no double softmax.
  - No checkpoints every 100 steps and no summaries; l2_reg_lambda (0.0 in the course) is left out.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf

import datetime

import _text  # this week's data sets (polarity: read, checked, split), beside the lessons


def filter_sizes(text):  # "3,4,5" -> (3, 4, 5); a size that is not a whole number above 0: exit 2
    return tuple(tfcourse.positive_int(part) for part in text.split(","))


def add_text_cnn_flags(parser):
    """The course's settings as flags (with its spellings); 12-1 uses the same."""
    parser.add_argument("--data", choices=["polarity", "synthetic"], default="polarity",
                        help="polarity (default) or synthetic: sentences whose polarity rests on planted words")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="folder holding rt-polarity.pos and rt-polarity.neg (or rt-polaritydata.tar.gz)")
    parser.add_argument("--mirror", default=None, metavar="URL", help="a URL folder holding rt-polaritydata.tar.gz")
    parser.add_argument("--embedding-dim", "--embedding_dim", type=tfcourse.positive_int, default=128,
                        help="lesson: 128")
    parser.add_argument("--filter-sizes", "--filter_sizes", type=filter_sizes, default="3,4,5", help="lesson: 3,4,5")
    parser.add_argument("--num-filters", "--num_filters", type=tfcourse.positive_int, default=128, help="lesson: 128")
    parser.add_argument("--dropout-keep-prob", "--dropout_keep_prob", type=tfcourse.probability, default=0.5,
                        help="lesson: 0.5")
    parser.add_argument("--dev-sample-percentage", "--dev_sample_percentage", type=tfcourse.probability,
                        default=0.1, help="share of the sentences kept for the dev set (lesson: 0.1)")
    parser.add_argument("--evaluate-every", "--evaluate_every", type=tfcourse.positive_int, default=100,
                        help="evaluate on the dev set every this many steps (lesson: 100)")
    return parser


parser = add_text_cnn_flags(tfcourse.make_parser(__doc__, steps=30000, batch_size=64, lr=1e-3, quick=dict(steps=101)))


def load_data(args):
    """Cleaned sentences -> padded word indices; the course's shuffled 90/10 split (seed 10)."""
    x_text, y, source = _text.polarity_sentences(args)
    max_document_length = max(len(x.split(" ")) for x in x_text)
    x_train, y_train, x_dev, y_dev = _text.split_dev(x_text, y, args.dev_sample_percentage)
    vectorize = tf.keras.layers.TextVectorization(standardize=None, split="whitespace",
                                                  output_sequence_length=max_document_length)
    vectorize.adapt(x_train)  # index 0 pads, 1 is [UNK], then the words by frequency
    print(source)
    print("Vocabulary Size: {:d}".format(vectorize.vocabulary_size()))
    print("Train/Dev split: {:d}/{:d}".format(len(y_train), len(y_dev)))
    return vectorize(x_train), y_train, vectorize(x_dev), y_dev, vectorize.get_vocabulary()


def build_text_cnn(vocab_size, sequence_length, embedding_size=128, filter_sizes=(3, 4, 5), num_filters=128,
                   dropout_keep_prob=0.5, train_embedding=True):
    input_x = tf.keras.Input((sequence_length,), dtype="int64", name="input_x")         # -> (56,) indices
    embedded_chars = tf.keras.layers.Embedding(
        vocab_size, embedding_size, embeddings_initializer=tf.keras.initializers.RandomUniform(-1.0, 1.0),
        trainable=train_embedding, name="embedding")(input_x)                          # -> (56, 128)
    pooled_outputs = []
    for filter_size in filter_sizes:
        h = tf.keras.layers.Conv1D(num_filters, filter_size, padding="valid", activation="relu",
                                   kernel_initializer=tf.keras.initializers.TruncatedNormal(stddev=0.1),
                                   bias_initializer=tf.keras.initializers.Constant(0.1),
                                   name=f"conv-maxpool-{filter_size}")(embedded_chars)  # -> (56 - 3 + 1, 128)
        pooled_outputs.append(tf.keras.layers.GlobalMaxPooling1D()(h))                  # -> (128,)
    h_pool_flat = tf.keras.layers.Concatenate()(pooled_outputs)                         # -> (384,)
    h_drop = tf.keras.layers.Dropout(1.0 - dropout_keep_prob)(h_pool_flat)
    logits = tf.keras.layers.Dense(2, kernel_initializer="glorot_uniform",            # -> (2,): the course's
                                   bias_initializer=tf.keras.initializers.Constant(0.1), name="output")(h_drop)
    return tf.keras.Model(input_x, logits, name="text_cnn")                           # `scores`, no softmax


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)

    # ## Data: the course's 90/10 split, every sentence padded to the longest one
    x_train, y_train, x_dev, y_dev, vocabulary = load_data(args)
    train_data = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
                  .shuffle(len(y_train), seed=args.seed)  # a new order every epoch, as batch_iter
                  .batch(args.batch_size).repeat().prefetch(tf.data.AUTOTUNE))

    # ## Model: embedding -> convolutions of 3, 4, 5 words -> max over the sentence -> 2 logits
    model = build_text_cnn(len(vocabulary), x_train.shape[1], args.embedding_dim, args.filter_sizes,
                           args.num_filters, args.dropout_keep_prob)
    optimizer = tf.keras.optimizers.Adam(learning_rate=args.lr)

    def loss_and_accuracy(x, y, training):
        logits = model(x, training=training)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        correct_predictions = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
        return loss, tf.reduce_mean(tf.cast(correct_predictions, tf.float32))

    @tf.function
    def train_step(x_batch, y_batch):
        with tf.GradientTape() as tape:
            loss, accuracy = loss_and_accuracy(x_batch, y_batch, training=True)  # dropout on
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        return loss, accuracy

    dev_step = tf.function(lambda x, y: loss_and_accuracy(x, y, training=False))  # dropout off (keep 1.0)

    # ## Training: the course's lines, every step and every 100 steps on the dev set
    history = []
    for step, (x_batch, y_batch) in enumerate(train_data.take(args.steps), start=1):
        loss, accuracy = train_step(x_batch, y_batch)
        time_str = datetime.datetime.now().isoformat()
        print("{}: step {}, loss {:g}, acc {:g}".format(time_str, step, float(loss), float(accuracy)))
        if step % args.evaluate_every == 0 or step == args.steps:
            run.check_finite(loss, f"step {step}")
            print("\nEvaluation:")
            dev_loss, dev_accuracy = (float(v) for v in dev_step(x_dev, y_dev))
            print("{}: step {}, loss {:g}, acc {:g}".format(time_str, step, dev_loss, dev_accuracy))
            print("")
            history.append((step, dev_accuracy))
            run.record(step=step, loss=loss, accuracy=accuracy, dev_loss=dev_loss, dev_accuracy=dev_accuracy)

    best_step, best_accuracy = max(history, key=lambda point: point[1])
    _text.plot_dev_accuracy({"random embedding": history}, run.path("dev_accuracy.png"), args.show)
    run.finish(dev_accuracy=dev_accuracy, best_dev_accuracy=best_accuracy, best_step=best_step)
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
