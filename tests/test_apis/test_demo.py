"""demo/demo.py and mmuniformer.apis on the quick-start configs of every task, with untrained
checkpoints written by tools/misc/untrained_checkpoint.py.

Each task's demo runs its library's inferencer (ImageClassificationInferencer,
ActionRecogInferencer, DetInferencer, MMSegInferencer, MMPoseInferencer); its predictions are
checked against the same library's functional API (mmpretrain ``get_model`` + the model's
``test_step``: mmpretrain's ``inference_model`` needs a model-zoo name; mmaction2
``init_recognizer`` + ``inference_recognizer``, mmdet ``init_detector`` + ``inference_detector``, mmseg ``init_model`` + ``inference_model``, mmpose
``init_model`` + ``inference_topdown``), and the pictures' sizes, frame counts and drawn
counts are asserted.
"""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch
from PIL import Image

from tests.conftest import REPO, load_module
from tests.harness import QS_CONFIGS

DEMO = load_module(osp.join(REPO, 'demo/demo.py'))
UNTRAINED = load_module(osp.join(REPO, 'tools/misc/untrained_checkpoint.py'))
CONFIGS = QS_CONFIGS
# the det quick start starts its backbone from the cls quick start's checkpoint: not needed here
OPTIONS = {'det': ['--cfg-options', 'model.backbone.init_cfg=None']}


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    """Untrained checkpoints, a 64x96 test image of shapes and a 12-frame 64x64 video."""
    from mmengine.registry import DefaultScope
    root = tmp_path_factory.mktemp('demo')
    scopes = dict(DefaultScope._instance_dict)  # each build below sets its library's scope
    ckpts = {}
    for task, config in CONFIGS.items():
        if not osp.isfile(config):
            continue
        ckpts[task] = str(root / f'{task}.pth')
        UNTRAINED.main([config, ckpts[task], *OPTIONS.get(task, [])])
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(scopes)
    rng = np.random.default_rng(0)
    image = (rng.random((64, 96, 3)) * 60 + 100).astype(np.uint8)
    cv2.circle(image, (30, 30), 14, (40, 200, 60), -1)
    cv2.rectangle(image, (55, 20), (85, 50), (200, 40, 40), -1)
    cv2.imwrite(str(root / 'image.png'), image)
    writer = cv2.VideoWriter(str(root / 'clip.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 8, (64, 64))
    for t in range(12):
        frame = np.full((64, 64, 3), 90, np.uint8)
        cv2.circle(frame, (10 + 3 * t, 32), 8, (255, 255, 255), -1)
        writer.write(frame)
    writer.release()
    return root, ckpts


def _need(files, task):
    if task not in files[1]:
        pytest.skip(f'no {task} quick-start config')
    return files[0], files[1][task]


def test_cls_demo_draws_top5_of_the_classifier(files):
    from mmpretrain.apis import get_model
    root, ckpt = _need(files, 'cls')
    out = root / 'cls.png'
    summary = DEMO.run([CONFIGS['cls'], ckpt, str(root / 'image.png'), '--out', str(out)])
    picture = cv2.imread(str(out))
    # the labels in a band above the 64x96 image enlarged x4 (nearest neighbour)
    big = np.repeat(np.repeat(cv2.imread(str(root / 'image.png')), 4, axis=0), 4, axis=1)
    assert picture.shape[1:] == (384, 3) and picture.shape[0] > 256
    np.testing.assert_array_equal(picture[-256:], big)
    assert len(summary['topk']) == 5 and len(set(summary['topk'])) == 5
    # the checkpoint's names (the config dataset's, where the quick start made its data), else
    # class i
    meta = torch.load(ckpt, weights_only=True).get('meta', {}).get('dataset_meta') or {}
    names = meta.get('classes') or [f'class {i}' for i in range(8)]
    assert summary['labels'] == [names[i] for i in summary['topk']]
    # reference: mmpretrain's get_model, and the model's own test_step on the image as its
    # test pipeline gives it (LoadImageFromFile + PackInputs: the BGR pixels, CHW)
    model = get_model(CONFIGS['cls'], pretrained=ckpt, device='cpu')
    pixels = torch.from_numpy(cv2.imread(str(root / 'image.png'))).permute(2, 0, 1)
    with torch.no_grad():
        ref = model.test_step(dict(inputs=[pixels], data_samples=None))[0].pred_score.numpy()
    top = np.argsort(-ref, kind='stable')[:5]
    assert summary['topk'] == top.tolist()
    np.testing.assert_allclose(summary['scores'], ref[top], rtol=1e-5, atol=1e-6)


def test_video_demo_writes_a_labelled_gif(files, tmp_path):
    from mmaction.apis import inference_recognizer, init_recognizer
    root, ckpt = _need(files, 'video')
    classes = tmp_path / 'classes.txt'
    names = ['grow', 'move_down', 'move_left', 'move_right', 'move_up', 'rotate_ccw',
             'rotate_cw', 'shrink']
    classes.write_text('\n'.join(names) + '\n')
    out = tmp_path / 'clip.gif'
    summary = DEMO.run([CONFIGS['video'], ckpt, str(root / 'clip.mp4'), '--out', str(out),
                        '--classes', str(classes)])
    gif = Image.open(out)
    assert gif.n_frames == 12 and gif.size[0] == 256 and gif.size[1] > 256  # 64 x4 + label
    model = init_recognizer(CONFIGS['video'], ckpt, device='cpu')
    ref = inference_recognizer(model, str(root / 'clip.mp4')).pred_score.numpy()
    assert summary['topk'][0] == int(ref.argmax())
    assert summary['labels'][0] == names[int(ref.argmax())]
    np.testing.assert_allclose(summary['scores'][0], ref.max(), rtol=1e-5)
    with pytest.raises(SystemExit, match='must end with .gif or .mp4'):
        DEMO.run([CONFIGS['video'], ckpt, str(root / 'clip.mp4'), '--out', str(tmp_path / 'a.png')])


def test_det_demo_draws_boxes_and_masks(files, tmp_path):
    from mmdet.apis import inference_detector, init_detector
    root, ckpt = _need(files, 'det')
    out = tmp_path / 'det.png'
    summary = DEMO.run([CONFIGS['det'], ckpt, str(root / 'image.png'), '--out', str(out),
                        '--score-thr', '0', *OPTIONS['det']])
    h, w = 256, 384
    assert cv2.imread(str(out)).shape == (h, w, 3)
    # untrained: the RoI head keeps its test_cfg maximum of 20 detections at threshold 0
    assert summary['num_instances'] == 20
    assert summary['masks_shape'] == (20, h, w)
    model = init_detector(CONFIGS['det'], ckpt, device='cpu',
                          cfg_options={'model.backbone.init_cfg': None})
    ref = inference_detector(model, DEMO.enlarge(cv2.imread(str(root / 'image.png'))))
    np.testing.assert_allclose(summary['bboxes'], ref.pred_instances.bboxes.numpy(), atol=1e-3)


def test_seg_demo_overlays_the_class_map(files, tmp_path):
    from mmseg.apis import inference_model, init_model
    root, ckpt = _need(files, 'seg')
    out = tmp_path / 'seg.png'
    summary = DEMO.run([CONFIGS['seg'], ckpt, str(root / 'image.png'), '--out', str(out)])
    assert cv2.imread(str(out)).shape == (256, 384, 3)
    assert summary['pred_shape'] == (256, 384)
    model = init_model(CONFIGS['seg'], ckpt, device='cpu')
    ref = inference_model(model, DEMO.enlarge(cv2.imread(str(root / 'image.png'))))
    np.testing.assert_array_equal(summary['pred'], ref.pred_sem_seg.data[0].numpy())


def test_seg_demo_takes_a_checkpoint_saved_by_training(files, tmp_path):
    """mmengine's runner saves the dataset's whole metainfo (``label_map``,
    ``reduce_zero_label`` too); the demo draws with its classes and palette, the prediction
    unchanged."""
    root, ckpt = _need(files, 'seg')
    loaded = torch.load(ckpt, weights_only=True)
    names = ('smooth', 'stripes', 'checker', 'disc', 'triangle', 'square')
    palette = [[10 * i, 200 - 10 * i, 40] for i in range(6)]
    loaded['meta'] = dict(dataset_meta=dict(classes=names, label_map=None,
                                            reduce_zero_label=True, palette=palette))
    trained = str(tmp_path / 'trained.pth')
    torch.save(loaded, trained)
    args = [str(root / 'image.png'), '--out', str(tmp_path / 'seg.png'), '--opacity', '1']
    summary = DEMO.run([CONFIGS['seg'], trained, *args])
    ref = DEMO.run([CONFIGS['seg'], ckpt, *args[:1], '--out', str(tmp_path / 'ref.png')])
    np.testing.assert_array_equal(summary['pred'], ref['pred'])
    assert summary['classes'] == list(names) and summary['palette'] == palette
    # opacity 1: the palette's colours (BGR), but for the class names drawn on the map
    pixels = cv2.imread(str(tmp_path / 'seg.png')).reshape(-1, 3)
    colours = np.array([p[::-1] for p in palette])
    assert (pixels[:, None] == colours[None]).all(-1).any(1).mean() > 0.9


def test_pose_demo_draws_a_skeleton_per_box(files, tmp_path):
    from mmpose.apis import inference_topdown, init_model
    root, ckpt = _need(files, 'pose')
    out = tmp_path / 'pose.png'
    summary = DEMO.run([CONFIGS['pose'], ckpt, str(root / 'image.png'), '--out', str(out),
                        '--bbox', '2', '2', '40', '60', '--bbox', '45', '5', '94', '62'])
    assert cv2.imread(str(out)).shape == (256, 384, 3)
    assert summary['num_instances'] == 2
    assert [k.shape for k in summary['keypoints']] == [(17, 2), (17, 2)]
    model = init_model(DEMO.load_config(CONFIGS['pose']), ckpt, device='cpu')
    big = DEMO.enlarge(cv2.imread(str(root / 'image.png')))
    ref = inference_topdown(model, big, np.array(summary['boxes'], dtype=np.float32))
    for ours, sample in zip(summary['keypoints'], ref):
        np.testing.assert_allclose(ours, sample.pred_instances.keypoints[0], atol=1e-3)
    # each person's keypoints lie in the region its box maps to: mmpose's GetBBoxCenterScale
    # pads the box x1.25, TopdownAffine widens it to the 96:128 (w:h) input aspect ratio
    for kpts, (x1, y1, x2, y2) in zip(summary['keypoints'], summary['boxes']):
        w, h = x2 - x1, y2 - y1
        w, h = max(w, h * 0.75) * 1.25, max(h, w / 0.75) * 1.25
        cx, cy = (x1 + x2) / 2, (y1 + y2) / 2
        assert (np.abs(kpts[:, 0] - cx) <= w / 2 + 1).all()
        assert (np.abs(kpts[:, 1] - cy) <= h / 2 + 1).all()


def test_demo_refuses_bad_input(files, tmp_path):
    root, ckpt = _need(files, 'cls')
    with pytest.raises(SystemExit, match='is not a file'):
        DEMO.run([CONFIGS['cls'], ckpt, str(tmp_path / 'missing.png'), '--out', 'x.png'])
    with pytest.raises(SystemExit, match='--topk must be >= 1'):
        DEMO.run([CONFIGS['cls'], ckpt, str(root / 'image.png'), '--out', 'x.png', '--topk', '0'])


def test_mmpretrain_model_hub_takes_our_names(tmp_path):
    """register_mmpretrain_models: mmpretrain's list_models / get_model / inference_model take
    the names of configs/cls/metafile.yml."""
    import yaml
    from mmpretrain.apis import get_model, inference_model, list_models

    from mmuniformer.apis import register_mmpretrain_models
    from mmuniformer.visualization import image_inputs
    register_mmpretrain_models()
    assert register_mmpretrain_models() == 0  # idempotent
    names = [m['Name'] for m in yaml.safe_load(
        open(osp.join(REPO, 'configs/cls/metafile.yml')))['Models']]
    assert sorted(list_models('uniformer*')) == sorted(names)
    config = osp.join(REPO, 'configs/cls/uniformer_xxs_in1k_160.py')
    ckpt = str(tmp_path / 'xxs.pth')
    UNTRAINED.main([config, ckpt])
    model = get_model('uniformer_xxs_in1k_160', pretrained=ckpt, device='cpu')
    assert abs(sum(p.numel() for p in model.parameters()) - 10.22e6) < 0.01e6  # metafile
    image = str(tmp_path / 'image.png')
    cv2.imwrite(image, (np.random.default_rng(1).random((120, 150, 3)) * 255).astype(np.uint8))
    result = inference_model(model, image)
    # reference: the config's test pipeline (resize 182, crop 160) and the model's logits
    from mmengine.config import Config
    inputs, _ = image_inputs(model, Config.fromfile(config), image)
    with torch.no_grad():
        ref = model(inputs, mode='tensor').softmax(-1)[0].numpy()
    assert result['pred_scores'].shape == (1000, ) and result['pred_label'] == int(ref.argmax())
    np.testing.assert_allclose(result['pred_scores'], ref, rtol=1e-4, atol=1e-6)
