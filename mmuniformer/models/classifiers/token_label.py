"""Image classifier with MixToken for token-labeling training (mmpretrain)."""
import math
from typing import List, Optional, Tuple

import torch
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.structures import DataSample

from ...registry import MODELS
from ...validation import check_bool, check_positive


def sample_mix_box(h: int, w: int, lam: float, ratio: int = 8,
                   generator: Optional[torch.Generator] = None) -> Tuple[int, int, int, int]:
    """MixToken box ``(y1, x1, y2, x2)`` on the last token grid.

    Drawn as the official ``rand_bbox`` (tlt/models/uniformer.py, the CutMix rule) on
    the stage-1 grid ``h x w`` (stride 4): sides ``int(h * sqrt(1 - lam))`` and
    ``int(w * sqrt(1 - lam))``, centre uniform over the grid, clipped at the border;
    then floor-divided by ``ratio`` (8: stride 32 / stride 4) as the official does
    before swapping the token predictions back and computing ``lam`` from it.

    Args:
        h, w: stage-1 token grid.
        lam: CutMix lambda in [0, 1].
        ratio: stride of the last grid over the stage-1 grid.
        generator: random generator.
    """
    if not 0.0 <= lam <= 1.0:
        raise ValueError(f'lam must be in [0, 1], got {lam}')
    cut = math.sqrt(1.0 - lam)
    ch, cw = int(h * cut), int(w * cut)
    cy = int(torch.randint(h, (1, ), generator=generator))
    cx = int(torch.randint(w, (1, ), generator=generator))
    y1, y2 = min(max(cy - ch // 2, 0), h), min(max(cy + ch // 2, 0), h)
    x1, x2 = min(max(cx - cw // 2, 0), w), min(max(cx + cw // 2, 0), w)
    return y1 // ratio, x1 // ratio, y2 // ratio, x2 // ratio


@MODELS.register_module()
class TokenLabelClassifier(ImageClassifier):
    """``ImageClassifier`` whose training step applies MixToken.

    ``lam ~ Beta(mix_beta, mix_beta)``; a box is drawn on the stage-1 grid (stride 4)
    with the official rule and mapped to the last grid (stride 32), see
    :func:`sample_mix_box`. The backbone swaps the stage-1 tokens under exactly that
    last-grid box (scaled by 8) with those of the batch-flipped sample, so the mixed
    region coincides with the last-grid tokens whose predictions the head swaps back
    (the official swaps the unrounded stage-1 box, which last-grid tokens only partly
    cover); the head mixes the class targets by ``lam = 1 - box area / grid area``.

    Args:
        mix_token: apply MixToken in training.
        mix_beta: Beta distribution parameter (official 1.0).
        **kwargs: ``ImageClassifier`` arguments.
    """

    def __init__(self, mix_token: bool = True, mix_beta: float = 1.0, **kwargs) -> None:
        check_bool(mix_token=mix_token)
        check_positive(mix_beta=mix_beta)
        super().__init__(**kwargs)
        self.mix_token = mix_token
        self.mix_beta = mix_beta

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> dict:
        if not self.mix_token:
            return super().loss(inputs, data_samples)
        # stage-1 grid: two stride-2 convolutions with padding 1
        h, w = -(-inputs.shape[-2] // 4), -(-inputs.shape[-1] // 4)
        lam = float(torch.distributions.Beta(self.mix_beta, self.mix_beta).sample())
        box = sample_mix_box(h, w, lam)
        feats = self.backbone(inputs, mix_box=tuple(v * 8 for v in box))
        if self.with_neck:
            feats = self.neck(feats)
        return self.head.loss(feats, data_samples, mix_box=box)
