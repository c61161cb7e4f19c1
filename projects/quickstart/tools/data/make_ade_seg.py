"""Generate ``shapes_ade``: a small ADE20K-style semantic-segmentation dataset made on the spot.

Every image is split by a random straight line into two background regions, each filled with
one of three textures (:data:`TEXTURES`: smooth noise, stripes, a checkerboard, at a random
scale, angle and pair of colours), and holds one to :data:`MAX_SHAPES` filled shapes
(:data:`SHAPES`: disc, triangle, square) of a random size, rotation and colour, each with a
faint noise. Colours carry no information about the class: textures are told apart by their
pattern, shapes by their outline. A band of :data:`BOUNDARY` pixels just outside each shape is
labelled 0 ("other"), which ADE20K-style loading (``reduce_zero_label=True``) ignores.

Layout (ADE20K's, what mmseg's ``ADE20KDataset`` / ``BaseSegDataset`` read)::

    OUT/images/training/00000.jpg ...      RGB
    OUT/images/validation/00000.jpg ...
    OUT/annotations/training/00000.png ... single-channel uint8: 0 other (ignored),
    OUT/annotations/validation/00000.png   1..6 the classes of CLASSES in order
    OUT/classes.txt                        the 6 class names, one a line
    OUT/manifest.json                      the parameters of the run (output_folder.py)

Every image depends only on (seed, split, index): the output is deterministic for a seed.

    python projects/quickstart/tools/data/make_ade_seg.py --out data/shapes_ade
"""
import math
import sys
from pathlib import Path
from typing import Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from output_folder import check_count, check_size, write_output  # noqa: E402
from output_folder import main as cli_main  # noqa: E402

GENERATOR = 'make_ade_seg'
OWNED = ('images', 'annotations', 'classes.txt')  # what a run writes besides its manifest
SIZE_RANGE = (32, 1024)

TEXTURES: Tuple[str, ...] = ('smooth', 'stripes', 'checker')
SHAPES: Tuple[str, ...] = ('disc', 'triangle', 'square')
#: class names in label order (label = index + 1; 0 is "other", ignored)
CLASSES: Tuple[str, ...] = TEXTURES + SHAPES
SPLITS = {'training': 'train', 'validation': 'val'}
MAX_SHAPES = 3
BOUNDARY = 2  # width (pixels) of the ignored band around each shape
SUPERSAMPLE = 4  # shape masks are drawn at 4x and downsampled (anti-aliased edges)


def _colour(rng: np.random.Generator) -> np.ndarray:
    return rng.uniform(0, 255, size=3)


def texture(name: str, h: int, w: int, rng: np.random.Generator) -> np.ndarray:
    """An ``(h, w, 3)`` float image of texture ``name`` in two random colours."""
    if name not in TEXTURES:
        raise ValueError(f'unknown texture {name!r}; choose one of {TEXTURES}')
    a, b = _colour(rng), _colour(rng)
    while np.linalg.norm(a - b) < 90:  # both colours of a pattern stay distinguishable
        b = _colour(rng)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    if name == 'smooth':  # low-frequency noise: a coarse random grid upsampled bilinearly
        coarse = rng.uniform(0, 1, size=(3, 3)).astype(np.float32)
        weight = np.asarray(Image.fromarray(coarse).resize((w, h), Image.BILINEAR))
    else:
        angle = rng.uniform(0, math.pi)
        period = rng.uniform(6, 12)
        u = xx * math.cos(angle) + yy * math.sin(angle)
        if name == 'stripes':
            weight = (np.floor(u / (period / 2)) % 2).astype(np.float32)
        else:
            v = -xx * math.sin(angle) + yy * math.cos(angle)
            weight = ((np.floor(u / (period / 2)) + np.floor(v / (period / 2))) % 2).astype(
                np.float32)
    return a + (b - a) * weight[..., None]


