"""Image classifier with MixToken for token-labeling training (mmpretrain)."""
import math
from typing import List, Optional, Tuple

import torch
from mmpretrain.models.classifiers import ImageClassifier
from mmpretrain.structures import DataSample

from ...registry import MODELS


def sample_mix_box(h: int, w: int, lam: float, generator: Optional[torch.Generator] = None
                   ) -> Tuple[int, int, int, int]:
    """A CutMix box ``(y1, x1, y2, x2)`` covering about ``1 - lam`` of an ``h x w`` grid."""
    cut = math.sqrt(1.0 - lam)
    ch, cw = int(h * cut), int(w * cut)
    cy = int(torch.randint(h, (1, ), generator=generator))
    cx = int(torch.randint(w, (1, ), generator=generator))
    return (max(cy - ch // 2, 0), max(cx - cw // 2, 0), min(cy + ch // 2, h), min(cx + cw // 2, w))


@MODELS.register_module()
class TokenLabelClassifier(ImageClassifier):
    """``ImageClassifier`` whose training step applies MixToken.

    A box is drawn on the last feature grid (stride 32) with area ``1 - lam``,
    ``lam ~ Beta(mix_beta, mix_beta)``; the backbone swaps the stage-1 tokens (stride
    4) inside the scaled box with those of the batch-flipped sample, and the head
    swaps the token predictions back and mixes the class targets by ``lam``.

    Args:
        mix_token: apply MixToken in training.
        mix_beta: Beta distribution parameter.
        **kwargs: ``ImageClassifier`` arguments.
    """

    def __init__(self, mix_token: bool = True, mix_beta: float = 1.0, **kwargs) -> None:
        super().__init__(**kwargs)
        self.mix_token = mix_token
        self.mix_beta = mix_beta

    def loss(self, inputs: torch.Tensor, data_samples: List[DataSample]) -> dict:
        if not self.mix_token:
            return super().loss(inputs, data_samples)
        h, w = inputs.shape[-2] // 32, inputs.shape[-1] // 32
        lam = float(torch.distributions.Beta(self.mix_beta, self.mix_beta).sample())
        box = sample_mix_box(h, w, lam)
        feats = self.backbone(inputs, mix_box=tuple(v * 8 for v in box))
        if self.with_neck:
            feats = self.neck(feats)
        return self.head.loss(feats, data_samples, mix_box=box)
