from .blocks import (SAME_WINDOW, Attention, ConvMlp, GlobalBlock, GlobalBlockBase, LayerScale,
                     LocalBlock, Mlp, PointwiseConv2d, PointwiseConv3d, SplitGlobalBlock, bn_nd,
                     conv_nd, pointwise_conv_nd, window_partition, window_reverse)
from .embed import ConvEmbed, PatchEmbed, embed_stride
from .fused import FUSED_KINDS, fused_kernels, fused_layers, set_fused
from .tokens import (channels_last_norm, map_to_tokens, temporal_to_frame_tokens, tokens_to_map,
                     video_to_frame_tokens, video_to_temporal_tokens)

__all__ = [
    'Attention', 'ConvMlp', 'GlobalBlock', 'GlobalBlockBase', 'LayerScale', 'LocalBlock', 'Mlp',
    'SAME_WINDOW', 'SplitGlobalBlock', 'PointwiseConv2d', 'PointwiseConv3d', 'pointwise_conv_nd',
    'bn_nd', 'conv_nd', 'window_partition', 'window_reverse', 'ConvEmbed', 'PatchEmbed',
    'embed_stride', 'FUSED_KINDS', 'fused_kernels', 'fused_layers', 'set_fused',
    'channels_last_norm', 'map_to_tokens', 'tokens_to_map',
    'video_to_temporal_tokens', 'temporal_to_frame_tokens', 'video_to_frame_tokens'
]
