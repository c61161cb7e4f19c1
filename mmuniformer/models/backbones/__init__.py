from .uniformer import ARCH_ZOO, UniFormer
from .uniformer_light import ARCH_ZOO_LIGHT, UniFormerLight

__all__ = ['ARCH_ZOO', 'UniFormer', 'ARCH_ZOO_LIGHT', 'UniFormerLight']
