"""configs/seg: the released recipes (Sense-X/UniFormer semantic_segmentation/fpn_seg/exp*/ and
semantic_segmentation/exp/*/config.py, test_config_{g,h32,w32}.py) and one training + one
validation iteration of every config through `mim train mmsegmentation` on a generated ADE20K-style
set at 1/8 of the configs' image scales."""
import glob
import math
import os.path as osp

import pytest

pytest.importorskip('mmseg')

from tests.conftest import DENSE_DIMS, IN1K_CHECKPOINTS, load_module  # noqa: E402
from tests.harness import (REPO, assert_dense_backbone, config_params,  # noqa: E402
                           divide_sizes, evaluate_config, load_config, shrink_for_test,
                           train_config, write_config)
SEG_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'seg', '*.py')))

# name: (head, arch, stage 3 in training, stage 3 in evaluation, window, drop path, with_cp),
# read off the released config.py / test_config_*.py / run.sh files.
RECIPES = {
    'fpn_uniformer_s_80k.py': ('fpn', 'small', 'global', 'global', None, 0.1, False),
    'fpn_uniformer_s_h32_80k.py': ('fpn', 'small', 'global', 'hybrid', 32, 0.1, False),
    'fpn_uniformer_s_w32_80k.py': ('fpn', 'small', 'global', 'window', 32, 0.1, False),
    'fpn_uniformer_s_h14_80k.py': ('fpn', 'small', 'hybrid', 'hybrid', 14, 0.1, False),
    'fpn_uniformer_b_80k.py': ('fpn', 'base', 'global', 'global', None, 0.2, False),
    'fpn_uniformer_b_h32_80k.py': ('fpn', 'base', 'global', 'hybrid', 32, 0.2, False),
    'fpn_uniformer_b_w32_80k.py': ('fpn', 'base', 'global', 'window', 32, 0.2, False),
    'fpn_uniformer_b_h14_80k.py': ('fpn', 'base', 'hybrid', 'hybrid', 14, 0.2, False),
    'fpn_uniformer_xxs_80k.py': ('fpn', 'xxs', None, None, None, 0., False),
    'fpn_uniformer_xs_80k.py': ('fpn', 'xs', None, None, None, 0.1, False),
    'upernet_uniformer_s_160k.py': ('upernet', 'small', 'global', 'global', None, 0.25, False),
    'upernet_uniformer_s_h32_160k.py': ('upernet', 'small', 'global', 'hybrid', 32, 0.25, False),
    'upernet_uniformer_s_w32_160k.py': ('upernet', 'small', 'global', 'window', 32, 0.25, False),
    'upernet_uniformer_s_h14_160k.py': ('upernet', 'small', 'hybrid', 'hybrid', 14, 0.25, False),
    'upernet_uniformer_b_160k.py': ('upernet', 'base', 'global', 'global', None, 0.4, True),
    'upernet_uniformer_b_h32_160k.py': ('upernet', 'base', 'global', 'hybrid', 32, 0.4, True),
    'upernet_uniformer_b_w32_160k.py': ('upernet', 'base', 'global', 'window', 32, 0.4, True),
    'upernet_uniformer_b_h14_160k.py': ('upernet', 'base', 'hybrid', 'hybrid', 14, 0.4, True),
}


def test_every_config_has_a_recipe():
    assert sorted(osp.basename(c) for c in SEG_CONFIGS) == sorted(RECIPES)


