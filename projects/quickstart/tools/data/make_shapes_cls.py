"""Generate ``shapes_cls``: a small image-classification dataset made on the spot.

Eight classes of shapes and textures (see :data:`CLASSES`) drawn at a random position,
scale and rotation, in random foreground/background colours (the colours carry no
information about the class) on a noisy background with a random colour gradient.
A class can only be told from its shape or texture, not from its colour.

Layout (mmpretrain ``CustomDataset`` folder layout, classes in sorted order)::

    OUT/classes.txt
    OUT/train/<class>/<class>_00000.png ...
    OUT/val/<class>/<class>_00000.png ...
    OUT/manifest.json             the parameters of the run (output_folder.py)

Every image depends only on (seed, split, class, index), so the output is deterministic
for a seed and does not depend on the number of images asked for.

    python projects/quickstart/tools/data/make_shapes_cls.py --out data/shapes_cls
"""
import math
import sys
from pathlib import Path
from typing import Callable, Dict, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from output_folder import check_count, check_size, write_output  # noqa: E402
from output_folder import main as cli_main  # noqa: E402

GENERATOR = 'make_shapes_cls'
OWNED = ('train', 'val', 'classes.txt')  # what a run writes besides its manifest
SIZE_RANGE = (16, 512)

# Sorted, so the folder order that CustomDataset infers equals the order of classes.txt.
CLASSES: Tuple[str, ...] = ('checkerboard', 'circle', 'horizontal_stripes', 'ring', 'square',
                            'star', 'triangle', 'vertical_stripes')
SPLITS: Tuple[str, ...] = ('train', 'val')
SUPERSAMPLE = 4  # shapes are drawn at 4x and downsampled, for anti-aliased edges
MIN_CONTRAST = 90.  # minimum RGB distance between foreground and background colours


def _polygon(cx: float, cy: float, radii: Sequence[float], angle: float) -> list:
    """Vertices of a polygon with the given radii, equally spaced in angle, rotated."""
    n = len(radii)
    return [(cx + r * math.cos(angle + 2 * math.pi * k / n),
             cy + r * math.sin(angle + 2 * math.pi * k / n)) for k, r in enumerate(radii)]


