"""Pictures of demo/demo.py and of mmuniformer.apis' inferencers on real photographs.

scikit-image's sample photos (``astronaut``: an orange space suit, ``coffee``, ``chelsea``) have
colours where a red/blue swap shows (the generated quick-start data's random colours hid it):
every test compares the picture's untouched pixels with the photo itself (exactly equal), and
checks that the channel-reversed photo does not match. Models: the quick-start configs with
untrained weights (tools/misc/untrained_checkpoint.py); what is checked is the drawing.
Set ``MMUNIFORMER_KEEP_PICTURES=DIR`` to keep the pictures for looking at them.
"""
import os
import os.path as osp
import shutil

import cv2
import numpy as np
import pytest

from tests.conftest import REPO, load_module
from tests.harness import QS_CONFIGS, write_photos

pytest.importorskip('skimage.data')

DEMO = load_module(osp.join(REPO, 'demo/demo.py'))
UNTRAINED = load_module(osp.join(REPO, 'tools/misc/untrained_checkpoint.py'))
CONFIGS = QS_CONFIGS
# the det quick start starts its backbone from the cls quick start's checkpoint: not needed here
DET_OPTIONS = ['--cfg-options', 'model.backbone.init_cfg=None']


def _keep(path) -> None:
    """Copy a picture to $MMUNIFORMER_KEEP_PICTURES (for looking at it), if set."""
    folder = os.environ.get('MMUNIFORMER_KEEP_PICTURES')
    if folder:
        os.makedirs(folder, exist_ok=True)
        shutil.copy(str(path), folder)


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """Untrained checkpoints of the five quick starts and the photos as BGR PNG files."""
    from mmengine.registry import DefaultScope
    root = tmp_path_factory.mktemp('photos')
    scopes = dict(DefaultScope._instance_dict)
    ckpts = {}
    for task, config in CONFIGS.items():
        ckpts[task] = str(root / f'{task}.pth')
        UNTRAINED.main([config, ckpts[task], *(DET_OPTIONS if task == 'det' else [])])
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(scopes)
    return root, ckpts, write_photos(root)


def _outside(shape, boxes, margin: int, label_size=(0, 0)) -> np.ndarray:
    """Boolean ``(H, W)`` map of the pixels outside every box grown by ``margin`` and outside
    a ``label_size`` (w, h) area at each box's top-left corner (where the label is drawn)."""
    keep = np.ones(shape[:2], bool)
    for x1, y1, x2, y2 in np.asarray(boxes, float):
        x1, y1 = int(np.floor(x1)) - margin, int(np.floor(y1)) - margin
        x2, y2 = int(np.ceil(x2)) + margin, int(np.ceil(y2)) + margin
        keep[max(y1, 0):max(y2 + 1, 0), max(x1, 0):max(x2 + 1, 0)] = False
        keep[max(y1, 0):max(y1 + label_size[1], 0),
             max(x1, 0):max(x1 + label_size[0], 0)] = False
    return keep


def _assert_untouched(picture: np.ndarray, photo: np.ndarray, keep: np.ndarray) -> None:
    """Pixels in ``keep`` are the photo's exactly; the red/blue-swapped photo differs there."""
    assert keep.mean() > 0.3, f'only {keep.mean():.0%} of the picture left to compare'
    diff = np.abs(picture.astype(int) - photo.astype(int))[keep]
    swapped = np.abs(picture.astype(int) - photo[..., ::-1].astype(int))[keep]
    assert diff.max() == 0, f'untouched pixels changed: mean |diff| {diff.mean():.2f}'
    assert swapped.mean() > 10, swapped.mean()