@pytest.mark.parametrize('config', SEG_CONFIGS, ids=[osp.basename(p) for p in SEG_CONFIGS])
def test_config_recipe(config):
    cfg = load_config(config)
    head, arch, mode, eval_mode, window, drop_path, with_cp = RECIPES[osp.basename(config)]
    assert cfg.custom_imports == dict(imports=['mmuniformer'], allow_failed_imports=False)
    assert cfg.default_scope == 'mmseg'
    model, backbone = cfg.model, cfg.model.backbone
    assert model.type == 'EncoderDecoder' and model.pretrained is None
    light = assert_dense_backbone(backbone, arch, mode)
    if not light:
        # the _h32/_w32 configs switch stage 3 in eval mode only (None: as in training)
        assert backbone.get('eval_stage3_mode') == (None if eval_mode == mode else eval_mode)
        assert backbone.get('window_size') == window
    assert backbone.get('drop_path_rate', 0.) == pytest.approx(drop_path)
    assert backbone.get('with_cp', False) is with_cp
    assert backbone.get('norm_eval', False) is False  # released: BatchNorms train
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=cfg.pretrained)
    assert cfg.pretrained == 'checkpoints/' + IN1K_CHECKPOINTS[arch]
    assert model.test_cfg == dict(mode='whole')
    assert tuple(model.data_preprocessor.size) == (512, 512)
    assert model.data_preprocessor.mean == [123.675, 116.28, 103.53]
    assert model.data_preprocessor.std == [58.395, 57.12, 57.375]
    assert model.data_preprocessor.bgr_to_rgb and model.data_preprocessor.seg_pad_val == 255

    sync_bn = dict(type='SyncBN', requires_grad=True)
    if head == 'fpn':
        assert model.neck.type == 'FPN' and model.neck.in_channels == DENSE_DIMS[arch]
        assert (model.neck.out_channels, model.neck.num_outs) == (256, 4)
        dh = model.decode_head
        assert dh.type == 'FPNHead' and dh.in_channels == [256] * 4 and dh.channels == 128
        assert dh.feature_strides == [4, 8, 16, 32] and dh.dropout_ratio == 0.1
        assert 'auxiliary_head' not in model or model.auxiliary_head is None
        # AdamW 2e-4 (the release's 1e-4 x 2 for 8 GPUs), wd 1e-4 on every parameter, batch 32
        assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=2e-4, weight_decay=1e-4)
        assert 'paramwise_cfg' not in cfg.optim_wrapper
        assert cfg.auto_scale_lr.base_batch_size == 32 and cfg.train_dataloader.batch_size == 4
        assert cfg.train_cfg.max_iters == 80000 and cfg.train_cfg.val_interval == 4000
        assert cfg.default_hooks.checkpoint.interval == 4000
    else:
        assert 'neck' not in model
        dh = model.decode_head
        assert dh.type == 'UPerHead' and dh.in_channels == DENSE_DIMS[arch] and dh.channels == 512
        assert tuple(dh.pool_scales) == (1, 2, 3, 6)
        aux = model.auxiliary_head
        assert aux.type == 'FCNHead' and (aux.in_channels, aux.in_index) == (320, 2)
        assert (aux.channels, aux.num_convs, aux.concat_input) == (256, 1, False)
        assert aux.loss_decode.loss_weight == 0.4 and aux.norm_cfg == sync_bn
        assert aux.num_classes == 150
        assert cfg.optim_wrapper.optimizer == dict(
            type='AdamW', lr=6e-5, betas=(0.9, 0.999), weight_decay=0.01)
        assert cfg.optim_wrapper.paramwise_cfg == dict(custom_keys={'norm': dict(decay_mult=0.)})
        assert cfg.auto_scale_lr.base_batch_size == 16 and cfg.train_dataloader.batch_size == 2
        assert cfg.train_cfg.max_iters == 160000 and cfg.train_cfg.val_interval == 16000
        assert cfg.default_hooks.checkpoint.interval == 16000
    assert dh.num_classes == 150 and dh.norm_cfg == sync_bn and dh.loss_decode.loss_weight == 1.
    assert dh.align_corners is False

    # ADE20K at data/ade/ADEChallengeData2016; 512x512 crops of scale (2048, 512) x [0.5, 2]
    train = cfg.train_dataloader.dataset
    assert train.type == 'ADE20KDataset' and train.data_root == 'data/ade/ADEChallengeData2016'
    types = [t.type for t in train.pipeline]
    assert types == ['LoadImageFromFile', 'LoadAnnotations', 'RandomResize', 'RandomCrop',
                     'RandomFlip', 'PhotoMetricDistortion', 'PackSegInputs']
    resize, crop = train.pipeline[2], train.pipeline[3]
    assert tuple(resize.scale) == (2048, 512) and tuple(resize.ratio_range) == (0.5, 2.0)
    assert tuple(crop.crop_size) == (512, 512) and crop.cat_max_ratio == 0.75
    assert train.pipeline[1].reduce_zero_label
    # single-scale test: short side 512, long side at most 2048; Semantic FPN (AlignResize in
    # the release) then resizes to a multiple of 32
    for loader in (cfg.val_dataloader, cfg.test_dataloader):
        pipeline = loader.dataset.pipeline
        assert loader.dataset.data_prefix.img_path == 'images/validation'
        resize = pipeline[[t.type for t in pipeline].index('Resize')]
        assert tuple(resize.scale) == (2048, 512) and resize.keep_ratio
        align = [t for t in pipeline if t.type == 'ResizeToMultiple']
        assert [a.size_divisor for a in align] == ([32] if head == 'fpn' else [])
    assert (cfg.test_evaluator.type, cfg.test_evaluator.iou_metrics) == ('IoUMetric', ['mIoU'])


def _mmcv1_lr(it, base, warmup_iters, warmup_ratio, regular):
    """The released runs' lr at iteration ``it`` (mmcv 1.x LrUpdaterHook, by iteration):
    the regular lr, multiplied during warm-up by 1 - (1 - it / warmup_iters) * (1 - ratio)."""
    lr = regular(it)
    if it < warmup_iters:
        lr *= 1 - (1 - it / warmup_iters) * (1 - warmup_ratio)
    return lr


