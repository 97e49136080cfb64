"""Lesson 12-2 声音分类（MFCC特征与三层GRU） — Sound classification: MFCCs and a 3-layer GRU.

本课用 tf.signal 把声音变成 MFCC 特征（短时傅里叶变换 -> 梅尔滤波器组 -> 取对数 -> 离散余弦变换），
再用三层 GRU 逐帧读这些特征，分出 UrbanSound8K 的 10 类城市声音（空调、汽车鸣笛、儿童玩耍、狗叫、钻孔、
引擎空转、枪声、手提钻、警笛、街头音乐）。与视频的不同：TF2 写法；按数据集自带的 10 折划分，第 1-9 折训练、
第 10 折测试（不是随机划分）；笔记没有给出网络大小和训练设置，这里的数值是我们选的。数据集约 6 GB，
要先下载（见下文）；没有数据时可先用 --data synthetic（画出来的 10 类声音）试跑。

Each WAV is mixed to mono, resampled to 22050 Hz and padded or cut to UrbanSound8K's 4 s;
`tf.signal` turns it into 171 frames of 40 MFCCs (frames of 1024 samples, step 512, 64 mel bands).
Three GRU layers of 128 units read the frames, the last one's final state goes through a dense
layer to 10 classes; Adam 1e-3, batches of 64, 20 epochs. After each epoch, in 7-2's format:

    Iter 19, Testing Accuracy= X        (the notes: test accuracy about 0.85)

Data: the 8732 clips of UrbanSound8K in its 10 predefined folds: folds 1-9 train, fold 10 tests
(--test-fold). Download UrbanSound8K.tar.gz (about 6 GB) once from its page
https://urbansounddataset.weebly.com/urbansound8k.html (Zenodo record 1203745), extract it and pass
--data-dir PATH/UrbanSound8K (the folder holding audio/fold1..fold10 and metadata/UrbanSound8K.csv),
or let --download fetch it (md5-checked) into ~/.keras/datasets/urbansound8k/. The first run decodes
every WAV (minutes); the MFCCs are cached per fold (--cache-dir) for the runs after it.

Run:
    python week12_textcnn_sound/12_2_sound_gru.py --data-dir ~/data/UrbanSound8K
    python week12_textcnn_sound/12_2_sound_gru.py --quick --data synthetic

Differences from a TensorFlow 1.x version (the notes quote no code for this lesson):
  - MFCCs from `tf.signal` (stft -> linear_to_mel_weight_matrix -> log -> mfccs_from_log_mel_
    spectrograms) instead of librosa; _sound.py reads PCM 8-32-bit and float WAVs with numpy
    (`tf.audio.decode_wav` reads 16-bit PCM only).
  - Keras `GRU` layers instead of `GRUCell`s in a `MultiRNNCell`; the loss on the logits; a Keras
    `Normalization` layer scales each coefficient by its spread over the training folds.
"""

import tfcourse  # quiet TensorFlow import, shared flags, run folder
import tensorflow as tf

import matplotlib.pyplot as plt
import numpy as np

import _sound  # WAV files, UrbanSound8K's folders, the feature cache, the drawn sounds

parser = tfcourse.make_parser(__doc__, epochs=20, batch_size=64, lr=1e-3,  # our choice: the notes give none
                              quick=dict(epochs=5, batch_size=16, clips=400, sample_rate=8000, clip_seconds=1.0,
                                         gru_size=32))
_sound.add_data_flags(parser)  # --data, --data-dir, --download, --test-fold, --clips, --cache-dir
parser.add_argument("--sample-rate", type=tfcourse.positive_int, default=22050, help="Hz (default 22050)")
parser.add_argument("--clip-seconds", type=tfcourse.positive_float, default=4.0, help="pad or cut to (default 4.0)")
parser.add_argument("--gru-size", type=tfcourse.positive_int, default=128, help="units per GRU layer (ours: 128)")

FRAME_LENGTH, FRAME_STEP = 1024, 512  # samples: 46 ms windows every 23 ms at 22050 Hz
NUM_MEL_BINS, NUM_MFCCS = 64, 40
n_classes = 10


