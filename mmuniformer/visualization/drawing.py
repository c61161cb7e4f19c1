"""Reading pictures and videos with errors that name the file, and drawing text that fits:
shared by ``demo/demo.py`` and the visualisation tools."""
import os.path as osp
from typing import List, Sequence, Tuple

import cv2
import mmcv
import numpy as np

MIN_SIDE = 256  # pictures are drawn at least this large
IMAGE_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp', '.tif', '.tiff', '.webp')


def enlarge(image: np.ndarray, min_side: int = MIN_SIDE) -> np.ndarray:
    """Nearest-neighbour enlargement by an integer factor so the short side >= ``min_side``."""
    factor = int(np.ceil(min_side / min(image.shape[:2])))
    if factor <= 1:
        return image
    return cv2.resize(image, (image.shape[1] * factor, image.shape[0] * factor),
                      interpolation=cv2.INTER_NEAREST)


def read_image(path: str) -> np.ndarray:
    """The BGR image ``path``; ``ValueError`` naming the file when it cannot be decoded."""
    if not osp.isfile(path):
        raise ValueError(f'image {path!r} is not a file')
    if osp.getsize(path) == 0:
        raise ValueError(f'image {path!r} is empty (0 bytes)')
    try:
        image = mmcv.imread(path)
    except Exception:  # OpenCV / the file backend on undecodable bytes
        image = None
    if image is None or image.size == 0:
        raise ValueError(f'image {path!r} ({osp.getsize(path)} bytes) could not be decoded as '
                         'an image (accepted: the formats OpenCV reads, e.g. '
                         f"{', '.join(IMAGE_EXTENSIONS)})")
    return image


def read_video(path: str) -> List[np.ndarray]:
    """All frames (BGR) of the video ``path``; ``ValueError`` naming the file when it has
    none that decode (empty file, 0 frames, not a video)."""
    if osp.getsize(path) == 0:
        raise ValueError(f'video {path!r} is empty (0 bytes)')
    cap = cv2.VideoCapture(path)
    frames = []
    while True:
        ok, frame = cap.read()
        if not ok:
            break
        frames.append(frame)
    cap.release()
    if not frames:
        raise ValueError(f'video {path!r} ({osp.getsize(path)} bytes) has no frame that could '
                         'be decoded (0 frames, or not a video)')
    return frames


def _fit_text(text: str, width: int, scale: float, thickness: int) -> Tuple[str, float]:
    """``(text, scale)`` that fit ``width`` pixels: the scale shrinks down to 60 %, then the
    text is cut with '...'."""
    font = cv2.FONT_HERSHEY_SIMPLEX
    for _ in range(5):
        if cv2.getTextSize(text, font, scale, thickness)[0][0] <= width:
            return text, scale
        scale *= 0.9
    while len(text) > 4 and cv2.getTextSize(text, font, scale, thickness)[0][0] > width:
        text = text[:-4] + '...'
    return text, scale


def put_lines(image: np.ndarray, lines: Sequence[str]) -> np.ndarray:
    """A dark band with ``lines`` (white, shrunk or cut to fit the width) stacked above a BGR
    image (which stays uncovered)."""
    scale = max(image.shape[0] / 512, 0.45)
    thickness = max(1, int(2 * scale))
    height = int(24 * scale) + 4
    band = np.zeros((height * len(lines) + 6, image.shape[1], 3), dtype=image.dtype)
    for i, line in enumerate(lines):
        text, size = _fit_text(line, image.shape[1] - 16, scale, thickness)
        cv2.putText(band, text, (6, height * (i + 1)), cv2.FONT_HERSHEY_SIMPLEX, size,
                    (255, 255, 255), thickness, cv2.LINE_AA)
    return np.concatenate([band, image], axis=0)


def write_video(frames: Sequence[np.ndarray], out: str, fps: float) -> None:
    """BGR ``frames`` as an animated GIF or an MPEG-4 (``mp4v``) file, by ``out``'s suffix."""
    if out.lower().endswith('.gif'):
        from PIL import Image
        images = [Image.fromarray(cv2.cvtColor(f, cv2.COLOR_BGR2RGB)) for f in frames]
        images[0].save(out, save_all=True, append_images=images[1:],
                       duration=int(round(1000 / fps)), loop=0)
        return
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*'mp4v'), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(f'OpenCV cannot write the MPEG-4 file {out!r}')
    for frame in frames:
        writer.write(frame)
    writer.release()


