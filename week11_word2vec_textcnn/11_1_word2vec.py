"""Lesson 11-1 word2vec词向量 — word2vec: skip-gram with NCE on text8.

本课用 skip-gram 模型和 NCE 损失（tf.nn.nce_loss）在 text8（维基百科的前 1 亿个字符，约 1700
万个词）上训练词向量：词表 50000，每批 128，128 维，skip_window 1，num_skips 2，64 个负样本，
SGD 学习率 1.0，100001 步；每 2000 步打印平均损失，每 10000 步打印 16 个常用词的最近邻，和视频
一样。最后保存词向量、500 个最常用词的 t-SNE 图和 TensorBoard projector 文件。
中文：--data waimai（外卖评论）按字训练字向量，--tokens words 则按 jieba 的词（需 pip install
jieba）；12-1 读这些向量。与视频的不同：TF2 写法（tf.Variable、GradientTape、tf.function），
批次来自 tf.data 流水线；t-SNE 用本课里的 40 行 NumPy 代码，不用 scikit-learn。

Skip-gram: each word of the text predicts its neighbours within skip_window; NCE turns the
50,000-way softmax into telling the true neighbour from 64 sampled words. The course's lines:

    Average loss at step  100000 :  4.69    (public runs of the course's word2vec_basic.py:
    Nearest to five: four, seven, six, three, eight, two, zero, nine,        4.69-4.71)

Run:
    python week11_word2vec_textcnn/11_1_word2vec.py                 # downloads text8.zip (31 MB)
    python week11_word2vec_textcnn/11_1_word2vec.py --data-dir DIR  # DIR holds text8.zip or text8
    python week11_word2vec_textcnn/11_1_word2vec.py --data waimai   # Chinese reviews, characters
    python week11_word2vec_textcnn/11_1_word2vec.py --quick --data synthetic
    tensorboard --logdir runs/week11_word2vec_textcnn/11_1_word2vec/<run>/projector

Writes embeddings.npy (for 12-1), vocabulary.txt (row i: word i), tsne.png, projector/.
--data polarity or waimai, or --data-dir holding 11-2's sentence files (rt-polarity.pos/.neg or
a label,review CSV), train on those sentences, split as 11-2 splits them (Chinese: characters).

Differences from the course code (TensorFlow 1.x):
  - No placeholder/Session: tf.Variables, Keras SGD(1.0) (it updates only the rows a batch used),
    and one `tf.function` call runs the 2000 steps between two progress lines: 0.46x the course's
    loop; one call per step took up to 1.2x: bench/bench_week11_word2vec.py.
  - generate_batch (a Python deque) becomes a tf.data pipeline: chunks of 64 center words plus
    the next chunk for the window's right edge, the pairs cut out with tf.gather.
  - t-SNE is a small exact t-SNE in NumPy below (the course used scikit-learn's, which Keras
    would then import at every start of every lesson).
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import tensorflow as tf

import collections
import re
import sys

import matplotlib.pyplot as plt
import numpy as np
from tensorboard.plugins import projector

sys.path.insert(0, str(tfcourse.cli.PROJECT_ROOT / "week11_word2vec_textcnn"))  # also in a notebook
import _text  # this week's data files (read, downloaded, checked), beside the lessons

parser = tfcourse.parser(__doc__, steps=100001, batch_size=128, lr=1.0,
                         quick=dict(steps=2001, plot_only=100))
parser.add_argument("--data", choices=["text8", "polarity", "waimai", "synthetic"],
                    default="text8", help="text8 (default); the sentences of 11-2's polarity "
                    "(English) or waimai (Chinese); synthetic: a text with planted neighbours")
parser.add_argument("--data-dir", type=_text.data_path, default=None, metavar="PATH",
                    help="a folder holding text8.zip or text8 (or 11-2's sentence files), "
                         "or a CSV file label,review")
parser.add_argument("--mirror", default=None, metavar="URL",
                    help="a URL folder holding the data set's file, tried first")
parser.add_argument("--tokens", choices=["chars", "words"], default="chars",
                    help="Chinese text as characters (default) or as jieba's words "
                         "(pip install jieba); English always by the course's clean_str")
parser.add_argument("--vocabulary-size", type=tfcourse.number(int, 2, 10_000_000),
                    default=50000, help="lesson: 50000")
parser.add_argument("--embedding-size", type=tfcourse.number(int, 1, 1024), default=128,
                    help="lesson: 128")
parser.add_argument("--skip-window", type=tfcourse.number(int, 1, 100), default=1,
                    help="words left and right (lesson: 1)")
parser.add_argument("--num-skips", type=tfcourse.number(int, 1, 200), default=2,
                    help="pairs per center word (lesson: 2)")
parser.add_argument("--num-sampled", type=tfcourse.number(int, 1, 10000), default=64,
                    help="negative samples (lesson: 64)")
parser.add_argument("--plot-only", type=tfcourse.number(int, 0, 2000), default=500,
                    help="most frequent words in the t-SNE picture (lesson: 500; 0: no picture)")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --data waimai")
if args.num_skips > 2 * args.skip_window or args.batch_size % args.num_skips \
        or args.skip_window > args.batch_size // args.num_skips:
    raise tfcourse.CourseError(
        f"--num-skips {args.num_skips} must be at most 2 x --skip-window ({args.skip_window}) and "
        f"divide --batch-size ({args.batch_size}), and the window must fit in the "
        f"{args.batch_size // args.num_skips} center words of a batch.\n"
        "Remedy: --skip-window 1 --num-skips 2 (the lesson's), or e.g. --skip-window 2 "
        "--num-skips 4, with a --batch-size that --num-skips divides.")
if args.data_dir is not None:  # the end line names the data: text8, or the folder or CSV file
    args.data = "text8" if _text.has_text8(args.data_dir) else args.data_dir.name
run = tfcourse.start(args, "week11_word2vec_textcnn/11_1_word2vec.py")

# %% [markdown]
# ## Data: the text as a list of words
# text8 is already lower-case words. Sentences (11-2's data) go through 11-2's tokenizer: the
# course's `clean_str` for English; Chinese, which has no spaces between words, as characters
# (or jieba's words with `--tokens words`).

# %%
def clean_str(string):
    """The course's tokenisation (cnn-text-classification-tf's data_helpers, from Kim's code)."""
    string = re.sub(r"[^A-Za-z0-9(),!?\'\`]", " ", string)
    string = re.sub(r"\'s", " \'s", string)
    string = re.sub(r"\'ve", " \'ve", string)
    string = re.sub(r"n\'t", " n\'t", string)
    string = re.sub(r"\'re", " \'re", string)
    string = re.sub(r"\'d", " \'d", string)
    string = re.sub(r"\'ll", " \'ll", string)
    string = re.sub(r",", " , ", string)
    string = re.sub(r"!", " ! ", string)
    string = re.sub(r"\(", " ( ", string)  # the course's " \( " put a backslash in the token
    string = re.sub(r"\)", " ) ", string)
    string = re.sub(r"\?", " ? ", string)
    string = re.sub(r"\s{2,}", " ", string)
    return string.strip().lower()


