"""Data transforms; they extend mmpretrain's pipelines and need mmpretrain."""
from importlib.util import find_spec

__all__ = []
if find_spec('mmpretrain') is not None:
    from .token_label import (LoadTokenLabel, TokenLabelFlip, TokenLabelRandomResizedCrop,
                              TokenLabelResize, dense_token_label)
    __all__ += ['LoadTokenLabel', 'TokenLabelFlip', 'TokenLabelRandomResizedCrop',
                'TokenLabelResize', 'dense_token_label']
