"""Lesson 12-2 声音分类（MFCC特征与三层GRU） — Sound classification: MFCCs and a 3-layer GRU.

本课用 tf.signal 把声音变成 MFCC 特征（短时傅里叶变换 -> 梅尔滤波器组 -> 取对数 -> 离散余弦变换），
再用三层 GRU 逐帧读这些特征，分出 UrbanSound8K 的 10 类城市声音（空调、汽车鸣笛、儿童玩耍、狗叫、
钻孔、引擎空转、枪声、手提钻、警笛、街头音乐）。与视频的不同：TF2 写法；按数据集自带的 10 折划分，
第 10 折测试、其余各折训练（不是随机划分），只有部分折也能训练；比片段长度短的声音放在片段末尾、
前面补静音，这样最后一个 GRU 的最终状态紧接着声音读出（不然短声音后面几秒的静音会把它冲掉）；
笔记没有给出网络大小和训练设置，这里的数值是我们选的。数据集约 6 GB，要先下载（见下文）；
没有数据时可先用 --data synthetic（画出来的 10 类声音）试跑。也可以用你自己的声音：每类一个文件夹，
里面放 WAV 文件（如 我的声音/狗叫/*.wav、我的声音/门铃/*.wav），用 --data own --data-dir 我的声音；
每类随机留出五分之一测试（由 --seed 决定），每个录音先去掉开头和结尾的安静部分。

Each WAV is mixed to mono and resampled to 22050 Hz; a clip shorter than UrbanSound8K's 4 s is
padded with silence *in front*, so that the sound ends where the last GRU's final state is read.
`tf.signal` turns it into 171 frames of 40 MFCCs (46 ms windows every 23 ms, 64 mel bands).
Three GRU layers of 128 units read the frames; the last one's final state goes through a dense
layer to 10 classes; Adam 1e-3, batches of 64, 20 epochs. After each epoch, in 7-2's format:

    Iter 19, Testing Accuracy= X        (the notes: test accuracy about 0.85)

Data: the 8732 clips of UrbanSound8K in its 10 predefined folds: fold 10 tests (--test-fold),
every other fold on disk trains; part of the data set (some folds, some clips) is enough.
Download UrbanSound8K.tar.gz (about 6 GB) from
https://urbansounddataset.weebly.com/urbansound8k.html
(Zenodo record 1203745), extract it and pass --data-dir PATH/UrbanSound8K (the folder holding
audio/fold1..fold10 and metadata/UrbanSound8K.csv), or let --download fetch it (md5-checked) into
~/.keras/datasets/urbansound8k/. The first run decodes every WAV (minutes); the MFCCs of each
fold are cached (--cache-dir) for the runs after it.

Your own sounds: `--data own --data-dir DIR`, where DIR holds one folder of WAV files per class
(any number of classes from 2; the folder names are the class names, Chinese ones too); one in
five clips of each class, drawn by --seed, tests. Each recording loses its quiet start and end
(below 2% of its peak), as UrbanSound8K's clips were cut; one still longer than --clip-seconds
keeps its first --clip-seconds (the run says how long your clips are). Other formats (mp3, m4a)
must be converted to WAV first.

Run:
    python week12_textcnn_sound/12_2_sound_gru.py --data-dir ~/data/UrbanSound8K
    python week12_textcnn_sound/12_2_sound_gru.py --data-dir ~/data/UrbanSound8K --test-fold 3
    python week12_textcnn_sound/12_2_sound_gru.py --quick --data synthetic
    python week12_textcnn_sound/12_2_sound_gru.py --data own --data-dir ~/my_sounds --clip-seconds 2

Differences from a TensorFlow 1.x version (the notes quote no code for this lesson):
  - MFCCs from `tf.signal` (stft -> linear_to_mel_weight_matrix -> log ->
    mfccs_from_log_mel_spectrograms) instead of librosa; _sound.py reads PCM 8-32-bit and float
    WAVs with numpy (`tf.audio.decode_wav` reads 16-bit PCM only).
  - Keras `GRU` layers instead of `GRUCell`s in a `MultiRNNCell`; the loss on the logits; a Keras
    `Normalization` layer scales each coefficient by its spread over the training folds.
  - Short clips are padded in front, not behind (see "Data" below).
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import tensorflow as tf

import hashlib
import inspect
import json
import sys

import matplotlib.pyplot as plt
import numpy as np

sys.path.insert(0, str(tfcourse.cli.PROJECT_ROOT / "week12_textcnn_sound"))  # also in a notebook
import _sound  # this week's plumbing, beside the lesson: WAV files, UrbanSound8K's folders

parser = tfcourse.parser(__doc__, epochs=20, batch_size=64, lr=1e-3,  # ours: the notes give none
                         quick=dict(epochs=5, batch_size=16, clips=400, sample_rate=8000,
                                    clip_seconds=0.5, gru_size=32))
data = parser.add_argument_group("data (数据)")
data.add_argument("--data", choices=["urbansound8k", "own", "synthetic"], default="urbansound8k",
                  help="urbansound8k: the real data set (default); own: your sounds in --data-dir"
                       ", one folder of WAV files per class; synthetic: drawn sounds of 10 kinds, "
                       "for a run with nothing downloaded (labelled as such)")
data.add_argument("--data-dir", type=tfcourse.folder, default=None, metavar="DIR",
                  help="the UrbanSound8K folder: audio/foldN/*.wav and metadata/UrbanSound8K.csv"
                       f" (default {_sound.DATA_DIR}/UrbanSound8K); with --data own, your "
                       "folder of class folders")
data.add_argument("--download", action="store_true",
                  help=f"fetch {_sound.ARCHIVE} (about 6 GB, md5-checked) into {_sound.DATA_DIR}")
data.add_argument("--mirror", default=None, metavar="URL",
                  help=f"with --download: a URL folder holding {_sound.ARCHIVE}, instead of Zenodo")
data.add_argument("--cache-dir", type=tfcourse.folder, default=None, metavar="DIR",
                  help="where the MFCCs of each fold are kept "
                       "(default ~/.keras/datasets/urbansound8k_features)")
data.add_argument("--test-fold", type=tfcourse.number(int, 1, 10), default=10, metavar="1..10",
                  help="the fold to test on; every other fold on disk trains (default 10; "
                       "--data own tests one in five clips of each class instead)")
data.add_argument("--clips", type=tfcourse.number(int, 0, 8732), default=0, metavar="N",
                  help="use about N clips, evenly from every fold (default 0: all; synthetic: "
                       "1000)")
parser.add_argument("--sample-rate", type=tfcourse.number(int, 4000, 48000), default=22050,
                    metavar="HZ", help="resample every clip to this rate (4000-48000, default "
                                       "22050)")
parser.add_argument("--clip-seconds", type=tfcourse.number(float, 0.05, 60), default=4.0,
                    metavar="S", help="pad or cut every clip to this length (0.05-60, default 4)")
parser.add_argument("--gru-size", type=tfcourse.number(int, 1, 4096), default=128, metavar="N",
                    help="units per GRU layer (1-4096, ours: 128)")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --data synthetic")
if args.download and (args.data_dir is not None or args.data == "synthetic"):
    raise tfcourse.CourseError(
        f"--download fetches UrbanSound8K into {_sound.DATA_DIR}; it takes no --data-dir and no "
        "--data synthetic.\nRemedy: drop --download, or the other flag.")
if args.data == "own" and args.data_dir is None:
    raise tfcourse.CourseError("--data own reads your sounds from a folder: name it with --data-dir"
                               ".\nRemedy: --data own --data-dir DIR, where DIR holds one folder "
                               "of WAV files per class.")
if args.mirror and not args.download:
    raise tfcourse.CourseError("--mirror names where --download fetches the archive from; "
                               "nothing is downloaded without --download.\nRemedy: add "
                               "--download, or drop --mirror.")
run = tfcourse.start(args, "week12_textcnn_sound/12_2_sound_gru.py")

# %% [markdown]
# ## Data: from a WAV file to MFCCs
# Every clip becomes `n_samples` numbers at `--sample-rate`. UrbanSound8K's clips last up to 4 s,
# many much less (a dog bark, a gun shot), and spoken words about half a second. A GRU
# classifier reads the *final* state, after the last frame: padded behind, a short sound is
# followed by seconds of silence that wash it out of the state (the network then learns
# nothing and names one class for every clip). So the silence goes *in front* and the sound
# ends at the last frame. This is Keras's own default for RNN inputs
# (`pad_sequences(padding="pre")`), and unlike a mask it needs no second input.

# %%
n_samples = round(args.sample_rate * args.clip_seconds)


def at_the_end(clip):
    """Cut a clip to n_samples, or pad it with silence in front: the sound ends the clip."""
    clip = clip[:n_samples]
    return np.pad(clip, (n_samples - len(clip), 0))


# %% [markdown]
# MFCCs with `tf.signal`: the short-time Fourier transform (a spectrum every 23 ms), its power
# on 64 mel bands (the ear's pitch scale), the logarithm (the ear's loudness scale), then a
# discrete cosine transform of the 64 log energies, of which the first 40 coefficients are kept.

# %%
frame_length = round(args.sample_rate * 1024 / 22050)  # 46 ms: 1024 samples at 22050 Hz
frame_step = frame_length // 2                          # 23 ms
NUM_MEL_BINS, NUM_MFCCS = 64, 40
frames = 1 + (n_samples - frame_length) // frame_step   # 171 at 22050 Hz and 4 s


def mfcc(waveforms):
    """(clips, n_samples) -> (clips, frames, NUM_MFCCS)."""
    stft = tf.signal.stft(waveforms, frame_length=frame_length, frame_step=frame_step)
    power = tf.square(tf.abs(stft))                                   # -> (clips, 171, 513)
    mel_matrix = tf.signal.linear_to_mel_weight_matrix(
        NUM_MEL_BINS, power.shape[-1], args.sample_rate,
        lower_edge_hertz=20.0, upper_edge_hertz=args.sample_rate / 2)  # -> (513, 64)
    log_mel = tf.math.log(tf.tensordot(power, mel_matrix, 1) + 1e-6)  # -> (clips, 171, 64)
    return tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., :NUM_MFCCS]  # (clips, 171, 40)


def features_of(clips):
    """MFCCs of a list of clips, 128 clips at a time (a whole fold at once would need GBs)."""
    waveforms = np.stack([at_the_end(clip) for clip in clips]).astype(np.float32)
    return np.concatenate([mfcc(waveforms[i:i + 128]).numpy()
                           for i in range(0, len(waveforms), 128)])


# %% [markdown]
# ## Data: UrbanSound8K's folds (or your own sounds, or the drawn ones)
# The data set comes in 10 folds, and its authors ask to test on one fold and train on the
# others (clips cut from the same recording share a fold). Decoding thousands of WAVs takes
# minutes, so each fold's MFCCs are kept in a cache file, named by a hash of everything that
# made them: the settings, the clips, and the code of `mfcc` and `at_the_end`. A cache file that
# does not hold what it should (damaged, another shape, NaN) is never used: it is made again.

# %%
settings = dict(sample_rate=args.sample_rate, n_samples=n_samples, frame_length=frame_length,
                frame_step=frame_step, mel_bins=NUM_MEL_BINS, mfccs=NUM_MFCCS)
code = inspect.getsource(mfcc) + inspect.getsource(at_the_end)


def cache_problem(saved, n_rows):
    """None when a cache file holds one fold's features as made above, else what is wrong."""
    features, labels, skipped = saved["features"], saved["labels"], saved["skipped"]
    if features.shape != (len(labels), frames, NUM_MFCCS) or features.dtype != np.float32:
        return f"features of shape {features.shape}, not ({len(labels)}, {frames}, {NUM_MFCCS})"
    if len(labels) + len(skipped) != n_rows:
        return f"{len(labels)} + {len(skipped)} skipped clips, not {n_rows}"
    if labels.dtype.kind != "i" or not np.all((labels >= 0) & (labels < 10)):
        return "labels other than 0-9"
    if not np.isfinite(features).all():
        return "features that are not finite numbers"
    return None


