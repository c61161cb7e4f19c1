"""Explanations (Grad-CAM of UniFormer models, the light models' kept tokens) and drawing."""
from .cam import (class_logits, default_target_layer, grad_cam, model_grad_cam,
                  record_activations, uniformer_backbone)
from .drawing import (IMAGE_EXTENSIONS, enlarge, put_lines, read_image, read_video,
                      write_video)
from .inputs import image_inputs, load_model
from .tokens import KeptTokens, hourglass_blocks, record_kept_tokens

__all__ = ['class_logits', 'default_target_layer', 'grad_cam', 'model_grad_cam',
           'record_activations', 'uniformer_backbone', 'IMAGE_EXTENSIONS', 'enlarge', 'put_lines',
           'read_image', 'read_video', 'write_video', 'image_inputs', 'load_model',
           'KeptTokens', 'hourglass_blocks', 'record_kept_tokens']
