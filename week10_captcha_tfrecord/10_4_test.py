"""Lesson 10-4 验证码识别（测试） — Test the captcha reader.

本课载入 10-3 训练好的网络，读 test.tfrecords，像视频一样对前几张验证码打印真实数字（label）和
网络读出的数字（predict），再给出整个测试文件上每个字符和整张验证码的准确率。与视频的不同：
用 tf.train.Checkpoint 恢复（先检查检查点确实属于这个网络，别的模型的检查点会被拒绝），网络种类和
输入尺寸从 model.json 读出；--fresh N 另外生成 N 张新验证码来测试；--image 读你自己的一张图片。

Restores the network 10-3 trained, reads test.tfrecords, and for the first few captchas prints
the true digits and the network's reading as in the video:

    label: [5] [1] [3] [7]
    predict: [5] [0] [3] [7]

then the accuracy per character and for whole captchas (all four digits right) on the test file,
and, with --fresh N, on N captchas drawn just now (never seen in training). A PNG of the samples
with their readings goes to the run folder. `--image FILE` reads one picture of yours instead.

Run:
    python week10_captcha_tfrecord/10_4_test.py                      # 10-3's newest model, 10-2's test file
    python week10_captcha_tfrecord/10_4_test.py --fresh 1000         # + 1000 new captchas
    python week10_captcha_tfrecord/10_4_test.py --image 1234.jpg     # read one picture

--model-dir DIR names another run folder of 10-3, --data-dir DIR another folder of 10-2.

Differences from the course code:
  - tf.train.Checkpoint restore instead of Saver + rebuilding the graph; the network's kind and
    input size are read from model.json beside the checkpoints, so --arch need not be repeated.
    The checkpoint must hold this network's variables: another model's is refused, not half-used.
  - The teacher looked at 10 captchas one by one (7 fully right); here the whole test file is
    scored, per character and per captcha, and --fresh adds captchas generated for the test.
  - A picture of any size is resized to the network's input (a note says so), not rejected.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf

from pathlib import Path

import numpy as np

import _captcha  # this week's shared helpers, beside the lessons

parser = tfcourse.make_parser(__doc__)
parser.add_argument("--model-dir", type=Path, default=None, metavar="DIR",
                    help="10-3's run folder: model.json + checkpoints/ (default: its newest finished run)")
parser.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                    help="folder with test.tfrecords (default: the newest run of 10-2)")
parser.add_argument("--samples", type=tfcourse.non_negative_int, default=10,
                    help="captchas printed as label/predict (lesson: 10)")
parser.add_argument("--fresh", type=tfcourse.non_negative_int, default=0, metavar="N",
                    help="also score N newly generated captchas")
parser.add_argument("--fresh-seed", type=int, default=2026, help="seed of the --fresh captchas")
parser.add_argument("--image", type=Path, default=None, metavar="FILE", help="read one captcha picture")


def scores(hits):
    """hits (n, 4) bool -> (accuracy per character (4,), whole-captcha accuracy)."""
    return hits.mean(axis=0), hits.all(axis=1).mean()


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)

    # ## Restore the trained network (model.json says which one; the checkpoint must be its)
    model_dir = _captcha.input_folder(args.model_dir, "10-3", "model.json", "trained captcha model")
    config = _captcha.load_config(model_dir)
    input_size = tuple(config["input_size"])
    model = _captcha.build_model(config["arch"], config["head"], input_size)
    latest = tf.train.latest_checkpoint(model_dir / "checkpoints")
    remedy = (f"train a model with python {_captcha.LESSON['10-3']} (10-4 takes the newest), "
              "or pass a run folder of 10-3 with --model-dir DIR.")
    if latest is None:
        raise tfcourse.CourseError(f"No checkpoint in {model_dir / 'checkpoints'}.\nRemedy: {remedy}")
    _captcha.restore(tf.train.Checkpoint(model=model), latest, model, remedy)
    print(f"restored {model.name} from {latest}")

    @tf.function
    def predict(x):
        return tf.argmax(model(x, training=False), -1, output_type=tf.int32)  # (batch, 4) digits

    def read_pictures(pictures):
        pixels = np.stack([_captcha.image_to_pixels(p) for p in pictures])  # -> (n, 224, 224)
        return predict(_captcha.to_input(pixels, input_size)).numpy()

    # ## One picture of your own
    if args.image is not None:
        picture = _captcha.read_picture(args.image)
        if picture.size != (160, 60):
            print(f"note: {args.image.name} is {picture.size[0]}x{picture.size[1]}, not 160x60; resized")
        digits = read_pictures([picture])[0]
        print(f"{args.image}: predict: {_captcha.text_of(digits)} -> {''.join(map(str, digits))}")
        run.finish(read="".join(map(str, digits)))
        return 0

    # ## The test file: label/predict for the first few, then the scores
    test_file = _captcha.input_folder(args.data_dir, "10-2", "test.tfrecords", "captcha records") / "test.tfrecords"
    n_test = _captcha.check_records(test_file)  # a damaged file stops here, with its name and byte
    images, labels, predicted = [], [], []
    for image, y in tf.data.TFRecordDataset(str(test_file)).batch(100).map(_captcha.parse_record):
        images.append(image.numpy()[: max(0, args.samples - sum(len(b) for b in images))])
        labels.append(y.numpy())
        predicted.append(predict(_captcha.to_input(image, input_size)).numpy())
    images, labels, predicted = np.concatenate(images), np.concatenate(labels), np.concatenate(predicted)
    for label, digits in zip(labels[: args.samples], predicted[: args.samples]):
        print("label:", _captcha.text_of(label))
        print("predict:", _captcha.text_of(digits))
    per_char, whole = scores(labels == predicted)
    print(f"test.tfrecords ({n_test} captchas): accuracy per character "
          + ",".join(f"{a:.3f}" for a in per_char) + f"; whole captcha {whole:.3f}")
    final = dict(test_char_accuracy=float(per_char.mean()), test_whole_captcha=float(whole))

    if args.fresh:
        pairs = _captcha.fresh_captchas(args.fresh, args.fresh_seed)
        fresh_pred = np.concatenate([read_pictures([p for p, _ in pairs[i:i + 100]])
                                     for i in range(0, len(pairs), 100)])
        fresh_true = np.array([[int(c) for c in text] for _, text in pairs])
        per_char, whole = scores(fresh_true == fresh_pred)
        print(f"{args.fresh} fresh captchas (seed {args.fresh_seed}): accuracy per character "
              + ",".join(f"{a:.3f}" for a in per_char) + f"; whole captcha {whole:.3f}")
        final["fresh_whole_captcha"] = float(whole)

    # ## A picture of the samples with the network's reading (green: all four right)
    import matplotlib.pyplot as plt
    shown = len(images)
    if shown:
        cols = min(5, shown)
        rows = (shown + cols - 1) // cols
        fig, axes = plt.subplots(rows, cols, figsize=(2.6 * cols, 2.4 * rows), squeeze=False)
        for ax in axes.flat:
            ax.axis("off")
        for ax, image, label, digits in zip(axes.flat, images, labels, predicted):
            ax.imshow(image, cmap="gray")
            right = bool((label == digits).all())
            ax.set_title(f"label {''.join(map(str, label))}\npredict {''.join(map(str, digits))}",
                         color="green" if right else "red", fontsize=10)
        fig.tight_layout()
        fig.suptitle("10-4: test captchas as stored in the TFRecord (224x224 grayscale)", y=1.04)
        tfcourse.save_figure(fig, run.path("predictions.png"), show=args.show)
    run.finish(**final)
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