def test_cls_picture_keeps_the_photo_and_fits_long_labels(files, tmp_path):
    root, ckpts, photos = files
    out = tmp_path / 'cls_astronaut.png'
    classes = tmp_path / 'classes.txt'
    names = [' and '.join([f'a very long class name number {i} that would run off'] * 2)
             for i in range(8)]
    classes.write_text('\n'.join(names))
    summary = DEMO.run([CONFIGS['cls'], ckpts['cls'], photos['astronaut'], '--out', str(out),
                        '--classes', str(classes), '--topk', '3'])
    _keep(out)
    picture, photo = cv2.imread(str(out)), cv2.imread(photos['astronaut'])
    assert picture.shape[1:] == photo.shape[1:] and picture.shape[0] > photo.shape[0]
    _assert_untouched(picture[-512:], photo, np.ones((512, 512), bool))
    band = picture[:-512]
    assert band.max() > 200  # the labels are drawn (white)...
    assert band[:, -6:].max() == 0  # ...and end before the right edge
    assert summary['labels'] == [names[i] for i in summary['topk']]


def test_det_picture_keeps_the_photo_outside_boxes(files, tmp_path):
    root, ckpts, photos = files
    args = [CONFIGS['det'], ckpts['det'], photos['astronaut'], *DET_OPTIONS]
    everything = DEMO.run(args + ['--out', str(tmp_path / 'all.png'), '--score-thr', '0'])
    third = float(np.sort(everything['scores'])[-3])  # draw the three best detections
    out = tmp_path / 'det_astronaut.png'
    summary = DEMO.run(args + ['--out', str(out), '--score-thr', f'{third:.6f}'])
    _keep(out)
    assert 1 <= summary['num_instances'] <= 4
    assert set(summary['names']) <= {'circle', 'triangle', 'square', 'star'}  # config's names
    picture, photo = cv2.imread(str(out)), cv2.imread(photos['astronaut'])
    assert picture.shape == photo.shape
    keep = _outside(photo.shape, summary['bboxes'], margin=6, label_size=(170, 45))
    _assert_untouched(picture, photo, keep)
    # inside the boxes something was drawn (box edges at least)
    assert (picture != photo).any(axis=2)[~keep].mean() > 0.01


def test_det_inferencer_draws_arrays_and_paths_alike(files):
    from mmuniformer.apis import build_inferencer
    root, ckpts, photos = files
    inferencer = build_inferencer(CONFIGS['det'], ckpts['det'],
                                  cfg_options={'model.backbone.init_cfg': None})
    photo = cv2.imread(photos['coffee'])
    kwargs = dict(return_vis=True, no_save_vis=True, no_save_pred=True, pred_score_thr=0.99)
    from_array = inferencer(photo, **kwargs)['visualization'][0]
    from_path = inferencer(photos['coffee'], **kwargs)['visualization'][0]
    # nothing above 0.99 for an untrained model: both pictures are the photo, as RGB
    np.testing.assert_array_equal(from_path, photo[..., ::-1])
    np.testing.assert_array_equal(from_array, photo[..., ::-1])


def test_seg_picture_is_the_hand_computed_blend(files, tmp_path):
    root, ckpts, photos = files
    out = tmp_path / 'seg_chelsea.png'
    summary = DEMO.run([CONFIGS['seg'], ckpts['seg'], photos['chelsea'], '--out', str(out),
                        '--opacity', '0.5'])
    _keep(out)
    assert summary['classes'] == ['smooth', 'stripes', 'checker', 'disc', 'triangle', 'square']
    photo = cv2.imread(photos['chelsea'])
    pred = summary['pred']
    assert pred.shape == photo.shape[:2]
    palette = np.asarray(summary['palette'], np.uint8)  # RGB, one row per class
    colour = palette[pred]
    expected = (photo[..., ::-1] * 0.5 + colour * 0.5).astype(np.uint8)  # as mmseg blends
    picture = cv2.imread(str(out))[..., ::-1]
    same = (picture == expected).all(axis=2)
    # the class names are written in boxes over their regions: everything else is the blend
    assert same.mean() > 0.9, same.mean()
    wrong = (photo * 0.5 + colour * 0.5).astype(np.uint8)  # the photo's channels reversed
    assert (picture == wrong).all(axis=2).mean() < 0.2


