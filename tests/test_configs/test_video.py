"""configs/video: the released recipes, and one train + test iteration through mim.

The recipe values are typed here from the official release (Sense-X/UniFormer
video_classification/exp*/<run>/run.sh, whose command-line options override the
config.yaml next to it, and that config.yaml for the rest), not from our configs.

The end-to-end check runs ``mim train`` (one iteration) and ``mim test`` on tiny mp4 videos
(tests/fake_data.py) in mmaction2's layouts, for one config per distinct pipeline / model /
dataset path, at 64 pixels (one test clip per video; the steps of every pipeline are the
config's); it checks values that do not come from the code under test:

* the first training loss is the untrained model's: each cross-entropy term of a nearly
  uniform K-way prediction is about ln(K), whatever the (smoothed, mixed) target, weighted
  as the official code does (one term; 0.5 + 0.5 for the light models);
* ``mim test``'s printed top-1/top-5 equal the accuracy computed in this process from the
  saved checkpoint's weights on the same test videos, with the test labels chosen so that
  exactly half of them are right (see ``half_right_labels``).
"""
import glob
import math
import os.path as osp

import pytest

from tests.conftest import predict_scores
from tests.fake_data import VIDEO_LAYOUTS, half_right_labels, set_labels, write_fake_videos
from tests.harness import (REPO, evaluate_config, load_config, shrink_for_test, train_config,
                           write_config)

pytest.importorskip('mmaction')
VIDEO_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'video', '*.py')))
CONTRACT = ['uniformer_s_16x4_k400.py', 'uniformer_s_32x4_k400.py', 'uniformer_b_16x4_k400.py',
            'uniformer_b_32x4_k400.py', 'uniformer_s_16_sthv2.py', 'uniformer_b_32_sthv1.py',
            'uniformer_xxs_16x4_k400_160.py']
DATASETS = {'_k400': 'kinetics400', '_k600': 'kinetics600', '_sthv2': 'sthv2',
            '_sthv1': 'sthv1', '_ucf101': 'ucf101', '_hmdb51': 'hmdb51'}