HANZI = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")  # Chinese characters
TOKEN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]|[a-z0-9]+|[!?！？]")
if args.tokens == "words":
    try:
        import jieba
    except ImportError:
        raise tfcourse.CourseError("--tokens words needs jieba, the Chinese word segmenter.\n"
                                   "Remedy: pip install jieba, or --tokens chars.") from None
    jieba.setLogLevel(60)  # no "Building prefix dict" lines


def tokenize(sentence):
    if not HANZI.search(sentence):
        return clean_str(sentence).split()
    if args.tokens == "words":  # jieba's words that hold a character, letter, digit, ! or ?
        return [word for word in jieba.lcut(sentence.lower()) if TOKEN.match(word)]
    return TOKEN.findall(sentence.lower())  # each Chinese character, Latin words whole


if args.data == "synthetic":
    words, source = _text.synthetic_text(args.seed).split(), "SYNTHETIC text, planted neighbours"
elif args.data == "text8":
    words, source = _text.text8_words(args)
else:
    sentences, _, source = _text.labelled_sentences(args)
    words = [word for sentence in sentences for word in tokenize(sentence)]
if len(set(words[:10_000])) < 3:
    raise tfcourse.CourseError(f"{source}: {len(words)} words, too few different ones to learn "
                               f"from.\nRemedy: a longer text, e.g. text8 ({_text.TEXT8_URLS[0]}).")
print("Data size", len(words), f"({source})")

# %% [markdown]
# ## Data: words -> indices
# The course's `build_dataset`: the 50000 - 1 most common words get indices 1.., every other
# word is UNK (0).

# %%
count = [["UNK", -1]] + [list(c) for c in collections.Counter(words).most_common(
    args.vocabulary_size - 1)]
dictionary = {word: i for i, (word, _) in enumerate(count)}
data = np.fromiter((dictionary.get(word, 0) for word in words), np.int32, len(words))
count[0][1] = int(np.sum(data == 0))
reverse_dictionary = [word for word, _ in count]
vocabulary_size = len(reverse_dictionary)  # fewer than asked when the text has fewer words
del words  # the course's hint to free memory
print("Most common words (+UNK)", count[:5])
print("Sample data", data[:10].tolist(), [reverse_dictionary[i] for i in data[:10]])

