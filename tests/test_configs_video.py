"""Every configs/video config trains one iteration and tests one iteration through mim.

The data are tiny mp4 videos (40 frames of 128x170, see tests/fake_data.py) in mmaction2's
layouts; the pipelines resize them so that the 224 crops of the configs apply. The backbone
starts from its default initialisation (the ImageNet / Kinetics checkpoints the configs name
are not shipped). One B 32x224 iteration takes a minute or more on a slow CPU.
"""
import glob
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time

import pytest

from tests.fake_data import write_fake_videos

pytest.importorskip('mmaction')
pytest.importorskip('decord')
REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
VIDEO_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'video', '*.py')))
CONTRACT = ['uniformer_s_16x4_k400.py', 'uniformer_s_32x4_k400.py', 'uniformer_b_16x4_k400.py',
            'uniformer_b_32x4_k400.py', 'uniformer_s_16_sthv2.py', 'uniformer_b_32_sthv1.py',
            'uniformer_xxs_16x4_k400_160.py']
MORE = ['uniformer_s_16x4_k600.py', 'uniformer_b_16x4_k600.py', 'uniformer_s_8x8_k400.py',
        'uniformer_s_16x8_k400.py', 'uniformer_b_16x8_k400.py', 'uniformer_s_16x4_ucf101.py',
        'uniformer_s_16x4_hmdb51.py']
DATASETS = {'_k400': 'kinetics400', '_k600': 'kinetics600', '_sthv2': 'sthv2',
            '_sthv1': 'sthv1', '_ucf101': 'ucf101', '_hmdb51': 'hmdb51'}
MIM = osp.join(osp.dirname(sys.executable), 'mim')


def _dataset_of(config: str) -> str:
    found = [name for key, name in DATASETS.items() if key in osp.basename(config)]
    assert len(found) == 1, config
    return found[0]


def test_contract_configs_exist():
    names = {osp.basename(p) for p in VIDEO_CONFIGS}
    assert set(CONTRACT + MORE) <= names, sorted(set(CONTRACT + MORE) - names)


@pytest.mark.parametrize('config', VIDEO_CONFIGS, ids=[osp.basename(p) for p in VIDEO_CONFIGS])
def test_config_recipe(config):
    """The paper's recipe per dataset (section 6.2) and the plugin/model wiring."""
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    name = osp.basename(config)
    dataset = _dataset_of(config)
    assert cfg.custom_imports == dict(imports=['mmuniformer'], allow_failed_imports=False)
    backbone, head = cfg.model.backbone, cfg.model.cls_head
    light = name.startswith('uniformer_xxs_')
    assert backbone.type == ('mmuniformer.UniFormerLight' if light else 'mmuniformer.UniFormer')
    assert backbone.ndim == 3
    assert backbone.out_tuple is False and tuple(backbone.out_indices) == (3, )
    assert cfg.model.type == 'Recognizer3D' and head.type == 'I3DHead'
    assert head.dropout_ratio == 0.5 and head.in_channels == (448 if light else 512)
    assert cfg.model.data_preprocessor.format_shape == 'NCTHW'
    assert cfg.model.data_preprocessor.mean == [0.45 * 255] * 3
    assert cfg.model.data_preprocessor.std == [0.225 * 255] * 3
    classes = {'kinetics400': 400, 'kinetics600': 600, 'sthv2': 174, 'sthv1': 174,
               'ucf101': 101, 'hmdb51': 51}[dataset]
    assert head.num_classes == classes
    assert all(a.num_classes == classes for a in cfg.model.data_preprocessor.blending.augments)
    big = name.startswith('uniformer_b_')
    assert backbone.arch == ('xxs' if light else 'base' if big else 'small')
    recipe = {  # lr per 32 videos, epochs, warm-up, drop path of S
        'kinetics': (1e-4, 110, 10, 0.1), 'sth': (2e-4, 50, 5, 0.3), 'small': (1e-5, 20, 5, 0.2)}
    kind = ('kinetics' if dataset.startswith('kinetics') else
            'sth' if dataset.startswith('sth') else 'small')
    lr, epochs, warmup, drop_path = recipe[kind]
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(lr)
    # the released light run: wd 0.1, drop path 0.05
    assert cfg.optim_wrapper.optimizer.weight_decay == (0.1 if light else 0.05)
    assert cfg.auto_scale_lr.base_batch_size == 32
    assert cfg.train_cfg.max_epochs == epochs
    assert cfg.param_scheduler[0].end == warmup and cfg.param_scheduler[1].end == epochs
    drop_path *= 2 if big and kind != 'small' else 1
    assert backbone.drop_path_rate == pytest.approx(0.05 if light else drop_path)
    pipeline = [t.type for t in cfg.train_dataloader.dataset.pipeline]
    test_pipeline = cfg.test_dataloader.dataset.pipeline
    sampler = test_pipeline[0 if dataset == 'sthv1' else 1]
    if kind == 'sth':
        assert 'UniformSample' in pipeline and 'Flip' not in pipeline
        assert sampler.num_clips == 1 and test_pipeline[-3].type == 'ThreeCrop'
    else:
        assert 'SampleFrames' in pipeline and 'Flip' in pipeline
        # the light model is tested with one view, as released
        assert sampler.num_clips == (1 if light else 4 if kind == 'kinetics' else 5)
    if kind == 'kinetics':
        assert backbone.init_cfg.type == 'Pretrained'
        size = 'xxs_160' if light else 'base' if big else 'small'
        assert backbone.init_cfg.checkpoint.endswith(f'{size}_in1k.pth')
    else:
        assert cfg.load_from.endswith('_k400.pth')


