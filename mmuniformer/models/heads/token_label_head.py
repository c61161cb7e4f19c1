"""Token-labeling classification head (UniFormer / LV-ViT token labeling) for mmpretrain."""
from typing import List, Optional, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample

from ...registry import MODELS
from ..layers import map_to_tokens


def soft_cross_entropy(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over rows of ``-sum(target * log_softmax(logits))``; both ``(N, K)``."""
    return torch.sum(-target * F.log_softmax(logits, dim=-1), dim=-1).mean()


@MODELS.register_module()
class TokenLabelClsHead(ClsHead):
    """Head with a pooled classifier ``fc`` and a per-token classifier ``aux_fc``.

    Input: the last backbone feature ``(B, C, h, w)``. Inference score:
    ``fc(mean over tokens) + aux_infer_weight * max over tokens of aux_fc(tokens)``.
    Training loss: ``cls_weight * CE(fc, label)`` with label smoothing, mixed by
    MixToken's ``lam``, plus ``dense_weight * CE(aux_fc, token_label)`` averaged over
    tokens, against each sample's ``token_label`` map ``(num_classes, h, w)``.

    Args:
        num_classes: classes.
        in_channels: channels of the last feature.
        dense_weight / cls_weight: loss weights (official defaults 1.0 / 1.0).
        aux_infer_weight: weight of the token-max term at inference (official 0.5).
        label_smooth_val: label smoothing of the class target.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 dense_weight: float = 1.0,
                 cls_weight: float = 1.0,
                 aux_infer_weight: float = 0.5,
                 label_smooth_val: float = 0.1,
                 init_cfg: Optional[dict] = dict(type='TruncNormal', layer='Linear', std=.02, bias=0.),
                 **kwargs) -> None:
        super().__init__(init_cfg=init_cfg, **kwargs)
        self.num_classes = num_classes
        self.dense_weight = dense_weight
        self.cls_weight = cls_weight
        self.aux_infer_weight = aux_infer_weight
        self.label_smooth_val = label_smooth_val
        self.fc = nn.Linear(in_channels, num_classes)
        self.aux_fc = nn.Linear(in_channels, num_classes)

    def _logits(self, feats: Tuple[torch.Tensor, ...]) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(B, C, h, w)`` -> class logits ``(B, K)``, token logits ``(B, h*w, K)``."""
        tokens = map_to_tokens(feats[-1])
        return self.fc(tokens.mean(dim=1)), self.aux_fc(tokens)

    def forward(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        cls, aux = self._logits(feats)
        return cls + self.aux_infer_weight * aux.max(dim=1)[0]

    def loss(self, feats: Tuple[torch.Tensor, ...], data_samples: List[DataSample],
             mix_box: Optional[Tuple[int, int, int, int]] = None, **kwargs) -> dict:
        """Losses; ``mix_box`` ``(y1, x1, y2, x2)`` on the last feature's grid marks the
        MixToken region, whose token predictions are swapped back before the dense loss."""
        b, _, h, w = feats[-1].shape
        cls, aux = self._logits(feats)
        lam = 1.0
        if mix_box is not None:
            y1, x1, y2, x2 = mix_box
            aux = aux.view(b, h, w, -1).clone()
            aux[:, y1:y2, x1:x2] = aux.flip(0)[:, y1:y2, x1:x2]
            aux = aux.view(b, h * w, -1)
            lam = 1.0 - (y2 - y1) * (x2 - x1) / (h * w)
        if 'gt_score' in data_samples[0]:
            target = torch.stack([s.gt_score for s in data_samples]).float()
        else:
            labels = torch.cat([s.gt_label for s in data_samples])
            target = F.one_hot(labels, self.num_classes).float()
        target = target * (1 - self.label_smooth_val) + self.label_smooth_val / self.num_classes
        if lam < 1:
            target = lam * target + (1 - lam) * target.flip(0)
        dense = torch.stack([torch.as_tensor(s.token_label) for s in data_samples]).to(aux)
        if dense.shape[1:] != (self.num_classes, h, w):
            raise ValueError(f'token_label maps have shape {tuple(dense.shape[1:])}, the head needs '
                             f'({self.num_classes}, {h}, {w}): set the pipeline label_size to {h}')
        dense = map_to_tokens(dense).reshape(b * h * w, -1)
        return dict(
            loss_cls=self.cls_weight * soft_cross_entropy(cls, target),
            loss_dense=self.dense_weight * soft_cross_entropy(aux.reshape(b * h * w, -1), dense))
