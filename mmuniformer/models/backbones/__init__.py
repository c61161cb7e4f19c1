from .uniformer import ARCH_ZOO, UniFormer

__all__ = ['ARCH_ZOO', 'UniFormer']
