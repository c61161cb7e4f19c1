"""Token-labeling classification head (UniFormer / LV-ViT token labeling) for mmpretrain."""
from typing import List, Optional, Tuple

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample

from ...registry import MODELS
from ...validation import check_bool, check_non_negative, check_positive_int, check_rate
from ..layers import map_to_tokens


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over rows of ``-sum(target * log_softmax(logits))``; both ``(N, K)``."""
    return torch.sum(-target * F.log_softmax(logits, dim=-1), dim=-1).mean()


def _stack_field(data_samples: List[DataSample], key: str) -> torch.Tensor:
    return torch.stack([torch.as_tensor(np.asarray(s.get(key)), dtype=torch.float32)
                        for s in data_samples])


@MODELS.register_module()
class TokenLabelClsHead(ClsHead):
    """Head with a pooled classifier ``fc`` and a per-token classifier ``aux_fc``.

    Input: the last backbone feature ``(B, C, h, w)``. Inference score:
    ``fc(mean over tokens) + aux_infer_weight * max over tokens of aux_fc(tokens)``.

    Training (the official tlt/loss/cross_entropy.py ``TokenLabelCrossEntropy`` on
    the targets of tlt/data/mixup.py), with ``off = label_smooth_val / K`` and
    ``on = 1 - label_smooth_val + off``:

    * class target ``on * token_label_cls + off``: the annotator's distribution over
      the crop (``token_label_cls`` ``(K, )`` of each sample), not the ground truth;
      with ``use_ground_truth`` it is mixed with the smoothed ground-truth one-hot
      ``y`` as the official ``--ground-truth`` flag does:
      ``r * target + (1 - r) * y``, ``r = 0.5`` where both have the same arg-max and
      ``r = 0.9`` where they differ; then MixToken's ``lam`` mixes it with the
      batch-flipped sample's target;
    * token targets ``on * token_label + off`` (``token_label`` ``(K, h, w)``), against
      the token predictions with the MixToken region swapped back.

    ``loss = cls_weight * CE(fc, class target) + dense_weight * mean over tokens
    CE(aux_fc, token target)``.

    Args:
        num_classes: classes.
        in_channels: channels of the last feature.
        dense_weight / cls_weight: loss weights (official defaults 1.0 / 1.0).
        aux_infer_weight: weight of the token-max term at inference (official 0.5).
        label_smooth_val: label smoothing (official 0.1).
        use_ground_truth: mix the ground truth into the class target (official
            ``--ground-truth``, off in every released script).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 dense_weight: float = 1.0,
                 cls_weight: float = 1.0,
                 aux_infer_weight: float = 0.5,
                 label_smooth_val: float = 0.1,
                 use_ground_truth: bool = False,
                 init_cfg: Optional[dict] = dict(type='TruncNormal', layer='Linear', std=.02, bias=0.),
                 **kwargs) -> None:
        check_positive_int(num_classes=num_classes, in_channels=in_channels)
        check_non_negative(dense_weight=dense_weight, cls_weight=cls_weight,
                           aux_infer_weight=aux_infer_weight)
        check_rate(label_smooth_val=label_smooth_val)
        check_bool(use_ground_truth=use_ground_truth)
        super().__init__(init_cfg=init_cfg, **kwargs)
        self.num_classes = num_classes
        self.dense_weight = dense_weight
        self.cls_weight = cls_weight
        self.aux_infer_weight = aux_infer_weight
        self.label_smooth_val = label_smooth_val
        self.use_ground_truth = use_ground_truth
        self.fc = nn.Linear(in_channels, num_classes)
        self.aux_fc = nn.Linear(in_channels, num_classes)

    def _logits(self, feats: Tuple[torch.Tensor, ...]) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(B, C, h, w)`` -> class logits ``(B, K)``, token logits ``(B, h*w, K)``."""
        tokens = map_to_tokens(feats[-1])
        return self.fc(tokens.mean(dim=1)), self.aux_fc(tokens)

    def forward(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        cls, aux = self._logits(feats)
        return cls + self.aux_infer_weight * aux.max(dim=1)[0]

    def _targets(self, data_samples: List[DataSample], h: int, w: int
                 ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Smoothed class targets ``(B, K)`` and token targets ``(B, K, h, w)``."""
        missing = [k for k in ('token_label', 'token_label_cls') if k not in data_samples[0]]
        if missing:
            raise ValueError(
                f'data samples lack {missing}: put mmuniformer.TokenLabelRandomResizedCrop (or '
                'TokenLabelResize) in the train pipeline and pack with '
                "PackInputs(algorithm_keys=['token_label', 'token_label_cls'])")
        dense = _stack_field(data_samples, 'token_label')
        if dense.shape[1:] != (self.num_classes, h, w):
            raise ValueError(f'token_label maps have shape {tuple(dense.shape[1:])}, the head needs '
                             f'({self.num_classes}, {h}, {w}): set the pipeline label_size to {h}')
        crop = _stack_field(data_samples, 'token_label_cls')
        if crop.shape[1:] != (self.num_classes, ):
            raise ValueError(f'token_label_cls has shape {tuple(crop.shape[1:])}, expected '
                             f'({self.num_classes}, )')
        off = self.label_smooth_val / self.num_classes
        on = 1.0 - self.label_smooth_val + off
        target = crop * on + off
        if self.use_ground_truth:
            labels = torch.cat([s.gt_label for s in data_samples]).long()
            truth = torch.full_like(target, off).scatter_(1, labels[:, None], on)
            agree = truth.argmax(1) == target.argmax(1)
            ratio = (0.9 - 0.4 * agree.float())[:, None]
            target = target * ratio + truth * (1 - ratio)
        return target, dense * on + off

    def loss(self, feats: Tuple[torch.Tensor, ...], data_samples: List[DataSample],
             mix_box: Optional[Tuple[int, int, int, int]] = None, **kwargs) -> dict:
        """Losses; ``mix_box`` ``(y1, x1, y2, x2)`` on the last feature's grid marks the
        MixToken region, whose token predictions are swapped back before the dense loss
        and whose area sets ``lam = 1 - area / (h * w)``."""
        b, _, h, w = feats[-1].shape
        cls, aux = self._logits(feats)
        target, dense = self._targets(data_samples, h, w)
        target, dense = target.to(cls), dense.to(aux)
        if mix_box is not None:
            y1, x1, y2, x2 = mix_box
            lam = 1.0 - (y2 - y1) * (x2 - x1) / (h * w)
            if lam < 1:
                aux = aux.view(b, h, w, -1).clone()
                aux[:, y1:y2, x1:x2] = aux.flip(0)[:, y1:y2, x1:x2]
                aux = aux.view(b, h * w, -1)
                target = lam * target + (1 - lam) * target.flip(0)
        dense = map_to_tokens(dense).reshape(b * h * w, -1)
        return dict(
            loss_cls=self.cls_weight * soft_cross_entropy(cls, target),
            loss_dense=self.dense_weight * soft_cross_entropy(aux.reshape(b * h * w, -1), dense))
