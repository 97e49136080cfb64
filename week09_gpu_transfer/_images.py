"""Shared by the week-9 lessons: a folder of class sub-folders -> the images in it, bad files reported.

`retrain` (9-retrain) and the TFRecord converter (9-2) both read `data/train/<class>/*.jpg`, and
both must treat a learner's real folder the same way: class names are the folder names (spaces and
Chinese are fine), JPEG/PNG/GIF/BMP are recognised by their first bytes (not by the extension),
anything else is skipped and reported, a class folder without images is reported and left out,
and fewer than two classes is an error that says what to do. `draw_shapes` makes a small data set
of coloured shapes (the tests' data, and `--data shapes` for a run without pictures).
`read_shards` reads what 9-2's converter wrote (labels.txt and the TFRecord shards, each checked).
`which_set`, `split_sets` and `cached_bottlenecks` are retrain.py's data handling: its stable split
by file name, and its bottleneck cache (one text file per picture).
"""
import hashlib
import random
import re
from pathlib import Path

import tfcourse

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".bmp"}
MAGIC = {b"\xff\xd8\xff": "jpeg", b"\x89PNG": "png", b"GIF8": "gif", b"BM": "bmp"}


def image_format(data):
    """'jpeg', 'png', 'gif' or 'bmp' from the file's first bytes; None for anything else."""
    for magic, name in MAGIC.items():
        if data.startswith(magic):
            return name
    return None


def read_image(path, head_only=False):
    """(bytes, format) of an image file; raises ValueError with the reason when it is not one.

    head_only: read just the first bytes (enough to know the format) when scanning a big folder.
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read(16) if head_only else handle.read()
    except OSError as error:
        raise ValueError(f"cannot be read ({error.strerror})") from None
    if not data:
        raise ValueError("is empty")
    kind = image_format(data)
    if kind is None:
        raise ValueError("is not a JPEG, PNG, GIF or BMP image")
    return data, kind


class ImageFolder:
    """The classes and images under `root` (one sub-folder per class), and what was skipped."""

    def __init__(self, root, max_per_class=None, flag="--data-dir"):
        """flag: the lesson's option that names the folder, for the messages."""
        self.root = Path(root)
        if not self.root.is_dir():
            raise tfcourse.CourseError(
                f"The image folder {self.root} does not exist.\n"
                "Remedy: make one sub-folder per class holding its pictures (e.g. data/train/flower/*.jpg) "
                f"and pass its parent with {flag} DIR, or try --data shapes (drawn shapes, no pictures needed).")
        self.images = {}    # class name -> sorted [Path]
        self.skipped = []   # [(Path, reason)]
        self.empty = []     # class folders with no images
        for folder in sorted(p for p in self.root.iterdir() if p.is_dir() and not p.name.startswith(".")):
            found = []
            for path in sorted(folder.rglob("*")):
                if path.is_dir() or path.name.startswith("."):
                    continue
                if path.suffix.lower() not in IMAGE_EXTENSIONS:
                    self.skipped.append((path, f"not an image file ({path.suffix or 'no extension'})"))
                    continue
                try:
                    read_image(path, head_only=True)
                except ValueError as error:
                    self.skipped.append((path, str(error)))
                    continue
                found.append(path)
            if max_per_class:
                found = found[:max_per_class]
            if found:
                self.images[folder.name] = found
            else:
                self.empty.append(folder.name)
        if len(self.images) < 2:
            have = ", ".join(f"'{name}'" for name in self.images) or "none"
            raise tfcourse.CourseError(
                f"{self.root} has {len(self.images)} class folder(s) with images ({have}); a classifier "
                "needs at least two.\n"
                + (f"Empty class folders: {', '.join(self.empty)}.\n" if self.empty else "")
                + "Remedy: put each class's pictures in its own sub-folder, e.g. "
                  f"{self.root / 'flower'}/*.jpg and {self.root / 'guitar'}/*.jpg.")

    @property
    def class_names(self):
        return sorted(self.images)

    def all_images(self):
        """[(path, class index)] over every class, in a fixed order."""
        return [(path, index) for index, name in enumerate(self.class_names) for path in self.images[name]]

    def report(self, print_fn=print, limit=5):
        """Print the classes found and everything left out (so nothing is dropped silently)."""
        counts = ", ".join(f"{name} {len(self.images[name])}" for name in self.class_names)
        print_fn(f"Found {sum(map(len, self.images.values()))} images in {len(self.images)} classes "
                 f"under {self.root}: {counts}")
        for name in self.empty:
            print_fn(f"WARNING: no images found in class folder '{name}'; it is left out.")
        if self.skipped:
            print_fn(f"Skipped {len(self.skipped)} file(s) that are not usable images:")
            for path, reason in self.skipped[:limit]:
                print_fn(f"  {path.relative_to(self.root)}: {reason}")
            if len(self.skipped) > limit:
                print_fn(f"  ... and {len(self.skipped) - limit} more")


