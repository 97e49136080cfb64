"""Lesson 12-1 CNN文本分类（word2vec预训练词向量） — The text CNN on word2vec embeddings.

本课把 11-1 训练出的 word2vec 词向量放进 11-2 的文本 CNN：词表中的词如果在 11-1 的词表里，
embedding 就从它的词向量开始，找不到的词随机初始化；默认继续训练词向量（Kim 2014 的
CNN-non-static），--freeze 则固定不动（CNN-static）。同一个划分、同样的批次、同样的卷积层初值，
同时训练一个随机初始化 embedding 的网络做对比，每 100 步并排打印两者在验证集上的结果。
中文：--data waimai（先用 11-1 --data waimai 训练字向量），按字切分，和 11-1、11-2 一样。
与视频的不同：TF2 写法；11-2 的分词、词表和网络在本课里重复一遍（一课不加载另一课）。

The notes: dev accuracy about 0.75 with pretrained vectors (0.73 without, lesson 11-2).

    step 100  random: loss X, acc Y  |  word2vec: loss X, acc Y

Run (11-1 first: its newest finished run is the default --model-dir):
    python week11_word2vec_textcnn/11_1_word2vec.py
    python week12_textcnn_sound/12_1_text_cnn_word2vec.py             # fine-tunes the vectors
    python week12_textcnn_sound/12_1_text_cnn_word2vec.py --freeze    # keeps them fixed
    python week11_word2vec_textcnn/11_1_word2vec.py --data waimai     # Chinese: vectors of
    python week12_textcnn_sound/12_1_text_cnn_word2vec.py --data waimai   # characters, then 12-1
    python week12_textcnn_sound/12_1_text_cnn_word2vec.py --quick --data synthetic
                                                        # (after 11-1 --quick --data synthetic)

Differences from the course code (TensorFlow 1.x):
  - The vectors come from 11-1 (embeddings.npy + vocabulary.txt), checked (numbers, shape, no
    NaN), looked up word by word for this vocabulary; words not found start uniform in [-a, a]
    with the found vectors' variance (Kim 2014), so both kinds of rows start on the same scale.
  - The random-embedding network is trained beside it on the same batches, so the difference the
    vectors make is read off one run, not two runs on different shuffles.
  - The embedding size is the vectors' width (128 from 11-1's defaults) for both networks.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import tensorflow as tf

import collections
import re
import sys

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(tfcourse.cli.PROJECT_ROOT / "week11_word2vec_textcnn"))
import _text  # noqa: E402  (week 11's data files: read, downloaded, checked)

WORD2VEC = "week11_word2vec_textcnn/11_1_word2vec.py"


def filter_sizes(text):  # "3,4,5" -> (3, 4, 5)
    return tuple(tfcourse.positive_int(part) for part in text.split(","))


parser = tfcourse.parser(__doc__, steps=30000, batch_size=64, lr=1e-3, quick=dict(steps=101))
parser.add_argument("--data", choices=["polarity", "waimai", "synthetic"], default="polarity",
                    help="polarity: the course's English movie reviews (default); waimai: Chinese "
                         "food-delivery reviews; synthetic: sentences with planted words")
parser.add_argument("--data-dir", type=_text.data_path, default=None, metavar="PATH",
                    help="a folder holding rt-polarity.pos and .neg, or a CSV file label,review")
parser.add_argument("--mirror", default=None, metavar="URL",
                    help="a URL folder holding the data set's file, tried first")
parser.add_argument("--tokens", choices=["chars", "words"], default="chars",
                    help="Chinese text as characters (default) or as jieba's words "
                         "(pip install jieba), as 11-1 split it; English by clean_str")
parser.add_argument("--max-length", type=tfcourse.number(int, 1, 10000), default=None,
                    help="tokens kept per sentence (default: 99%% of the sentences are not cut)")
parser.add_argument("--filter-sizes", "--filter_sizes", type=filter_sizes, default=(3, 4, 5),
                    help="lesson: 3,4,5")
parser.add_argument("--num-filters", "--num_filters", type=tfcourse.number(int, 1, 1024),
                    default=128, help="lesson: 128")
parser.add_argument("--dropout-keep-prob", "--dropout_keep_prob", type=tfcourse.probability,
                    default=0.5, help="lesson: 0.5")
parser.add_argument("--dev-sample-percentage", "--dev_sample_percentage",
                    type=tfcourse.number(float, 0, 0.9, low_open=True), default=0.1,
                    help="share of the sentences kept for the dev set (lesson: 0.1)")
parser.add_argument("--evaluate-every", "--evaluate_every", type=tfcourse.positive_int,
                    default=100, help="evaluate on the dev set every this many steps (lesson: 100)")
parser.add_argument("--model-dir", type=tfcourse.folder, default=None, metavar="DIR",
                    help="an 11-1 run folder with embeddings.npy and vocabulary.txt "
                         "(default: 11-1's newest finished run)")
parser.add_argument("--freeze", action="store_true",
                    help="keep the word2vec vectors fixed (CNN-static) instead of fine-tuning them")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --data waimai")
if args.data_dir is not None:
    args.data = args.data_dir.name  # the end line names the data: the folder or CSV file
run = tfcourse.start(args, "week12_textcnn_sound/12_1_text_cnn_word2vec.py")

# %% [markdown]
# ## Data: sentences -> tokens, as in 11-2
# The course's `clean_str` for English; Chinese as characters (or jieba's words).

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


sentences, labels, source = _text.labelled_sentences(args)
x_tokens, y_labels = [], []
for sentence, label in zip(sentences, labels):
    tokens = tokenize(sentence)
    if tokens:  # an empty line, or only punctuation: nothing to learn from
        x_tokens.append(tokens)
        y_labels.append(label)
print(f"{source}: {y_labels.count(1)} positive, {y_labels.count(0)} negative")
if len(x_tokens) < len(sentences):
    print(f"dropped {len(sentences) - len(x_tokens)} sentences with no token left (empty lines, "
          "punctuation only)")
if y_labels.count(1) == 0 or y_labels.count(0) == 0:
    raise tfcourse.CourseError(
        f"{source}: " + ("no sentence has a token left." if not x_tokens else
                         "every sentence has the same label: there is nothing to tell apart.")
        + "\nRemedy: sentences of both kinds (positive label 1, negative 0), in UTF-8 or GBK.")
y = np.array([[0, 1] if label == 1 else [1, 0] for label in y_labels], np.float32)  # [neg, pos]

# %% [markdown]
# ## Data: 11-2's split, vocabulary and rows of word indices

# %%
shuffle_indices = np.random.RandomState(10).permutation(len(y))  # the course: np.random.seed(10)
dev_sample_index = -1 * int(args.dev_sample_percentage * len(y))
if dev_sample_index == 0:  # (at most 0.9 of them: some are left to train on)
    raise tfcourse.CourseError(
        f"{len(y)} sentences cannot be split {args.dev_sample_percentage:g} for the dev set.\n"
        "Remedy: more sentences, or another --dev-sample-percentage.")
x_tokens = [x_tokens[i] for i in shuffle_indices]
y = y[shuffle_indices]
train_tokens, dev_tokens = x_tokens[:dev_sample_index], x_tokens[dev_sample_index:]
y_train, y_dev = y[:dev_sample_index], y[dev_sample_index:]

counts = collections.Counter(token for tokens in train_tokens for token in tokens)
vocabulary = ["<PAD>", "<UNK>"] + [token for token, _ in counts.most_common()]
word_index = {token: i for i, token in enumerate(vocabulary)}

lengths = [len(tokens) for tokens in x_tokens]
max_length = args.max_length or int(np.ceil(np.percentile(lengths, 99)))
if max_length < max(args.filter_sizes):
    if args.max_length:
        raise tfcourse.CourseError(
            f"--max-length {max_length} is shorter than the widest filter "
            f"({max(args.filter_sizes)}).\nRemedy: --max-length {max(args.filter_sizes)} or more.")
    max_length = max(args.filter_sizes)  # short sentences: pad to the widest filter


def to_indices(tokens):
    indices = [word_index.get(token, 1) for token in tokens[:max_length]]
    return indices + [0] * (max_length - len(indices))


x_train = np.array([to_indices(tokens) for tokens in train_tokens], np.int32)  # -> (9596, 44)
x_dev = np.array([to_indices(tokens) for tokens in dev_tokens], np.int32)
print("Vocabulary Size: {:d}".format(len(vocabulary)))
print("Train/Dev split: {:d}/{:d}".format(len(y_train), len(y_dev)))
cut = sum(length > max_length for length in lengths)
print(f"max length {max_length} tokens (longest {max(lengths)}): {cut} sentences cut "
      f"({cut / len(lengths):.1%})")
print("first training sentence as tokens:", " ".join(train_tokens[0][:max_length]))
minority = min(y_labels.count(0), y_labels.count(1)) / len(y_labels)
majority_share = float(max(y_dev.mean(axis=0)))  # the dev accuracy of always the larger kind
if minority < 0.1:
    print(f"注意 Note: only {minority:.1%} of the sentences are of the rarer kind: always "
          f"answering the other kind scores a dev accuracy of {majority_share:.4f}.")

train_data = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
              .shuffle(len(y_train), seed=args.seed)  # a new order every epoch, as batch_iter
              .batch(args.batch_size).repeat().prefetch(tf.data.AUTOTUNE))

# %% [markdown]
# ## Word vectors: 11-1's, looked up for this vocabulary
# 11-1 saved `embeddings.npy` (row i is the vector of line i of `vocabulary.txt`). They are
# checked before use: a damaged file would otherwise end in a NumPy error deep in the lookup.

# %%
model_dir = args.model_dir or tfcourse.latest_run(WORD2VEC, need="embeddings.npy")
remedy = (f"Remedy: python {WORD2VEC} (with --data and --tokens as here; --quick --data "
          "synthetic for a first try), then run 12-1 again; or pass --model-dir DIR, a run "
          "folder of 11-1 holding embeddings.npy and vocabulary.txt.")
if model_dir is None:
    raise tfcourse.CourseError("No finished run of 11-1 (word2vec) found: 12-1 needs its "
                               "vectors.\n" + remedy)
try:
    vectors = np.load(model_dir / "embeddings.npy", allow_pickle=False)
    words = (model_dir / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
except (OSError, ValueError, EOFError) as error:  # missing, not .npy, pickled, not UTF-8
    raise tfcourse.CourseError(f"Cannot read 11-1's word vectors in {model_dir} ({error}).\n"
                               + remedy) from None
problem = None
if not isinstance(vectors, np.ndarray) or not np.issubdtype(vectors.dtype, np.floating):
    problem = f"holds {getattr(vectors, 'dtype', type(vectors).__name__)} values, not vectors"
elif vectors.ndim != 2 or vectors.shape[1] == 0:
    problem = f"has the shape {vectors.shape}, not (words, size)"
elif len(vectors) != len(words):
    problem = f"has {len(vectors)} rows but vocabulary.txt {len(words)} words"
elif not np.isfinite(vectors).all():
    bad = np.flatnonzero(~np.isfinite(vectors).all(axis=1))
    problem = (f"holds NaN or infinite numbers in {len(bad)} rows (the first: row {bad[0]}, "
               f"{words[bad[0]]!r})")
if problem:
    raise tfcourse.CourseError(f"{model_dir / 'embeddings.npy'} {problem}.\n" + remedy)
record = tfcourse.read_record(model_dir) or {}
if record.get("synthetic"):
    print(f"注意 Note: the vectors in {model_dir} were trained on 11-1's SYNTHETIC text.")

index = {word: i for i, word in enumerate(words) if word != "UNK"}
a = np.sqrt(3.0) * vectors.std(dtype=np.float64)  # uniform(-a, a) has the vectors' variance
rng = np.random.default_rng(args.seed)
initial = rng.uniform(-a, a, (len(vocabulary), vectors.shape[1])).astype(np.float32)
found = [i for i, word in enumerate(vocabulary) if word in index]
initial[found] = vectors[[index[vocabulary[i]] for i in found]]
print(f"{len(found)} of {len(vocabulary)} words found among 11-1's {len(words)} ({model_dir}); "
      f"embedding size {vectors.shape[1]}, {'frozen' if args.freeze else 'fine-tuned'}")
if len(found) < 0.1 * (len(vocabulary) - 2):
    made = record.get("flags", {})
    print(f"注意 Note: only {len(found)} of {len(vocabulary) - 2} words have a vector from 11-1, "
          "so the word2vec network starts almost as the random one"
          + (f" (11-1 ran with --data {made.get('data')} --tokens {made.get('tokens')})."
             if made else "."))

# %% [markdown]
# ## Model: 11-2's network, twice: the same but for the embedding's first values

# %%
def text_cnn(embedding_trainable):
    input_x = tf.keras.Input((max_length,), dtype="int32", name="input_x")   # -> (44,) indices
    embedded_chars = tf.keras.layers.Embedding(
        len(vocabulary), vectors.shape[1], name="embedding", trainable=embedding_trainable,
        embeddings_initializer=tf.keras.initializers.RandomUniform(-1.0, 1.0))(input_x)
    pooled_outputs = []                                                     # -> (44, 128)
    for filter_size in args.filter_sizes:
        h = tf.keras.layers.Conv1D(
            args.num_filters, filter_size, padding="valid", activation="relu",
            kernel_initializer=tf.keras.initializers.TruncatedNormal(stddev=0.1),
            bias_initializer=tf.keras.initializers.Constant(0.1),
            name=f"conv-maxpool-{filter_size}")(embedded_chars)       # -> (44 - 3 + 1, 128)
        pooled_outputs.append(tf.keras.layers.GlobalMaxPooling1D()(h))  # -> (128,)
    h_pool_flat = tf.keras.layers.Concatenate()(pooled_outputs)          # -> (384,)
    h_drop = tf.keras.layers.Dropout(1.0 - args.dropout_keep_prob)(h_pool_flat)
    logits = tf.keras.layers.Dense(2, bias_initializer=tf.keras.initializers.Constant(0.1),
                                   name="output")(h_drop)                 # -> (2,) scores
    return tf.keras.Model(input_x, logits, name="text_cnn")


models = {}
for name in ("random", "word2vec"):
    tf.keras.utils.set_random_seed(args.seed)  # the same convolution and output weights in both
    models[name] = text_cnn(embedding_trainable=not (name == "word2vec" and args.freeze))
models["word2vec"].get_layer("embedding").embeddings.assign(initial)

# %% [markdown]
# ## Loss and optimizer: softmax cross-entropy on the logits, Adam 1e-3 for each network

# %%
def loss_and_accuracy(model, x, y, training):
    logits = model(x, training=training)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
    correct_predictions = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
    return loss, tf.reduce_mean(tf.cast(correct_predictions, tf.float32))


optimizers = {name: tf.keras.optimizers.Adam(learning_rate=args.lr) for name in models}

# %% [markdown]
# ## Training: both networks on every batch; the dev set every 100 steps, side by side

# %%
def make_train_step(model, optimizer):
    @tf.function
    def train_step(x_batch, y_batch):
        with tf.GradientTape() as tape:
            loss, accuracy = loss_and_accuracy(model, x_batch, y_batch, training=True)
        gradients = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(gradients, model.trainable_variables))
        return loss, accuracy
    return train_step


def make_dev_step(model):
    return tf.function(lambda x, y: loss_and_accuracy(model, x, y, training=False))


train_steps = {name: make_train_step(models[name], optimizers[name]) for name in models}
dev_steps = {name: make_dev_step(models[name]) for name in models}
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
        run.log(step=step, **{f"{name}_dev_accuracy": acc for name, (_, acc) in dev.items()})

# %% [markdown]
# ## Evaluation: the last and the best dev accuracy of each

# %%
best = {name: max(points, key=lambda point: point[1]) for name, points in history.items()}
for name in models:
    print(f"{name:>8} embedding: dev accuracy {history[name][-1][1]:.4f} at the end, "
          f"best {best[name][1]:.4f} at step {best[name][0]}")

# %% [markdown]
# ## Picture: dev accuracy against the step, both networks

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
labels_shown = {"random": "random embedding",
                "word2vec": f"word2vec ({'frozen' if args.freeze else 'fine-tuned'})"}
for name, points in history.items():
    ax.plot(*zip(*points), label=labels_shown[name], marker="o" if len(points) < 30 else None,
            markersize=3)
ax.axhline(majority_share, color="gray", linestyle="--", label="always the larger kind")
ax.set(xlabel="step", ylabel="dev accuracy",
       title=f"Text CNN on {args.data}: random vs word2vec embedding, dev accuracy")
ax.locator_params(axis="x", integer=True)  # steps are whole numbers (--quick: 100, 101)
ax.grid(alpha=0.3)
ax.legend()
tfcourse.save_figure(fig, run.path("dev_accuracy.png"), show=args.show)
run.finish(word2vec_dev_accuracy=history["word2vec"][-1][1],
           random_dev_accuracy=history["random"][-1][1],
           best_word2vec=best["word2vec"][1], best_random=best["random"][1])