def fold_features(root, fold, fold_rows, cache_dir):
    """(MFCCs, labels, skipped files) of one fold's clips: from the cache, else decoded."""
    key = json.dumps([settings, code, str(root.resolve()), fold_rows])
    cache = cache_dir / f"fold{fold}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.npz"
    if cache.is_file():
        try:
            with np.load(cache, allow_pickle=False) as saved:
                problem = cache_problem(saved, len(fold_rows))
                if problem is None:
                    print(f"fold {fold}: {len(saved['labels'])} clips' MFCCs from the cache "
                          f"{cache}")
                    return saved["features"], saved["labels"], list(saved["skipped"])
        except Exception as error:  # noqa: BLE001 -- whatever is wrong, the file is made again
            problem = f"{type(error).__name__}: {error}"
        print(f"fold {fold}: the cache file {cache} is damaged ({problem}); making it again")
    clips, labels, skipped = _sound.read_clips(root, fold, fold_rows, args.sample_rate)
    features, labels = features_of(clips), np.array(labels, np.int32)
    try:
        with tfcourse.atomic_path(cache) as tmp:  # whole or absent, even when the run is killed
            with open(tmp, "wb") as handle:
                np.savez(handle, features=features, labels=labels, skipped=np.array(skipped, str))
    except OSError as error:
        raise tfcourse.CourseError(f"Cannot write the MFCC cache {cache}: {error.strerror}.\n"
                                   "Remedy: free some space, or pass --cache-dir DIR on a disk "
                                   "with room.") from None
    print(f"fold {fold}: decoded {len(clips)} WAVs, MFCCs cached in {cache}")
    return features, labels, skipped


