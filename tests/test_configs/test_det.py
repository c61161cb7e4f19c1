"""configs/det: the released recipes (Sense-X/UniFormer object_detection/exp*/config.py) and
one training + one test iteration of every config through `mim train mmdet` (train with a
validation pass) on a generated COCO-format set at 1/8 of the configs' image scales."""
import glob
import json
import math
import os.path as osp

import pytest

pytest.importorskip('mmdet')

from tests.conftest import DENSE_DIMS, IN1K_CHECKPOINTS, load_module  # noqa: E402
from tests.harness import (REPO, assert_dense_backbone, config_params,  # noqa: E402
                           divide_sizes, evaluate_config, load_config, shrink_for_test,
                           train_config, write_config)
DET_CONFIGS = sorted(glob.glob(osp.join(REPO, 'configs', 'det', '*.py')))

# name: (model, arch, stage-3 mode, drop path, with_cp, epochs, multi-scale, mixed precision),
# read off the released configs and run.sh files (exp/, exp_light/).
RECIPES = {
    'mask_rcnn_uniformer_s_h14_1x.py': ('MaskRCNN', 'small', 'hybrid', 0.2, True, 12, False, True),
    'mask_rcnn_uniformer_s_g_1x.py': ('MaskRCNN', 'small', 'global', 0.2, True, 12, False, True),
    'mask_rcnn_uniformer_s_w14_1x.py': ('MaskRCNN', 'small', 'window', 0.2, True, 12, False, True),
    'mask_rcnn_uniformer_b_h14_1x.py': ('MaskRCNN', 'base', 'hybrid', 0.3, False, 12, False, True),
    'mask_rcnn_uniformer_s_h14_3x_ms.py': ('MaskRCNN', 'small', 'hybrid', 0.1, True, 36, True, True),
    'mask_rcnn_uniformer_b_h14_3x_ms.py': ('MaskRCNN', 'base', 'hybrid', 0.3, True, 36, True, True),
    'cascade_mask_rcnn_uniformer_s_h14_3x_ms.py':
        ('CascadeRCNN', 'small', 'hybrid', 0.2, True, 36, True, True),
    'cascade_mask_rcnn_uniformer_b_h14_3x_ms.py':
        ('CascadeRCNN', 'base', 'hybrid', 0.4, True, 36, True, True),
    'mask_rcnn_uniformer_xxs_1x.py': ('MaskRCNN', 'xxs', None, 0., False, 12, False, False),
    'mask_rcnn_uniformer_xs_1x.py': ('MaskRCNN', 'xs', None, 0.15, False, 12, False, False),
}


def test_every_config_has_a_recipe():
    assert sorted(osp.basename(c) for c in DET_CONFIGS) == sorted(RECIPES)


