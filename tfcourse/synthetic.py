"""Drawn stand-in digits for `--data synthetic` and the tests: same seed, same images."""
import functools
import math

import numpy as np
from PIL import Image, ImageDraw


def _arc(cx, cy, rx, ry, start, end, n=14):
    return [(cx + rx * math.cos(math.radians(a)), cy + ry * math.sin(math.radians(a)))
            for a in np.linspace(start, end, n)]


STROKES = {  # pen strokes in a unit box (x right, y down)
    0:  [_arc(0.5, 0.5, 0.28, 0.40, 0, 360, 24)],
    1: [[(0.35, 0.25), (0.55, 0.1), (0.55, 0.9)]],
    2: [_arc(0.5, 0.32, 0.26, 0.22, 200, 380) + [(0.25, 0.9), (0.78, 0.9)]],
    3: [_arc(0.5, 0.3, 0.24, 0.2, 210, 450), _arc(0.5, 0.7, 0.27, 0.2, 270, 510)],
    4: [[(0.65, 0.9), (0.65, 0.1), (0.22, 0.65), (0.82, 0.65)]],
    5: [[(0.75, 0.1), (0.32, 0.1), (0.28, 0.45)] + _arc(0.5, 0.65, 0.27, 0.25, 240, 490)],
    6: [_arc(0.5, 0.68, 0.25, 0.22, 0, 360, 20), [(0.27, 0.66), (0.4, 0.3), (0.65, 0.08)]],
    7: [[(0.22, 0.12), (0.8, 0.12), (0.42, 0.9)]],
    8: [_arc(0.5, 0.3, 0.22, 0.2, 0, 360, 20), _arc(0.5, 0.7, 0.26, 0.21, 0, 360, 20)],
    9: [_arc(0.5, 0.32, 0.25, 0.22, 0, 360, 20), [(0.74, 0.34), (0.6, 0.7), (0.38, 0.92)]],
}


def _draw_digit(digit, rng):
    image = Image.new("L", (112, 112), 0)  # 4 times 28x28, shrunk below: anti-aliased edges
    draw = ImageDraw.Draw(image)
    width = int(rng.uniform(1.6, 3.4) * 4)
    scale, slant = rng.uniform(0.62, 0.8) * 112, rng.uniform(-0.25, 0.25)
    left, top = (112 - scale) / 2 + rng.uniform(-2.0, 2.0, size=2) * 4
    for stroke in STROKES[digit]:
        points = np.asarray(stroke) + rng.normal(0, 0.03, (len(stroke), 2))
        xy = [(left + (x + slant * (0.5 - y)) * scale, top + y * scale) for x, y in points]
        draw.line(xy, fill=255, width=width, joint="curve")
        for x, y in (xy[0], xy[-1]):  # round pen ends
            draw.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    image = image.rotate(rng.uniform(-15, 15), resample=Image.BILINEAR)
    pixels = np.asarray(image.resize((28, 28), Image.BILINEAR), dtype=np.float32) / 255.0
    noise = rng.normal(0, 0.08, pixels.shape).astype(np.float32)
    return np.clip(pixels + noise * (rng.random(pixels.shape) < 0.15), 0.0, 1.0)


@functools.lru_cache(maxsize=4)  # the tests draw the same sets many times
def _drawn(count, seed):
    rng = np.random.default_rng(seed + 7919)  # its own stream, apart from the lesson's use of seed
    labels = rng.integers(0, 10, size=count, dtype=np.int64)
    return np.stack([_draw_digit(int(d), rng) for d in labels]), labels


def synthetic_digits(count, seed=0):
    """(count, 28, 28) float32 images in [0, 1] and their int64 labels (copies of the cached)."""
    images, labels = _drawn(int(count), int(seed))
    return images.copy(), labels.copy()