SHAPE_CLASSES = ("red circle", "green square", "blue triangle", "黄色 星形")


def draw_shapes(root, per_class=20, size=96, seed=0, classes=SHAPE_CLASSES):
    """Draw `per_class` JPEGs of each class (shape and colour, random place, size and background).

    Returns `root`. Existing files are kept (the same seed draws the same pictures).
    """
    from PIL import Image, ImageDraw
    colours = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (50, 80, 220), "黄色": (230, 200, 30)}
    rng = random.Random(seed)
    root = Path(root)
    for name in classes:
        colour_name, shape = name.split(" ", 1)
        folder = root / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            background = tuple(rng.randint(0, 90) for _ in range(3))
            image = Image.new("RGB", (size, size), background)
            draw = ImageDraw.Draw(image)
            r = rng.uniform(0.2, 0.4) * size
            cx, cy = rng.uniform(r, size - r), rng.uniform(r, size - r)
            jitter = tuple(max(0, min(255, c + rng.randint(-30, 30))) for c in colours[colour_name])
            if shape == "circle":
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=jitter)
            elif shape == "square":
                draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=jitter)
            elif shape == "triangle":
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=jitter)
            else:  # a five-pointed star
                import math
                points = [(cx + (r if k % 2 == 0 else r / 2.5) * math.sin(k * math.pi / 5),
                           cy - (r if k % 2 == 0 else r / 2.5) * math.cos(k * math.pi / 5)) for k in range(10)]
                draw.polygon(points, fill=jitter)
            target = folder / f"{name} {i:03d}.jpg"  # unique names: the split hashes the file name
            if not target.exists():
                with tfcourse.atomic_path(target) as tmp:
                    image.save(tmp, format="JPEG", quality=90)
    return root


def read_shards(data_dir, features, converter):
    """9-2's output in `data_dir`: ({id: name}, train shards, test shards), every shard checked whole.

    `features`: what each record holds; `converter`: the lesson that writes them (for the remedies).
    """
    from tfcourse.tfrecords import check_tfrecord
    try:  # slim's labels file: one "id:name" per line
        text = (Path(data_dir) / "labels.txt").read_text(encoding="utf-8")
        lines = [line for line in text.splitlines() if line.strip()]
        labels = {int(i): name for i, name in (line.split(":", 1) for line in lines)}
    except (TypeError, OSError, ValueError) as error:  # TypeError: no folder given and no run of 9-2
        raise tfcourse.CourseError(f"No labels.txt of 9-2 in {data_dir or 'any finished run of 9-2'} "
                                   f"({type(error).__name__}).\nRemedy: run python {converter} first, "
                                   "or pass its run folder with --data-dir DIR.") from None
    train, test = (sorted(Path(data_dir).glob(f"image_{split}_*-of-*.tfrecord")) for split in ("train", "test"))
    if not train:
        raise tfcourse.CourseError(f"No image_train_*.tfrecord in {data_dir}.\n"
                                   f"Remedy: run python {converter} first.")
    for shard in train + test:  # a damaged or cut shard is named now, not in the middle of training
        check_tfrecord(shard, f"convert the pictures again: python {converter}", features=features,
                       allow_empty=True)  # a shard of a small set may hold nothing
    print(f"{len(labels)} classes ({', '.join(labels.values())}); "
          f"{len(train)} + {len(test)} shards in {data_dir}")
    return labels, train, test


