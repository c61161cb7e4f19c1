"""Generate ``stick_coco``: a small COCO-keypoints dataset of articulated stick figures.

Every image holds one to :data:`MAX_PERSONS` frontal stick figures on a textured background
(a colour gradient, stripes or a checkerboard at random contrast, and pixel noise). A figure
is a filled torso, a head with eyes, nose and ears, and limbs drawn as thick segments with a
disc at every joint; its pose is random (torso lean, shoulder and elbow, hip and knee
angles, a rotation of the whole figure), as are its height (:data:`HEIGHT_RANGE` of the
image height), position (figures may leave the image) and colour. Figures face the viewer,
so a person's left side is on the image's right, as for COCO people seen from the front.

The 17 keypoints are COCO's, in COCO's order (:data:`KEYPOINTS`), with COCO visibility flags:
2 visible; 1 labelled but hidden (under a random occluding patch drawn over about a third
of the figures); 0 not labelled (outside the image; stored as ``0, 0, 0``).

Layout (what mmpose's ``CocoDataset`` reads, ``data_mode='topdown'``)::

    OUT/annotations/person_keypoints_train.json
    OUT/annotations/person_keypoints_val.json
    OUT/train/00000.png ...
    OUT/val/00000.png ...
    OUT/manifest.json             the parameters of the run (output_folder.py)

Annotations: ``keypoints`` ``[x1, y1, v1, ...]`` (51 numbers), ``num_keypoints`` (labelled
ones), ``bbox`` ``[x, y, w, h]``: the figure's extent inside the image (it contains every
labelled keypoint), ``area``: the figure's pixel count inside the image (the scale of COCO's
OKS), ``iscrowd`` 0, ``category_id`` 1 (``person``, with COCO's skeleton). Every image
depends only on (seed, split, index), so the output is deterministic for a seed.

    python projects/quickstart/tools/data/make_coco_keypoints.py --out data/stick_coco
"""
import math
import sys
from pathlib import Path
from typing import Dict, List, Sequence, Tuple

import numpy as np
from PIL import Image, ImageDraw

# the backgrounds and the COCO writer (per-image random generators, both splits) of the
# instance-segmentation generator
sys.path.insert(0, str(Path(__file__).resolve().parent))
from make_coco_instances import background, write_coco  # noqa: E402
from output_folder import main as cli_main  # noqa: E402

GENERATOR = 'make_coco_keypoints'
SIZE_RANGE = (64, 1024)

KEYPOINTS: Tuple[str, ...] = (
    'nose', 'left_eye', 'right_eye', 'left_ear', 'right_ear', 'left_shoulder',
    'right_shoulder', 'left_elbow', 'right_elbow', 'left_wrist', 'right_wrist', 'left_hip',
    'right_hip', 'left_knee', 'right_knee', 'left_ankle', 'right_ankle')
#: COCO's person skeleton (1-based keypoint indices), as in person_keypoints_*.json
SKELETON: Tuple[Tuple[int, int], ...] = (
    (16, 14), (14, 12), (17, 15), (15, 13), (12, 13), (6, 12), (7, 13), (6, 7), (6, 8),
    (7, 9), (8, 10), (9, 11), (2, 3), (1, 2), (1, 3), (2, 4), (3, 5), (4, 6), (5, 7))
MAX_PERSONS = 3
HEIGHT_RANGE = (0.35, 0.8)  # figure height (head to ankles, standing) / image height
OCCLUDE_PROB = 0.35
MIN_LABELLED = 6  # a figure keeps at least this many labelled keypoints (else redrawn)
MIN_CONTRAST = 90.  # minimum RGB distance between a figure and the mean background colour
SUPERSAMPLE = 4  # figures are drawn at 4x and downsampled, for anti-aliased edges
# limbs drawn as segments: (from, to) keypoint indices (0-based)
LIMBS: Tuple[Tuple[int, int], ...] = (
    (5, 7), (7, 9), (6, 8), (8, 10), (11, 13), (13, 15), (12, 14), (14, 16))

Point = Tuple[float, float]


def _polar(origin: Point, length: float, angle: float) -> Point:
    """The point ``length`` away from ``origin`` in direction ``angle`` (0 = straight down,
    positive towards the image's right)."""
    return origin[0] + length * math.sin(angle), origin[1] + length * math.cos(angle)


