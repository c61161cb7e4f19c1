"""Generate ``shapes_coco``: a small COCO-format instance-segmentation dataset made on the spot.

Four categories of shapes (see :data:`CATEGORIES`), one to :data:`MAX_INSTANCES` instances
per image, each a filled polygon (circles are 48-gons) at a random position, size and
rotation, in a random colour, on a textured background (a colour gradient, stripes or a
checkerboard at random contrast, and pixel noise). Colours carry no information about the
category. Instances never overlap, so every polygon is exactly the visible mask.

Layout (what mmdet's ``CocoDataset`` reads)::

    OUT/annotations/instances_train.json
    OUT/annotations/instances_val.json
    OUT/train/00000.png ...
    OUT/val/00000.png ...
    OUT/manifest.json             the parameters of the run (output_folder.py)

Annotations: ``segmentation`` is one polygon ``[x1, y1, x2, y2, ...]`` in pixels,
``area`` its area (shoelace), ``bbox`` ``[x, y, w, h]`` its extent, ``iscrowd`` 0;
category ids 1-4 in the order of :data:`CATEGORIES`. Every image depends only on
(seed, split, index), so the output is deterministic for a seed.

    python projects/quickstart/tools/data/make_coco_instances.py --out data/shapes_coco
"""
import json
import math
import sys
from pathlib import Path
from typing import Any, Callable, Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from output_folder import check_count, check_size, write_output  # noqa: E402
from output_folder import main as cli_main  # noqa: E402

GENERATOR = 'make_coco_instances'
OWNED = ('annotations', 'train', 'val')  # what a run writes besides its manifest
SIZE_RANGE = (32, 1024)

CATEGORIES: Tuple[str, ...] = ('circle', 'triangle', 'square', 'star')
SPLITS: Tuple[str, ...] = ('train', 'val')
MAX_INSTANCES = 4
MIN_CONTRAST = 100.  # minimum RGB distance between a shape and the mean background colour
SUPERSAMPLE = 4  # shapes are drawn at 4x and downsampled, for anti-aliased edges

Polygon = List[Tuple[float, float]]


def shape_polygon(name: str, cx: float, cy: float, radius: float, angle: float) -> Polygon:
    """Vertices ``[(x, y), ...]`` of one shape of circumradius ``radius`` centred at ``(cx, cy)``."""
    if name == 'circle':
        radii = [radius] * 48
    elif name == 'triangle':
        radii = [radius] * 3
    elif name == 'square':
        radii = [radius] * 4
    elif name == 'star':
        radii = [radius, 0.45 * radius] * 5
    else:
        raise ValueError(f'unknown category {name!r}; choose one of {CATEGORIES}')
    n = len(radii)
    return [(cx + r * math.cos(angle + 2 * math.pi * k / n),
             cy + r * math.sin(angle + 2 * math.pi * k / n)) for k, r in enumerate(radii)]


def polygon_area(poly: Polygon) -> float:
    """Area of a simple polygon (shoelace formula)."""
    xs, ys = np.array(poly).T
    return float(abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) / 2)


def background(size: Tuple[int, int], rng: np.random.Generator) -> np.ndarray:
    """``(H, W, 3)`` float background: base colour, gradient and a random texture."""
    h, w = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    base = rng.uniform(40, 215, size=3).astype(np.float32)
    direction = rng.normal(size=2)
    grad = ((direction[0] * xs / w + direction[1] * ys / h)[..., None] *
            rng.uniform(-50, 50, size=3).astype(np.float32))
    kind = rng.integers(0, 3)  # 0 plain, 1 stripes, 2 checkerboard
    texture = np.zeros((h, w), np.float32)
    if kind:
        period = rng.uniform(6, 20)
        theta = rng.uniform(0, math.pi)
        u = xs * math.cos(theta) + ys * math.sin(theta)
        texture = np.sign(np.sin(2 * math.pi * u / period))
        if kind == 2:
            v = -xs * math.sin(theta) + ys * math.cos(theta)
            texture = texture * np.sign(np.sin(2 * math.pi * v / period))
    tex_colour = rng.uniform(-30, 30, size=3).astype(np.float32)
    return base + grad + texture[..., None] * tex_colour


