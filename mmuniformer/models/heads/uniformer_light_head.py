"""Classification head of the lightweight UniFormer (pooled map + score token) for mmpretrain."""
from typing import List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmpretrain.evaluation.metrics import Accuracy
from mmpretrain.models.heads import ClsHead
from mmpretrain.structures import DataSample

from ...registry import MODELS
from ...validation import check_number_pair, check_positive_int


@MODELS.register_module()
class UniFormerLightClsHead(ClsHead):
    """Head with a classifier ``fc`` on the pooled last map and ``score_fc`` on the score token.

    Input: the outputs of ``UniFormerLight(out_score_token=True)``: ``(..., map
    (B, C, H, W), score token (B, C))`` (no neck). Inference (``forward`` /
    ``predict``) uses ``fc(mean over H, W)`` only, so a backbone without the score
    token output also works there. Training loss (the official recipe):
    ``loss_weights[0] * L(fc) + loss_weights[1] * L(score_fc)`` with ``L`` the
    configured loss (label smoothing, soft Mixup/CutMix targets), logged as
    ``loss_cls`` and ``loss_score_token`` (mmengine logs their sum as ``loss``).

    Args:
        num_classes: classes.
        in_channels: channels of the last map and of the score token.
        loss_weights: weights of the pooled and the score-token losses.
        loss / topk / cal_acc / init_cfg: as mmpretrain's ``ClsHead``.
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss_weights: Sequence[float] = (0.5, 0.5),
                 loss: dict = dict(type='CrossEntropyLoss', loss_weight=1.0),
                 topk: Union[int, Tuple[int, ...]] = (1, ),
                 cal_acc: bool = False,
                 init_cfg: Optional[dict] = dict(type='TruncNormal', layer='Linear', std=.02,
                                                 bias=0.)) -> None:
        check_positive_int(num_classes=num_classes, in_channels=in_channels)
        self.loss_weights = check_number_pair('loss_weights', loss_weights,
                                              'weights (pooled map, score token)')
        super().__init__(loss=loss, topk=topk, cal_acc=cal_acc, init_cfg=init_cfg)
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.fc = nn.Linear(in_channels, num_classes)
        self.score_fc = nn.Linear(in_channels, num_classes)

    def pre_logits(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """The last ``(B, C, H, W)`` map of ``feats``, averaged to ``(B, C)``."""
        maps = [f for f in feats if f.dim() == 4]
        if not maps:
            raise ValueError(f'UniFormerLightClsHead needs a (B, C, H, W) feature map among its '
                             f'inputs, got shapes {[tuple(f.shape) for f in feats]} (use no neck)')
        return maps[-1].flatten(2).mean(dim=-1)

    def forward(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Class logits ``(B, num_classes)`` from the pooled map."""
        return self.fc(self.pre_logits(feats))

    def score_token_logits(self, feats: Tuple[torch.Tensor, ...]) -> torch.Tensor:
        """Class logits ``(B, num_classes)`` from the score token ``feats[-1]`` ``(B, C)``."""
        token = feats[-1]
        if token.dim() != 2:
            raise ValueError(f'UniFormerLightClsHead expects the score token (B, C) as the last '
                             f'input, got shape {tuple(token.shape)}: build the backbone with '
                             f'out_score_token=True')
        return self.score_fc(token)

    def loss(self, feats: Tuple[torch.Tensor, ...], data_samples: List[DataSample],
             **kwargs) -> dict:
        """``loss_cls`` (pooled branch) and ``loss_score_token``, both already weighted."""
        cls_score = self(feats)
        token_score = self.score_token_logits(feats)
        if 'gt_score' in data_samples[0]:
            target = torch.stack([s.gt_score for s in data_samples])  # soft (Mixup/CutMix)
        else:
            target = torch.cat([s.gt_label for s in data_samples])
        n = cls_score.size(0)
        losses = dict(
            loss_cls=self.loss_weights[0] * self.loss_module(cls_score, target, avg_factor=n,
                                                             **kwargs),
            loss_score_token=self.loss_weights[1] *
            self.loss_module(token_score, target, avg_factor=n, **kwargs))
        if self.cal_acc:
            if target.ndim != 1:
                raise ValueError('cal_acc needs hard labels; it is pointless with Mixup/CutMix')
            acc = Accuracy.calculate(cls_score, target, topk=self.topk)
            losses.update({f'accuracy_top-{k}': a for k, a in zip(self.topk, acc)})
        return losses
