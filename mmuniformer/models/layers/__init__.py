from .blocks import (Attention, ConvMlp, GlobalBlock, LayerScale, LocalBlock, Mlp,
                     PointwiseConv2d, PointwiseConv3d, pointwise_conv_nd,
                     SplitGlobalBlock, bn_nd, conv_nd, window_partition, window_reverse)
from .embed import ConvEmbed, PatchEmbed, embed_stride
from .tokens import (channels_last_norm, map_to_tokens, temporal_to_frame_tokens, tokens_to_map,
                     video_to_frame_tokens, video_to_temporal_tokens)

__all__ = [
    'Attention', 'ConvMlp', 'GlobalBlock', 'LayerScale', 'LocalBlock', 'Mlp', 'SplitGlobalBlock',
    'PointwiseConv2d', 'PointwiseConv3d', 'pointwise_conv_nd',
    'bn_nd', 'conv_nd', 'window_partition', 'window_reverse', 'ConvEmbed', 'PatchEmbed', 'embed_stride',
    'channels_last_norm', 'map_to_tokens', 'tokens_to_map',
    'video_to_temporal_tokens', 'temporal_to_frame_tokens', 'video_to_frame_tokens'
]