def _shape_mask(name: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """Anti-aliased ``(size, size)`` float mask in [0, 1] of one random shape."""
    big = size * SUPERSAMPLE
    radius = rng.uniform(0.18, 0.38) * big
    margin = radius * 1.05
    cx, cy = rng.uniform(margin, big - margin, size=2)
    angle = rng.uniform(0, 2 * math.pi)
    canvas = Image.new('L', (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    if name == 'circle':
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=255)
    elif name == 'ring':
        inner = radius * rng.uniform(0.45, 0.7)
        draw.ellipse([cx - radius, cy - radius, cx + radius, cy + radius], fill=255)
        draw.ellipse([cx - inner, cy - inner, cx + inner, cy + inner], fill=0)
    elif name == 'square':
        draw.polygon(_polygon(cx, cy, [radius] * 4, angle), fill=255)
    elif name == 'triangle':
        draw.polygon(_polygon(cx, cy, [radius] * 3, angle), fill=255)
    elif name == 'star':
        inner = radius * rng.uniform(0.35, 0.5)
        draw.polygon(_polygon(cx, cy, [radius, inner] * 5, angle), fill=255)
    else:
        raise ValueError(f'unknown shape {name!r}')
    canvas = canvas.resize((size, size), Image.BOX)
    return np.asarray(canvas, dtype=np.float32) / 255.


def _texture_mask(name: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """``(size, size)`` mask of a striped / checkered patch in a random box."""
    period = rng.uniform(0.1, 0.22) * size  # one dark + one light band
    tilt = math.radians(rng.uniform(-12, 12))
    phase = rng.uniform(0, period)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) + 0.5
    # coordinates rotated by the small tilt: u runs along x, v along y
    u = xs * math.cos(tilt) + ys * math.sin(tilt) + phase
    v = -xs * math.sin(tilt) + ys * math.cos(tilt) + phase

    def bands(t: np.ndarray) -> np.ndarray:
        # smooth square wave in [0, 1] with half-period period / 2
        return np.clip(0.5 + 2.0 * np.sin(2 * math.pi * t / period), 0., 1.)

    if name == 'horizontal_stripes':
        mask = bands(v)
    elif name == 'vertical_stripes':
        mask = bands(u)
    elif name == 'checkerboard':
        a, b = bands(u), bands(v)
        mask = a * (1 - b) + b * (1 - a)  # XOR of the two band patterns
    else:
        raise ValueError(f'unknown texture {name!r}')
    side_h, side_w = (rng.uniform(0.55, 0.95, size=2) * size).astype(int)
    y0 = int(rng.integers(0, size - side_h + 1))
    x0 = int(rng.integers(0, size - side_w + 1))
    box = np.zeros((size, size), np.float32)
    box[y0:y0 + side_h, x0:x0 + side_w] = 1.
    return mask * box


_MASKS: Dict[str, Callable[[str, int, np.random.Generator], np.ndarray]] = {
    'circle': _shape_mask, 'ring': _shape_mask, 'square': _shape_mask, 'triangle': _shape_mask,
    'star': _shape_mask, 'horizontal_stripes': _texture_mask,
    'vertical_stripes': _texture_mask, 'checkerboard': _texture_mask,
}


def _colours(rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Independent uniform foreground / background colours with some contrast."""
    while True:
        fg, bg = rng.uniform(0, 255, size=(2, 3))
        if np.linalg.norm(fg - bg) >= MIN_CONTRAST:
            return fg.astype(np.float32), bg.astype(np.float32)


def render(class_name: str, size: int, rng: np.random.Generator) -> np.ndarray:
    """One ``(size, size, 3)`` uint8 RGB image of ``class_name``."""
    mask = _MASKS[class_name](class_name, size, rng)[..., None]
    fg, bg = _colours(rng)
    # background: base colour + a random linear gradient
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    direction = rng.normal(size=2)
    grad = (direction[0] * xs + direction[1] * ys)[..., None] * rng.uniform(-40, 40, size=3)
    img = (bg + grad) * (1 - mask) + fg * mask
    img = img + rng.normal(0, rng.uniform(4, 16), size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8)


def image_rng(seed: int, split: str, class_idx: int, index: int) -> np.random.Generator:
    """The generator of one image: depends only on (seed, split, class, index)."""
    return np.random.default_rng([seed, SPLITS.index(split), class_idx, index])


def generate(out: Path, num_train: int, num_val: int, size: int = 64, seed: int = 0) -> Path:
    """Write the dataset under ``out`` (see :func:`output_folder.prepare_output`); return it."""
    check_count('--num-train', num_train)
    check_count('--num-val', num_val)
    check_size('--size', size, *SIZE_RANGE)

    def write(folder: Path) -> None:
        for split, count in zip(SPLITS, (num_train, num_val)):
            for class_idx, name in enumerate(CLASSES):
                (folder / split / name).mkdir(parents=True)
                for index in range(count):
                    img = render(name, size, image_rng(seed, split, class_idx, index))
                    Image.fromarray(img).save(folder / split / name / f'{name}_{index:05d}.png')
        (folder / 'classes.txt').write_text('\n'.join(CLASSES) + '\n')

    params = dict(num_train=num_train, num_val=num_val, size=size, seed=seed)
    return write_output(out, GENERATOR, OWNED, params, write)


def main() -> None:
    """Entry point."""
    cli_main(__doc__.split('\n\n')[0], GENERATOR, generate, 'data/shapes_cls', (300, 50),
             'images per class', 64, SIZE_RANGE)


if __name__ == '__main__':
    main()