# config -> released run (video_classification/...), its total batch and SOLVER.BASE_LR,
# SOLVER.MAX_EPOCH, SOLVER.WARMUP_EPOCHS, UNIFORMER.DROP_DEPTH_RATE, SOLVER.WEIGHT_DECAY
RELEASED = {
    'uniformer_s_8x8_k400.py': ('exp/uniformer_s8x8_k400', 128, 4e-4, 100, 10, 0.1, 0.05),
    'uniformer_s_16x4_k400.py': ('exp/uniformer_s16x4_k400', 32, 1e-4, 110, 10, 0.1, 0.05),
    'uniformer_s_16x8_k400.py': ('exp/uniformer_s16x8_k400', 32, 1e-4, 110, 10, 0.1, 0.05),
    'uniformer_s_32x4_k400.py': ('exp/uniformer_s32x4_k400', 32, 1e-4, 110, 10, 0.1, 0.05),
    'uniformer_s_16x4_k600.py': ('exp/uniformer_s16x4_k600', 96, 3e-4, 110, 10, 0.1, 0.05),
    'uniformer_b_8x8_k400.py': ('exp/uniformer_b8x8_k400', 64, 2e-4, 100, 10, 0.3, 0.05),
    'uniformer_b_16x4_k400.py': ('exp/uniformer_b16x4_k400', 40, 1.25e-4, 110, 10, 0.3, 0.05),
    'uniformer_b_16x8_k400.py': ('exp/uniformer_b16x8_k400', 40, 1.25e-4, 110, 10, 0.3, 0.05),
    'uniformer_b_32x4_k400.py': ('exp/uniformer_b32x4_k400', 32, 1e-4, 110, 10, 0.3, 0.05),
    'uniformer_b_16x4_k600.py': ('exp/uniformer_b16x4_k600', 40, 1.25e-4, 110, 10, 0.3, 0.05),
    'uniformer_s_16_sthv2.py': ('exp/uniformer_s16_sthv2_prek400', 32, 2e-4, 50, 5, 0.3, 0.05),
    'uniformer_b_32_sthv1.py': ('exp/uniformer_b32_sthv1_prek400', 32, 2e-4, 60, 5, 0.6, 0.05),
    'uniformer_s_16x4_ucf101.py': ('exp/uniformer_s16x4_ucf101_prek400', 128, 5e-5, 25, 5, 0.2,
                                   0.05),
    'uniformer_s_16x4_hmdb51.py': ('exp/uniformer_s16x4_hmdb51_prek400', 128, 5e-5, 25, 5, 0.2,
                                   0.05),
    'uniformer_xxs_16x4_k400_160.py': ('exp_light/uniformer_xxs16_160_k400', 256, 8e-4, 110, 10,
                                       0.05, 0.1),
    'uniformer_xs_32_k400_192.py': ('exp_light/uniformer_xs32_192_k400', 128, 4e-4, 110, 10, 0.1,
                                    0.05),
}
# config -> frame sampler (DATA.NUM_FRAMES, DATA.SAMPLING_RATE; None: one frame per equal
# segment of the whole video), test views (TEST.NUM_ENSEMBLE_VIEWS x NUM_SPATIAL_CROPS of the
# released runs and test.sh), test crop (DATA.TEST_CROP_SIZE), RandAugment (AUG.AA_TYPE n, m)
SAMPLING = {
    'uniformer_s_8x8_k400.py': (8, 8, 4, 1, 224, (4, 7)),
    'uniformer_s_16x4_k400.py': (16, 4, 4, 1, 224, (4, 7)),
    'uniformer_s_16x8_k400.py': (16, 8, 4, 1, 224, (4, 7)),
    'uniformer_s_32x4_k400.py': (32, 4, 4, 1, 224, (4, 7)),
    'uniformer_s_16x4_k600.py': (16, 4, 4, 1, 224, (4, 7)),
    'uniformer_b_8x8_k400.py': (8, 8, 4, 1, 224, (4, 7)),
    'uniformer_b_16x4_k400.py': (16, 4, 4, 1, 224, (4, 7)),
    'uniformer_b_16x8_k400.py': (16, 8, 4, 1, 224, (4, 7)),
    'uniformer_b_32x4_k400.py': (32, 4, 4, 1, 224, (4, 7)),
    'uniformer_b_16x4_k600.py': (16, 4, 4, 1, 224, (4, 7)),
    'uniformer_s_16_sthv2.py': (16, None, 1, 3, 224, (4, 7)),
    'uniformer_b_32_sthv1.py': (32, None, 1, 3, 224, (4, 7)),
    'uniformer_s_16x4_ucf101.py': (16, 4, 5, 3, 224, (2, 5)),
    'uniformer_s_16x4_hmdb51.py': (16, 4, 5, 3, 224, (2, 5)),
    'uniformer_xxs_16x4_k400_160.py': (16, None, 1, 1, 160, (2, 5)),
    'uniformer_xs_32_k400_192.py': (32, None, 1, 1, 192, (4, 7)),
}
# Something-Something and UCF/HMDB start from Kinetics-400 models (PRETRAIN_NAME)
LOAD_FROM = {'uniformer_s_16_sthv2.py': 'uniformer_s_16x4_k400.pth',
             'uniformer_b_32_sthv1.py': 'uniformer_b_16x4_k400.pth',
             'uniformer_s_16x4_ucf101.py': 'uniformer_s_16x4_k400.pth',
             'uniformer_s_16x4_hmdb51.py': 'uniformer_s_16x4_k400.pth'}
# one config per distinct dataset layout, sampler, model and head: train + test (the first
# through mim, the command line; the others with the same Runner in the test process)
RUN_CONFIGS = ['uniformer_s_8x8_k400.py', 'uniformer_b_16x4_k600.py', 'uniformer_s_16_sthv2.py',
               'uniformer_b_32_sthv1.py', 'uniformer_s_16x4_hmdb51.py',
               'uniformer_xxs_16x4_k400_160.py']


def _dataset_of(config: str) -> str:
    found = [name for key, name in DATASETS.items() if key in osp.basename(config)]
    assert len(found) == 1, config
    return found[0]


def test_contract_and_released_configs_exist():
    names = {osp.basename(p) for p in VIDEO_CONFIGS}
    assert set(CONTRACT) <= names, sorted(set(CONTRACT) - names)
    assert names == set(RELEASED) == set(SAMPLING), sorted(names ^ set(RELEASED))


def _sampler(pipeline) -> dict:
    found = [t for t in pipeline if t.type in ('SampleFrames', 'UniformSample')]
    assert len(found) == 1, [t.type for t in pipeline]
    return found[0]