def figure_pose(height: float, rng: np.random.Generator) -> np.ndarray:
    """``(17, 2)`` keypoints of a random frontal pose of standing height ``height``, hip
    centre at the origin, before the figure's rotation."""
    u = height
    lean = rng.uniform(-0.25, 0.25)
    kp = np.zeros((17, 2))
    hip_w, shoulder_w, torso = 0.09 * u, 0.13 * u, rng.uniform(0.27, 0.32) * u
    up = (math.sin(lean + math.pi), math.cos(lean + math.pi))  # unit vector along the torso
    side = (math.cos(lean), -math.sin(lean))  # towards the image's right (person's left)
    neck = (up[0] * torso, up[1] * torso)
    for sign, (hip, shoulder) in ((1, (11, 5)), (-1, (12, 6))):
        kp[hip] = (sign * hip_w * side[0], sign * hip_w * side[1])
        kp[shoulder] = (neck[0] + sign * shoulder_w * side[0],
                        neck[1] + sign * shoulder_w * side[1])
    head = rng.uniform(0.055, 0.07) * u
    centre = (neck[0] + up[0] * 1.9 * head, neck[1] + up[1] * 1.9 * head)
    turn = rng.uniform(-0.3, 0.3) * head  # the face turned a little left or right
    kp[0] = (centre[0] + turn * side[0] - 0.15 * head * up[0],
             centre[1] + turn * side[1] - 0.15 * head * up[1])
    for sign, (eye, ear) in ((1, (1, 3)), (-1, (2, 4))):
        kp[eye] = (centre[0] + (turn + sign * 0.4 * head) * side[0] + 0.3 * head * up[0],
                   centre[1] + (turn + sign * 0.4 * head) * side[1] + 0.3 * head * up[1])
        kp[ear] = (centre[0] + sign * head * side[0] + 0.15 * head * up[0],
                   centre[1] + sign * head * side[1] + 0.15 * head * up[1])
    upper, fore = rng.uniform(0.14, 0.17) * u, rng.uniform(0.13, 0.16) * u
    thigh, shin = rng.uniform(0.2, 0.24) * u, rng.uniform(0.2, 0.24) * u
    for sign, (shoulder, elbow, wrist) in ((1, (5, 7, 9)), (-1, (6, 8, 10))):
        arm = lean + sign * rng.uniform(0.1, 2.8)  # from hanging down to raised above the head
        kp[elbow] = _polar(tuple(kp[shoulder]), upper, arm)
        kp[wrist] = _polar(tuple(kp[elbow]), fore, arm + sign * rng.uniform(-0.3, 2.2))
    for sign, (hip, knee, ankle) in ((1, (11, 13, 15)), (-1, (12, 14, 16))):
        leg = sign * rng.uniform(-0.15, 0.8)
        kp[knee] = _polar(tuple(kp[hip]), thigh, leg)
        kp[ankle] = _polar(tuple(kp[knee]), shin, leg - sign * rng.uniform(0, 1.6))
    return kp


def _draw_figure(draw: ImageDraw.ImageDraw, kp: np.ndarray, height: float, fill: int,
                 joint: int, face: int, scale: int) -> None:
    """Draw a figure (keypoints ``kp`` in pixels) in grey levels ``fill`` (body), ``joint``
    (joint discs) and ``face`` (eyes, nose) on ``draw`` at ``scale`` x resolution."""
    s = lambda p: (float(p[0]) * scale, float(p[1]) * scale)  # noqa: E731
    width = max(1, int(round(0.045 * height * scale)))
    torso = [s(kp[i]) for i in (5, 6, 12, 11)]
    draw.polygon(torso, fill=fill)
    neck = s((kp[5] + kp[6]) / 2)
    head_c = (kp[3] + kp[4]) / 2
    head_r = float(np.linalg.norm(kp[3] - kp[4])) / 2 * scale
    draw.line([neck, s(head_c)], fill=fill, width=width)
    hx, hy = s(head_c)
    draw.ellipse([hx - head_r, hy - head_r, hx + head_r, hy + head_r], fill=fill)
    for a, b in LIMBS:
        draw.line([s(kp[a]), s(kp[b])], fill=fill, width=width)
    r = 0.03 * height * scale
    for i in range(5, 17):
        x, y = s(kp[i])
        draw.ellipse([x - r, y - r, x + r, y + r], fill=joint)
    r = 0.012 * height * scale + 0.5 * scale
    for i in (0, 1, 2):
        x, y = s(kp[i])
        draw.ellipse([x - r, y - r, x + r, y + r], fill=face)
    r = 0.018 * height * scale + 0.5 * scale
    for i in (3, 4):
        x, y = s(kp[i])
        draw.ellipse([x - r, y - r, x + r, y + r], fill=joint)


def _layer(size: Tuple[int, int], kp: np.ndarray, height: float) -> np.ndarray:
    """``(H, W, 3)`` coverage in [0, 1] of a figure's body, joints and face marks."""
    h, w = size
    layers = []
    for fill, joint, face in ((255, 255, 255), (0, 255, 0), (0, 0, 255)):
        canvas = Image.new('L', (w * SUPERSAMPLE, h * SUPERSAMPLE), 0)
        _draw_figure(ImageDraw.Draw(canvas), kp, height, fill, joint, face, SUPERSAMPLE)
        layers.append(np.asarray(canvas.resize((w, h), Image.BOX), np.float32) / 255.)
    body, joints, face = layers
    joints, face = joints * body, face * body
    return np.stack([body, joints, face], -1)