# %% [markdown]
# ## Data: skip-gram batches
# Like the course's `generate_batch`: 64 consecutive center words, each with 2 of its neighbours
# chosen at random (128 pairs); the text wraps round. As a tf.data pipeline instead of a deque.

# %%
def skipgram_batches(data, batch_size, num_skips, skip_window):
    centers_per_batch, span = batch_size // num_skips, 2 * skip_window
    offsets = tf.constant([o for o in range(-skip_window, skip_window + 1) if o != 0])
    chunks = tf.data.Dataset.from_tensor_slices(data).repeat().batch(centers_per_batch)

    def pairs(chunk, next_chunk):
        window = tf.concat([chunk, next_chunk], 0)            # -> (2 * 64,) word indices
        centers = tf.range(centers_per_batch) + skip_window  # positions inside the window
        pick = tf.argsort(tf.random.uniform([centers_per_batch, span]), axis=1)[:, :num_skips]
        batch = tf.repeat(tf.gather(window, centers), num_skips)                 # -> (128,)
        labels = tf.gather(window, centers[:, None] + tf.gather(offsets, pick))  # -> (64, 2)
        return batch, tf.reshape(tf.cast(labels, tf.int64), [-1, 1])             # -> (128, 1)
    return (tf.data.Dataset.zip(chunks, chunks.skip(1))
            .map(pairs, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE))


train_data = iter(skipgram_batches(data, args.batch_size, args.num_skips, args.skip_window))
batch, labels = (t.numpy() for t in next(iter(
    skipgram_batches(data, args.batch_size, args.num_skips, args.skip_window))))
for i in range(min(8, args.batch_size)):  # as the course prints them: center -> neighbour
    print(batch[i], reverse_dictionary[batch[i]], "->", labels[i, 0],
          reverse_dictionary[labels[i, 0]])

# %% [markdown]
# ## Model: a vector per word (the embedding), and NCE weights and biases for the output side

# %%
size = [vocabulary_size, args.embedding_size]  # -> (50000, 128)
embeddings = tf.Variable(tf.random.uniform(size, -1.0, 1.0), name="embeddings")
nce_weights = tf.Variable(tf.random.truncated_normal(size, stddev=1.0 / np.sqrt(size[1])),
                          name="nce_weights")
nce_biases = tf.Variable(tf.zeros([vocabulary_size]), name="nce_biases")
variables = [embeddings, nce_weights, nce_biases]
num_sampled = min(args.num_sampled, vocabulary_size - 1)  # sampled words must be distinct

# %% [markdown]
# ## Loss: NCE, the true neighbour against 64 sampled words; SGD 1.0

# %%
def loss_fn(train_inputs, train_labels):
    embed = tf.nn.embedding_lookup(embeddings, train_inputs)  # -> (128, 128)
    return tf.reduce_mean(tf.nn.nce_loss(weights=nce_weights, biases=nce_biases,
                                         labels=train_labels, inputs=embed,
                                         num_sampled=num_sampled, num_classes=vocabulary_size))


optimizer = tf.keras.optimizers.SGD(learning_rate=args.lr)

# %% [markdown]
# ## Training: 2000 steps per graph call, then the course's lines
# Every 10000 steps the nearest words (cosine similarity) of 16 of the 100 most frequent words.

# %%
def train_step(train_inputs, train_labels):
    with tf.GradientTape() as tape:
        loss = loss_fn(train_inputs, train_labels)
    optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
    return loss


@tf.function
def train_steps(n):  # n steps in one graph call: AutoGraph makes the loop a tf.while_loop
    total_loss = tf.constant(0.0)
    for _ in tf.range(n):
        total_loss += train_step(*next(train_data))
    return total_loss / tf.cast(n, tf.float32)


valid_examples = np.random.choice(min(100, vocabulary_size), min(16, vocabulary_size),
                                  replace=False)
step, average_loss = 0, float(train_steps(tf.constant(1)))  # step 0: the first batch's loss
while True:
    run.check_finite(average_loss, f"step {step}")
    print("Average loss at step ", step, ": ", average_loss)
    run.log(step=step, average_loss=average_loss)
    if step % 10000 == 0 or step == args.steps - 1:
        final_embeddings = tf.math.l2_normalize(embeddings, axis=1).numpy()  # dot = cosine
        similarity = final_embeddings[valid_examples] @ final_embeddings.T  # -> (16, 50000)
        for i, valid_word in enumerate(valid_examples):
            nearest = (-similarity[i, :]).argsort()[1:9]  # [0] is the word itself
            print("Nearest to %s:" % reverse_dictionary[valid_word],
                  "".join(" %s," % reverse_dictionary[k] for k in nearest)[1:])
    if step == args.steps - 1:
        break
    n = min(2000, args.steps - 1 - step)
    average_loss = float(train_steps(tf.constant(n)))  # the average over these batches
    step += n

