"""Lesson 11-1 word2vec词向量 — word2vec: skip-gram with NCE on text8.

本课用 skip-gram 模型和 NCE 损失（tf.nn.nce_loss）在 text8（维基百科的前 1 亿个字符，约 1700 万个词）上
训练词向量：词表 50000，每批 128，128 维，skip_window 1，num_skips 2，64 个负样本，SGD 学习率 1.0，
100001 步；每 2000 步打印平均损失，每 10000 步打印 16 个常用词的最近邻，和视频一样。最后保存词向量、
500 个最常用词的 t-SNE 图和 TensorBoard projector 文件。与视频的不同：TF2 写法（tf.Variable、
GradientTape、tf.function），批次来自 tf.data 流水线，而不是 Python 生成器 + feed_dict。

Skip-gram: each word of the text predicts its neighbours within skip_window; NCE turns the
50,000-way softmax into telling the true neighbour from 64 sampled words. The course's lines:

    Average loss at step  100000 :  4.69   (the notes give no figure; public runs of the course's
    Nearest to five: four, seven, six, three, eight, two, zero, nine,     word2vec_basic.py: 4.69-4.71)

Run:
    python week11_word2vec_textcnn/11_1_word2vec.py                  # downloads text8.zip (31 MB) once
    python week11_word2vec_textcnn/11_1_word2vec.py --data-dir DIR   # DIR holds text8.zip or text8
    python week11_word2vec_textcnn/11_1_word2vec.py --quick --data synthetic
    tensorboard --logdir runs/week11_word2vec_textcnn/11_1_word2vec/latest/projector --host 127.0.0.1

Writes embeddings.npy (for 12-1), vocabulary.txt (row i: word i), tsne.png, projector/ (metadata.tsv).
Differences from the course code (TensorFlow 1.x):
  - No placeholder/Session: tf.Variables, Keras SGD(1.0) (it updates only the rows a batch used),
    and one `tf.function` call runs the 2000 steps between two progress lines: 0.46x the course's
    loop; one call per step took up to 1.2x (1.7x its CPU time): bench/bench_week11_word2vec.py.
  - generate_batch (a Python deque) becomes a tf.data pipeline: chunks of 64 center words plus
    the next chunk for the window's right edge, the pairs cut out with tf.gather.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf

import collections

import numpy as np

import _text  # this week's data sets (text8, polarity), beside the lessons

parser = tfcourse.make_parser(__doc__, steps=100001, batch_size=128, lr=1.0, quick=dict(steps=2001, plot_only=100))
parser.add_argument("--data", choices=["text8", "synthetic"], default="text8",
                    help="text8 (default) or synthetic: a drawn text with planted co-occurrences")
parser.add_argument("--data-dir", default=None, metavar="DIR", help="folder holding text8.zip or text8")
parser.add_argument("--mirror", default=None, metavar="URL", help="a URL folder holding text8.zip, tried first")
parser.add_argument("--vocabulary-size", type=tfcourse.positive_int, default=50000, help="lesson: 50000")
parser.add_argument("--embedding-size", type=tfcourse.positive_int, default=128, help="lesson: 128")
parser.add_argument("--skip-window", type=tfcourse.positive_int, default=1, help="words left and right (lesson: 1)")
parser.add_argument("--num-skips", type=tfcourse.positive_int, default=2, help="pairs per center word (lesson: 2)")
parser.add_argument("--num-sampled", type=tfcourse.positive_int, default=64, help="negative samples (lesson: 64)")
parser.add_argument("--plot-only", type=tfcourse.non_negative_int, default=500,
                    help="most frequent words in the t-SNE picture (lesson: 500; 0: no picture)")


def build_dataset(words, n_words):
    """The course's: the n_words - 1 most common words get indices 1.., every other word is UNK (0)."""
    count = [["UNK", -1]] + [list(c) for c in collections.Counter(words).most_common(n_words - 1)]
    dictionary = {word: i for i, (word, _) in enumerate(count)}
    data = np.fromiter((dictionary.get(word, 0) for word in words), np.int32, len(words))
    count[0][1] = int(np.sum(data == 0))
    return data, count, dictionary, [word for word, _ in count]