def urbansound8k():
    """(x_train, y_train), (x_test, y_test), class names: the folds on disk."""
    data_dir = args.data_dir or _sound.DATA_DIR
    if args.download:
        _sound.download(data_dir, args.mirror)
    root = _sound.find_root(data_dir, given=args.data_dir is not None)
    rows, class_names = _sound.read_metadata(root)
    rows = _sound.clips_on_disk(root, rows, args.test_fold)  # says which folds are there
    cache_dir = args.cache_dir or _sound.DATA_DIR.with_name("urbansound8k_features")
    try:
        cache_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise tfcourse.CourseError(f"Cannot make the cache folder --cache-dir {cache_dir}: "
                                   f"{error.strerror}.\nRemedy: pass --cache-dir DIR, a folder "
                                   "you can write to.") from None
    x_train, y_train, skipped = [], [], []
    for fold in sorted({row[0] for row in rows}):
        fold_rows = [row for row in rows if row[0] == fold]
        if args.clips:  # a smaller, evenly spread share of every fold (--quick)
            fold_rows = fold_rows[::max(1, len(fold_rows) * 10 // args.clips)]
        features, labels, fold_skipped = fold_features(root, fold, fold_rows, cache_dir)
        skipped += fold_skipped
        if fold == args.test_fold:
            x_test, y_test = features, labels
        else:
            x_train.append(features)
            y_train.append(labels)
    if skipped:
        print(f"skipped {len(skipped)} WAV file(s) that cannot be read: " + "; ".join(skipped[:5])
              + (f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""))
    return ((np.concatenate(x_train), np.concatenate(y_train)), (x_test, y_test), class_names)


def drawn_sounds():
    """The same, from drawn sounds of 10 kinds in folds 1-10."""
    n_clips = args.clips or 1000
    if n_clips < 100:  # blocks of 10 clips go to folds 1, 2, ...: fold 10 needs 100
        raise tfcourse.CourseError(f"--clips {n_clips} leaves drawn folds empty.\n"
                                   "Remedy: --clips 100 or more.")
    waves, labels, folds = _sound.drawn_sounds(n_clips, args.sample_rate, args.clip_seconds,
                                               args.seed)
    features, test = features_of(waves), folds == args.test_fold
    run.synthetic = True
    return ((features[~test], labels[~test]), (features[test], labels[test]),
            _sound.DRAWN_CLASSES)


# %% [markdown]
# Your own sounds come as recordings, not as cut clips: silence (or a faint hiss) before and
# after the sound. Behind the sound it would wash the sound out of the final state, so each
# recording loses its quiet start and end first. Then one in five clips of each class tests.

# %%
def trimmed(clip):
    """A recording without its quiet start and end (below 2% of its peak), cut as UrbanSound8K's
    clips are: silence after the sound would wash it out of the GRU's final state."""
    loud = np.flatnonzero(np.abs(clip) > 0.02 * np.abs(clip).max())
    return clip[loud[0]:loud[-1] + 1] if len(loud) else clip


def own_sounds():
    """The same, from your folders: one in five clips of each class (drawn by --seed) tests."""
    classes = _sound.sound_folders(args.data_dir)
    total = sum(len(paths) for paths in classes.values())
    step = -(-total // args.clips) if args.clips else 1  # about --clips clips in all
    rng = np.random.default_rng(args.seed)
    x_train, y_train, x_test, y_test, skipped = [], [], [], [], []
    for label, (name, paths) in enumerate(classes.items()):
        clips = []
        for path in paths[::step]:
            try:
                clips.append(trimmed(_sound.read_clip(path, args.sample_rate)))
            except (_sound.WavError, OSError) as error:
                skipped.append(f"{path.relative_to(args.data_dir)} ({error})")
        if len(clips) < 2:
            raise tfcourse.CourseError(
                f"The class '{name}' has {len(clips)} readable WAV file(s); it needs at least two"
                " (one to train on, one to test).\nRemedy: add WAV files to "
                f"{args.data_dir / name}, or remove that folder.")
        order = rng.permutation(len(clips))
        n_test = max(1, round(len(clips) / 5))
        x_test += [clips[i] for i in order[:n_test]]
        x_train += [clips[i] for i in order[n_test:]]
        y_test += [label] * n_test
        y_train += [label] * (len(clips) - n_test)
    if skipped:
        print(f"skipped {len(skipped)} WAV file(s) that cannot be read: " + "; ".join(skipped[:5])
              + (f"; and {len(skipped) - 5} more" if len(skipped) > 5 else ""))
    seconds = np.array([len(clip) for clip in x_train + x_test]) / args.sample_rate
    print(f"decoded {len(seconds)} WAVs at {args.sample_rate} Hz; without their quiet start and "
          f"end they last {seconds.min():.2f}-{seconds.max():.2f} s (median "
          f"{np.median(seconds):.2f} s): --clip-seconds {args.clip_seconds:g} holds "
          f"{np.mean(seconds <= args.clip_seconds):.0%} of them whole")
    enough = max(0.5, np.ceil(seconds.max() * 2) / 2)  # the longest sound, in half seconds
    if enough < args.clip_seconds:
        print(f"注意 Note: --clip-seconds {enough:g} would hold every one of them, with "
              f"{args.clip_seconds / enough:.1f} times fewer frames to read.")
    batches = len(x_train) // args.batch_size
    if 0 < batches < 5:  # none at all: a message below
        print(f"注意 Note: {len(x_train)} training clips make only {batches} batch(es) of "
              f"{args.batch_size} an epoch; a smaller --batch-size (e.g. "
              f"{max(1, len(x_train) // 8)}) takes more steps from so few clips.")
    return ((features_of(x_train), np.array(y_train, np.int32)),
            (features_of(x_test), np.array(y_test, np.int32)), list(classes))


if args.data == "own":
    (x_train, y_train), (x_test, y_test), class_names = own_sounds()
    split = f"{len(x_train)} training clips, {len(x_test)} test clips (one in five of each class)"
else:
    (x_train, y_train), (x_test, y_test), class_names = (
        drawn_sounds() if args.data == "synthetic" else urbansound8k())
    split = (f"{len(x_train)} training clips (every fold but {args.test_fold}), {len(x_test)} "
             f"test clips (fold {args.test_fold})")
print(f"{split}; each {frames} frames x {NUM_MFCCS} MFCCs")
if len(x_train) < args.batch_size:
    raise tfcourse.CourseError(f"Only {len(x_train)} training clips: fewer than one batch of "
                               f"--batch-size {args.batch_size}.\nRemedy: --batch-size "
                               f"{len(x_train)} or less, or more clips.")
train_data = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
              .shuffle(len(x_train), seed=args.seed)
              .batch(args.batch_size, drop_remainder=True)  # one batch shape: one graph
              .prefetch(tf.data.AUTOTUNE))

# %% [markdown]
# ## Model: normalise -> GRU -> GRU -> GRU (final state) -> dense 10
# Each MFCC is scaled by its mean and spread over the training clips (the first coefficient,
# the loudness, is ~100 times larger than the others). The first two GRUs hand every frame's
# state to the next; the third gives only its final state, after the last frame.

# %%
n_classes = len(class_names)  # 10 in UrbanSound8K; as many as your folders
model = tf.keras.Sequential([
    tf.keras.Input((frames, NUM_MFCCS)),                            # -> (171 frames, 40 MFCCs)
    tf.keras.layers.Normalization(mean=x_train.mean(axis=(0, 1)),
                                  variance=x_train.var(axis=(0, 1))),
    tf.keras.layers.GRU(args.gru_size, return_sequences=True),      # -> (171, 128)
    tf.keras.layers.GRU(args.gru_size, return_sequences=True),      # -> (171, 128)
    tf.keras.layers.GRU(args.gru_size),                             # final state -> (128,)
    tf.keras.layers.Dense(n_classes),                               # logits -> (10,)
], name="sound_gru")
print(f"3 GRU layers of {args.gru_size} units; {model.count_params()} parameters")

# %% [markdown]
# ## Loss and optimizer: softmax cross-entropy on the logits, Adam

# %%
def loss_fn(y, logits):
    return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))


