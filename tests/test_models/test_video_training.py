"""Training pieces of the released video recipes (Sense-X/UniFormer video_classification):

* attention in float32 under autocast (``Attention(fp32=True)``, ``UniFormerLight(attn_fp32=
  True)``), as the ``slowfast/models/uniformer_light_fp32.py`` models;
* the light video head's dual loss ``0.5 * CE(head(pool(map))) + 0.5 * CE(head_cls(token))``
  of ``tools/train_net_cls.py``, checked against a hand computation;
* repeated augmentation (``AUG.NUM_SAMPLE 2``): every video of a batch appears twice, with
  the same frames and different random crops.
"""
import copy
import math
import os.path as osp
from collections import Counter

import pytest
import torch
import torch.nn.functional as F

from mmuniformer.models.backbones.uniformer_light import UniFormerLight
from mmuniformer.models.layers import Attention
from tests.conftest import REPO

AUTOCAST = dict(device_type='cpu', dtype=torch.bfloat16)


def _record_core(store: list):
    """Forward pre-hook on ``attn.proj``: records the attention output ``(B, N, C)``."""
    return lambda module, args: store.append(args[0].detach())


@pytest.mark.parametrize('use_sdpa', [True, False])
def test_attention_fp32_under_autocast(use_sdpa, monkeypatch):
    torch.manual_seed(0)
    x = torch.randn(2, 10, 32) * 3
    attn = Attention(32, 4, use_sdpa=use_sdpa, fp32=True).eval()
    plain = copy.deepcopy(attn)
    plain.fp32 = False

    # reference: q, k, v as autocast makes them (bf16 projection), attention by hand in fp32
    with torch.no_grad():
        with torch.autocast(**AUTOCAST):
            q, k, v = attn._qkv(x)
        assert q.dtype == torch.bfloat16  # autocast is on: without fp32, attention is bf16
        q, k, v = q.float(), k.float(), v.float()
        weights = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(8), dim=-1)
        ref_core = (weights @ v).transpose(1, 2).reshape(2, 10, 32)
        ref_row = weights[:, :, 0, 1:].mean(dim=1)

    seen_sdpa = []
    sdpa = F.scaled_dot_product_attention

    def recording_sdpa(q, k, v, **kwargs):
        seen_sdpa.append((q.dtype, k.dtype, v.dtype, torch.is_autocast_enabled('cpu')))
        return sdpa(q, k, v, **kwargs)

    monkeypatch.setattr(F, 'scaled_dot_product_attention', recording_sdpa)
    cores, plain_cores = [], []
    attn.proj.register_forward_pre_hook(_record_core(cores))
    plain.proj.register_forward_pre_hook(_record_core(plain_cores))
    with torch.no_grad(), torch.autocast(**AUTOCAST):
        out, row = attn(x, return_first_row=True)
        plain(x)

    if use_sdpa:  # inside: float32 inputs, autocast off; then the plain module: bf16, autocast on
        assert seen_sdpa == [(torch.float32, ) * 3 + (False, ), (torch.bfloat16, ) * 3 + (True, )]
    assert cores[0].dtype == torch.float32 and row.dtype == torch.float32
    torch.testing.assert_close(cores[0], ref_core, rtol=1e-5, atol=1e-5)
    torch.testing.assert_close(row, ref_row, rtol=1e-5, atol=1e-6)
    assert out.dtype == torch.bfloat16  # the output projection still follows autocast
    # the option matters: the plain module's attention is bf16 and off by bf16 rounding
    assert plain_cores[0].dtype == torch.bfloat16
    assert (plain_cores[0].float() - ref_core).abs().max() > 1e-3


def test_attention_fp32_is_a_no_op_without_autocast():
    torch.manual_seed(0)
    x = torch.randn(2, 10, 32)
    attn = Attention(32, 4, fp32=True).eval()
    plain = copy.deepcopy(attn)
    plain.fp32 = False
    with torch.no_grad():
        torch.testing.assert_close(attn(x, return_first_row=True),
                                   plain(x, return_first_row=True), rtol=0, atol=0)