# %% [markdown]
# ## Results: the vectors and their words (12-1 reads them), and TensorBoard's projector

# %%
with tfcourse.atomic_path(run.path("embeddings.npy")) as tmp:
    np.save(tmp, final_embeddings.astype(np.float32))
words_text = "".join(word + "\n" for word in reverse_dictionary)
tfcourse.atomic_write(run.path("vocabulary.txt"), words_text)
with tfcourse.atomic_path(run.path("projector")) as folder:
    folder.mkdir()
    (folder / "metadata.tsv").write_text(words_text, encoding="utf-8")  # one column: no header
    tf.train.Checkpoint(embedding=tf.Variable(final_embeddings)).save(
        str(folder / "embedding.ckpt"))
    config = projector.ProjectorConfig()
    embedding = config.embeddings.add()
    embedding.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"  # the checkpoint's key
    embedding.metadata_path = "metadata.tsv"
    projector.visualize_embeddings(str(folder), config)
print(f"saved {vocabulary_size} x {args.embedding_size} vectors: {run.path('embeddings.npy')}, "
      "vocabulary.txt, projector/ (metadata.tsv, checkpoint)")

# %% [markdown]
# ## Picture: t-SNE of the 500 most frequent words
# t-SNE (van der Maaten and Hinton 2008) places points in 2-D so that each point's near
# neighbours stay near: Gaussian neighbour probabilities `p` in the vectors' space, with a width
# per word chosen for a perplexity of 30 (about 30 neighbours); Student-t ones `q` in the plane;
# gradient descent on KL(p || q), with early exaggeration and momentum. Exact: O(n^2), fine
# for 500 words.

# %%
def squared_distances(x):
    squares = np.sum(x * x, axis=1)
    return np.maximum(squares[:, None] + squares[None, :] - 2 * x @ x.T, 0)


def tsne(x, perplexity=30.0, iterations=1000, learning_rate=200.0):
    n, distances = len(x), squared_distances(x)
    p = np.zeros((n, n))
    for i in range(n):  # binary search for the width giving each row the perplexity
        d = np.delete(distances[i], i)
        beta, low, high = 1.0, 0.0, np.inf  # beta = 1 / (2 sigma^2)
        for _ in range(100):
            row = np.exp(-(d - d.min()) * beta)
            row /= row.sum()
            entropy = -np.sum(row * np.log(np.maximum(row, 1e-12)))
            if abs(entropy - np.log(perplexity)) < 1e-5:
                break
            if entropy > np.log(perplexity):  # too many neighbours: narrower
                low, beta = beta, beta * 2 if high == np.inf else (beta + high) / 2
            else:
                high, beta = beta, (beta + low) / 2
        p[i, np.arange(n) != i] = row
    p = np.maximum((p + p.T) / (2 * n), 1e-12)  # symmetric, sums to 1
    centered = x - x.mean(axis=0)
    y = centered @ np.linalg.svd(centered, full_matrices=False)[2][:2].T  # start: PCA
    y *= 1e-4 / y[:, 0].std()
    velocity, gains = np.zeros_like(y), np.ones_like(y)
    for iteration in range(iterations):
        exaggeration, momentum = (12.0, 0.5) if iteration < 250 else (1.0, 0.8)
        kernel = 1 / (1 + squared_distances(y))  # Student-t with one degree of freedom
        np.fill_diagonal(kernel, 0)
        q = np.maximum(kernel / kernel.sum(), 1e-12)
        forces = (exaggeration * p - q) * kernel
        gradient = 4 * (forces.sum(axis=1)[:, None] * y - forces @ y)
        gains = np.where(np.sign(gradient) != np.sign(velocity), gains + 0.2, gains * 0.8)
        velocity = momentum * velocity - learning_rate * np.maximum(gains, 0.01) * gradient
        y += velocity
    return y


plot_only = min(args.plot_only, vocabulary_size)
if plot_only > 1:
    low_dim_embs = tsne(final_embeddings[:plot_only],  # -> (500, 2)
                        perplexity=min(30.0, (plot_only - 1) / 3))
    fig = plt.figure(figsize=(18, 18))  # the course's plot_with_labels
    for i, (x, y) in enumerate(low_dim_embs):
        plt.scatter(x, y)
        plt.annotate(reverse_dictionary[i], xy=(x, y), xytext=(5, 2),
                     textcoords="offset points", ha="right", va="bottom")
    plt.title(f"word2vec: t-SNE of the {plot_only} most frequent words ({args.data})")
    tfcourse.save_figure(fig, run.path("tsne.png"), show=args.show)
run.finish(average_loss=average_loss, words=vocabulary_size)
