"""No silent use of a checkpoint that does not fit, and class names that match the model.

A file of the official layout, of another task or of another arch stops the demo, the
inferencers and whole-model loads (mmengine's ``load_checkpoint``, which ``load_from`` and
``mim test --checkpoint`` call) with what the file is and the converter command; the
converter and ``untrained_checkpoint.py`` store the config dataset's ``dataset_meta``."""
import os.path as osp

import cv2
import numpy as np
import pytest
import torch

from tests.conftest import REPO, load_module
from tests.harness import QS_CONFIGS

DEMO = load_module(osp.join(REPO, 'demo/demo.py'))
UNTRAINED = load_module(osp.join(REPO, 'tools/misc/untrained_checkpoint.py'))
CAM = load_module(osp.join(REPO, 'tools/visualize_cam.py'))
CLS_QS, DET_QS, SEG_QS = QS_CONFIGS['cls'], QS_CONFIGS['det'], QS_CONFIGS['seg']
NO_INIT = ['--cfg-options', 'model.backbone.init_cfg=None']


@pytest.fixture(scope='module')
def files(tmp_path_factory):
    from mmengine.registry import DefaultScope

    from mmuniformer.checkpoint import ours_to_official
    root = tmp_path_factory.mktemp('fit')
    scopes = dict(DefaultScope._instance_dict)
    out = {}
    for name, args in (('cls', [CLS_QS]), ('det', [DET_QS, *NO_INIT]), ('seg', [SEG_QS]),
                       ('deeper', [CLS_QS, '--cfg-options',
                                   'model.backbone.arch.depths=[1,1,3,1]'])):
        out[name] = str(root / f'{name}.pth')
        UNTRAINED.main([args[0], out[name], *args[1:]])
    DefaultScope._instance_dict.clear()
    DefaultScope._instance_dict.update(scopes)
    state = torch.load(out['cls'], map_location='cpu', weights_only=True)['state_dict']
    out['official'] = str(root / 'official.pth')
    torch.save({'model': ours_to_official(state, 'mmpretrain').state}, out['official'])
    out['image'] = str(root / 'image.png')
    cv2.imwrite(out['image'], (np.random.default_rng(0).random((64, 64, 3)) * 255).astype(
        np.uint8))
    return out


def test_demo_refuses_official_other_task_and_other_arch_files(files, tmp_path):
    picture = str(tmp_path / 'x.png')
    with pytest.raises(SystemExit) as info:
        DEMO.run([CLS_QS, files['official'], files['image'], '--out', picture])
    text = str(info.value)
    assert 'official UniFormer checkpoint' in text
    assert (f"python tools/convert_official.py {files['official']} DST --config {CLS_QS}"
            in text)
    with pytest.raises(SystemExit, match=r'holds a detector \(mmdet\), not an image class'):
        DEMO.run([CLS_QS, files['det'], files['image'], '--out', picture])
    with pytest.raises(SystemExit, match=r'holds a segmentor \(mmseg\), not a detector'):
        DEMO.run([DET_QS, files['seg'], files['image'], '--out', picture, *NO_INIT])
    with pytest.raises(SystemExit, match='holds another arch') as info:
        DEMO.run([CLS_QS, files['deeper'], files['image'], '--out', picture])
    assert '(1, 1, 3, 1)' in str(info.value)
    assert not osp.exists(picture)


def test_whole_model_loads_refuse_files_that_do_not_fit(files):
    """mmengine's load_checkpoint (Runner.load_checkpoint: load_from, mim test) reaches our
    backbone's _load_from_state_dict, which refuses instead of loading non-strictly."""
    from mmengine.runner import load_checkpoint

    from mmuniformer.apis import build_model_from_config
    model, _, _ = build_model_from_config(CLS_QS)
    with pytest.raises(ValueError, match='convert it with: python tools/convert_official.py'):
        load_checkpoint(model, files['official'], map_location='cpu')
    with pytest.raises(ValueError, match=r'does not fit the UniFormer at backbone\.\*'):
        load_checkpoint(model, files['deeper'], map_location='cpu')
    det, _, _ = build_model_from_config(DET_QS, {'model.backbone.init_cfg': None})
    with pytest.raises(ValueError, match='does not fit'):
        load_checkpoint(det, files['cls'], map_location='cpu')
    # a checkpoint of the model itself loads, tensors equal
    load_checkpoint(model, files['cls'], map_location='cpu')
    saved = torch.load(files['cls'], map_location='cpu', weights_only=True)['state_dict']
    for key, value in model.state_dict().items():
        assert torch.equal(value, saved[key]), key


