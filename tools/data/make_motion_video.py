"""Generate ``motion_video``: a small video-classification dataset made on the spot.

Eight classes that differ only in how one random shape moves (see :data:`CLASSES`): it
moves left, right, up or down, grows, shrinks, or rotates clockwise or counter-clockwise.
Everything else is drawn from the same distribution for every class: the shape (a random
polygon with 3-7 vertices at jittered angles and random radii, so it has no rotational
symmetry), its colour and the background's (a colour with a random gradient and fresh
per-frame noise), its position, size and angle.

Single frames carry no information about the class:

- positions live on a torus (a shape leaving one side re-enters on the other), with a
  uniform start, so the position is uniform in every frame of every class;
- angles start uniform in [0, 2 pi), so they stay uniform;
- sizes: a growing / shrinking shape sweeps ``log r_mid +- k * (t - (T - 1) / 2)``; every
  other class draws its (constant) size from that same sweep at a random frame, so over a
  video's frames the size distribution is the same for all classes;
- each class comes in time-reversed pairs (left/right, up/down, grow/shrink, cw/ccw).

A model has to compare frames to tell the classes apart (``tests/test_motion_data.py``
checks both: single-frame statistics are class-independent, frame differences are not).

Layout (mmaction2 ``VideoDataset`` annotation files, labels in the order of classes.txt)::

    OUT/classes.txt
    OUT/train_list.txt            lines ``<class>/<class>_00000.mp4 <label>``
    OUT/val_list.txt
    OUT/train/<class>/<class>_00000.mp4 ...
    OUT/val/<class>/<class>_00000.mp4 ...

Videos are MPEG-4 ('mp4v', written by OpenCV; decord reads them). Every video depends only
on (seed, split, class, index), so the output is deterministic for a seed and does not depend
on the number of videos asked for.

    python tools/data/make_motion_video.py --out data/motion_video
"""
import argparse
import math
from pathlib import Path
from typing import Dict, Tuple

import numpy as np
from PIL import Image, ImageDraw

# Sorted; the label of a class is its index here (and its line in classes.txt).
CLASSES: Tuple[str, ...] = ('grow', 'move_down', 'move_left', 'move_right', 'move_up',
                            'rotate_ccw', 'rotate_cw', 'shrink')
# Classes swapped by a horizontal flip of the frames (for a flip augmentation).
HFLIP_PAIRS: Dict[str, str] = {'move_left': 'move_right', 'move_right': 'move_left',
                               'rotate_cw': 'rotate_ccw', 'rotate_ccw': 'rotate_cw'}
SPLITS: Tuple[str, ...] = ('train', 'val')
SUPERSAMPLE = 4  # shapes are drawn at 4x and downsampled: anti-aliased, sub-pixel motion
MIN_CONTRAST = 90.  # minimum RGB distance between shape and background colours
SPEED = (0.8, 1.6)  # translation, pixels per frame at size 64 (scaled with the size)
SCALE_RATE = (0.02, 0.035)  # growth / shrink rate k of log(radius) per frame
SPIN = (4., 8.)  # rotation, degrees per frame
RADIUS = (0.12, 0.2)  # radius in the middle of the size sweep, as a fraction of the size


def flip_label_map() -> Dict[int, int]:
    """``{label: label}`` of the classes a horizontal flip swaps (mmaction2 ``Flip``)."""
    return {CLASSES.index(a): CLASSES.index(b) for a, b in HFLIP_PAIRS.items()}


