"""Lesson 11-2 CNN文本分类 — A CNN for sentence classification (Kim 2014).

本课用卷积神经网络判断一句评论是正面还是负面（Kim 2014，课程用的
cnn-text-classification-tf）：每个词变成 128 维词向量，3、4、5 个词宽的卷积核各 128 个，
每个卷积核在整句上取最大值，拼成 384 维，dropout（keep 0.5）后接 2 类输出。数据是 sentence
polarity（5331 正 + 5331 负的英文影评），按课程的固定种子打乱，10% 做验证集；每批 64，
Adam 1e-3，每步打印 `step N, loss X, acc Y`，每 100 步在验证集上评估一次，和视频一样。
中文：--data waimai 下载 11987 条外卖评论（waimai_10k.csv，sha256 校验）；含汉字的句子
按字切分（不需要额外的包），--tokens words 用 jieba 分词（需 pip install jieba）；英文仍用
课程的 clean_str。文件可以是 UTF-8（带或不带 BOM）、GBK/GB18030。
与视频的不同：TF2 写法（Keras 层、tf.function）；句子按长度截断（默认 99% 的句子不截断）。

It prints the course's line for every training step, and for the dev set every 100 steps:
    <date-time>: step 100, loss X, acc Y         (the notes: dev accuracy about 0.73)

Run:
    python week11_word2vec_textcnn/11_2_text_cnn.py                 # downloads the MR data once
    python week11_word2vec_textcnn/11_2_text_cnn.py --data waimai   # Chinese reviews (0.9 MB)
    python week11_word2vec_textcnn/11_2_text_cnn.py --data-dir DIR  # rt-polarity.pos/.neg in DIR
    python week11_word2vec_textcnn/11_2_text_cnn.py --data-dir reviews.csv   # label,review
    python week11_word2vec_textcnn/11_2_text_cnn.py --quick --data synthetic

Files may be UTF-8 (with or without a BOM), GBK/GB18030, UTF-16 with a BOM or Latin-1.
--steps 30000 is the course's num_epochs 200 x 150 batches; dev accuracy peaks far earlier (the
network overfits), which the end-of-run line reports as the best dev step.

Differences from the course code (TensorFlow 1.x):
  - `learn.preprocessing.VocabularyProcessor` is gone: the vocabulary is a plain dict built from
    the training sentences (0 pads, 1 is an unknown word), most frequent words first.
  - Sentences are cut to --max-length tokens (default: the 99th percentile of the lengths), not
    padded to the longest one: one review of 2,000 characters no longer sets every batch's size.
  - Text with Chinese characters is split into characters (clean_str would delete them all).
  - conv2d over the [words, 128, 1] "image" with filters [h, 128] is `Conv1D(128, h)` over
    [words, 128], the same arithmetic; max_pool over the whole length is `GlobalMaxPooling1D`.
  - The loss is on the logits (the course's `scores`), as the course did here: no double softmax.
  - No checkpoints every 100 steps and no summaries; l2_reg_lambda (0.0 in the course) is left out.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import tensorflow as tf

import collections
import datetime
import re
import sys

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(tfcourse.cli.PROJECT_ROOT / "week11_word2vec_textcnn"))  # also in a notebook
import _text  # this week's data files (read, downloaded, checked), beside the lessons


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
                         "(pip install jieba); English always by the course's clean_str")
parser.add_argument("--max-length", type=tfcourse.number(int, 1, 10000), default=None,
                    help="tokens kept per sentence (default: 99%% of the sentences are not cut)")
parser.add_argument("--embedding-dim", "--embedding_dim", type=tfcourse.number(int, 1, 1024),
                    default=128, help="lesson: 128")
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
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --data waimai")
if args.data_dir is not None:
    args.data = args.data_dir.name  # the end line names the data: the folder or CSV file
run = tfcourse.start(args, "week11_word2vec_textcnn/11_2_text_cnn.py")

# %% [markdown]
# ## Data: sentences -> tokens
# English goes through the course's `clean_str`. Chinese has no spaces between words, and
# `clean_str` keeps only Latin letters and digits, so a sentence with Chinese characters is split
# into characters (and Latin words), or into jieba's words with `--tokens words`.

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
# ## Data: the course's split, the vocabulary, sentences as rows of word indices
# Shuffled with the course's seed 10, the last 10% are the dev set. The vocabulary comes from the
# training sentences only; a dev word it lacks becomes 1 (unknown). Every row has `max_length`
# indices: longer sentences are cut, shorter ones padded with 0.

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
print("                    and as indices:", x_train[0][:len(train_tokens[0])].tolist())
minority = min(y_labels.count(0), y_labels.count(1)) / len(y_labels)
majority_share = float(max(y_dev.mean(axis=0)))  # the dev accuracy of always the larger kind
if minority < 0.1:
    print(f"注意 Note: only {minority:.1%} of the sentences are of the rarer kind: always "
          f"answering the other kind scores a dev accuracy of {majority_share:.4f}.")

train_data = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
              .shuffle(len(y_train), seed=args.seed)  # a new order every epoch, as batch_iter
              .batch(args.batch_size).repeat().prefetch(tf.data.AUTOTUNE))

# %% [markdown]
# ## Model: embedding -> convolutions 3, 4, 5 tokens wide -> max over the sentence -> 2 logits

# %%
input_x = tf.keras.Input((max_length,), dtype="int32", name="input_x")      # -> (44,) indices
embedded_chars = tf.keras.layers.Embedding(
    len(vocabulary), args.embedding_dim, name="embedding",
    embeddings_initializer=tf.keras.initializers.RandomUniform(-1.0, 1.0))(input_x)  # (44, 128)
pooled_outputs = []
for filter_size in args.filter_sizes:
    h = tf.keras.layers.Conv1D(
        args.num_filters, filter_size, padding="valid", activation="relu",
        kernel_initializer=tf.keras.initializers.TruncatedNormal(stddev=0.1),
        bias_initializer=tf.keras.initializers.Constant(0.1),
        name=f"conv-maxpool-{filter_size}")(embedded_chars)          # -> (44 - 3 + 1, 128)
    pooled_outputs.append(tf.keras.layers.GlobalMaxPooling1D()(h))  # -> (128,)
h_pool_flat = tf.keras.layers.Concatenate()(pooled_outputs)          # -> (384,)
h_drop = tf.keras.layers.Dropout(1.0 - args.dropout_keep_prob)(h_pool_flat)
logits = tf.keras.layers.Dense(2, bias_initializer=tf.keras.initializers.Constant(0.1),
                               name="output")(h_drop)                 # -> (2,): the course's scores
model = tf.keras.Model(input_x, logits, name="text_cnn")

# %% [markdown]
# ## Loss and optimizer: softmax cross-entropy on the logits, Adam 1e-3

# %%
def loss_and_accuracy(x, y, training):
    logits = model(x, training=training)
    loss = tf.reduce_mean(tf.nn.softmax_cross_entropy_with_logits(labels=y, logits=logits))
    correct_predictions = tf.equal(tf.argmax(logits, 1), tf.argmax(y, 1))
    return loss, tf.reduce_mean(tf.cast(correct_predictions, tf.float32))


optimizer = tf.keras.optimizers.Adam(learning_rate=args.lr)

# %% [markdown]
# ## Training: the course's line every step, and every 100 steps on the dev set

# %%
@tf.function
def train_step(x_batch, y_batch):
    with tf.GradientTape() as tape:
        loss, accuracy = loss_and_accuracy(x_batch, y_batch, training=True)  # dropout on
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss, accuracy


@tf.function
def dev_step(x, y):
    return loss_and_accuracy(x, y, training=False)  # dropout off (keep 1.0)


history = []
for step, (x_batch, y_batch) in enumerate(train_data.take(args.steps), start=1):
    loss, accuracy = train_step(x_batch, y_batch)
    time_str = datetime.datetime.now().isoformat()
    print("{}: step {}, loss {:g}, acc {:g}".format(time_str, step, float(loss), float(accuracy)))
    if step % args.evaluate_every == 0 or step == args.steps:
        run.check_finite(loss, f"step {step}")
        print("\nEvaluation:")
        dev_loss, dev_accuracy = (float(value) for value in dev_step(x_dev, y_dev))
        print("{}: step {}, loss {:g}, acc {:g}".format(time_str, step, dev_loss, dev_accuracy))
        print("")
        history.append((step, dev_accuracy))
        run.log(step=step, loss=loss, accuracy=accuracy, dev_loss=dev_loss,
                dev_accuracy=dev_accuracy)

# %% [markdown]
# ## Evaluation: the last and the best dev accuracy

# %%
best_step, best_accuracy = max(history, key=lambda point: point[1])
print(f"dev accuracy {dev_accuracy:.4f} at the end, best {best_accuracy:.4f} at step {best_step}")

# %% [markdown]
# ## Picture: dev accuracy against the step

# %%
fig, ax = plt.subplots(figsize=(8, 4.5))
ax.plot(*zip(*history), marker="o" if len(history) < 30 else None, markersize=3,
        label="text CNN")
ax.axhline(majority_share, color="gray", linestyle="--", label="always the larger kind")
ax.set(xlabel="step", ylabel="dev accuracy", title=f"Text CNN (Kim 2014) on {args.data}: "
       "accuracy on the dev sentences")
ax.locator_params(axis="x", integer=True)  # steps are whole numbers (--quick: 100, 101)
ax.grid(alpha=0.3)
ax.legend()
tfcourse.save_figure(fig, run.path("dev_accuracy.png"), show=args.show)
run.finish(dev_accuracy=dev_accuracy, best_dev_accuracy=best_accuracy, best_step=best_step)
