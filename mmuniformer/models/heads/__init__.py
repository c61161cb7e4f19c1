from .token_label_head import TokenLabelClsHead, soft_cross_entropy
from .uniformer_light_head import UniFormerLightClsHead

__all__ = ['TokenLabelClsHead', 'soft_cross_entropy', 'UniFormerLightClsHead']