optimizer = tf.keras.optimizers.Adam(learning_rate=args.lr)
optimizer.build(model.trainable_variables)  # Adam's slots now: train_step is traced once

# %% [markdown]
# ## Training: one graph call per batch; the test fold after every epoch

# %%
@tf.function
def train_step(x, y):
    with tf.GradientTape() as tape:
        loss = loss_fn(y, model(x, training=True))
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    return loss


@tf.function
def predicted_class(x):
    return tf.argmax(model(x), axis=1, output_type=tf.int32)


for epoch in range(args.epochs):
    for x, y in train_data:
        loss = train_step(x, y)
    run.check_finite(loss, f"epoch {epoch}")
    predicted = predicted_class(x_test).numpy()  # the whole test fold in one call
    acc = float(np.mean(predicted == y_test))
    print("Iter " + str(epoch) + ", Testing Accuracy= " + str(round(acc, 4)), flush=True)
    run.log(epoch=epoch, test_accuracy=acc, loss=float(loss))

# %% [markdown]
# ## Evaluation: the test fold's accuracy after the last epoch (the notes: about 0.85), and
# which classes it confuses. A network that learned nothing names one class for every clip.

# %%
confusion = np.zeros((n_classes, n_classes), int)  # rows: true class, columns: predicted
np.add.at(confusion, (y_test, predicted), 1)
recall = np.diagonal(confusion) / np.maximum(confusion.sum(axis=1), 1)
print("right per class: " + ", ".join(f"{name} {r:.2f}" for name, r in zip(class_names, recall)))