@pytest.mark.parametrize('config', DET_CONFIGS, ids=[osp.basename(p) for p in DET_CONFIGS])
def test_config_recipe(config):
    cfg = load_config(config)
    kind, arch, mode, drop_path, with_cp, epochs, ms, amp = RECIPES[osp.basename(config)]
    assert cfg.custom_imports == dict(imports=['mmuniformer'], allow_failed_imports=False)
    assert cfg.default_scope == 'mmdet'
    model, backbone = cfg.model, cfg.model.backbone
    assert model.type == kind
    light = assert_dense_backbone(backbone, arch, mode)
    if not light:
        assert mode == 'global' or backbone.window_size == 14
    assert backbone.get('drop_path_rate', 0.) == pytest.approx(drop_path)
    assert backbone.get('with_cp', False) is with_cp
    assert backbone.get('norm_eval', False) is False  # released: BatchNorms train
    assert backbone.get('frozen_stages', -1) == -1
    assert backbone.init_cfg == dict(type='Pretrained', checkpoint=cfg.pretrained)
    assert cfg.pretrained == 'checkpoints/' + IN1K_CHECKPOINTS[arch]
    assert model.neck.in_channels == DENSE_DIMS[arch] and model.neck.out_channels == 256

    # optimizer: AdamW 1e-4, wd 0.05, no decay on norms; total batch 16
    optim = cfg.optim_wrapper
    assert optim.type == ('mmuniformer.AutoAmpOptimWrapper' if amp else 'OptimWrapper')
    assert optim.optimizer == dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05)
    assert optim.paramwise_cfg == dict(custom_keys={'norm': dict(decay_mult=0.)})
    assert cfg.auto_scale_lr.base_batch_size == 16
    assert cfg.train_dataloader.batch_size == 2  # x 8 GPUs
    # schedule: 500 warm-up iterations from 0.001, steps at 8/11 (1x) or 27/33 (3x)
    assert cfg.train_cfg.max_epochs == epochs
    warmup, steps = cfg.param_scheduler
    assert warmup.type == 'LinearLR' and warmup.by_epoch is False
    assert (warmup.start_factor, warmup.end) == (0.001, 500)
    assert steps.type == 'MultiStepLR' and steps.gamma == 0.1 and steps.end == epochs
    assert steps.milestones == ([27, 33] if epochs == 36 else [8, 11])

    # data: COCO at data/coco/, single scale 1333x800 or the DETR-style resize-or-crop
    assert cfg.train_dataloader.dataset.data_root == 'data/coco/'
    assert cfg.val_evaluator.metric == ['bbox', 'segm']
    pipeline = cfg.train_dataloader.dataset.pipeline
    types = [t.type for t in pipeline]
    if ms:
        choice = pipeline[types.index('RandomChoice')].transforms
        short_sides = [480 + 32 * i for i in range(11)]
        assert [sorted(s)[0] for s in choice[0][0].scales] == short_sides
        assert all(max(s) == 1333 for s in choice[0][0].scales)
        resize, crop, resize2 = choice[1]
        assert sorted(min(s) for s in resize.scales) == [400, 500, 600]
        assert crop.type == 'RandomCrop' and crop.crop_type == 'absolute_range'
        assert tuple(crop.crop_size) == (384, 600) and crop.allow_negative_crop
        assert resize2.scales == choice[0][0].scales
        assert types.index('RandomFlip') < types.index('RandomChoice')
    else:
        resize = pipeline[types.index('Resize')]
        assert tuple(resize.scale) == (1333, 800) and resize.keep_ratio
    roi = model.roi_head
    if kind == 'CascadeRCNN':
        stds = [[0.1, 0.1, 0.2, 0.2], [0.05, 0.05, 0.1, 0.1], [0.033, 0.033, 0.067, 0.067]]
        assert len(roi.bbox_head) == 3
        for head, std in zip(roi.bbox_head, stds):
            assert head.type == 'ConvFCBBoxHead'
            assert (head.num_shared_convs, head.num_shared_fcs) == (4, 1)
            assert head.norm_cfg.type == 'SyncBN'
            assert head.loss_bbox == dict(type='GIoULoss', loss_weight=10.0)
            assert head.reg_decoded_bbox is True
            assert head.bbox_coder.target_stds == std
    else:
        assert roi.bbox_head.type == 'Shared2FCBBoxHead'


def _small_config(config, data_root, work_dir, checkpoint='none'):
    """The config with the data at ``data_root`` (one train and one val image), 1/8 image
    scales, a shallow backbone (its wiring, not its depth, is under test), 50 proposals and
    32 sampled RoIs, no ImageNet checkpoint, the 10 best detections kept (score threshold 0),
    validation after the epoch, the weights saved after it for ``checkpoint`` 'weights' (no
    optimizer state)."""
    cfg = load_config(config)
    shrink_for_test(cfg, checkpoint=checkpoint, shallow=True, batch_size=1)
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        split = 'train' if loader.startswith('train') else 'val'
        cfg[loader].dataset.update(
            data_root=data_root, ann_file=f'annotations/instances_{split}.json',
            data_prefix=dict(img=f'{split}/'), metainfo=dict(classes=CLASSES))
        divide_sizes(cfg[loader].dataset.pipeline, 8)
    for evaluator in ('val_evaluator', 'test_evaluator'):
        cfg[evaluator].ann_file = osp.join(data_root, 'annotations/instances_val.json')
    cfg.model.test_cfg.rcnn.score_thr = 0.  # an untrained model scores below 0.05
    # fewer proposals and sampled RoIs (the mask head's four 256-channel convs on 512 RoIs
    # dominated the run): sample counts, not wiring
    stages = cfg.model.train_cfg.rcnn
    for stage in stages if isinstance(stages, list) else [stages]:
        stage.sampler.num = 32
    for proposals in (cfg.model.train_cfg.rpn_proposal, cfg.model.test_cfg.rpn):
        proposals.update(nms_pre=200, max_per_img=50)
    cfg.model.test_cfg.rcnn.max_per_img = 10
    cfg.train_cfg.update(max_epochs=1, val_interval=1)
    return write_config(cfg, work_dir, config)