@pytest.mark.parametrize('attn_fp32', [True, False])
def test_light_video_backbone_attention_dtype_under_autocast(attn_fp32):
    torch.manual_seed(0)
    model = UniFormerLight('xxs', ndim=3, attn_fp32=attn_fp32).eval()
    attns = [m for m in model.modules() if isinstance(m, Attention)]
    assert len(attns) == 8 + 2  # one per hourglass block of stages 3 and 4 (depths 8, 2)
    assert all(m.fp32 is attn_fp32 for m in attns)
    cores = []
    for m in attns:
        m.proj.register_forward_pre_hook(_record_core(cores))
    with torch.no_grad(), torch.autocast(**AUTOCAST):
        out = model(torch.randn(1, 3, 4, 64, 64))[0]
    assert len(cores) == len(attns)
    expected = torch.float32 if attn_fp32 else torch.bfloat16
    assert {c.dtype for c in cores} == {expected}
    assert out.shape == (1, 448, 2, 2, 2) and torch.isfinite(out.float()).all()


# ---------------------------------------------------------------- dual-loss video head
def _samples(labels):
    pytest.importorskip('mmaction')
    from mmaction.structures import ActionDataSample
    return [ActionDataSample().set_gt_label(label) for label in labels]


def _soft_ce(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    return -(target * logits.log_softmax(dim=-1)).sum(dim=-1).mean()


@pytest.mark.parametrize('weights', [(0.5, 0.5), (0.3, 1.0)])
@pytest.mark.parametrize('soft', [False, True])
def test_light_video_head_dual_loss_by_hand(weights, soft):
    pytest.importorskip('mmaction')
    from mmuniformer.models.video_heads import UniFormerLightVideoHead
    torch.manual_seed(0)
    k, eps = 5, 0.1
    head = UniFormerLightVideoHead(k, 8, loss_weights=weights, label_smooth_eps=eps,
                                   init_std=0.5)
    head.init_weights()
    fmap, token = torch.randn(3, 8, 2, 3, 3), torch.randn(3, 8)
    if soft:  # Mixup/CutMix targets: mixed one-hot rows
        labels = torch.softmax(torch.randn(3, k) * 3, dim=-1)
        target = labels
    else:
        labels = torch.tensor([0, 4, 2])
        target = F.one_hot(labels, k).float()
    target = (1 - eps) * target + eps / k  # mmaction2 smooths hard and soft targets alike

    losses = head.loss((fmap, token), _samples(list(labels)))
    pooled = fmap.flatten(2).mean(dim=-1)
    by_hand_map = _soft_ce(pooled @ head.fc_cls.weight.T + head.fc_cls.bias, target)
    by_hand_token = _soft_ce(token @ head.score_fc.weight.T + head.score_fc.bias, target)
    torch.testing.assert_close(losses['loss_cls'], weights[0] * by_hand_map)
    torch.testing.assert_close(losses['loss_score_token'], weights[1] * by_hand_token)
    assert by_hand_map.item() != pytest.approx(by_hand_token.item(), rel=1e-3)


def test_light_video_head_predicts_with_the_pooled_map_only():
    pytest.importorskip('mmaction')
    from mmuniformer.models.video_heads import UniFormerLightVideoHead
    torch.manual_seed(0)
    head = UniFormerLightVideoHead(5, 8, init_std=0.5, average_clips='prob').eval()
    head.init_weights()
    fmap = torch.randn(2, 8, 2, 3, 3)
    expected = torch.softmax(fmap.flatten(2).mean(-1) @ head.fc_cls.weight.T
                             + head.fc_cls.bias, dim=-1)
    for feats in ((fmap, torch.randn(2, 8)), fmap):
        preds = head.predict(feats, _samples([0, 1]))
        torch.testing.assert_close(torch.stack([p.pred_score for p in preds]), expected)
    assert head.dropout is None  # the official light head has no dropout
    with pytest.raises(ValueError, match='out_score_token=True'):
        head.loss(fmap, _samples([0, 1]))
    with pytest.raises(ValueError, match='two weights'):
        UniFormerLightVideoHead(5, 8, loss_weights=(1., ))


def test_light_video_recognizer_from_config_trains_both_heads():
    """The XXS config's Recognizer3D feeds the backbone's score token to the head: its two
    logged losses equal the hand computation on the backbone's own outputs."""
    pytest.importorskip('mmaction')
    from mmengine.config import Config
    from mmengine.registry import MODELS, init_default_scope
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'video', 'uniformer_xxs_16x4_k400_160.py'))
    init_default_scope('mmaction')
    cfg.model.backbone.init_cfg = None
    cfg.model.data_preprocessor.pop('blending')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.eval()  # BatchNorm running statistics and no drop path: deterministic
    labels = [3, 399]
    data = dict(inputs=[torch.randint(0, 256, (1, 3, 4, 64, 64), dtype=torch.uint8)
                        for _ in labels], data_samples=_samples(labels))
    batch = model.data_preprocessor(data, training=True)
    with torch.no_grad():
        losses = model(**batch, mode='loss')
        fmap, token = model.backbone(batch['inputs'].flatten(0, 1))
    assert set(losses) >= {'loss_cls', 'loss_score_token'}
    target = 0.9 * F.one_hot(torch.tensor(labels), 400).float() + 0.1 / 400
    head = model.cls_head
    by_hand_map = _soft_ce(fmap.flatten(2).mean(-1) @ head.fc_cls.weight.T + head.fc_cls.bias,
                           target)
    by_hand_token = _soft_ce(token @ head.score_fc.weight.T + head.score_fc.bias, target)
    torch.testing.assert_close(losses['loss_cls'], 0.5 * by_hand_map)
    torch.testing.assert_close(losses['loss_score_token'], 0.5 * by_hand_token)
    assert model.backbone.norm_cls is not None  # the official score-token LayerNorm
    assert all(m.fp32 for m in model.backbone.modules() if isinstance(m, Attention))