def _colours(rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Independent uniform shape / background colours with some contrast."""
    while True:
        fg, bg = rng.uniform(0, 255, size=(2, 3))
        if np.linalg.norm(fg - bg) >= MIN_CONTRAST:
            return fg.astype(np.float32), bg.astype(np.float32)


def sample_motion(class_name: str, num_frames: int, size: int,
                  rng: np.random.Generator) -> Dict[str, np.ndarray]:
    """Per-frame centre ``(T, 2)`` (x, y, on the torus), radius ``(T,)`` and angle ``(T,)``."""
    if class_name not in CLASSES:
        raise ValueError(f'unknown class {class_name!r}; choose one of {CLASSES}')
    t = np.arange(num_frames, dtype=np.float64)
    centred = t - (num_frames - 1) / 2
    start = rng.uniform(0, size, size=2)
    angle0 = rng.uniform(0, 2 * math.pi)
    log_mid = math.log(rng.uniform(*RADIUS) * size)
    rate = rng.uniform(*SCALE_RATE)
    speed = rng.uniform(*SPEED) * size / 64
    spin = math.radians(rng.uniform(*SPIN))
    # static attributes: the size at a random frame of a size sweep, so that pooled over
    # frames the size distribution matches the growing / shrinking classes
    static_log_r = log_mid + rate * centred[rng.integers(num_frames)]
    centre = np.broadcast_to(start, (num_frames, 2)).copy()
    log_r = np.full(num_frames, static_log_r)
    angle = np.full(num_frames, angle0)
    kind, _, direction = class_name.partition('_')
    if kind == 'move':
        step = {'left': (-1, 0), 'right': (1, 0), 'up': (0, -1), 'down': (0, 1)}[direction]
        centre = start + np.outer(t, step) * speed
    elif class_name in ('grow', 'shrink'):
        log_r = log_mid + (1 if class_name == 'grow' else -1) * rate * centred
    else:  # rotate: image y points down, so clockwise on screen is a growing angle
        angle = angle0 + (1 if direction == 'cw' else -1) * spin * t
    return dict(centre=centre % size, radius=np.exp(log_r), angle=angle)


def _polygon_mask(radii: np.ndarray, phis: np.ndarray, centre: np.ndarray, radius: float,
                  angle: float, size: int) -> np.ndarray:
    """Anti-aliased ``(size, size)`` mask in [0, 1] of the polygon with vertices at relative
    radii ``radii`` and angles ``phis``, scaled by ``radius``, turned by ``angle`` and
    centred at ``centre`` (x, y), wrapped on the torus."""
    big = size * SUPERSAMPLE
    phis = angle + phis
    rel = np.stack([np.cos(phis), np.sin(phis)], 1) * (radii * radius * SUPERSAMPLE)[:, None]
    cx, cy = (centre + 0.5 / SUPERSAMPLE) * SUPERSAMPLE
    reach = radius * SUPERSAMPLE * radii.max()
    canvas = Image.new('L', (big, big), 0)
    draw = ImageDraw.Draw(canvas)
    for ox in (-big, 0, big):  # the copies that touch the canvas
        for oy in (-big, 0, big):
            x, y = cx + ox, cy + oy
            if x + reach < 0 or x - reach > big or y + reach < 0 or y - reach > big:
                continue
            draw.polygon([(x + px, y + py) for px, py in rel], fill=255)
    canvas = canvas.resize((size, size), Image.BOX)
    return np.asarray(canvas, dtype=np.float32) / 255.


def render(class_name: str, rng: np.random.Generator, num_frames: int = 32,
           size: int = 64) -> np.ndarray:
    """One ``(num_frames, size, size, 3)`` uint8 RGB video of ``class_name``."""
    if size < 16 or num_frames < 2:
        raise ValueError(f'need size >= 16 and num_frames >= 2, got {size}, {num_frames}')
    motion = sample_motion(class_name, num_frames, size, rng)
    # an irregular polygon: 3-7 vertices at jittered angles and random radii
    num_vertices = int(rng.integers(3, 8))
    vertex_radii = rng.uniform(0.4, 1.0, size=num_vertices)
    vertex_phis = (np.arange(num_vertices) + rng.uniform(-0.3, 0.3, size=num_vertices)) * (
        2 * math.pi / num_vertices)
    fg, bg = _colours(rng)
    ys, xs = np.mgrid[0:size, 0:size].astype(np.float32) / size - 0.5
    direction = rng.normal(size=2)
    background = bg + (direction[0] * xs + direction[1] * ys)[..., None] * rng.uniform(
        -40, 40, size=3).astype(np.float32)
    noise_std = rng.uniform(3, 10)
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    for t in range(num_frames):
        mask = _polygon_mask(vertex_radii, vertex_phis, motion['centre'][t],
                             motion['radius'][t], motion['angle'][t], size)[..., None]
        img = background * (1 - mask) + fg * mask
        img = img + rng.normal(0, noise_std, size=img.shape)
        frames[t] = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    return frames


def video_rng(seed: int, split: str, class_idx: int, index: int) -> np.random.Generator:
    """The generator of one video: depends only on (seed, split, class, index)."""
    return np.random.default_rng([seed, SPLITS.index(split), class_idx, index])


def write_video(path: Path, frames: np.ndarray, fps: int = 25) -> None:
    """Write ``(T, H, W, 3)`` uint8 RGB frames as an 'mp4v' MPEG-4 video."""
    import cv2
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {path} with the mp4v codec')
    try:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[..., ::-1]))  # OpenCV wants BGR
    finally:
        writer.release()


def generate(out: Path, num_train: int, num_val: int, num_frames: int = 32, size: int = 64,
             seed: int = 0) -> Path:
    """Write the dataset under ``out``; return ``out``."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for split, count in zip(SPLITS, (num_train, num_val)):
        lines = []
        for class_idx, name in enumerate(CLASSES):
            folder = out / split / name
            folder.mkdir(parents=True, exist_ok=True)
            for index in range(count):
                frames = render(name, video_rng(seed, split, class_idx, index), num_frames, size)
                write_video(folder / f'{name}_{index:05d}.mp4', frames)
                lines.append(f'{name}/{name}_{index:05d}.mp4 {class_idx}')
        (out / f'{split}_list.txt').write_text('\n'.join(lines) + '\n')
    # written last: its presence marks a complete dataset
    (out / 'classes.txt').write_text('\n'.join(CLASSES) + '\n')
    return out


def parse_args() -> argparse.Namespace:
    """Command-line arguments."""
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--out', default='data/motion_video', help='output folder')
    parser.add_argument('--num-train', type=int, default=160, help='training videos per class')
    parser.add_argument('--num-val', type=int, default=40, help='validation videos per class')
    parser.add_argument('--num-frames', type=int, default=32, help='frames per video')
    parser.add_argument('--size', type=int, default=64, help='frame side in pixels')
    parser.add_argument('--seed', type=int, default=0, help='random seed')
    return parser.parse_args()


def main() -> None:
    """Entry point."""
    args = parse_args()
    out = generate(Path(args.out), args.num_train, args.num_val, args.num_frames, args.size,
                   args.seed)
    total = len(CLASSES) * (args.num_train + args.num_val)
    print(f'wrote {total} videos ({len(CLASSES)} classes, {args.num_train} train + '
          f'{args.num_val} val per class, {args.num_frames} frames of {args.size}x{args.size}) '
          f'to {out}')


if __name__ == '__main__':
    main()
