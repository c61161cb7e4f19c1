from .token_label import TokenLabelClassifier, sample_mix_box

__all__ = ['TokenLabelClassifier', 'sample_mix_box']