# ---------------------------------------------------------------- repeated augmentation
def test_repeat_aug_rejects_bad_arguments():
    pytest.importorskip('mmaction')
    from mmuniformer.datasets.repeat_aug import RepeatAug
    for bad in (0, -1, 1.5, True):
        with pytest.raises(ValueError, match='num_repeats must be a positive int'):
            RepeatAug([dict(type='PackActionInputs')], num_repeats=bad)
    with pytest.raises(ValueError, match='transforms to repeat'):
        RepeatAug([], num_repeats=2)


def test_repeated_augmentation_from_the_kinetics_config(tmp_path, monkeypatch):
    """Batch of 2 videos -> 4 clips: each video twice, adjacent, same frames, other crops."""
    pytest.importorskip('mmaction')
    pytest.importorskip('decord')
    from mmengine.config import Config
    from mmengine.registry import init_default_scope
    from mmengine.runner import Runner

    from tests.fake_data import write_fake_videos
    write_fake_videos(str(tmp_path), datasets=['kinetics400'], num_train=2, num_val=0,
                      num_frames=80)
    cfg = Config.fromfile(osp.join(REPO, 'configs', 'video', 'uniformer_s_16x4_k400.py'))
    init_default_scope('mmaction')
    loader_cfg = copy.deepcopy(cfg.train_dataloader)
    loader_cfg.update(batch_size=2, num_workers=0, persistent_workers=False)
    repeat = loader_cfg.dataset.pipeline[3]
    assert repeat.type == 'mmuniformer.RepeatAug' and repeat.num_repeats == 2
    repeat.transforms[-1].meta_keys = ('filename', 'frame_inds', 'crop_bbox', 'img_shape')
    monkeypatch.chdir(tmp_path)
    torch.manual_seed(0)
    batch = next(iter(Runner.build_dataloader(loader_cfg, seed=0)))
    samples, inputs = batch['data_samples'], batch['inputs']
    assert len(samples) == len(inputs) == 4
    names = [s.metainfo['filename'] for s in samples]
    assert sorted(Counter(names).values()) == [2, 2]
    for a, b in ((0, 1), (2, 3)):
        assert names[a] == names[b]
        assert (samples[a].metainfo['frame_inds'] == samples[b].metainfo['frame_inds']).all()
        assert samples[a].gt_label == samples[b].gt_label
        assert (samples[a].metainfo['crop_bbox'] != samples[b].metainfo['crop_bbox']).any()
        assert inputs[a].shape == inputs[b].shape == (1, 3, 16, 224, 224)
        assert not torch.equal(inputs[a], inputs[b])