@pytest.mark.parametrize('config', VIDEO_CONFIGS, ids=[osp.basename(p) for p in VIDEO_CONFIGS])
def test_config_recipe(config):
    from mmengine.config import Config
    cfg = Config.fromfile(config)
    name = osp.basename(config)
    dataset = _dataset_of(config)
    assert cfg.custom_imports == dict(imports=['mmuniformer'], allow_failed_imports=False)
    backbone, head = cfg.model.backbone, cfg.model.cls_head
    light = name.startswith(('uniformer_xxs_', 'uniformer_xs_'))
    num_classes = VIDEO_LAYOUTS[dataset][2]
    assert cfg.model.type == 'Recognizer3D' and backbone.ndim == 3
    assert head.num_classes == num_classes
    assert all(a.num_classes == num_classes for a in cfg.model.data_preprocessor.blending.augments)
    assert [(a.type, a.alpha) for a in cfg.model.data_preprocessor.blending.augments] == [
        ('MixupBlending', 0.8), ('CutmixBlending', 1.0)]  # MIXUP.ALPHA, CUTMIX_ALPHA
    assert head.label_smooth_eps == 0.1  # MIXUP.LABEL_SMOOTH_VALUE
    # the official heads are a bare Linear on the pooled features: no dropout
    assert head.dropout_ratio == 0
    assert cfg.model.data_preprocessor.mean == [0.45 * 255] * 3
    assert cfg.model.data_preprocessor.std == [0.225 * 255] * 3
    if light:  # Uniformer_light_fp32 + tools/train_net_cls.py
        arch = name.split('_')[1]
        assert backbone.type == 'mmuniformer.UniFormerLight' and backbone.arch == arch
        assert backbone.attn_fp32 is True and backbone.out_score_token is True
        assert head.type == 'mmuniformer.UniFormerLightVideoHead'
        assert tuple(head.loss_weights) == (0.5, 0.5)
        assert head.in_channels == {'xxs': 448, 'xs': 512}[arch]
    else:
        big = name.startswith('uniformer_b_')
        assert backbone.type == 'mmuniformer.UniFormer'
        assert backbone.arch == ('base' if big else 'small') and backbone.out_tuple is False
        assert head.type == 'I3DHead' and head.in_channels == 512

    run, batch, base_lr, epochs, warmup, drop_path, wd = RELEASED[name]
    assert cfg.optim_wrapper.optimizer.type == 'AdamW'
    assert cfg.auto_scale_lr.base_batch_size == 32
    assert cfg.optim_wrapper.optimizer.lr == pytest.approx(base_lr * 32 / batch), run
    assert cfg.optim_wrapper.optimizer.weight_decay == wd, run
    assert cfg.train_cfg.max_epochs == epochs, run
    warm, cosine = cfg.param_scheduler
    assert (warm.type, warm.begin, warm.end) == ('LinearLR', 0, warmup), run
    assert (cosine.type, cosine.begin, cosine.end) == ('CosineAnnealingLR', warmup, epochs), run
    # SOLVER.WARMUP_START_LR and COSINE_END_LR 1e-6
    assert warm.start_factor * cfg.optim_wrapper.optimizer.lr == pytest.approx(1e-6)
    assert cosine.eta_min == pytest.approx(1e-6)
    assert backbone.drop_path_rate == pytest.approx(drop_path), run
    if name in LOAD_FROM:
        assert cfg.load_from.endswith(LOAD_FROM[name]) and backbone.get('init_cfg') is None
    else:  # Kinetics from inflated ImageNet weights (PRETRAIN_NAME uniformer_*_in1k)
        size = {'uniformer_s': 'small', 'uniformer_b': 'base', 'uniformer_xxs': 'xxs_160',
                'uniformer_xs': 'xs_192'}['_'.join(name.split('_')[:2])]
        assert backbone.init_cfg.checkpoint.endswith(f'uniformer_{size}_in1k.pth')
        assert cfg.get('load_from') is None

    frames, interval, clips, crops, crop, (num_ops, magnitude) = SAMPLING[name]
    train = cfg.train_dataloader.dataset.pipeline
    # AUG.NUM_SAMPLE 2: the decoded clip is augmented twice, the pairs are flattened
    repeat = train[-1]
    assert repeat.type == 'mmuniformer.RepeatAug' and repeat.num_repeats == 2
    assert cfg.train_dataloader.collate_fn == dict(type='repeat_pseudo_collate')
    augment = [t.type for t in repeat.transforms]
    assert ('Flip' in augment) == (not dataset.startswith('sth'))  # DATA.RANDOM_FLIP
    rand_aug = [t for t in repeat.transforms if t.get('op') == 'RandAugment']
    assert [(t.num_ops, t.magnitude) for t in rand_aug] == [(num_ops, magnitude)]
    assert repeat.transforms[-1].type == 'PackActionInputs'
    test = cfg.test_dataloader.dataset.pipeline
    for pipeline, test_mode in ((train, False), (cfg.val_dataloader.dataset.pipeline, True),
                                (test, True)):
        sampler = _sampler(pipeline)
        assert sampler.clip_len == frames and sampler.get('test_mode', False) == test_mode
        if interval is None:
            assert sampler.type == 'UniformSample'
        else:
            assert sampler.type == 'SampleFrames' and sampler.frame_interval == interval
    assert _sampler(test).num_clips == clips
    crop_step = [t for t in test if t.type in ('CenterCrop', 'ThreeCrop')]
    assert [(t.type, t.crop_size) for t in crop_step] == [
        ('ThreeCrop' if crops == 3 else 'CenterCrop', crop)]
    assert [t.scale for t in test if t.type == 'Resize'] == [(-1, crop)]