def render(size: Tuple[int, int], rng: np.random.Generator
           ) -> Tuple[np.ndarray, List[Tuple[np.ndarray, np.ndarray, List[float], float]]]:
    """One image ``(H, W, 3)`` uint8 RGB and its people ``[(keypoints (17, 2), visibility
    (17,), bbox [x, y, w, h], area)]``."""
    h, w = size
    img = background(size, rng)
    mean_bg = img.reshape(-1, 3).mean(0)
    wanted = int(rng.integers(1, MAX_PERSONS + 1))
    slots = rng.permutation(wanted)  # horizontal slots, so that figures rarely overlap
    people = []
    for slot in slots:
        for _ in range(20):
            height = float(rng.uniform(*HEIGHT_RANGE) * h)
            kp = figure_pose(height, rng)
            angle = rng.uniform(-0.5, 0.5)
            cos, sin = math.cos(angle), math.sin(angle)
            rot = np.array([[cos, -sin], [sin, cos]])
            kp = kp @ rot.T
            cx = (slot + rng.uniform(0.3, 0.7)) * w / wanted
            cy = rng.uniform(0.35, 0.75) * h
            kp = kp + (cx, cy)
            inside = (kp[:, 0] >= 0) & (kp[:, 0] <= w - 1) & (kp[:, 1] >= 0) & (kp[:, 1] <= h - 1)
            if inside.sum() >= MIN_LABELLED:
                break
        layer = _layer(size, kp, height)
        while True:
            colour = rng.uniform(0, 255, size=3).astype(np.float32)
            if np.linalg.norm(colour - mean_bg) >= MIN_CONTRAST:
                break
        joint_colour = np.clip(colour + rng.choice([-1, 1]) * rng.uniform(50, 90), 0, 255)
        face_colour = np.clip(255 - colour, 0, 255)
        body = layer[..., :1]
        img = img * (1 - body) + colour * body
        img = img * (1 - layer[..., 1:2]) + joint_colour * layer[..., 1:2]
        img = img * (1 - layer[..., 2:3]) + face_colour * layer[..., 2:3]
        mask = body[..., 0] > 0.5
        visibility = np.where(inside, 2, 0)
        if rng.uniform() < OCCLUDE_PROB:
            ys, xs = np.nonzero(mask)
            ow, oh = (rng.uniform(0.3, 0.6) * (xs.max() - xs.min() + 1),
                      rng.uniform(0.2, 0.4) * (ys.max() - ys.min() + 1))
            ox = rng.uniform(xs.min() - ow / 2, xs.max() - ow / 2)
            oy = rng.uniform(ys.min() - oh / 2, ys.max() - oh / 2)
            x0, y0 = int(max(0, ox)), int(max(0, oy))
            x1, y1 = int(min(w, ox + ow)), int(min(h, oy + oh))
            if x1 > x0 and y1 > y0:
                patch = background((y1 - y0, x1 - x0), rng)
                img[y0:y1, x0:x1] = patch
                hidden = ((kp[:, 0] >= x0) & (kp[:, 0] < x1) & (kp[:, 1] >= y0) &
                          (kp[:, 1] < y1) & inside)
                visibility = np.where(hidden, 1, visibility)
        ys, xs = np.nonzero(mask)
        x0, x1 = float(xs.min()), float(xs.max() + 1)
        y0, y1 = float(ys.min()), float(ys.max() + 1)
        labelled = visibility > 0
        x0, y0 = min(x0, kp[labelled, 0].min()), min(y0, kp[labelled, 1].min())
        x1, y1 = max(x1, kp[labelled, 0].max()), max(y1, kp[labelled, 1].max())
        people.append((kp, visibility, [x0, y0, x1 - x0, y1 - y0], float(mask.sum())))
    img = img + rng.normal(0, rng.uniform(3, 10), size=img.shape)
    return np.clip(np.rint(img), 0, 255).astype(np.uint8), people


def annotation(kp: np.ndarray, visibility: np.ndarray, bbox: Sequence[float], area: float,
               ann_id: int, image_id: int) -> Dict:
    """The COCO keypoints annotation of one person (unlabelled keypoints as ``0, 0, 0``)."""
    flat: List[float] = []
    for (x, y), v in zip(kp, visibility):
        flat += [round(float(x), 2), round(float(y), 2), int(v)] if v else [0, 0, 0]
    return dict(id=ann_id, image_id=image_id, category_id=1, iscrowd=0, keypoints=flat,
                num_keypoints=int((visibility > 0).sum()), area=round(area, 2),
                bbox=[round(float(v), 2) for v in bbox])


def generate(out: Path, num_train: int, num_val: int, size: Sequence[int] = (160, 160),
             seed: int = 0) -> Path:
    """Write the dataset (images of ``size`` = ``(H, W)``) under ``out``; return ``out``."""
    categories = [dict(id=1, name='person', supercategory='person', keypoints=list(KEYPOINTS),
                       skeleton=[list(pair) for pair in SKELETON])]
    params = dict(num_train=num_train, num_val=num_val, size=list(size), seed=seed)
    return write_coco(out, GENERATOR, params, SIZE_RANGE, render, annotation, categories,
                      'person_keypoints')


def main() -> None:
    """Entry point."""
    cli_main(__doc__.split('\n\n')[0], GENERATOR, generate, 'data/stick_coco', (400, 60),
             'images', (160, 160), SIZE_RANGE)


if __name__ == '__main__':
    main()
