"""Generate ``motion_video``: a small video-classification dataset made on the spot.

Eight classes that differ only in how the content of the frame moves (see :data:`CLASSES`):
it moves left, right, up or down, grows or shrinks (zooms in / out about the centre), or
rotates clockwise or counter-clockwise about the centre. The content is a random scene: many
irregular polygons (3-7 vertices at jittered angles and random radii, so none has a
rotational symmetry) in random colours, scattered uniformly over an unbounded plane on a
neutral grey, with fresh noise in every frame. Each video views its own scene through a
moving window.

Single frames carry no information about the class: the scene is a stationary, isotropic
random field, so a shifted or rotated view of it has the same distribution as any other;
the zoom classes sweep ``log(scale) = +-k * (t - (T - 1) / 2)`` and every other class views
its scene at the scale of a random frame of such a sweep, so that pooled over the frames of
a video the scale distribution is the same for every class. The classes come in
time-reversed pairs (left/right, up/down, grow/shrink, cw/ccw). A model has to compare
frames to tell them apart; ``tests/test_data/test_motion_data.py`` checks both halves of that claim.
The background is the same grey in every video and colours are drawn per polygon, so a
video has no colour "fingerprint" for a model to memorise instead of the motion.

Layout (mmaction2 ``VideoDataset`` annotation files, labels in the order of classes.txt)::

    OUT/classes.txt
    OUT/train_list.txt            lines ``<class>/<class>_00000.mp4 <label>``
    OUT/val_list.txt
    OUT/train/<class>/<class>_00000.mp4 ...
    OUT/val/<class>/<class>_00000.mp4 ...
    OUT/manifest.json             the parameters of the run (output_folder.py)

Videos are MPEG-4 ('mp4v', written by OpenCV; decord reads them). Every video depends only
on (seed, split, class, index), so the output is deterministic for a seed and does not depend
on the number of videos asked for.

    python projects/quickstart/tools/data/make_motion_video.py --out data/motion_video
"""
import math
import sys
from pathlib import Path
from typing import Dict, Tuple

import numpy as np
from PIL import Image, ImageDraw

sys.path.insert(0, str(Path(__file__).resolve().parent))
from output_folder import check_count, check_size, write_output  # noqa: E402
from output_folder import main as cli_main  # noqa: E402

GENERATOR = 'make_motion_video'
OWNED = ('train', 'val', 'train_list.txt', 'val_list.txt', 'classes.txt')
SIZE_RANGE = (16, 256)
FRAMES_RANGE = (2, 256)

# Sorted; the label of a class is its index here (and its line in classes.txt).
CLASSES: Tuple[str, ...] = ('grow', 'move_down', 'move_left', 'move_right', 'move_up',
                            'rotate_ccw', 'rotate_cw', 'shrink')
# Classes swapped by a horizontal / vertical flip of the frames (flip augmentations).
HFLIP_PAIRS: Dict[str, str] = {'move_left': 'move_right', 'move_right': 'move_left',
                               'rotate_cw': 'rotate_ccw', 'rotate_ccw': 'rotate_cw'}
VFLIP_PAIRS: Dict[str, str] = {'move_up': 'move_down', 'move_down': 'move_up',
                               'rotate_cw': 'rotate_ccw', 'rotate_ccw': 'rotate_cw'}
SPLITS: Tuple[str, ...] = ('train', 'val')
SUPERSAMPLE = 2  # polygons are drawn at 2x and downsampled: anti-aliased, sub-pixel motion
BACKGROUND = (128, 128, 128)
# Motion per frame, at a frame size of 64 (translations scale with the size).
SPEED = (0.8, 1.6)  # translation, pixels per frame
ZOOM_RATE = (0.015, 0.03)  # k, change of log(scale) per frame
SPIN = (2., 4.)  # rotation, degrees per frame
# The scene, in pixels of a 64-frame at scale 1 (scaled with the size).
DENSITY = 0.012  # polygons per square pixel
POLYGON_RADIUS = (3., 10.)  # log-uniform
NOISE_STD = (2., 6.)  # per-frame Gaussian noise


def flip_label_map(direction: str = 'horizontal') -> Dict[int, int]:
    """``{label: label}`` of the classes a flip swaps (mmaction2 ``Flip(flip_label_map=)``)."""
    pairs = HFLIP_PAIRS if direction == 'horizontal' else VFLIP_PAIRS
    return {CLASSES.index(a): CLASSES.index(b) for a, b in pairs.items()}


def sample_motion(class_name: str, num_frames: int, size: int,
                  rng: np.random.Generator) -> Dict[str, np.ndarray]:
    """The view of every frame: ``shift`` ``(T, 2)``, ``scale`` ``(T,)``, ``angle`` ``(T,)``.

    A scene point ``p`` (x, y; y down) is seen at ``scale * R(angle) p + shift`` from the
    frame centre: content moves with ``shift``, grows with ``scale`` and turns clockwise on
    the screen as ``angle`` grows.
    """
    if class_name not in CLASSES:
        raise ValueError(f'unknown class {class_name!r}; choose one of {CLASSES}')
    t = np.arange(num_frames, dtype=np.float64)
    centred = t - (num_frames - 1) / 2
    speed = rng.uniform(*SPEED) * size / 64
    rate = rng.uniform(*ZOOM_RATE)
    spin = math.radians(rng.uniform(*SPIN))
    angle0 = rng.uniform(0, 2 * math.pi)
    # static views: the scale of a random frame of a zoom sweep (see the module docstring)
    log_scale = np.full(num_frames, rate * centred[rng.integers(num_frames)])
    shift = np.zeros((num_frames, 2))
    angle = np.full(num_frames, angle0)
    kind, _, direction = class_name.partition('_')
    if kind == 'move':
        step = {'left': (-1, 0), 'right': (1, 0), 'up': (0, -1), 'down': (0, 1)}[direction]
        shift = np.outer(centred, step) * speed
    elif class_name in ('grow', 'shrink'):
        log_scale = (1 if class_name == 'grow' else -1) * rate * centred
    else:
        angle = angle0 + (1 if direction == 'cw' else -1) * spin * t
    return dict(shift=shift, scale=np.exp(log_scale), angle=angle)


