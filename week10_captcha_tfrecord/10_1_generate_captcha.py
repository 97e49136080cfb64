"""Lesson 10-1 验证码生成 — Generate captcha pictures.

Draws N captcha pictures (160x60, four digits 0-9) with the `captcha` package's ImageCaptcha and
saves each as `images/<text>.jpg`, the text being its own label. Progress as in the video:

    >> Creating image 10000/10000
    生成完毕

Run:
    python week10_captcha_tfrecord/10_1_generate_captcha.py                # 10000 pictures, ~30 s
    python week10_captcha_tfrecord/10_1_generate_captcha.py --count 2000 --seed 3
    python week10_captcha_tfrecord/10_1_generate_captcha.py --quick        # 300 pictures

The pictures go to runs/week10_captcha_tfrecord/10_1_generate_captcha/images/ (or --out DIR/images),
where 10_2_tfrecord.py looks for them.

Differences from the course code:
  - The course drew each text with random.choice and saved `<text>.jpg`, so a repeated text
    silently overwrote an earlier picture: asked for 10000 it wrote about 6300 files. Here the
    texts are drawn without repetition, so the number printed is the number of files written
    (at most 10000: there are only 10000 four-digit texts).
  - `--seed` makes the set reproducible: captcha 0.7.0 (pinned in requirements.txt) draws its
    noise from Python's `random`; 0.7.1 switched to `secrets`, which no seed can fix.
  - Pictures are written to a temporary folder that replaces images/ only when all are done,
    so an error or Ctrl-C never leaves a half-made data set behind.
"""
import tfcourse  # quiet TensorFlow import, shared flags
import tensorflow as tf  # noqa: F401  (the course imports it here too; not needed to draw)

import os
import random
import shutil
import sys

from _captcha import captcha_image  # noqa: E402  (this week's shared helpers, _captcha.py)

parser = tfcourse.make_parser(__doc__)
parser.add_argument("--count", type=int, default=10000, help="how many pictures (lesson: 10000, at most 10000)")


def main(argv=None):
    args = parser.parse_args(argv)
    run = tfcourse.setup(args, __file__)
    count = 300 if args.quick else args.count
    if not 1 <= count <= 10000:
        raise tfcourse.CourseError(f"--count must be between 1 and 10000, not {count}: there are only "
                                   "10000 different four-digit texts, and each picture is named by its text.")

    from captcha.image import ImageCaptcha
    generator = ImageCaptcha(width=160, height=60)  # the lesson's size
    random.seed(args.seed)  # captcha 0.7.0 draws fonts, warps and noise from `random`

    # ## Texts: `count` different four-digit strings (no overwritten duplicates)
    texts = [f"{n:04d}" for n in random.sample(range(10000), count)]

    images = run.out / "images"
    partial = run.out / "images.partial"
    shutil.rmtree(partial, ignore_errors=True)
    partial.mkdir(parents=True)
    try:
        for i, text in enumerate(texts):
            sys.stdout.write("\r>> Creating image %d/%d" % (i + 1, count))
            sys.stdout.flush()
            captcha_image(text, generator).save(partial / f"{text}.jpg", format="JPEG")
        sys.stdout.write("\n")
        # ## Swap the finished folder in: images/ is either the old set or the complete new one
        if images.exists():
            old = run.out / "images.old"
            shutil.rmtree(old, ignore_errors=True)
            os.replace(images, old)
            os.replace(partial, images)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.replace(partial, images)
    finally:
        shutil.rmtree(partial, ignore_errors=True)

    written = sum(1 for _ in images.glob("*.jpg"))
    print("生成完毕")
    print(f"{written} pictures written to {images} (seed {args.seed})")
    return 0


if __name__ == "__main__":
    tfcourse.run_main(main)