SHAPES = ('circle', 'triangle', 'square', 'star')
# The configs predict COCO's 80 classes: the generated set lists 76 more (empty) categories, so
# that every predicted label has a category id when CocoMetric writes the results.
CLASSES = SHAPES + tuple(f'unused{i}' for i in range(76))


@pytest.fixture(scope='module')
def tiny_coco(tmp_path_factory):
    gen = load_module(osp.join(REPO, 'projects', 'quickstart', 'tools', 'data', 'make_coco_instances.py'))
    assert gen.CATEGORIES == SHAPES
    root = tmp_path_factory.mktemp('coco') / 'shapes_coco'
    gen.generate(root, num_train=1, num_val=1, size=(128, 160), seed=3)
    for split in ('train', 'val'):
        path = root / f'annotations/instances_{split}.json'
        data = json.loads(path.read_text())
        assert data['annotations']  # at least one object per image (mmdet skips empty ones)
        data['categories'] += [dict(id=5 + i, name=name, supercategory='none')
                               for i, name in enumerate(CLASSES[4:])]
        path.write_text(json.dumps(data))
    return str(root)


#: the config run through `mim train` / `mim test` (the command line); the others run the same
#: Runner in the test process
MIM_CONFIG = 'mask_rcnn_uniformer_s_h14_1x.py'


@pytest.mark.parametrize('config', config_params(DET_CONFIGS, slow=[MIM_CONFIG]))
def test_train_and_validate_one_iteration(config, tiny_coco, tmp_path):
    """The config's wiring (its detector, heads, pipelines, CocoMetric; a shallow backbone)
    trains one iteration and validates; the first losses are the untrained detector's. The
    contract config goes through `mim train mmdet` and `mim test mmdet`, which loads the
    checkpoint it saved and reproduces the validation figures. (Learning: tests/test_e2e.)"""
    work = tmp_path / 'work'
    work.mkdir()
    mim = osp.basename(config) == MIM_CONFIG
    small = _small_config(config, tiny_coco, work, checkpoint='weights' if mim else 'none')
    losses, metrics = train_config(small, work, tmp_path, library='mmdet', mim=mim)
    # untrained: every classifier starts at chance (RPN: ln 2 per anchor; 81-way RoI
    # classification ln 81 ~ 4.4) and the regression terms are O(1); the sum is finite
    assert losses['loss_rpn_cls'] == pytest.approx(math.log(2), rel=0.1), losses
    roi_cls = losses.get('loss_cls', losses.get('s0.loss_cls'))  # Cascade: s0. s1. s2.
    assert roi_cls is not None and 0.5 * math.log(81) < roi_cls < 1.5 * math.log(81), losses
    assert losses['loss'] == pytest.approx(  # mmdet sums every term named loss*
        sum(v for k, v in losses.items() if 'loss' in k and k != 'loss'), rel=1e-3)
    maps = {k: v for k, v in metrics.items() if k in ('coco/bbox_mAP', 'coco/segm_mAP')}
    assert len(maps) == 2, metrics
    if mim:
        tested = evaluate_config(small, osp.join(work, 'epoch_1.pth'), work, tmp_path,
                                 library='mmdet', mim=True)
        # the saved weights are the validated ones
        assert {k: tested[k] for k in maps} == pytest.approx(maps, abs=1e-4)
