"""Lesson 10-1 验证码生成 — Generate captcha pictures.

本课用 captcha 包的 ImageCaptcha 生成 160x60 的四位数字验证码图片，文件名就是它的标签
（images/1234.jpg），供 10-2 打包成 TFRecord。与视频的不同：视频里重复的文本会覆盖之前的图片
（要 10000 张只得到约 6300 个文件），这里文本不重复，打印的数量就是写下的文件数；--seed 让同一组
图片可以重现；图片先写进临时文件夹，全部完成后才换上，中断不会留下半套数据。

Draws N captcha pictures (160x60, four digits 0-9) with the `captcha` package's ImageCaptcha and
saves each as `images/<text>.jpg`, the text being its own label. Progress as in the video:

    >> Creating image 10000/10000
    生成完毕

Run:
    python week10_captcha_tfrecord/10_1_generate_captcha.py            # 10000 pictures, 25 s-2 min
    python week10_captcha_tfrecord/10_1_generate_captcha.py --count 2000 --seed 3
    python week10_captcha_tfrecord/10_1_generate_captcha.py --quick    # 300 pictures

The pictures go to <run folder>/images/ (runs/week10_captcha_tfrecord/10_1_generate_captcha/
<date-time>/, or --out DIR); 10_2_tfrecord.py reads the newest finished run's.

Differences from the course code:
  - The course drew each text with random.choice and saved `<text>.jpg`, so a repeated text
    silently overwrote an earlier picture: asked for 10000 it wrote about 6300 files. Here the
    texts are drawn without repetition, so the number printed is the number of files written
    (at most 10000: there are only 10000 four-digit texts).
  - `--seed` (default 0) makes the set reproducible: captcha 0.7.0 (pinned in requirements.txt)
    draws its noise from Python's `random`; 0.7.1 switched to `secrets`, which no seed can fix.
  - The pictures are written to a temporary folder that becomes images/ only when all are done
    (tfcourse.atomic_path), so an error, Ctrl-C or `kill` never leaves a half-made data set.
"""
# %%
import tfcourse  # first: TensorFlow starts quietly; shared flags, the run folder
import tensorflow as tf  # noqa: F401  (the course imports it here too; drawing does not need it)

import random
import shlex
import sys

from captcha.image import ImageCaptcha

parser = tfcourse.parser(__doc__, quick=dict(count=300))
parser.add_argument("--count", type=tfcourse.number(int, 1, 10000), default=10000,
                    help="how many pictures, 1 to 10000: there are only 10000 four-digit texts, "
                         "and each picture is named by its text (lesson: 10000)")
args = tfcourse.parse(parser)  # in a notebook: tfcourse.parse(parser, "--quick --count 50")
run = tfcourse.start(args, "week10_captcha_tfrecord/10_1_generate_captcha.py")

# %% [markdown]
# ## Texts
# `count` different four-digit strings: drawn without repetition, so no picture overwrites
# another (the course's `random.choice` loop did).

# %%
random.seed(args.seed)  # captcha 0.7.0 draws fonts, warps and noise from `random` too
texts = [f"{n:04d}" for n in random.sample(range(10000), args.count)]
print("first texts:", texts[:5])

# %% [markdown]
# ## Pictures
# ImageCaptcha draws each text at 160x60 with random fonts, warps and noise. They go into a
# temporary folder that becomes `images/` only when every picture is written.

# %%
generator = ImageCaptcha(width=160, height=60)  # the lesson's size
images = run.out / "images"
with tfcourse.atomic_path(images) as partial:
    partial.mkdir()
    for i, text in enumerate(texts):
        sys.stdout.write("\r>> Creating image %d/%d" % (i + 1, args.count))
        sys.stdout.flush()
        generator.generate_image(text).save(partial / f"{text}.jpg", format="JPEG")
        if (i + 1) % 1000 == 0 or i + 1 == args.count:
            run.log(images=i + 1)
    sys.stdout.write("\n")
print("生成完毕")

# %% [markdown]
# ## What was written
# The number of files equals the number asked for; 10-2 reads this folder next.

# %%
written = len(list(images.glob("*.jpg")))
given = f" --data-dir {shlex.quote(str(images))}" if args.out else ""  # 10-2 looks in runs/ only
print(f"{written} pictures in {images} (seed {args.seed}); "
      f"next: python week10_captcha_tfrecord/10_2_tfrecord.py{given}")
run.finish(pictures=written)