def skipgram_batches(data, batch_size, num_skips, skip_window):
    """(batch, labels) like generate_batch: batch_size // num_skips consecutive center words, each
    with num_skips of its 2 * skip_window neighbours, chosen at random; the text wraps round."""
    centers_per_batch, span = batch_size // num_skips, 2 * skip_window
    offsets = tf.constant([o for o in range(-skip_window, skip_window + 1) if o != 0])
    chunks = tf.data.Dataset.from_tensor_slices(data).repeat().batch(centers_per_batch)

    def pairs(chunk, next_chunk):
        window = tf.concat([chunk, next_chunk], 0)            # -> (2 * 64,) word indices
        centers = tf.range(centers_per_batch) + skip_window  # positions inside the window
        pick = tf.argsort(tf.random.uniform([centers_per_batch, span]), axis=1)[:, :num_skips]
        batch = tf.repeat(tf.gather(window, centers), num_skips)                   # -> (128,)
        labels = tf.gather(window, centers[:, None] + tf.gather(offsets, pick))    # -> (64, 2)
        return batch, tf.reshape(tf.cast(labels, tf.int64), [-1, 1])               # -> (128, 1)
    return (tf.data.Dataset.zip(chunks, chunks.skip(1))
            .map(pairs, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))


def main(argv=None):
    args = parser.parse_args(argv)
    if args.num_skips > 2 * args.skip_window or args.batch_size % args.num_skips:
        parser.error("--num-skips must be at most 2 x --skip-window and divide --batch-size")
    run = tfcourse.setup(args, __file__, needs_mb=200)

    # ## Data: words -> indices, the 50000 - 1 most common words and UNK
    words, source = _text.text8_words(args)
    print("Data size", len(words), f"({source})")
    data, count, dictionary, reverse_dictionary = build_dataset(words, args.vocabulary_size)
    del words  # the course's hint to free memory
    vocabulary_size = len(reverse_dictionary)  # fewer than asked when the text has fewer words
    print("Most common words (+UNK)", count[:5])
    print("Sample data", data[:10].tolist(), [reverse_dictionary[i] for i in data[:10]])
    train_data = iter(skipgram_batches(data, args.batch_size, args.num_skips, args.skip_window))
    num_sampled = min(args.num_sampled, vocabulary_size - 1)  # sampled words must be distinct
    valid_examples = np.random.choice(min(100, vocabulary_size), min(16, vocabulary_size), replace=False)

    # ## Model: an embedding per word, and NCE weights and biases per word for the output side
    size = [vocabulary_size, args.embedding_size]  # -> (50000, 128)
    embeddings = tf.Variable(tf.random.uniform(size, -1.0, 1.0), name="embeddings")
    nce_weights = tf.Variable(tf.random.truncated_normal(size, stddev=1.0 / np.sqrt(size[1])), name="nce_weights")
    nce_biases = tf.Variable(tf.zeros([vocabulary_size]), name="nce_biases")
    variables = [embeddings, nce_weights, nce_biases]
    optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

    def train_step(train_inputs, train_labels):
        with tf.GradientTape() as tape:
            embed = tf.nn.embedding_lookup(embeddings, train_inputs)  # -> (128, 128)
            loss = tf.reduce_mean(tf.nn.nce_loss(weights=nce_weights, biases=nce_biases, labels=train_labels,
                                                 inputs=embed, num_sampled=num_sampled,
                                                 num_classes=vocabulary_size))
        optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
        return loss

    @tf.function
    def train_steps(n):  # n steps in one graph call: AutoGraph makes the loop a tf.while_loop
        total_loss = tf.constant(0.0)
        for _ in tf.range(n):
            total_loss += train_step(*next(train_data))
        return total_loss / tf.cast(n, tf.float32)

    # ## Training: 2000 steps per call, then the course's progress lines
    step, average_loss = 0, float(train_steps(tf.constant(1)))  # step 0: the first batch's loss
    while True:
        run.check_finite(average_loss, f"step {step}")
        print("Average loss at step ", step, ": ", average_loss)
        run.record(step=step, average_loss=average_loss)
        if step % 10000 == 0 or step == args.steps - 1:
            final_embeddings = tf.math.l2_normalize(embeddings, axis=1).numpy()  # dot product = cosine
            similarity = final_embeddings[valid_examples] @ final_embeddings.T  # -> (16, 50000)
            for i, valid_word in enumerate(valid_examples):
                nearest = (-similarity[i, :]).argsort()[1:9]  # [0] is the word itself
                print("Nearest to %s:" % reverse_dictionary[valid_word],
                      "".join(" %s," % reverse_dictionary[k] for k in nearest)[1:])
        if step == args.steps - 1:
            break
        n = min(2000, args.steps - 1 - step)
        average_loss = float(train_steps(tf.constant(n)))  # the average loss over these 2000 batches
        step += n

    # ## Results: the vectors, their words, the TensorBoard projector and a t-SNE picture
    _text.save_embeddings(run, final_embeddings, reverse_dictionary)
    if args.plot_only > 1:
        _text.plot_tsne(final_embeddings, reverse_dictionary, min(args.plot_only, vocabulary_size),
                        run.path("tsne.png"), args.show, args.seed)  # t-SNE down to 2-D, as in the course
    run.finish(average_loss=average_loss, words=vocabulary_size)
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