def test_class_names_come_from_the_config_dataset():
    from mmuniformer.apis import dataset_meta_from_config, load_config
    imagenet = dataset_meta_from_config(load_config(osp.join(REPO, 'configs/cls/'
                                                             'uniformer_s_in1k.py')))
    assert len(imagenet['classes']) == 1000 and imagenet['classes'][0].startswith('tench')
    coco = dataset_meta_from_config(load_config(osp.join(REPO, 'configs/det/'
                                                         'mask_rcnn_uniformer_s_h14_1x.py')))
    assert len(coco['classes']) == 80 and coco['classes'][:2] == ('person', 'bicycle')
    assert len(coco['palette']) == 80
    ade = dataset_meta_from_config(load_config(osp.join(REPO, 'configs/seg/'
                                                        'upernet_uniformer_b_160k.py')))
    assert len(ade['classes']) == 150 and ade['classes'][:2] == ('wall', 'building')
    assert ade['palette'][0] == (120, 120, 120) and len(ade['palette']) == 150
    pose = dataset_meta_from_config(load_config(osp.join(REPO, 'configs/pose/'
                                                         'topdown_uniformer_s_256x192.py')))
    assert pose['dataset_name'] == 'coco' and pose['num_keypoints'] == 17
    quick = dataset_meta_from_config(load_config(SEG_QS))
    assert quick['classes'] == ('smooth', 'stripes', 'checker', 'disc', 'triangle', 'square')
    assert len(quick['palette']) == 6


def test_untrained_checkpoints_carry_the_class_names(files):
    det = torch.load(files['det'], map_location='cpu', weights_only=True)['meta']
    assert det['dataset_meta']['classes'] == ('circle', 'triangle', 'square', 'star')
    seg = torch.load(files['seg'], map_location='cpu', weights_only=True)['meta']
    assert len(seg['dataset_meta']['palette']) == 6


def test_classes_are_honoured_and_counted_for_every_task(files, tmp_path):
    names = tmp_path / 'names.txt'
    picture = str(tmp_path / 'x.png')
    names.write_text('\n'.join(['sky', 'ground', 'tree', 'water', 'road', 'wall']))
    summary = DEMO.run([SEG_QS, files['seg'], files['image'], '--out', picture,
                        '--classes', str(names)])
    assert summary['classes'] == ['sky', 'ground', 'tree', 'water', 'road', 'wall']
    with pytest.raises(SystemExit, match='gives 6 class names; the model predicts 4'):
        DEMO.run([DET_QS, files['det'], files['image'], '--out', picture, '--classes',
                  str(names), *NO_INIT])
    with pytest.raises(SystemExit, match='gives 6 class names; the model predicts 8'):
        DEMO.run([CLS_QS, files['cls'], files['image'], '--out', picture, '--classes',
                  str(names)])
    names.write_text('a\nb\nc\nd\n')
    summary = DEMO.run([DET_QS, files['det'], files['image'], '--out', picture, '--classes',
                        str(names), '--score-thr', '0', *NO_INIT])
    assert set(summary['names']) <= {'a', 'b', 'c', 'd'} and summary['names']


def test_cam_picture_names_its_class(files, tmp_path):
    names = tmp_path / 'names.txt'
    names.write_text('\n'.join(f'shape number {i}' for i in range(8)))
    out = tmp_path / 'cam.png'
    result = CAM.run([CLS_QS, files['cls'], files['image'], '--out', str(out), '--classes',
                      str(names)])
    assert result['name'] == f"shape number {result['target']}"
    assert result['title'].startswith(f"Grad-CAM of shape number {result['target']} (class")
    picture = cv2.imread(str(out))
    band = picture[:picture.shape[0] - 256]  # the title band above the 256-high panels
    assert band.shape[0] > 10 and band.max() > 200  # white text


def test_mim_test_stops_on_an_unconverted_official_checkpoint(files, tmp_path):
    """`mim test` (mmengine's Runner, non-strict load_from) used to report "Testing finished
    successfully" on random weights; our backbone now refuses the file with the command."""
    import os
    import subprocess
    import sys

    from tests.conftest import MIM
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([REPO, os.environ.get('PYTHONPATH', '')]),
               OMP_NUM_THREADS='1')
    subprocess.run([sys.executable, osp.join(REPO, 'projects/quickstart/tools/data/make_shapes_cls.py'), '--out',
                    'data/shapes_cls', '--num-train', '1', '--num-val', '1'], cwd=tmp_path,
                   env=env, check=True, capture_output=True)
    proc = subprocess.run(
        [MIM, 'test', 'mmpretrain', CLS_QS, '--checkpoint', files['official'], '--cfg-options',
         'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and 'Testing finished successfully' not in out, out[-3000:]
    assert 'convert it with: python tools/convert_official.py SRC DST --config CONFIG' in out