def render(size: Tuple[int, int], rng: np.random.Generator
           ) -> Tuple[np.ndarray, List[Tuple[int, Polygon]]]:
    """One image ``(H, W, 3)`` uint8 RGB and its instances ``[(category index, polygon)]``."""
    h, w = size
    img = background(size, rng)
    mean_bg = img.reshape(-1, 3).mean(0)
    placed: List[Tuple[float, float, float]] = []  # (cx, cy, r) of the shapes so far
    instances: List[Tuple[int, Polygon]] = []
    wanted = int(rng.integers(1, MAX_INSTANCES + 1))
    max_radius = 0.3 * min(h, w)
    for _ in range(wanted * 20):  # rejection sampling of non-overlapping discs
        if len(instances) == wanted:
            break
        radius = float(rng.uniform(0.06, 0.3) * min(h, w))
        radius = min(radius, max_radius)
        cx = float(rng.uniform(radius, w - radius))
        cy = float(rng.uniform(radius, h - radius))
        if any(math.hypot(cx - x, cy - y) < radius + r + 2 for x, y, r in placed):
            continue
        cat = int(rng.integers(0, len(CATEGORIES)))
        poly = shape_polygon(CATEGORIES[cat], cx, cy, radius, float(rng.uniform(0, 2 * math.pi)))
        placed.append((cx, cy, radius))
        instances.append((cat, poly))
    canvas_size = (w * SUPERSAMPLE, h * SUPERSAMPLE)
    for cat, poly in instances:
        while True:
            colour = rng.uniform(0, 255, size=3).astype(np.float32)
            if np.linalg.norm(colour - mean_bg) >= MIN_CONTRAST:
                break
        canvas = Image.new('L', canvas_size, 0)
        ImageDraw.Draw(canvas).polygon([(x * SUPERSAMPLE, y * SUPERSAMPLE) for x, y in poly],
                                       fill=255)
        alpha = np.asarray(canvas.resize((w, h), Image.BOX), np.float32)[..., None] / 255.
        img = img * (1 - alpha) + colour * alpha
    img = img + rng.normal(0, rng.uniform(3, 10), size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), instances


def image_rng(seed: int, split: str, index: int) -> np.random.Generator:
    """The generator of one image: depends only on (seed, split, index)."""
    return np.random.default_rng([seed, SPLITS.index(split), index])


def annotation(poly: Polygon, cat: int, ann_id: int, image_id: int) -> Dict:
    """The COCO annotation of one polygon instance."""
    xs, ys = np.array(poly).T
    x0, y0, x1, y1 = xs.min(), ys.min(), xs.max(), ys.max()
    return dict(id=ann_id, image_id=image_id, category_id=cat + 1, iscrowd=0,
                segmentation=[[round(float(v), 2) for xy in poly for v in xy]],
                area=round(polygon_area(poly), 2),
                bbox=[round(float(v), 2) for v in (x0, y0, x1 - x0, y1 - y0)])


def write_coco(out: Path, generator: str, params: Dict[str, Any], size_range: Tuple[int, int],
               render_image: Callable[..., Tuple[np.ndarray, list]],
               annotate: Callable[..., Dict], categories: List[Dict], prefix: str) -> Path:
    """Check ``params`` (``num_train``, ``num_val``, ``size`` ``(H, W)``, ``seed``) and write a
    COCO dataset of both splits under ``out``: ``render_image((H, W), rng)`` gives an image
    and its objects, ``annotate(*object, ann_id, image_id)`` one annotation of them, written to
    ``OUT/annotations/{prefix}_{split}.json``. Returns ``out``."""
    check_count('--num-train', params['num_train'])
    check_count('--num-val', params['num_val'])
    check_size('--size', params['size'], *size_range)
    h, w = params['size']

    def write(folder: Path) -> None:
        (folder / 'annotations').mkdir()
        for split, count in zip(SPLITS, (params['num_train'], params['num_val'])):
            (folder / split).mkdir()
            images, annotations = [], []
            for index in range(count):
                img, objects = render_image((h, w), image_rng(params['seed'], split, index))
                name = f'{index:05d}.png'
                Image.fromarray(img).save(folder / split / name)
                images.append(dict(id=index + 1, file_name=name, height=h, width=w))
                for obj in objects:
                    annotations.append(annotate(*obj, len(annotations) + 1, index + 1))
            coco = dict(images=images, annotations=annotations, categories=categories)
            (folder / 'annotations' / f'{prefix}_{split}.json').write_text(json.dumps(coco))

    return write_output(out, generator, OWNED, params, write)


def generate(out: Path, num_train: int, num_val: int, size: Sequence[int] = (96, 128),
             seed: int = 0) -> Path:
    """Write the dataset (images of ``size`` = ``(H, W)``) under ``out``; return ``out``."""
    categories = [dict(id=i + 1, name=name, supercategory='shape')
                  for i, name in enumerate(CATEGORIES)]
    params = dict(num_train=num_train, num_val=num_val, size=list(size), seed=seed)
    return write_coco(out, GENERATOR, params, SIZE_RANGE, render,
                      lambda cat, poly, ann_id, image_id: annotation(poly, cat, ann_id, image_id),
                      categories, 'instances')


def main() -> None:
    """Entry point."""
    cli_main(__doc__.split('\n\n')[0], GENERATOR, generate, 'data/shapes_coco', (320, 64),
             'images', (96, 128), SIZE_RANGE)


if __name__ == '__main__':
    main()