def shape_mask(name: str, h: int, w: int, cx: float, cy: float, radius: float,
               angle: float) -> np.ndarray:
    """An ``(h, w)`` float coverage mask in [0, 1] of one shape (circumradius ``radius``)."""
    if name not in SHAPES:
        raise ValueError(f'unknown shape {name!r}; choose one of {SHAPES}')
    s = SUPERSAMPLE
    canvas = Image.new('L', (w * s, h * s), 0)
    draw = ImageDraw.Draw(canvas)
    if name == 'disc':
        draw.ellipse([(cx - radius) * s, (cy - radius) * s, (cx + radius) * s, (cy + radius) * s],
                     fill=255)
    else:
        n = 3 if name == 'triangle' else 4
        draw.polygon([((cx + radius * math.cos(angle + 2 * math.pi * k / n)) * s,
                       (cy + radius * math.sin(angle + 2 * math.pi * k / n)) * s)
                      for k in range(n)], fill=255)
    return np.asarray(canvas.resize((w, h), Image.BOX), dtype=np.float32) / 255.


def _dilate(mask: np.ndarray, r: int) -> np.ndarray:
    """Binary dilation of ``mask`` by a ``(2r+1)`` square."""
    out = mask.copy()
    padded = np.pad(mask, r)
    h, w = mask.shape
    for dy in range(2 * r + 1):
        for dx in range(2 * r + 1):
            out |= padded[dy:dy + h, dx:dx + w]
    return out


def make_sample(rng: np.random.Generator, size: Tuple[int, int]) -> Tuple[np.ndarray, np.ndarray]:
    """One ``(H, W, 3)`` uint8 image and its ``(H, W)`` uint8 label map (0 other, 1..6)."""
    h, w = size
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # two background regions on either side of a random line through the image
    angle = rng.uniform(0, 2 * math.pi)
    px, py = rng.uniform(0.3, 0.7) * w, rng.uniform(0.3, 0.7) * h
    side = (xx - px) * math.cos(angle) + (yy - py) * math.sin(angle) > 0
    tex = rng.choice(len(TEXTURES), size=2)
    image = np.where(side[..., None], texture(TEXTURES[tex[0]], h, w, rng),
                     texture(TEXTURES[tex[1]], h, w, rng))
    label = np.where(side, tex[0] + 1, tex[1] + 1).astype(np.uint8)
    ignore = np.zeros((h, w), bool)
    for _ in range(rng.integers(1, MAX_SHAPES + 1)):
        k = int(rng.integers(len(SHAPES)))
        radius = rng.uniform(0.12, 0.25) * min(h, w)
        cx, cy = rng.uniform(radius, w - radius), rng.uniform(radius, h - radius)
        cover = shape_mask(SHAPES[k], h, w, cx, cy, radius, rng.uniform(0, 2 * math.pi))
        fill = _colour(rng) + rng.normal(0, 6, size=(h, w, 3))
        image = image * (1 - cover[..., None]) + fill * cover[..., None]
        inside = cover >= 0.5
        band = _dilate(inside, BOUNDARY) & ~inside  # a ring just outside the shape
        label[inside] = len(TEXTURES) + k + 1
        ignore = (ignore & ~inside) | band  # a later shape covers earlier bands
    label[ignore] = 0
    image = image + rng.normal(0, 4, size=image.shape)
    return np.clip(image, 0, 255).round().astype(np.uint8), label


def generate(out: Path, num_train: int = 240, num_val: int = 60,
             size: Sequence[int] = (128, 128), seed: int = 0) -> Path:
    """Write the dataset to ``out`` (see the module docstring); ``size`` is ``(H, W)``."""
    check_count('--num-train', num_train)
    check_count('--num-val', num_val)
    check_size('--size', size, *SIZE_RANGE)

    def write(folder: Path) -> None:
        for split, count in (('training', num_train), ('validation', num_val)):
            (folder / 'images' / split).mkdir(parents=True)
            (folder / 'annotations' / split).mkdir(parents=True)
            for i in range(count):
                rng = np.random.default_rng([seed, list(SPLITS).index(split), i])
                image, label = make_sample(rng, tuple(size))
                Image.fromarray(image).save(folder / 'images' / split / f'{i:05d}.jpg',
                                            quality=95)
                Image.fromarray(label).save(folder / 'annotations' / split / f'{i:05d}.png')
        (folder / 'classes.txt').write_text('\n'.join(CLASSES) + '\n')

    params = dict(num_train=num_train, num_val=num_val, size=list(size), seed=seed)
    return write_output(out, GENERATOR, OWNED, params, write)


def main() -> None:
    """Entry point."""
    cli_main(__doc__.splitlines()[0], GENERATOR, generate, 'data/shapes_ade', (240, 60),
             'images', (128, 128), SIZE_RANGE)


if __name__ == '__main__':
    main()
