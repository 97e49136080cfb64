"""Week 9's picture plumbing, shared by 9-retrain, 9-1 and 9-2 (none of them teaches it).

- `why_not_a_picture(path)`: JPEG, PNG, GIF and BMP are recognised by their first bytes, not by
  the extension; anything else gets the reason it is skipped.
- `class_folders(root)`: one sub-folder per class -> {class name: [picture paths]}, with what was
  left out printed, and one message when fewer than two classes hold pictures.
- `draw_shapes(root)`: coloured shapes, one folder per class (`--data shapes`, and the tests).
"""
import math
import random
from pathlib import Path

from PIL import Image, ImageDraw

import tfcourse

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".gif", ".bmp"}
MAGIC = (b"\xff\xd8\xff", b"\x89PNG", b"GIF8", b"BM")  # JPEG, PNG, GIF, BMP


def why_not_a_picture(path):
    """None for a JPEG/PNG/GIF/BMP file, else why it is skipped (a folder is searched by the
    caller; here the name's extension and the file's first bytes are checked)."""
    if path.suffix.lower() not in IMAGE_EXTENSIONS:
        return f"not an image file ({path.suffix or 'no extension'})"
    try:
        with open(path, "rb") as handle:
            head = handle.read(8)
    except OSError as error:
        return f"cannot be read ({error.strerror})"
    if not head:
        return "is empty"
    if not head.startswith(MAGIC):
        return "is not a JPEG, PNG, GIF or BMP image"
    return None


def class_folders(root, flag="--data-dir", max_per_class=None):
    """{class name: sorted [Path]} for the class sub-folders of `root`; prints what it found and
    what it skipped. `flag` is the lesson's option that names the folder (for the remedy)."""
    root = Path(root)
    if not root.is_dir():
        raise tfcourse.CourseError(
            f"The image folder {root} does not exist.\n"
            "Remedy: make one sub-folder per class holding its pictures (e.g. "
            f"data/train/flower/*.jpg) and pass its parent with {flag} DIR, or try --data shapes "
            "(drawn shapes, no pictures needed).")
    classes, skipped, empty = {}, [], []
    for folder in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        found = []
        for path in sorted(folder.rglob("*")):
            if path.is_dir() or path.name.startswith("."):
                continue
            reason = why_not_a_picture(path)
            if reason:
                skipped.append(f"{path.relative_to(root)}: {reason}")
            else:
                found.append(path)
        if found:
            classes[folder.name] = found[:max_per_class]
        else:
            empty.append(folder.name)
    counts = ", ".join(f"{name} {len(paths)}" for name, paths in classes.items())
    print(f"Found {sum(map(len, classes.values()))} images in {len(classes)} classes under {root}: "
          f"{counts}")
    for name in empty:
        print(f"WARNING: no images found in class folder '{name}'; it is left out.")
    if skipped:
        print(f"Skipped {len(skipped)} file(s) that are not usable images:")
        for line in skipped[:5]:
            print(f"  {line}")
        if len(skipped) > 5:
            print(f"  ... and {len(skipped) - 5} more")
    if len(classes) < 2:
        have = ", ".join(f"'{name}'" for name in classes) or "none"
        raise tfcourse.CourseError(
            f"{root} has {len(classes)} class folder(s) with images ({have}); a classifier "
            "needs at least two.\n"
            + (f"Empty class folders: {', '.join(empty)}.\n" if empty else "")
            + f"Remedy: put each class's pictures in its own sub-folder, e.g. {root / 'flower'}"
              f"/*.jpg and {root / 'guitar'}/*.jpg.")
    return classes


SHAPE_CLASSES = ("red circle", "green square", "blue triangle", "黄色 星形")
COLOURS = {"red": (220, 40, 40), "green": (40, 180, 60), "blue": (50, 80, 220),
           "黄色": (230, 200, 30)}


def draw_shapes(root, per_class=20, size=96, seed=0, classes=SHAPE_CLASSES):
    """Draw `per_class` JPEGs of each class (a shape in a colour, at a random place and size, on a
    dark background) into root/<class>/. The same seed draws the same pictures. Returns `root`."""
    rng = random.Random(seed)
    root = Path(root)
    for name in classes:
        colour, shape = name.split(" ", 1)
        (root / name).mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = Image.new("RGB", (size, size), tuple(rng.randint(0, 90) for _ in range(3)))
            draw = ImageDraw.Draw(image)
            r = rng.uniform(0.2, 0.4) * size
            cx, cy = rng.uniform(r, size - r), rng.uniform(r, size - r)
            fill = tuple(max(0, min(255, c + rng.randint(-30, 30))) for c in COLOURS[colour])
            if shape == "circle":
                draw.ellipse([cx - r, cy - r, cx + r, cy + r], fill=fill)
            elif shape == "square":
                draw.rectangle([cx - r, cy - r, cx + r, cy + r], fill=fill)
            elif shape == "triangle":
                draw.polygon([(cx, cy - r), (cx - r, cy + r), (cx + r, cy + r)], fill=fill)
            else:  # a five-pointed star: outer and inner corners in turn
                corners = []
                for k in range(10):
                    radius = r if k % 2 == 0 else r / 2.5
                    corners.append((cx + radius * math.sin(k * math.pi / 5),
                                    cy - radius * math.cos(k * math.pi / 5)))
                draw.polygon(corners, fill=fill)
            target = root / name / f"{name} {i:03d}.jpg"  # unique: retrain's split hashes names
            if not target.exists():
                with tfcourse.atomic_path(target) as tmp:
                    image.save(tmp, format="JPEG", quality=90)
    return root
