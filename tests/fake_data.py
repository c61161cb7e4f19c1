"""Tiny on-disk datasets in the layouts the contract configs expect."""
import os
import os.path as osp
from typing import Sequence

import numpy as np
from PIL import Image


def write_fake_imagenet(root: str, num_per_split: int = 2, size: int = 72,
                        labels: Sequence[int] = (3, 997), token_label_hw: int = 0,
                        seed: int = 0) -> None:
    """Write ``root/data/imagenet/{train,val}/...`` with ``meta/{train,val}.txt``.

    With ``token_label_hw`` > 0 also write official-format ``(2, 5, h, w)`` token-label
    maps under ``root/data/imagenet_token_label/train`` mirroring the train images.
    """
    rng = np.random.default_rng(seed)
    base = osp.join(root, 'data', 'imagenet')
    os.makedirs(osp.join(base, 'meta'), exist_ok=True)
    for split in ('train', 'val'):
        lines = []
        for i in range(num_per_split):
            label = labels[i % len(labels)]
            rel = f'n{label:08d}/img_{i}.JPEG'
            path = osp.join(base, split, rel)
            os.makedirs(osp.dirname(path), exist_ok=True)
            Image.fromarray(rng.integers(0, 255, (size, size + 8, 3), dtype=np.uint8)).save(
                path, format='JPEG')
            lines.append(f'{rel} {label}')
            if split == 'train' and token_label_hw:
                lab = osp.join(root, 'data', 'imagenet_token_label', 'train', rel[:-5] + '.npy')
                os.makedirs(osp.dirname(lab), exist_ok=True)
                scores = rng.dirichlet(np.ones(5), size=(token_label_hw, token_label_hw))
                index = rng.choice(1000, size=(token_label_hw, token_label_hw, 5))
                index[..., 0] = label
                np.save(lab, np.stack([scores.transpose(2, 0, 1),
                                       index.transpose(2, 0, 1).astype(np.float64)]))
        with open(osp.join(base, 'meta', f'{split}.txt'), 'w') as f:
            f.write('\n'.join(lines) + '\n')