def mfcc(waveforms, sample_rate):
    """(clips, samples) -> (clips, frames, NUM_MFCCS)."""
    stft = tf.signal.stft(waveforms, frame_length=FRAME_LENGTH, frame_step=FRAME_STEP)  # -> (clips, 171, 513)
    power = tf.square(tf.abs(stft))
    mel_matrix = tf.signal.linear_to_mel_weight_matrix(NUM_MEL_BINS, power.shape[-1], sample_rate,
                                                       lower_edge_hertz=20.0, upper_edge_hertz=sample_rate / 2)
    log_mel = tf.math.log(tf.tensordot(power, mel_matrix, 1) + 1e-6)                   # -> (clips, 171, 64)
    return tf.signal.mfccs_from_log_mel_spectrograms(log_mel)[..., :NUM_MFCCS]          # -> (clips, 171, 40)


def build_model(frames, gru_size, x_train):
    return tf.keras.Sequential([
        tf.keras.Input((frames, NUM_MFCCS)),                     # -> (171 frames, 40 MFCCs)
        tf.keras.layers.Normalization(mean=x_train.mean(axis=(0, 1)),  # each coefficient scaled by
                                      variance=x_train.var(axis=(0, 1))),  # its spread in the training folds
        tf.keras.layers.GRU(gru_size, return_sequences=True),    # -> (171, 128)
        tf.keras.layers.GRU(gru_size, return_sequences=True),    # -> (171, 128)
        tf.keras.layers.GRU(gru_size),                           # final state -> (128,)
        tf.keras.layers.Dense(n_classes),                        # logits -> (10,)
    ], name="sound_gru")


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)

    # ## Data: MFCCs of every clip; the folds decide which clips train and which test
    settings = dict(sample_rate=args.sample_rate, clip_seconds=args.clip_seconds, frame_length=FRAME_LENGTH,
                    frame_step=FRAME_STEP, num_mel_bins=NUM_MEL_BINS, num_mfccs=NUM_MFCCS)
    (x_train, y_train), (x_test, y_test), class_names = _sound.load(args, settings, mfcc)
    frames = x_train.shape[1]
    print(f"{len(x_train)} training clips (every fold but {args.test_fold}), {len(x_test)} test clips "
          f"(fold {args.test_fold}); each {frames} frames x {NUM_MFCCS} MFCCs")
    train_data = (tf.data.Dataset.from_tensor_slices((x_train, y_train))
                  .shuffle(len(x_train), seed=args.seed)
                  .batch(args.batch_size, drop_remainder=True)  # one batch shape: one graph
                  .prefetch(tf.data.AUTOTUNE))

    # ## Model: 3 x GRU -> dense 10
    model = build_model(frames, args.gru_size, x_train)
    optimizer = tf.keras.optimizers.Adam(learning_rate=args.lr)
    optimizer.build(model.trainable_variables)  # Adam's slots now, so train_step is traced once, not twice
    print(f"3 GRU layers of {args.gru_size} units; {model.count_params()} parameters")

    # ## Training: one graph call per batch
    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
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
        run.record(epoch=epoch, test_accuracy=acc, loss=float(loss))

    # ## Picture: the normalised MFCCs of one test clip per class, and the confusion matrix
    fig = plt.figure(figsize=(16, 5.5))
    cells = fig.add_gridspec(2, 7, wspace=0.3, hspace=0.3)
    shown = model.layers[0](x_test).numpy()  # the normalised MFCCs, as the first GRU reads them
    for k in range(n_classes):
        ax, first = fig.add_subplot(cells[k // 5, k % 5]), np.flatnonzero(y_test == k)[:1]
        if len(first):
            ax.imshow(shown[first[0]].T, origin="lower", aspect="auto", cmap="magma", vmin=-3, vmax=3)
            ax.set_title(f"{class_names[k]} -> {class_names[predicted[first[0]]]}", fontsize=9)
        ax.set(xlabel="frame" if k >= 5 else None, ylabel="MFCC" if k % 5 == 0 else None)
    confusion = np.zeros((n_classes, n_classes), int)
    np.add.at(confusion, (y_test, predicted), 1)
    ax = fig.add_subplot(cells[:, 5:])
    ax.imshow(confusion, cmap="Blues")
    ax.yaxis.tick_right()  # the class names, clear of the clips' panels
    ax.set(title=f"fold {args.test_fold}: accuracy {acc:.3f}", xlabel="predicted", ylabel="true",
           xticks=range(n_classes), yticks=range(n_classes), yticklabels=class_names)
    fig.suptitle("true -> predicted class of one test clip per class" + (" (SYNTHETIC)" if run.synthetic else ""))
    tfcourse.save_figure(fig, run.path("mfcc_and_confusion.png"), show=args.show)

    run.finish(test_accuracy=acc)
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