# %% [markdown]
# ## Pictures: the normalised MFCCs of one test clip per class, and the confusion matrix
# A short sound shows as colour at the right end, after the silence padded in front. (Your own
# sounds in more than 10 classes: the first 10 classes get a panel.)

# %%
fig = plt.figure(figsize=(16, 5.5))
cells = fig.add_gridspec(2, 7, wspace=0.3, hspace=0.3)
normalised = model.layers[0](x_test).numpy()  # what the first GRU reads
for k in range(min(n_classes, 10)):
    ax, first = fig.add_subplot(cells[k // 5, k % 5]), np.flatnonzero(y_test == k)[:1]
    if len(first):
        ax.imshow(normalised[first[0]].T, origin="lower", aspect="auto", cmap="magma",
                  vmin=-3, vmax=3)
        ax.set_title(f"{class_names[k]} -> {class_names[predicted[first[0]]]}", fontsize=9)
    ax.set(xlabel="frame" if k >= 5 else None, ylabel="MFCC" if k % 5 == 0 else None)
ax = fig.add_subplot(cells[:, 5:])
ax.imshow(confusion, cmap="Blues")
ax.yaxis.tick_right()  # the class names, clear of the clips' panels
tested = "your test clips" if args.data == "own" else f"fold {args.test_fold}"
ax.set(title=f"{tested}: accuracy {acc:.3f}", xlabel="predicted", ylabel="true",
       xticks=range(n_classes), yticks=range(n_classes), yticklabels=class_names)
fig.suptitle("true -> predicted class of one test clip per class"
             + (" (SYNTHETIC)" if run.synthetic else ""))
tfcourse.save_figure(fig, run.path("mfcc_and_confusion.png"), show=args.show)
run.finish(test_accuracy=acc)
