"""Tiny on-disk datasets in the layouts the contract configs expect."""
import os
import os.path as osp
from typing import Sequence, Tuple

import numpy as np
from PIL import Image


def write_fake_imagenet(root: str, num_per_split: int = 2, size: int = 72,
                        labels: Sequence[int] = (3, 997), token_label_hw: int = 0,
                        seed: int = 0) -> None:
    """Write ``root/data/imagenet/{train,val}/...`` with ``meta/{train,val}.txt``.

    With ``token_label_hw`` > 0 also write official-format ``(2, 5, h, w)`` token-label
    maps under ``root/data/imagenet_token_label/train`` mirroring the train images.
    """
    rng = np.random.default_rng(seed)
    base = osp.join(root, 'data', 'imagenet')
    os.makedirs(osp.join(base, 'meta'), exist_ok=True)
    for split in ('train', 'val'):
        lines = []
        for i in range(num_per_split):
            label = labels[i % len(labels)]
            rel = f'n{label:08d}/img_{i}.JPEG'
            path = osp.join(base, split, rel)
            os.makedirs(osp.dirname(path), exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (size, size + 8, 3), dtype=np.uint8)).save(
                path, format='JPEG')
            lines.append(f'{rel} {label}')
            if split == 'train' and token_label_hw:
                lab = osp.join(root, 'data', 'imagenet_token_label', 'train', rel[:-5] + '.npy')
                os.makedirs(osp.dirname(lab), exist_ok=True)
                scores = rng.dirichlet(np.ones(5), size=(token_label_hw, token_label_hw))
                index = rng.choice(1000, size=(token_label_hw, token_label_hw, 5))
                index[..., 0] = label
                np.save(lab, np.stack([scores.transpose(2, 0, 1),
                                       index.transpose(2, 0, 1).astype(np.float64)]))
        with open(osp.join(base, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')


# Video datasets: (videos or frames folder, train list, val list, number of classes), relative
# to the working directory, as the configs in configs/video expect them.
VIDEO_LAYOUTS = {
    'kinetics400': ('data/kinetics400/videos_{split}',
                    'data/kinetics400/kinetics400_{split}_list_videos.txt', 400),
    'kinetics600': ('data/kinetics600/videos_{split}',
                    'data/kinetics600/kinetics600_{split}_list_videos.txt', 600),
    'sthv2': ('data/sthv2/videos', 'data/sthv2/sthv2_{split}_list_videos.txt', 174),
    'sthv1': ('data/sthv1/rawframes', 'data/sthv1/sthv1_{split}_list_rawframes.txt', 174),
    'ucf101': ('data/ucf101/videos', 'data/ucf101/ucf101_{split}_split_1_videos.txt', 101),
    'hmdb51': ('data/hmdb51/videos', 'data/hmdb51/hmdb51_{split}_split_1_videos.txt', 51),
}


def _fake_clip(rng: np.random.Generator, num_frames: int, size: Tuple[int, int]) -> np.ndarray:
    """``(T, H, W, 3)`` uint8 RGB frames: a noisy gradient with a bright square moving on it."""
    h, w = size
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    base = (rng.uniform(40, 200, 3) + (xs / w - 0.5)[..., None] * rng.uniform(-60, 60, 3)
            + (ys / h - 0.5)[..., None] * rng.uniform(-60, 60, 3))
    side = max(4, min(h, w) // 4)
    y0, x0 = rng.integers(0, h - side), rng.integers(0, w - side)
    vy, vx = rng.integers(-3, 4, size=2)
    colour = rng.uniform(0, 255, 3)
    frames = np.empty((num_frames, h, w, 3), np.uint8)
    for t in range(num_frames):
        img = base + rng.normal(0, 8, base.shape)
        y, x = (y0 + vy * t) % (h - side), (x0 + vx * t) % (w - side)
        img[y:y + side, x:x + side] = colour
        frames[t] = np.clip(img, 0, 255).astype(np.uint8)
    return frames


def write_video(path: str, frames: np.ndarray, fps: int = 30) -> None:
    """Write ``(T, H, W, 3)`` uint8 RGB frames as an MPEG-4 part 2 ('mp4v') video.

    OpenCV's bundled FFmpeg writes 'mp4v' (H.264 encoders are often missing); decord and
    mmaction2's other decoders read it back.
    """
    import cv2
    os.makedirs(osp.dirname(path), exist_ok=True)
    h, w = frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps, (w, h))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write {path} with the mp4v codec')
    try:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[..., ::-1]))  # OpenCV wants BGR
    finally:
        writer.release()


def write_fake_videos(root: str, datasets: Sequence[str] = tuple(VIDEO_LAYOUTS),
                      num_train: int = 2, num_val: int = 1, num_frames: int = 40,
                      size: Tuple[int, int] = (128, 170), seed: int = 0) -> None:
    """Write tiny video datasets under ``root`` in mmaction2's layouts (see VIDEO_LAYOUTS).

    Videos are ``num_frames`` x ``size`` (H, W) mp4 files listed as ``relative/path label``;
    Something-Something V1 is written as JPEG frames ``<id>/00001.jpg ...`` listed as
    ``<id> <total_frames> <label>`` (mmaction2's RawframeDataset). Labels are the first and
    last class of each dataset, so a head of the wrong size fails.
    """
    import cv2
    rng = np.random.default_rng(seed)
    for name in datasets:
        folder, ann, num_classes = VIDEO_LAYOUTS[name]
        labels = (0, num_classes - 1)
        for split, count in (('train', num_train), ('val', num_val)):
            base = osp.join(root, folder.format(split=split))
            lines = []
            for i in range(count):
                label = labels[i % len(labels)]
                frames = _fake_clip(rng, num_frames, size)
                if name == 'sthv1':
                    rel = f'{split}_{i}'
                    os.makedirs(osp.join(base, rel), exist_ok=True)
                    for t, frame in enumerate(frames):
                        cv2.imwrite(osp.join(base, rel, f'{t + 1:05d}.jpg'), frame[..., ::-1])
                    lines.append(f'{rel} {num_frames} {label}')
                else:
                    rel = f'class_{label}/{split}_{i}.mp4'
                    write_video(osp.join(base, rel), frames)
                    lines.append(f'{rel} {label}')
            path = osp.join(root, ann.format(split=split))
            os.makedirs(osp.dirname(path), exist_ok=True)
            with open(path, 'w') as f:
                f.write('\n'.join(lines) + '\n')


def set_labels(ann_file: str, labels: Sequence[int]) -> None:
    """Rewrite the label (the last field) of each line of a ``path [frames] label`` list."""
    with open(ann_file) as f:
        lines = [line.split() for line in f if line.strip()]
    if len(lines) != len(labels):
        raise ValueError(f'{ann_file} lists {len(lines)} samples, got {len(labels)} labels')
    with open(ann_file, 'w') as f:
        f.write(''.join(' '.join(fields[:-1] + [str(int(label))]) + '\n'
                        for fields, label in zip(lines, labels)))


def half_right_labels(scores) -> Tuple[list, float]:
    """Labels that make a classifier with these ``(N, K)`` scores exactly half right.

    Even samples get their top-scored class, odd ones their lowest-scored class (outside
    any top-5 when ``K > 5``). Returns the labels and the expected top-1 (= top-5) accuracy
    in percent, ``100 * ceil(N / 2) / N``.
    """
    labels = [int(s.argmax()) if i % 2 == 0 else int(s.argmin()) for i, s in enumerate(scores)]
    n = len(labels)
    return labels, 100.0 * ((n + 1) // 2) / n
