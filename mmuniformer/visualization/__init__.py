"""Explanations: Grad-CAM of UniFormer models and the light models' kept tokens."""
from .cam import (class_logits, default_target_layer, grad_cam, model_grad_cam,
                  record_activations, uniformer_backbone)
from .inputs import image_inputs, load_model
from .tokens import KeptTokens, hourglass_blocks, record_kept_tokens

__all__ = ['class_logits', 'default_target_layer', 'grad_cam', 'model_grad_cam',
           'record_activations', 'uniformer_backbone', 'image_inputs', 'load_model',
           'KeptTokens', 'hourglass_blocks', 'record_kept_tokens']