def test_configs_build_their_models_and_datasets(tmp_path, monkeypatch):
    """Every config builds its recognizer and its train / test datasets (no data loading
    beyond the annotation lists), in this one process."""
    from mmengine.config import Config
    from mmengine.registry import DATASETS, MODELS, init_default_scope
    write_fake_videos(str(tmp_path), num_train=2, num_val=1, num_frames=8, size=(32, 40))
    monkeypatch.chdir(tmp_path)
    init_default_scope('mmaction')
    for config in VIDEO_CONFIGS:
        cfg = Config.fromfile(config)
        cfg.model.backbone.init_cfg = None
        model = MODELS.build(cfg.model)
        assert type(model).__name__ == 'Recognizer3D'
        for split in ('train', 'test'):
            dataset = DATASETS.build(cfg[f'{split}_dataloader'].dataset)
            assert len(dataset) == (2 if split == 'train' else 1), (config, split)


def _small(config: str, directory) -> str:
    """The config at 64 pixels, written to ``directory``: short side 80 and 64x64 crops in
    training, one clip with short side 64 and 64-pixel crops (centre or three) in
    validation and test; batch 1, a shallow backbone (its depth is not under test), the
    weights saved after the epoch. Everything else, the pipelines' steps included, is the
    config's."""
    cfg = load_config(config)
    shrink_for_test(cfg, checkpoint='weights', shallow=True, batch_size=1)
    train = cfg.train_dataloader.dataset.pipeline
    steps = [t for t in train if t.type != 'mmuniformer.RepeatAug'] + list(train[-1].transforms)
    for t in steps:
        if t.type == 'Resize':
            t.scale = (64, 64) if t.get('keep_ratio', True) is False else (-1, 80)
    for split in ('val', 'test'):
        for t in cfg[f'{split}_dataloader'].dataset.pipeline:
            if t.type in ('SampleFrames', 'UniformSample'):
                t.num_clips = 1
            elif t.type == 'Resize':
                t.scale = (-1, 64)
            elif t.type in ('CenterCrop', 'ThreeCrop'):
                t.crop_size = 64
    cfg.train_cfg.update(max_epochs=1, val_begin=2)
    return write_config(cfg, directory, config)


@pytest.mark.parametrize('name', [pytest.param(n, marks=[pytest.mark.slow] if i == 0 else [])
                                  for i, n in enumerate(RUN_CONFIGS)])
def test_train_and_test_one_iteration(name, tmp_path):
    """The config's wiring (recognizer, head and losses, blending, pipelines, dataset layout;
    a shallow backbone) trains one iteration and tests the weights it saved; the first
    config through `mim train` / `mim test`. (Learning: tests/test_e2e.)"""
    dataset = _dataset_of(name)
    write_fake_videos(str(tmp_path), datasets=[dataset], num_train=1, num_val=2)
    config = _small(osp.join(REPO, 'configs', 'video', name), tmp_path)
    work = tmp_path / 'work'
    mim = name == RUN_CONFIGS[0]
    losses, _ = train_config(config, work, tmp_path, library='mmaction2', mim=mim)
    chance = math.log(VIDEO_LAYOUTS[dataset][2])
    terms = ({'loss_cls': 0.5, 'loss_score_token': 0.5} if name.startswith('uniformer_xxs_')
             else {'loss_cls': 1.0})
    # within 20 %: the untrained logits' spread (std ~0.4 from the 0.02-std classifiers on
    # unit-variance features) adds up to ~10 % here; a wrong class count or weight fails
    for key, weight in terms.items():
        assert losses.get(key) == pytest.approx(weight * chance, rel=0.2), (key, losses)
    assert losses['loss'] == pytest.approx(sum(losses[k] for k in terms), abs=2e-4), losses

    ckpt = osp.join(work, 'epoch_1.pth')
    labels, expected = half_right_labels(predict_scores(config, ckpt, tmp_path))
    set_labels(str(tmp_path / VIDEO_LAYOUTS[dataset][1].format(split='val')), labels)
    metrics = evaluate_config(config, ckpt, work, tmp_path, library='mmaction2', mim=mim)
    metrics = {k: metrics.get(k) for k in ('acc/top1', 'acc/top5')}
    assert metrics == pytest.approx({'acc/top1': expected / 100, 'acc/top5': expected / 100},
                                    abs=1e-4), metrics