def sample_scene(motion: Dict[str, np.ndarray], size: int,
                 rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random polygons over the part of the plane the views see (a square around the
    origin): vertices ``(V, 2)``, the start of each polygon in them ``(N,)`` and colours
    ``(N, 3)``."""
    unit = size / 64
    # a view sees scene points within (half a diagonal + |shift|) / scale of the origin
    reach = ((size / math.sqrt(2) + np.linalg.norm(motion['shift'], axis=1)) /
             motion['scale']).max() + POLYGON_RADIUS[1] * unit
    count = rng.poisson(DENSITY / unit ** 2 * (2 * reach) ** 2)
    centres = rng.uniform(-reach, reach, size=(count, 2))
    radii = np.exp(rng.uniform(*np.log(POLYGON_RADIUS), size=count)) * unit
    sides = rng.integers(3, 8, size=count)
    vertices = []
    for centre, radius, n in zip(centres, radii, sides):
        phis = (np.arange(n) + rng.uniform(-0.3, 0.3, size=n)) * (2 * math.pi / n)
        phis = phis + rng.uniform(0, 2 * math.pi)
        lengths = rng.uniform(0.4, 1.0, size=n) * radius
        vertices.append(centre + np.stack([np.cos(phis), np.sin(phis)], 1) * lengths[:, None])
    starts = np.concatenate([[0], np.cumsum(sides)[:-1]]).astype(int)
    colours = rng.integers(0, 256, size=(count, 3))
    return (np.concatenate(vertices) if count else np.zeros((0, 2))), starts, colours


def check_shape(num_frames: int, size: int) -> None:
    """Frame count and side in their ranges (:data:`FRAMES_RANGE`, :data:`SIZE_RANGE`)."""
    check_size('--size', size, *SIZE_RANGE)
    if isinstance(num_frames, bool) or not isinstance(num_frames, int) or not (
            FRAMES_RANGE[0] <= num_frames <= FRAMES_RANGE[1]):
        raise ValueError('--num-frames must be a whole number from {} to {}, got {!r}'.format(
            *FRAMES_RANGE, num_frames))


def render(class_name: str, rng: np.random.Generator, num_frames: int = 32,
           size: int = 64) -> np.ndarray:
    """One ``(num_frames, size, size, 3)`` uint8 RGB video of ``class_name``."""
    check_shape(num_frames, size)
    motion = sample_motion(class_name, num_frames, size, rng)
    vertices, starts, colours = sample_scene(motion, size, rng)
    ends = np.append(starts[1:], len(vertices))
    noise_std = rng.uniform(*NOISE_STD)
    big = size * SUPERSAMPLE
    frames = np.empty((num_frames, size, size, 3), np.uint8)
    for t in range(num_frames):
        cos, sin = math.cos(motion['angle'][t]), math.sin(motion['angle'][t])
        rot = np.array([[cos, -sin], [sin, cos]])
        screen = vertices @ rot.T * motion['scale'][t] + motion['shift'][t] + size / 2
        screen = screen * SUPERSAMPLE
        canvas = Image.new('RGB', (big, big), BACKGROUND)
        draw = ImageDraw.Draw(canvas)
        if len(starts):
            low = np.minimum.reduceat(screen, starts)
            high = np.maximum.reduceat(screen, starts)
            visible = np.flatnonzero((high > 0).all(1) & (low < big).all(1))
            for i in visible:
                draw.polygon([tuple(v) for v in screen[starts[i]:ends[i]]],
                             fill=tuple(int(c) for c in colours[i]))
        img = np.asarray(canvas.resize((size, size), Image.BOX), dtype=np.float32)
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
    """Write the dataset under ``out`` (see :func:`output_folder.prepare_output`); return it."""
    check_count('--num-train', num_train)
    check_count('--num-val', num_val)
    check_shape(num_frames, size)

    def write(folder: Path) -> None:
        for split, count in zip(SPLITS, (num_train, num_val)):
            lines = []
            for class_idx, name in enumerate(CLASSES):
                (folder / split / name).mkdir(parents=True)
                for index in range(count):
                    frames = render(name, video_rng(seed, split, class_idx, index), num_frames,
                                    size)
                    write_video(folder / split / name / f'{name}_{index:05d}.mp4', frames)
                    lines.append(f'{name}/{name}_{index:05d}.mp4 {class_idx}')
            (folder / f'{split}_list.txt').write_text('\n'.join(lines) + '\n')
        (folder / 'classes.txt').write_text('\n'.join(CLASSES) + '\n')

    params = dict(num_train=num_train, num_val=num_val, num_frames=num_frames, size=size,
                  seed=seed)
    return write_output(out, GENERATOR, OWNED, params, write)


def main() -> None:
    """Entry point."""
    cli_main(__doc__.split('\n\n')[0], GENERATOR, generate, 'data/motion_video', (100, 30),
             'videos per class', 64, SIZE_RANGE,
             extra=dict(num_frames=(32, 'frames per video ({}-{})'.format(*FRAMES_RANGE))))


if __name__ == '__main__':
    main()
