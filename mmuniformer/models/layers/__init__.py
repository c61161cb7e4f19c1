from .blocks import (Attention, ConvMlp, GlobalBlock, LayerScale, LocalBlock, Mlp, bn_nd,
                     conv_nd, window_partition, window_reverse)
from .embed import ConvEmbed, PatchEmbed, embed_stride
from .tokens import channels_last_norm, map_to_tokens, tokens_to_map

__all__ = [
    'Attention', 'ConvMlp', 'GlobalBlock', 'LayerScale', 'LocalBlock', 'Mlp', 'bn_nd', 'conv_nd',
    'window_partition', 'window_reverse', 'ConvEmbed', 'PatchEmbed', 'embed_stride',
    'channels_last_norm', 'map_to_tokens', 'tokens_to_map'
]