@pytest.mark.parametrize('config', ['fpn_uniformer_s_80k.py', 'upernet_uniformer_b_160k.py'])
def test_lr_schedule_matches_the_release(config):
    """The configs' chained warm-up + decay schedulers give mmcv 1.x's released lr curve
    (CosineAnnealing with min_lr_ratio 1e-8 / poly power 1, linear warm-up)."""
    import torch
    from mmengine.optim.scheduler import CosineAnnealingLR, LinearLR, PolyLR
    cfg = load_config(osp.join(REPO, 'configs', 'seg', config))
    base = cfg.optim_wrapper.optimizer.lr
    if config.startswith('fpn'):
        total, warm, ratio = 80000, 1000, 0.1
        target = base * 1e-8
        regular = lambda t: target + 0.5 * (base - target) * (1 + math.cos(math.pi * t / total))  # noqa
    else:
        total, warm, ratio = 160000, 1500, 1e-6
        regular = lambda t: base * (1 - t / total)  # noqa: E731
    opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base)
    kinds = dict(LinearLR=LinearLR, CosineAnnealingLR=CosineAnnealingLR, PolyLR=PolyLR)
    schedulers = []
    for s in cfg.param_scheduler:
        s = dict(s)
        schedulers.append(kinds[s.pop('type')](opt, **s))
    checks = {0, 1, 500, warm - 1, warm, warm + 1, 20000, 60000, total - 1}
    for it in range(max(checks) + 1):
        if it in checks:
            got = opt.param_groups[0]['lr']
            assert got == pytest.approx(_mmcv1_lr(it, base, warm, ratio, regular),
                                        rel=1e-5, abs=1e-12), it
        for s in schedulers:
            s.step()


# ----------------------------------------------------------------------------- mim
def _small_config(config, data_root, work_dir, checkpoint='none'):
    """The config with the data at ``data_root`` (64x64 images), 1/8 image scales (64x64
    crops, test short side 64), batch 2 (BatchNorm on UperNet's 1x1 pooled map needs two
    values), a shallow backbone (its wiring, not its depth, is under test), no ImageNet
    checkpoint, one iteration then validation, the weights saved only for ``checkpoint``
    'weights' (no optimizer state)."""
    cfg = load_config(config)
    shrink_for_test(cfg, checkpoint=checkpoint, shallow=True)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        cfg[loader].dataset.data_root = data_root
        divide_sizes(cfg[loader].dataset.pipeline, 8)
    cfg.train_dataloader.batch_size = 2
    cfg.model.data_preprocessor.size = (64, 64)
    cfg.train_cfg.update(max_iters=1, val_interval=1)
    if checkpoint != 'none':
        cfg.default_hooks.checkpoint.interval = 1
    return write_config(cfg, work_dir, config)


@pytest.fixture(scope='module')
def tiny_ade(tmp_path_factory):
    gen = load_module(osp.join(REPO, 'projects', 'quickstart', 'tools', 'data', 'make_ade_seg.py'))
    root = tmp_path_factory.mktemp('ade') / 'ADEChallengeData2016'
    gen.generate(root, num_train=2, num_val=1, size=(64, 64), seed=5)
    return str(root)


#: the config run through `mim train` / `mim test` (the command line); the others run the same
#: Runner in the test process
MIM_CONFIG = 'fpn_uniformer_s_h32_80k.py'


@pytest.mark.parametrize('config', config_params(SEG_CONFIGS, slow=[MIM_CONFIG]))
def test_train_and_validate_one_iteration(config, tiny_ade, tmp_path):
    """The config's wiring (segmentor, decode and auxiliary heads, pipelines, IoUMetric; a
    shallow backbone) trains one iteration and validates; the first losses are the untrained
    heads' (150-way cross-entropy). The h32 contract config goes through `mim train
    mmsegmentation` and `mim test mmsegmentation`, which loads the checkpoint it saved and
    reproduces the validation mIoU. (Learning: tests/test_e2e.)"""
    work = tmp_path / 'work'
    work.mkdir()
    mim = osp.basename(config) == MIM_CONFIG
    small = _small_config(config, tiny_ade, work, checkpoint='weights' if mim else 'none')
    losses, metrics = train_config(small, work, tmp_path, library='mmsegmentation', mim=mim)
    cfg = load_config(small)
    # the decode head's 150-way cross-entropy at initialisation (std-0.01 classifier: ~ln 150
    # per labelled pixel) times its loss weight: mmseg averages over all pixels, the ignored
    # ones (ADE20K's label 0, crop padding) included, so the value is that times the labelled
    # fraction of the crop. UperNet's auxiliary FCN head sees the same labels at weight 0.4.
    head = cfg.model.decode_head
    chance = head.loss_decode.loss_weight * math.log(head.num_classes)
    assert 0.2 * chance <= losses['decode.loss_ce'] <= 1.1 * chance, losses
    if cfg.model.get('auxiliary_head'):
        weight = cfg.model.auxiliary_head.loss_decode.loss_weight / head.loss_decode.loss_weight
        assert losses['aux.loss_ce'] == pytest.approx(weight * losses['decode.loss_ce'],
                                                      rel=0.15), losses
    assert 'mIoU' in metrics, metrics  # validated (learning: tests/test_e2e)
    if mim:
        tested = evaluate_config(small, osp.join(work, 'iter_1.pth'), work, tmp_path,
                                 library='mmsegmentation', mim=True)
        assert tested['mIoU'] == pytest.approx(metrics['mIoU'], abs=1e-2)  # the validated weights
