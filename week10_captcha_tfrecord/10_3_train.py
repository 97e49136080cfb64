"""Lesson 10-3 验证码识别（训练） — Train a four-headed network to read captchas.

本课是多任务学习：一个网络读整张验证码，四个输出头各判断一个位置上的数字（0-9），它们共享
下面所有的层。损失是四个 softmax 交叉熵的平均；Adam 学习率 0.003，每 2000 步除以 3，共 6001 步。
与视频的不同：用 tf.data 代替队列（shuffle_batch），Keras 层代替 slim；默认网络是在 CPU 上几分钟
就能训练好的小 CNN（--arch alexnet_v2 是视频里的 AlexNet-v2，需要 GPU）；视频在第 0 步就已把
学习率除以 3（实际从 0.001 开始），这里前 2000 步用 0.003。

Every 20 steps it prints, as the video (accuracies of the current batch, one per character):
    Iter:6000  Loss:0.020  Accuracy:1.00,1.00,0.96,1.00  Learning_rate:0.0001   (teacher's run)

Run:
    python week10_captcha_tfrecord/10_3_train.py                       # small CNN, 6001 steps
    python week10_captcha_tfrecord/10_3_train.py --arch alexnet_v2     # the lesson's network (GPU)
    python week10_captcha_tfrecord/10_3_train.py --head single40       # week-11 homework: 40 sigmoid outputs
    python week10_captcha_tfrecord/10_3_train.py --quick               # 101 steps on 24x48 pictures

It keeps checkpoints and model.json in its run folder and goes on from the last checkpoint when
run again with --out <that folder>; 10_4_test.py then reads the newest finished run.

--arch cnn (default): four 3x3 conv + batch-norm + max-pool blocks and a batch-normed dense layer
of 256 under the four heads, on 48x96 pictures. --arch alexnet_v2: slim's alexnet_v2 as in the
lesson (224x224, fc6/fc7 of 4096, its fc8 replaced by the four heads).

Differences from the course code:
  - tf.data instead of the TF1 queue runners; Keras layers instead of slim's nets_factory; a
    tf.function training step instead of Session.run; tf.train.Checkpoint instead of Saver.
  - The loss works on the logits; the batch accuracy comes from the training step's own logits
    (dropout on) instead of a second forward pass with keep_prob 1.0.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf

import shutil
from pathlib import Path

import _captcha  # this week's shared helpers, beside the lessons

parser = tfcourse.make_parser(__doc__, steps=6001, batch_size=25, lr=0.003,
                              quick=dict(steps=101, input_size="24x48"))
parser.add_argument("--arch", choices=["cnn", "alexnet_v2"], default="cnn",
                    help="cnn: small CNN, fast on a CPU (default); alexnet_v2: the lesson's network")
parser.add_argument("--head", choices=["four", "single40"], default="four",
                    help="four softmax heads (lesson) or one sigmoid layer of 40 outputs (week-11 homework)")
parser.add_argument("--input-size", default=None, metavar="HxW",
                    help="network input size (default: 48x96 for cnn, 224x224 for alexnet_v2)")
parser.add_argument("--data-dir", type=Path, default=None, metavar="DIR",
                    help="folder with train.tfrecords and test.tfrecords (default: the newest run of 10-2)")
parser.add_argument("--decay-every", type=tfcourse.positive_int, default=2000,
                    help="divide the rate by 3 this often (lesson: 2000)")
parser.add_argument("--save-every", type=tfcourse.positive_int, default=500, help="checkpoint every N steps")
parser.add_argument("--restart", action="store_true", help="delete the run folder's checkpoints and start over")


def input_size_of(args):
    text = args.input_size or "x".join(map(str, _captcha.DEFAULT_INPUT[args.arch]))
    size = tuple(int(v) for v in text.lower().split("x") if v.isdigit())
    if len(size) != 2 or min(size) < 16 or (args.arch == "alexnet_v2" and size != (224, 224)):
        parser.error(f"--input-size {text}: give HEIGHTxWIDTH, at least 16x16 (the cnn halves it four times); "
                     "--arch alexnet_v2 takes only 224x224 (--quick makes it 24x48: add --input-size 224x224)")
    return size


def main(argv=None):
    args = parser.parse_args(argv)
    input_size = input_size_of(args)
    run = tfcourse.setup(args, __file__)
    config = {"arch": args.arch, "head": args.head, "input_size": list(input_size)}

    # ## Data: train.tfrecords -> shuffled batches of 25 pictures in [-1, 1]
    train_file = _captcha.input_folder(args.data_dir, "10-2", "train.tfrecords", "captcha records") / "train.tfrecords"
    n_train = _captcha.check_records(train_file)  # a damaged file stops here, with its name and byte
    print(f"{train_file}: {n_train} captchas; input {input_size[0]}x{input_size[1]}")
    train_data = _captcha.dataset(train_file, input_size, args.batch_size, shuffle=min(n_train, 2000),
                                  repeat=True, seed=args.seed)

    # ## Model: shared trunk, four heads (or one of 40) -> logits (batch, 4, 10)
    model = _captcha.build_model(args.arch, args.head, input_size)
    print(f"model {model.name}: {model.count_params():,} weights; device: {run.device}")
    optimizer = tf.keras.optimizers.Adam(learning_rate=args.lr)

    # ## Checkpoints: resume where the last run in this folder stopped, if it is this network's
    ckpt_dir = run.out / "checkpoints"
    if args.restart:
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    step = tf.Variable(0, dtype=tf.int64, name="step")
    checkpoint = tf.train.Checkpoint(step=step, model=model, optimizer=optimizer)
    manager = tf.train.CheckpointManager(checkpoint, ckpt_dir, max_to_keep=3)
    if manager.latest_checkpoint:
        remedy = f"add --restart to start over in {run.out}, or leave out --out (a new run folder)."
        saved = _captcha.load_config(run.out, remedy)
        if saved != config:
            raise tfcourse.CourseError(f"The checkpoints in {ckpt_dir} belong to another network "
                                       f"({saved}), not {config}.\nRemedy: {remedy}")
        _captcha.restore(checkpoint, manager.latest_checkpoint, model, remedy)
        print(f"resumed from {manager.latest_checkpoint} at step {int(step)}")
    _captcha.save_config(run.out, config)

    # ## Loss: mean of the four softmax cross-entropies (or sigmoid CE over 40 outputs), on logits
    @tf.function
    def train_step(x, y):  # x (batch, h, w, 1), y (batch, 4) digits
        with tf.GradientTape() as tape:
            logits = model(x, training=True)  # -> (batch, 4, 10)
            if args.head == "four":
                loss = tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
            else:
                loss = tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(labels=tf.one_hot(y, 10), logits=logits))
        optimizer.apply_gradients(zip(tape.gradient(loss, model.trainable_variables), model.trainable_variables))
        correct = tf.equal(tf.argmax(logits, -1, output_type=tf.int32), y)
        return loss, tf.reduce_mean(tf.cast(correct, tf.float32), axis=0)  # accuracy per character

    # ## Training loop: the rate is 0.003 / 3^(step // 2000)
    batches = iter(train_data)
    try:
        for i in range(int(step), args.steps):
            learning_rate = args.lr / 3 ** (i // args.decay_every)
            optimizer.learning_rate.assign(learning_rate)
            x, y = next(batches)
            loss, acc = train_step(x, y)
            step.assign(i + 1)
            if i % 20 == 0:
                a = acc.numpy()
                print("Iter:%d  Loss:%.3f  Accuracy:%.2f,%.2f,%.2f,%.2f  Learning_rate:%.4f"
                      % (i, float(loss), a[0], a[1], a[2], a[3], learning_rate), flush=True)
                run.check_finite(loss, f"step {i}")
                run.record(step=i, loss=loss, batch_accuracy=float(a.mean()), learning_rate=learning_rate)
            if (i + 1) % args.save_every == 0:
                manager.save(checkpoint_number=i + 1)
    except KeyboardInterrupt:
        print(f"saved {manager.save(checkpoint_number=int(step))}; go on with --out {run.out}")
        raise
    print(f"checkpoint: {manager.save(checkpoint_number=int(step))}")

    # ## Evaluation on test.tfrecords: per character and whole captcha
    test_file = train_file.with_name("test.tfrecords")
    _captcha.check_records(test_file)
    hits = tf.concat([tf.equal(tf.argmax(model(x, training=False), -1, output_type=tf.int32), y)
                      for x, y in _captcha.dataset(test_file, input_size, 100)], 0)
    per_char = tf.reduce_mean(tf.cast(hits, tf.float32), axis=0).numpy()
    whole = float(tf.reduce_mean(tf.cast(tf.reduce_all(hits, axis=1), tf.float32)))
    print(f"test ({hits.shape[0]} captchas): per character " + ",".join(f"{a:.3f}" for a in per_char)
          + f"; whole captcha {whole:.3f}")
    run.finish(steps=int(step), test_char_accuracy=float(per_char.mean()), test_whole_captcha=whole)
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
