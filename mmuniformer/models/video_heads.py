"""mmaction2 heads: the lightweight UniFormer video head (pooled map + score token)."""
from typing import Dict, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmaction.models.heads import I3DHead
from mmaction.utils import SampleList
from mmengine.model.weight_init import normal_init

from ..registry import MODELS
from ..validation import check_number_pair, check_positive_int, check_rate


@MODELS.register_module()
class UniFormerLightVideoHead(I3DHead):
    """mmaction2 ``I3DHead`` (``fc_cls`` on the pooled last map) plus ``score_fc`` on the
    score token, trained with the official light video loss.

    Input: the outputs of ``UniFormerLight(ndim=3, out_score_token=True)``: ``(map
    (N, C, T, H, W), score token (N, C))``; a lone map tensor is accepted for
    inference. Inference (``forward`` / ``predict``) uses ``fc_cls`` on the pooled map
    only. Training loss, as the released ``tools/train_net_cls.py``
    (``0.5 * loss(preds) + 0.5 * loss(preds_cls)``):
    ``loss_weights[0] * L(fc_cls(pool(map))) + loss_weights[1] * L(score_fc(token))``,
    with ``L`` mmaction2's loss on the same targets (label smoothing, Mixup/CutMix),
    logged as ``loss_cls`` and ``loss_score_token`` (accuracies from ``fc_cls``).

    Args:
        num_classes: classes.
        in_channels: channels of the last map and of the score token.
        loss_weights: weights of the pooled-map and the score-token losses.
        dropout_ratio: dropout before ``fc_cls`` (the official light head has none).
        **kwargs: as mmaction2's ``I3DHead`` (``loss_cls``, ``spatial_type``,
            ``init_std``, ``label_smooth_eps``, ``average_clips``, ...).
    """

    def __init__(self,
                 num_classes: int,
                 in_channels: int,
                 loss_weights: Sequence[float] = (0.5, 0.5),
                 dropout_ratio: float = 0.,
                 **kwargs) -> None:
        check_positive_int(num_classes=num_classes, in_channels=in_channels)
        check_rate(dropout_ratio=dropout_ratio)
        loss_weights = check_number_pair('loss_weights', loss_weights,
                                         'weights (pooled map, score token)')
        super().__init__(num_classes, in_channels, dropout_ratio=dropout_ratio, **kwargs)
        self.loss_weights = loss_weights
        self.score_fc = nn.Linear(in_channels, num_classes)

    def init_weights(self) -> None:
        """Normal init (std ``init_std``) of both classifiers, as mmaction2's I3DHead."""
        super().init_weights()
        normal_init(self.score_fc, std=self.init_std)

    @staticmethod
    def _split(feats: Union[torch.Tensor, Tuple[torch.Tensor, ...]]
               ) -> Tuple[torch.Tensor, Union[torch.Tensor, None]]:
        """``(map (N, C, T, H, W), score token (N, C))`` -> both; a lone map -> (map, None)."""
        if isinstance(feats, torch.Tensor):
            return feats, None
        feats = tuple(feats)
        maps = [f for f in feats if f.dim() == 5]
        if not maps:
            raise ValueError(f'UniFormerLightVideoHead needs an (N, C, T, H, W) map among its '
                             f'inputs, got shapes {[tuple(f.shape) for f in feats]}')
        token = feats[-1] if feats[-1].dim() == 2 else None
        return maps[-1], token

    def forward(self, x: Union[torch.Tensor, Tuple[torch.Tensor, ...]], **kwargs) -> torch.Tensor:
        """Class scores ``(N, num_classes)`` from the pooled map."""
        return super().forward(self._split(x)[0], **kwargs)

    def loss(self, feats: Union[torch.Tensor, Tuple[torch.Tensor, ...]],
             data_samples: SampleList, **kwargs) -> Dict[str, torch.Tensor]:
        """``loss_cls`` (pooled map) and ``loss_score_token``, both weighted, plus the
        pooled branch's top-k accuracies."""
        feat_map, token = self._split(feats)
        if token is None:
            raise ValueError('UniFormerLightVideoHead trains on the score token too: build the '
                             'backbone with out_score_token=True (and out_tuple=True)')
        losses = self.loss_by_feat(super().forward(feat_map, **kwargs), data_samples)
        token_losses = self.loss_by_feat(self.score_fc(token), data_samples)
        losses['loss_cls'] = self.loss_weights[0] * losses['loss_cls']
        losses['loss_score_token'] = self.loss_weights[1] * token_losses['loss_cls']
        return losses
