"""Lesson 12-1 CNN文本分类（word2vec预训练词向量） — The text CNN on word2vec embeddings.

本课把 11-1 训练出的 word2vec 词向量放进 11-2 的文本 CNN：11-2 词表中的词如果在 11-1 的词表里，embedding
就从它的词向量开始，找不到的词随机初始化；默认继续训练词向量（Kim 2014 的 CNN-non-static），--freeze 则固定
不动（CNN-static）。同一个划分、同样的批次、同样的卷积层初值，同时训练一个随机初始化 embedding 的网络做对比，
每 100 步并排打印两者在验证集上的结果。与视频的不同：TF2 写法，网络和数据处理直接用 11-2 的代码。

The notes: dev accuracy about 0.75 with pretrained vectors (0.73 without, lesson 11-2).

    step 100  random: loss X, acc Y  |  word2vec: loss X, acc Y

Run (11-1 first: its newest finished run is the default --model-dir):
    python week11_word2vec_textcnn/11_1_word2vec.py
    python week12_textcnn_sound/12_1_text_cnn_word2vec.py             # fine-tunes the vectors
    python week12_textcnn_sound/12_1_text_cnn_word2vec.py --freeze    # keeps them fixed
    python week12_textcnn_sound/12_1_text_cnn_word2vec.py --quick --data synthetic   # after 11-1 --data synthetic

Differences from the course code (TensorFlow 1.x):
  - The vectors come from 11-1 (embeddings.npy + vocabulary.txt), looked up word by word for
    11-2's vocabulary; words not found start uniform in [-a, a] with the found vectors' variance
    (Kim 2014), so both kinds of rows start on the same scale.
  - The random-embedding network is trained beside it on the same batches, so the difference the
    vectors make is read off one run, not two runs on different shuffles.
  - The embedding size is the vectors' width (128 from 11-1's defaults) for both networks.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf

import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "week11_word2vec_textcnn"))
import _text  # noqa: E402  (week 11's data sets and helpers)

text_cnn = _text.load_lesson("11_2_text_cnn.py")  # 11-2's flags, data preparation and network
WORD2VEC = "week11_word2vec_textcnn/11_1_word2vec.py"

parser = text_cnn.add_text_cnn_flags(tfcourse.make_parser(__doc__, steps=30000, batch_size=64, lr=1e-3,
                                                          quick=dict(steps=101)))
parser.add_argument("--model-dir", type=Path, default=None, metavar="DIR",
                    help="an 11-1 run folder with embeddings.npy and vocabulary.txt (default: 11-1's newest run)")
parser.add_argument("--freeze", action="store_true",
                    help="keep the word2vec vectors fixed (CNN-static) instead of fine-tuning them")


def word2vec_init(vocabulary, vectors, words, rng):
    """Initial embedding rows for `vocabulary`: 11-1's vector where the word is known, else random."""
    index = {word: i for i, word in enumerate(words) if word != "UNK"}
    a = np.sqrt(3.0) * vectors.std()  # uniform(-a, a) has the vectors' variance
    initial = rng.uniform(-a, a, (len(vocabulary), vectors.shape[1])).astype(np.float32)
    found = [i for i, word in enumerate(vocabulary) if word in index]
    initial[found] = vectors[[index[vocabulary[i]] for i in found]]
    return initial, len(found)


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    model_dir = args.model_dir or tfcourse.latest_run(WORD2VEC, need="embeddings.npy")
    if model_dir is None:
        raise tfcourse.CourseError("No finished run of 11-1 (word2vec) found: 12-1 needs its vectors.\n"
                                   f"Remedy: python {WORD2VEC}   (or --data synthetic for a first try), "
                                   "then run 12-1 again; or pass --model-dir DIR.", exit_code=2)
    vectors, words = _text.load_embeddings(model_dir)

    # ## Data: exactly 11-2's (same split, same vocabulary)
    x_train, y_train, x_dev, y_dev, vocabulary = text_cnn.load_data(args)
    initial, found = word2vec_init(vocabulary, vectors, words, np.random.default_rng(args.seed))
    print(f"{found} of {len(vocabulary)} words found among 11-1's {len(words)} ({model_dir}); "
          f"embedding size {vectors.shape[1]}, {'frozen' if args.freeze else 'fine-tuned'}")
    train_data = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
                  .shuffle(len(y_train), seed=args.seed)
                  .batch(args.batch_size).repeat().prefetch(tf.data.AUTOTUNE))

    # ## Two networks, the same but for the embedding's first values
    models = {}
    for name in ("random", "word2vec"):
        tf.keras.utils.set_random_seed(args.seed)  # the same convolution and output weights in both
        models[name] = text_cnn.build_text_cnn(len(vocabulary), x_train.shape[1], vectors.shape[1], args.filter_sizes,
                                               args.num_filters, args.dropout_keep_prob,
                                               train_embedding=not (name == "word2vec" and args.freeze))
    models["word2vec"].get_layer("embedding").embeddings.assign(initial)
    optimizers = {name: tf.keras.optimizers.Adam(learning_rate=args.lr) for name in models}

    def loss_and_accuracy(model, x, y, training):
        logits = model(x, training=training)
        loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
        correct_predictions = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
        return loss, tf.reduce_mean(tf.cast(correct_predictions, tf.float32))

    def make_train_step(model, optimizer):
        @tf.function
        def train_step(x_batch, y_batch):
            with tf.GradientTape() as tape:
                loss, accuracy = loss_and_accuracy(model, x_batch, y_batch, training=True)
            optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
            return loss, accuracy
        return train_step

    train_steps = {name: make_train_step(models[name], optimizers[name]) for name in models}
    dev_steps = {name: tf.function(lambda x, y, m=models[name]: loss_and_accuracy(m, x, y, training=False))
                 for name in models}

    # ## Training: both networks on every batch; the dev set every 100 steps, side by side
    history = {name: [] for name in models}
    for step, (x_batch, y_batch) in enumerate(train_data.take(args.steps), start=1):
        losses = {name: train_steps[name](x_batch, y_batch)[0] for name in models}
        if step % args.evaluate_every == 0 or step == args.steps:
            for name in models:
                run.check_finite(losses[name], f"step {step} ({name})")
            dev = {name: [float(v) for v in dev_steps[name](x_dev, y_dev)] for name in models}
            print(f"step {step}  " + "  |  ".join(f"{name}: loss {loss:g}, acc {acc:g}"
                                                  for name, (loss, acc) in dev.items()))
            for name, (_, acc) in dev.items():
                history[name].append((step, acc))
            run.record(step=step, **{f"{name}_dev_accuracy": acc for name, (_, acc) in dev.items()})

    best = {name: max(points, key=lambda point: point[1]) for name, points in history.items()}
    for name in models:
        print(f"{name:>8} embedding: dev accuracy {history[name][-1][1]:.4f} at the end, "
              f"best {best[name][1]:.4f} at step {best[name][0]}")
    label = f"word2vec ({'frozen' if args.freeze else 'fine-tuned'})"
    _text.plot_dev_accuracy({"random embedding": history["random"], label: history["word2vec"]},
                            run.path("dev_accuracy.png"), args.show)
    run.finish(word2vec_dev_accuracy=history["word2vec"][-1][1], random_dev_accuracy=history["random"][-1][1],
               best_word2vec=best["word2vec"][1], best_random=best["random"][1])
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