MAX_NUM_IMAGES_PER_CLASS = 2 ** 27 - 1  # retrain.py's constant


def which_set(file_name, validation_percentage, testing_percentage):
    """retrain.py's split: a SHA-1 of the file name (minus any `_nohash_` part) picks the set.

    The same name always lands in the same set, so adding pictures later never moves old ones.
    """
    hash_name = re.sub(r"_nohash_.*$", "", file_name)
    hashed = int(hashlib.sha1(hash_name.encode("utf-8")).hexdigest(), 16)
    percentage_hash = (hashed % (MAX_NUM_IMAGES_PER_CLASS + 1)) * (100.0 / MAX_NUM_IMAGES_PER_CLASS)
    if percentage_hash < validation_percentage:
        return "validation"
    return "testing" if percentage_hash < validation_percentage + testing_percentage else "training"


def split_sets(folder, vectors, validation_percentage, testing_percentage):
    """retrain.py's three sets, training, validation and testing: [(x (n, 2048), labels (n,))] * 3.

    `vectors` holds the bottlenecks ({path: (2048,)}); a picture without one is left out.
    """
    import numpy as np
    split = {"training": [], "validation": [], "testing": []}
    for path, label in folder.all_images():
        if path in vectors:
            name = which_set(path.name, validation_percentage, testing_percentage)
            split[name].append((vectors[path], label))
    print("Images per set: " + ", ".join(f"{name} {len(items)}" for name, items in split.items()))
    if not split["training"]:
        raise tfcourse.CourseError("No picture fell into the training set.\nRemedy: add pictures, or lower "
                                   "--validation-percentage / --testing-percentage.")
    return [(np.array([v for v, _ in items], np.float32).reshape(-1, 2048),  # -> (n, 2048)
             np.array([y for _, y in items], np.int64)) for items in split.values()]


def cached_bottlenecks(bottleneck, folder, cache_dir, base_name):
    """{path: (2048,) array} for the pictures of `folder` (an ImageFolder); bottleneck(bytes) -> (2048,).

    retrain.py's cache: one file per picture, `<cache_dir>/<class>/<file>_<base_name>.txt`, its
    numbers comma-separated. Here the first line holds the picture's SHA-1, so a changed picture is
    computed again (retrain.py reused a stale one); a damaged cache file is computed again too. A
    picture TensorFlow cannot decode is skipped and reported.
    """
    import numpy as np
    import tensorflow as tf
    vectors, created = {}, 0
    for path, _ in folder.all_images():
        data = path.read_bytes()
        digest = hashlib.sha1(data).hexdigest()
        cache = cache_dir / path.relative_to(folder.root).parent / f"{path.name}_{base_name}.txt"
        try:
            header, values = cache.read_text(encoding="utf-8").split("\n", 1)
            if header == f"sha1={digest}" and len(values.split(",")) == 2048:
                vectors[path] = np.array(values.split(","), np.float32)
                continue
        except (OSError, ValueError):  # missing, or damaged: computed again
            pass
        try:
            with tfcourse.quiet_stderr():  # libjpeg writes its complaints straight to stderr
                vectors[path] = bottleneck(tf.constant(data)).numpy()
        except (tf.errors.InvalidArgumentError, tf.errors.UnknownError):
            print(f"WARNING: skipped {path.relative_to(folder.root)}: cannot be decoded (a damaged or truncated image)")
            continue
        tfcourse.atomic_write(cache, f"sha1={digest}\n" + ",".join(f"{v:.7g}" for v in vectors[path]))
        created += 1
        if created % 100 == 0:
            print(f"{created} bottleneck files created.", flush=True)
    print(f"Bottlenecks: {created} computed, {len(vectors) - created} reused from {cache_dir}")
    return vectors
