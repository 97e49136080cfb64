"""Lesson 10-3 验证码识别（训练） — Train a four-headed network to read captchas.

Multi-task learning: one network reads the whole captcha, and four heads (one per character)
each say which digit 0-9 stands in their place. The heads share every layer below them, so what
one head learns about strokes helps the other three. The loss is the mean of the four softmax
cross-entropies; Adam starts at 0.003 and the rate is divided by 3 every 2000 steps. Every 20
steps it prints, as the video (accuracies of the current batch, one per character):

    Iter:6000  Loss:0.020  Accuracy:1.00,1.00,0.96,1.00  Learning_rate:0.0001   (teacher's run)

Run:
    python week10_captcha_tfrecord/10_3_train.py                       # default CNN, 6001 steps
    python week10_captcha_tfrecord/10_3_train.py --model alexnet_v2    # the lesson's network (slow on CPU)
    python week10_captcha_tfrecord/10_3_train.py --head single40       # week-11 homework: 40 sigmoid outputs
    python week10_captcha_tfrecord/10_3_train.py --quick               # a few hundred steps

It reads 10-2's train.tfrecords (--records DIR) and keeps checkpoints in the run folder
(runs/week10_captcha_tfrecord/10_3_train/checkpoints, or --out DIR). Run it again and it goes on
from the last checkpoint (--restart starts over); Ctrl-C saves one before stopping.
10_4_test.py then reads the model from the same folder.

The networks (--model):
  cnn         (default) four 3x3 conv + batch-norm + max-pool blocks (32, 48, 64, 96 filters),
              a 256-unit dense layer with batch norm, four heads. Its input is the record's
              224x224 picture resized to 48x96 (height x width, the captcha's own 60x160 shape,
              scaled down): about 30 M multiply-adds per picture against AlexNet's 690 M, so
              6001 steps take minutes on a laptop CPU (11.6 min here, 0.986 of 1000 fresh
              captchas read fully right; see the README).
  alexnet_v2  slim's alexnet_v2 as in the lesson (224x224 input, 5 conv layers, fc6/fc7 of 4096),
              its fc8 replaced by four heads. 46 M weights; 6.3 s per step on the shared 2-core
              machine here (10 hours for 6001 steps), so use it with a GPU.
With `--head single40` the four heads become one layer of 40 outputs (4 characters x 10 digits)
trained with sigmoid cross-entropy on the 40 one-hot targets, the teacher's alternative.

Differences from the course code:
  - tf.data instead of the TF1 queue runners (tf.train.shuffle_batch): records are shuffled,
    batched by 25, parsed a batch at a time in parallel, and prefetched while the network trains.
  - Keras layers instead of `nets_factory` and slim; a tf.function training step instead of
    Session.run; tf.train.Checkpoint + CheckpointManager instead of Saver, with resuming.
  - The loss works on the logits (the course's scripts applied softmax twice in other weeks);
    the batch accuracy is taken from the training step's own logits (dropout on) instead of a
    second forward pass with keep_prob 1.0.
  - The course divided the rate at step 0 too (so it really started at 0.001); here 0.003 is used
    for steps 0-1999, 0.001 for 2000-3999, 0.0003 for 4000-5999 and 0.0001 at 6000.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf

import shutil
import time
from pathlib import Path

import _captcha  # this week's shared helpers, beside the lessons

parser = tfcourse.make_parser(__doc__, batch_size=25, lr=0.003)
parser.add_argument("--steps", type=int, default=None, help="training steps (lesson: 6001; --quick: 151)")
parser.add_argument("--decay-every", type=int, default=2000, help="divide the rate by 3 this often (lesson: 2000)")
parser.add_argument("--model", choices=["cnn", "alexnet_v2"], default="cnn",
                    help="cnn: small CNN, fast on a CPU (default); alexnet_v2: the lesson's network")
parser.add_argument("--head", choices=["four", "single40"], default="four",
                    help="four softmax heads (lesson) or one sigmoid layer of 40 outputs (week-11 homework)")
parser.add_argument("--input-size", default=None, metavar="HxW",
                    help="network input size (default: 48x96 for cnn, 224x224 for alexnet_v2)")
parser.add_argument("--records", type=Path, default=_captcha.DEFAULT_RECORDS, metavar="DIR",
                    help="folder with train.tfrecords and test.tfrecords (default: 10-2's output)")
parser.add_argument("--save-every", type=int, default=500, help="checkpoint every N steps")
parser.add_argument("--restart", action="store_true", help="ignore earlier checkpoints and start over")


def parse_size(text, model):
    if text is None:
        return _captcha.DEFAULT_INPUT[model]
    try:
        height, width = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise tfcourse.CourseError(f"--input-size takes HEIGHTxWIDTH such as 48x96, not {text!r}.") from None
    if model == "alexnet_v2" and (height, width) != (224, 224):
        raise tfcourse.CourseError("alexnet_v2 needs a 224x224 input (its fc6 is a 5x5 convolution).")
    return height, width


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    steps = args.steps or (151 if args.quick else 6001)
    input_size = parse_size(args.input_size, args.model)
    config = {"model": args.model, "head": args.head, "input_size": list(input_size)}

    # ## Data: train.tfrecords -> shuffled batches of 25 pictures in [-1, 1]
    train_file = args.records / "train.tfrecords"
    n_train = _captcha.check_records(train_file)  # a damaged file stops here, with its name and offset
    print(f"{train_file}: {n_train} captchas; input {input_size[0]}x{input_size[1]}")
    train_data = _captcha.dataset(train_file, input_size, args.batch_size, shuffle=min(n_train, 2000),
                                  repeat=True, seed=args.seed)

    # ## Model: shared trunk, four heads (or one of 40) -> logits (batch, 4, 10)
    model = _captcha.build_model(args.model, args.head, input_size)
    print(f"model {model.name}: {model.count_params():,} weights; device: {run.device}")
    optimizer = tf.keras.optimizers.Adam(learning_rate=args.lr)

    # ## Checkpoints: resume where the last run stopped
    ckpt_dir = run.out / "checkpoints"
    if args.restart:
        shutil.rmtree(ckpt_dir, ignore_errors=True)
    step = tf.Variable(0, dtype=tf.int64, name="step")
    checkpoint = tf.train.Checkpoint(step=step, model=model, optimizer=optimizer)
    manager = tf.train.CheckpointManager(checkpoint, ckpt_dir, max_to_keep=3)
    if manager.latest_checkpoint:
        saved = _captcha.load_config(run.out)
        if saved != config:
            raise tfcourse.CourseError(
                f"The checkpoints in {ckpt_dir} belong to another network ({saved}), not {config}.\n"
                "Remedy: add --restart to start over, or use another folder with --out DIR.")
        checkpoint.restore(manager.latest_checkpoint).expect_partial()
        print(f"resumed from {manager.latest_checkpoint} at step {int(step)}")
    _captcha.save_config(run.out, config)

    # ## Loss: mean of the four softmax cross-entropies (or sigmoid CE over 40 outputs), on logits
    def loss_fn(logits, y):  # logits (batch, 4, 10), y (batch, 4) digits
        if args.head == "four":
            return tf.reduce_mean(tf.nn.sparse_softmax_cross_entropy_with_logits(labels=y, logits=logits))
        return tf.reduce_mean(tf.nn.sigmoid_cross_entropy_with_logits(
            labels=tf.one_hot(y, 10), logits=logits))

    @tf.function
    def train_step(x, y):
        with tf.GradientTape() as tape:
            logits = model(x, training=True)
            loss = loss_fn(logits, y)
        grads = tape.gradient(loss, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        correct = tf.equal(tf.argmax(logits, -1, output_type=tf.int32), y)
        return loss, tf.reduce_mean(tf.cast(correct, tf.float32), axis=0)  # accuracy per character

    # ## Training loop: the rate is 0.003 / 3^(step // 2000)
    batches = iter(train_data)
    start_step, started = int(step), time.perf_counter()
    try:
        for i in range(start_step, steps):
            learning_rate = args.lr / 3 ** (i // args.decay_every)
            optimizer.learning_rate.assign(learning_rate)
            x, y = next(batches)
            loss, acc = train_step(x, y)
            step.assign(i + 1)
            if i % 20 == 0:
                a = acc.numpy()
                print("Iter:%d  Loss:%.3f  Accuracy:%.2f,%.2f,%.2f,%.2f  Learning_rate:%.4f"
                      % (i, float(loss), a[0], a[1], a[2], a[3], learning_rate), flush=True)
            if (i + 1) % args.save_every == 0:
                manager.save(checkpoint_number=i + 1)
    except tf.errors.DataLossError as error:
        raise _captcha.corrupt_record_error(train_file, error) from None
    except KeyboardInterrupt:
        print(f"saved {manager.save(checkpoint_number=int(step))} at step {int(step)}")
        raise
    elapsed = time.perf_counter() - started
    done = int(step) - start_step
    saved = manager.save(checkpoint_number=int(step))
    if done:
        print(f"{done} steps in {elapsed / 60:.1f} min ({1000 * elapsed / done:.0f} ms/step); checkpoint: {saved}")

    # ## Evaluation on test.tfrecords: per character and whole captcha
    test_file = args.records / "test.tfrecords"
    if test_file.exists():
        _captcha.check_records(test_file)
        hits = []
        for x, y in _captcha.dataset(test_file, input_size, 100):
            hits.append(tf.equal(tf.argmax(model(x, training=False), -1, output_type=tf.int32), y))
        hits = tf.concat(hits, 0)
        per_char = tf.reduce_mean(tf.cast(hits, tf.float32), axis=0).numpy()
        whole = float(tf.reduce_mean(tf.cast(tf.reduce_all(hits, axis=1), tf.float32)))
        print(f"test ({hits.shape[0]} captchas): per character "
              + ",".join(f"{a:.3f}" for a in per_char) + f"; whole captcha {whole:.3f}")
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
