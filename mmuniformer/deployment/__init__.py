"""Deployment: the parts of the models that the exporter cannot trace as they are."""
from .detector import (BatchedNMS, DetectorGraph, check_detector, compare_detections,
                       detector_outputs, mmdet_predictions, paste_masks)

__all__ = ['BatchedNMS', 'DetectorGraph', 'check_detector', 'compare_detections',
           'detector_outputs',
           'mmdet_predictions', 'paste_masks']
