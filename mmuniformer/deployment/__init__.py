"""Deployment: the two-stage detectors as one traceable graph
(:mod:`mmuniformer.deployment.detector`) and exported ONNX graphs run in ONNX Runtime /
OpenVINO inside the libraries' models (:mod:`mmuniformer.deployment.runtime`)."""
from .detector import (BatchedNMS, DetectorGraph, check_detector, compare_detections,
                       full_sizes, mmdet_predictions, paste_masks)
from .runtime import (PRECISIONS, RUNTIMES, RuntimeGraph, check_onnx, det_instances,
                      make_runner, use_runtime)

__all__ = ['BatchedNMS', 'DetectorGraph', 'check_detector', 'compare_detections', 'full_sizes',
           'mmdet_predictions', 'paste_masks', 'PRECISIONS', 'RUNTIMES', 'RuntimeGraph',
           'check_onnx', 'det_instances', 'make_runner', 'use_runtime']