def test_pose_picture_keeps_the_photo_outside_the_box(files, tmp_path):
    root, ckpts, photos = files
    out = tmp_path / 'pose_astronaut.png'
    box = [150, 40, 330, 300]
    summary = DEMO.run([CONFIGS['pose'], ckpts['pose'], photos['astronaut'], '--out', str(out),
                        '--bbox', *map(str, box), '--kpt-thr', '0'])  # untrained: low scores
    _keep(out)
    picture, photo = cv2.imread(str(out)), cv2.imread(photos['astronaut'])
    assert picture.shape == photo.shape and summary['num_instances'] == 1
    # all 17 keypoints drawn (kpt-thr 0): more than the box outline changed
    drawn = (picture != photo).any(axis=2)
    assert drawn.sum() > 2 * 2 * (box[2] - box[0] + box[3] - box[1]) + 17 * 20
    # keypoints lie in the box grown x1.25 and widened to the 96:128 input; radius 3 + lines
    w, h = box[2] - box[0], box[3] - box[1]
    w, h = max(w, h * 0.75) * 1.25, max(h, w / 0.75) * 1.25
    cx, cy = (box[0] + box[2]) / 2, (box[1] + box[3]) / 2
    region = [cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2]
    _assert_untouched(picture, photo, _outside(photo.shape, [region, box], margin=6))


def test_video_gif_and_mp4_keep_the_frames(files, tmp_path):
    from PIL import Image
    root, ckpts, photos = files
    photo = cv2.imread(photos['astronaut'])
    clip = str(tmp_path / 'clip.mp4')
    writer = cv2.VideoWriter(clip, cv2.VideoWriter_fourcc(*'mp4v'), 8, (256, 256))
    for t in range(8):
        writer.write(np.ascontiguousarray(photo[100 + 8 * t:356 + 8 * t, 120:376]))
    writer.release()
    cap = cv2.VideoCapture(clip)
    frames = [cap.read()[1] for _ in range(8)]
    for suffix in ('gif', 'mp4'):
        out = tmp_path / f'video_astronaut.{suffix}'
        summary = DEMO.run([CONFIGS['video'], ckpts['video'], clip, '--out', str(out)])
        _keep(out)
        assert summary['frames'] == 8
        if suffix == 'gif':
            gif = Image.open(out)
            assert gif.n_frames == 8
            drawn = []
            for i in range(8):
                gif.seek(i)
                drawn.append(np.asarray(gif.convert('RGB'))[..., ::-1])
        else:
            cap = cv2.VideoCapture(str(out))
            drawn = [cap.read()[1] for _ in range(8)]
        for picture, frame in zip(drawn, frames):
            below = picture[-256:].astype(int)
            # GIF (256 colours) and MPEG-4 are lossy: close to the frame, far from its swap
            assert np.abs(below - frame).mean() < 6
            assert np.abs(below - frame[..., ::-1]).mean() > 15


def test_demo_writes_one_picture_per_image_of_a_folder(files, tmp_path):
    root, ckpts, photos = files
    folder = tmp_path / 'photos'
    folder.mkdir()
    for name in ('coffee', 'chelsea'):
        shutil.copy(photos[name], folder)
    (folder / 'notes.txt').write_text('not an image')
    result = DEMO.run([CONFIGS['cls'], ckpts['cls'], str(folder), '--out',
                       str(tmp_path / 'pictures')])
    assert sorted(osp.basename(p) for p in result['outputs']) == ['chelsea.png', 'coffee.png']
    for name in ('coffee', 'chelsea'):
        picture = cv2.imread(str(tmp_path / 'pictures' / f'{name}.png'))
        photo = cv2.imread(photos[name])
        np.testing.assert_array_equal(picture[-photo.shape[0]:], photo)