def _run(args, cwd):
    start = time.time()
    proc = subprocess.run([MIM] + args, cwd=cwd, capture_output=True, text=True, timeout=1800,
                          env=dict(os.environ, PYTHONPATH=REPO))
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
    return proc.stdout + proc.stderr, time.time() - start


@pytest.mark.slow
@pytest.mark.parametrize('config', VIDEO_CONFIGS, ids=[osp.basename(p) for p in VIDEO_CONFIGS])
def test_mim_train_and_test_one_iteration(config, tmp_path):
    write_fake_videos(str(tmp_path), datasets=[_dataset_of(config)], num_train=2, num_val=1)
    work = str(tmp_path / 'work')
    common = ['train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
              'val_dataloader.num_workers=0', 'val_dataloader.persistent_workers=False',
              'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False',
              # the ImageNet / Kinetics checkpoints the configs start from are not shipped
              'model.backbone.init_cfg=None', 'load_from=None']
    out, train_s = _run(['train', 'mmaction2', config, '--work-dir', work, '--cfg-options',
                         'train_dataloader.batch_size=2', 'train_cfg.max_epochs=1',
                         'default_hooks.logger.interval=1'] + common, str(tmp_path))
    match = re.search(r'Epoch\(train\)\s+\[1\]\[1/1\].*? loss: ([0-9.]+)', out)
    assert match, out[-3000:]
    assert 0 < float(match.group(1)) < 50
    ckpt = osp.join(work, 'epoch_1.pth')
    assert osp.exists(ckpt)
    out, test_s = _run(['test', 'mmaction2', config, '--checkpoint', ckpt, '--work-dir', work,
                        '--cfg-options', 'test_dataloader.batch_size=1'] + common, str(tmp_path))
    acc = re.search(r'acc/top1: ([0-9.]+)', out)
    assert acc is not None, out[-3000:]
    assert 0.0 <= float(acc.group(1)) <= 1.0
    print(f'{osp.basename(config)}: mim train {train_s:.0f} s, mim test {test_s:.0f} s')
    shutil.rmtree(work, ignore_errors=True)
