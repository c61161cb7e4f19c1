"""Two-stage detection (Mask R-CNN, Cascade Mask R-CNN, Faster R-CNN) as one traceable graph.

mmdet's ``predict`` post-processes each image with Python loops, data-dependent shapes and
mmcv's NMS / RoIAlign kernels, none of which the ONNX exporter can record. :class:`DetectorGraph`
computes the same detections with the model's own modules (backbone, FPN, RPN head, RoI
extractors' level mapping, box / mask heads, box coder) and, for what mmdet does in Python,
batched tensor code whose two kernels are ONNX operators: ``NonMaxSuppression`` (one call for
every image x class, as ONNX defines it) and ``RoiAlign`` (torchvision's ``roi_align``, aligned
= ONNX's ``half_pixel``). Shapes stay dynamic in batch, height and width.

Inputs: ``input (B, 3, H, W)`` (normalised pixels, padded to the batch's size) and
``image_sizes (B, 2)`` (int64 height and width of each image before padding, mmdet's
``img_shape``: boxes are clipped to it). Outputs:

* ``dets (B, D, 5)``: ``x1, y1, x2, y2, score`` in input pixels, clipped to the image, score
  descending; ``D`` = the config's ``test_cfg.rcnn.max_per_img`` (fewer only when there are
  fewer class x proposal pairs); rows past the detections are padding with score 0;
* ``labels (B, D)`` int64;
* ``masks (B, D, M, M)``: the mask head's probability (sigmoid) of each detection's class
  inside its box (Mask R-CNN: ``M`` = 28), not pasted into the image.

What may differ from mmdet: equal scores may be ordered differently by the two NMS
implementations.
"""
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
import torch.nn as nn
from torch import Tensor

#: the RPN's score of a proposal that is no candidate (smaller than any sigmoid score)
_NO_SCORE = -1.


class BatchedNMS(torch.autograd.Function):
    """ONNX ``NonMaxSuppression`` of ``G`` independent groups (images, or image x class).

    ``boxes (G, N, 4)`` as ``x1, y1, x2, y2``; ``scores (G, 1, N)``; keeps at most
    ``max_per_group`` boxes of each group, those scored above ``score_thr``, suppressing boxes
    whose IoU with a kept, higher-scored one exceeds ``iou_thr``. Returns ``(K, 3)`` int64 rows
    ``[group, 0, box]``, each group's rows by score descending. Eager PyTorch runs mmcv's NMS
    (mmdet's kernel) per group; the exported graph is the one ONNX operator.
    """

    @staticmethod
    def forward(ctx: Any, boxes: Tensor, scores: Tensor, max_per_group: int, iou_thr: float,
                score_thr: float) -> Tensor:
        from mmcv.ops import nms
        rows = []
        for g in range(boxes.shape[0]):
            candidates = (scores[g, 0] > score_thr).nonzero()[:, 0]
            if len(candidates) == 0:
                continue
            _, keep = nms(boxes[g, candidates], scores[g, 0, candidates], iou_thr)
            kept = candidates[keep[:max_per_group]]
            rows.append(torch.stack([torch.full_like(kept, g), torch.zeros_like(kept), kept], 1))
        return torch.cat(rows) if rows else boxes.new_zeros((0, 3), dtype=torch.long)

    @staticmethod
    def symbolic(g: Any, boxes: Any, scores: Any, max_per_group: int, iou_thr: float,
                 score_thr: float) -> Any:
        def const(value: Any, dtype: torch.dtype) -> Any:
            return g.op('Constant', value_t=torch.tensor([value], dtype=dtype))
        return g.op('NonMaxSuppression', boxes, scores, const(max_per_group, torch.long),
                    const(iou_thr, torch.float), const(score_thr, torch.float))


def _topk(x: Tensor, k_max: int) -> Tuple[Tensor, Tensor]:
    """``x.topk(min(k_max, x.shape[1]), dim=1)`` with the count a graph value."""
    k = torch.clamp(torch.tensor(x.shape[1]), max=k_max)
    return x.topk(k, dim=1)


def _gather_rows(x: Tensor, index: Tensor) -> Tensor:
    """``x[b, index[b]]`` for ``x (B, N, ...)`` and ``index (B, K)``: ``(B, K, ...)``."""
    idx = index.reshape(*index.shape, *([1] * (x.dim() - 2))).expand(-1, -1, *x.shape[2:])
    return x.gather(1, idx)


def _clip(boxes: Tensor, limits: Tensor) -> Tensor:
    """Boxes ``(B, ..., 4)`` clipped to each image's ``[0, W] x [0, H]``, ``limits (B, 4)``
    holding ``W, H, W, H``."""
    limits = limits.reshape(limits.shape[0], *([1] * (boxes.dim() - 2)), 4).to(boxes.dtype)
    return torch.minimum(boxes.clamp(min=0), limits)


def _decode(coder: Any, rois: Tensor, deltas: Tensor) -> Tensor:
    """mmdet's ``delta2bbox`` with ``coder``'s settings, ``rois (N, 4)``, ``deltas (N, 4)``,
    unclipped (the coder's ``decode`` switches to another formula while exporting)."""
    from mmdet.models.task_modules.coders.delta_xywh_bbox_coder import delta2bbox
    return delta2bbox(rois, deltas, coder.means, coder.stds, None, 16 / 1000, coder.clip_border,
                      coder.add_ctr_clamp, coder.ctr_clamp)


def _select_top(scores: Tensor, kept: Tensor, k_max: int, fill: float) -> Tuple[Tensor, Tensor]:
    """Top ``k_max`` NMS survivors per image: ``scores (B, M)``, ``kept (K, 2)`` rows
    ``[image, item]``. Returns ``(top scores (B, K'), their items (B, K'))``; past the
    survivors the scores are ``fill``."""
    table = torch.full_like(scores, fill)
    table[kept[:, 0], kept[:, 1]] = scores[kept[:, 0], kept[:, 1]]
    return _topk(table, k_max)


class DetectorGraph(nn.Module):
    """An mmdet two-stage detector's inference, ``forward(x) -> (dets, labels[, masks])``
    (see the module docstring); the detector's modules are used as they are.

    Args:
        detector: an mmdet ``TwoStageDetector`` with an ``RPNHead`` and a
            ``StandardRoIHead`` or ``CascadeRoIHead`` (with or without masks).
    """

    def __init__(self, detector: nn.Module) -> None:
        super().__init__()
        check_detector(detector)
        self.detector = detector

    # ---------------------------------------------------------------- RPN
    def _anchors(self, level: int, feat: Tensor) -> Tensor:
        """mmdet's anchors of one level, ``(H * W * A, 4)``, row ``(y * W + x) * A + a``."""
        gen = self.detector.rpn_head.prior_generator
        stride_w, stride_h = gen.strides[level]
        base = gen.base_anchors[level].to(feat)
        shift_x = torch.arange(feat.shape[-1], device=feat.device).to(feat.dtype) * stride_w
        shift_y = torch.arange(feat.shape[-2], device=feat.device).to(feat.dtype) * stride_h
        yy, xx = torch.meshgrid(shift_y, shift_x, indexing='ij')
        shifts = torch.stack([xx, yy, xx, yy], -1).reshape(-1, 1, 4)
        return (shifts + base[None]).reshape(-1, 4)

    def _proposals(self, feats: Sequence[Tensor], limits: Tensor) -> Tuple[Tensor, Tensor]:
        """RPN proposals ``(B, P, 4)`` and their scores ``(B, P)`` (``< 0``: padding), as
        mmdet's ``RPNHead.predict_by_feat``: top ``nms_pre`` per level, decode, clip, drop
        empty boxes, NMS per level (boxes offset by level), top ``max_per_img``."""
        head = self.detector.rpn_head
        cfg = head.test_cfg
        cls_maps, reg_maps = head(feats)
        boxes, scores, levels = [], [], []
        for level, (cls, reg, feat) in enumerate(zip(cls_maps, reg_maps, feats)):
            batch = cls.shape[0]
            score = cls.permute(0, 2, 3, 1).reshape(batch, -1).sigmoid()
            delta = reg.permute(0, 2, 3, 1).reshape(batch, -1, 4)
            anchors = self._anchors(level, feat)[None].expand(batch, -1, -1)
            if cfg.get('nms_pre', -1) > 0:
                score, keep = _topk(score, cfg.nms_pre)
                delta, anchors = _gather_rows(delta, keep), _gather_rows(anchors, keep)
            decoded = _decode(head.bbox_coder, anchors.reshape(-1, 4), delta.reshape(-1, 4))
            boxes.append(_clip(decoded.reshape(batch, -1, 4), limits))
            scores.append(score)
            levels.append(torch.full_like(score, level))
        boxes, scores, levels = torch.cat(boxes, 1), torch.cat(scores, 1), torch.cat(levels, 1)
        wh = boxes[..., 2:] - boxes[..., :2]
        valid = (wh > cfg.get('min_bbox_size', 0)).all(-1)
        scores = torch.where(valid, scores, torch.full_like(scores, _NO_SCORE))
        # mmdet's batched_nms: one NMS, boxes of each level shifted apart
        top = torch.where(valid[..., None], boxes, torch.zeros_like(boxes)).amax((1, 2))
        shifted = boxes + (levels * (top[:, None] + 1))[..., None]
        kept = BatchedNMS.apply(shifted, scores[:, None], cfg.max_per_img,
                                cfg.nms.iou_threshold, _NO_SCORE / 2)
        top_scores, index = _select_top(scores, kept[:, ::2], cfg.max_per_img, _NO_SCORE)
        return _gather_rows(boxes, index), top_scores

    # ----------------------------------------------------------- RoI heads
    @staticmethod
    def _roi_features(extractor: nn.Module, feats: Sequence[Tensor], rois: Tensor) -> Tensor:
        """mmdet's ``SingleRoIExtractor``: RoIAlign of each RoI ``(R, 5)`` on its level (by
        its scale), ``(R, C, S, S)``; every level is aligned and masked, so that the graph
        has no data-dependent shapes."""
        from torchvision.ops import roi_align
        levels = extractor.map_roi_levels(rois, extractor.num_inputs)
        out = None
        for i, layer in enumerate(extractor.roi_layers):
            aligned = roi_align(feats[i], rois, layer.output_size, layer.spatial_scale,
                                layer.sampling_ratio, layer.aligned)
            part = aligned * (levels == i).to(aligned.dtype)[:, None, None, None]
            out = part if out is None else out + part
        return out

    @staticmethod
    def _rois(boxes: Tensor) -> Tensor:
        """``(B, N, 4)`` boxes -> mmdet's ``(B * N, 5)`` RoIs (image index first)."""
        index = torch.arange(boxes.shape[0], device=boxes.device).to(boxes.dtype)
        index = index[:, None, None].expand(-1, boxes.shape[1], 1)
        return torch.cat([index, boxes], -1).reshape(-1, 5)

    def _decode_boxes(self, bbox_head: nn.Module, boxes: Tensor, deltas: Tensor,
                      limits: Tensor) -> Tensor:
        """Boxes ``(B, P, 4)`` moved by a box head's ``deltas (B * P, 4 or 4 * C)``:
        ``(B, P, 1 or C, 4)``, clipped."""
        batch, num = boxes.shape[:2]
        per_class = deltas.shape[-1] // 4
        rois = boxes.reshape(-1, 1, 4).expand(-1, per_class, -1).reshape(-1, 4)
        decoded = _decode(bbox_head.bbox_coder, rois, deltas.reshape(-1, 4))
        return _clip(decoded.reshape(batch, num, per_class, 4), limits)

    def _stages(self, feats: Sequence[Tensor], proposals: Tensor, limits: Tensor
                ) -> Tuple[Tensor, Tensor]:
        """Box head(s) on the proposals: class scores ``(B, P, K + 1)`` (softmax; cascade:
        of the stages' mean logits) and boxes ``(B, P, 1 or K, 4)`` of the last stage."""
        roi_head = self.detector.roi_head
        if hasattr(roi_head, 'num_stages'):  # cascade
            extractors, heads = roi_head.bbox_roi_extractor, roi_head.bbox_head
        else:
            extractors, heads = [roi_head.bbox_roi_extractor], [roi_head.bbox_head]
        batch, num = proposals.shape[:2]
        logits, boxes = [], proposals
        for stage, (extractor, head) in enumerate(zip(extractors, heads)):
            rois = self._rois(boxes)
            cls_score, bbox_pred = head(self._roi_features(extractor, feats, rois))
            logits.append(cls_score)
            decoded = self._decode_boxes(head, boxes, bbox_pred, limits)
            if stage < len(heads) - 1:  # mmdet's regress_by_class: the best class's box
                if decoded.shape[2] > 1:
                    label = cls_score[:, :-1].argmax(1).reshape(batch, num, 1, 1)
                    decoded = decoded.gather(2, label.expand(-1, -1, 1, 4))
                boxes = decoded[:, :, 0]
        mean = sum(logits) / len(logits)
        return mean.softmax(-1).reshape(batch, num, -1), decoded

    def _nms(self, scores: Tensor, boxes: Tensor, valid: Tensor) -> Tuple[Tensor, Tensor, Tensor]:
        """mmdet's ``multiclass_nms`` per image: ``scores (B, P, K + 1)``, ``boxes
        (B, P, 1 or K, 4)``, ``valid (B, P)``; NMS per image and class (one ONNX call over
        ``B * K`` groups). Returns ``dets (B, D, 5)``, ``labels (B, D)``, ``boxes' rows``."""
        cfg = self.detector.roi_head.test_cfg
        batch, num, classes = scores.shape[0], scores.shape[1], scores.shape[2] - 1
        scores = scores[..., :classes] * valid[..., None].to(scores.dtype)
        boxes = boxes.expand(-1, -1, classes, -1)
        groups = boxes.permute(0, 2, 1, 3).reshape(batch * classes, num, 4)
        group_scores = scores.permute(0, 2, 1).reshape(batch * classes, 1, num)
        kept = BatchedNMS.apply(groups, group_scores, cfg.max_per_img, cfg.nms.iou_threshold,
                                cfg.score_thr)
        image = torch.div(kept[:, 0], classes, rounding_mode='floor')
        item = (kept[:, 0] % classes) * num + kept[:, 2]  # class-major, as ``groups``
        flat_scores = scores.permute(0, 2, 1).reshape(batch, -1)
        top_scores, index = _select_top(flat_scores, torch.stack([image, item], 1),
                                        cfg.max_per_img, 0.)
        flat_boxes = boxes.permute(0, 2, 1, 3).reshape(batch, -1, 4)
        det_boxes = _gather_rows(flat_boxes, index) * (top_scores > 0)[..., None]
        labels = torch.div(index, num, rounding_mode='floor') * (top_scores > 0)
        return torch.cat([det_boxes, top_scores[..., None]], -1), labels

    def _masks(self, feats: Sequence[Tensor], dets: Tensor, labels: Tensor) -> Tensor:
        """Mask probabilities ``(B, D, M, M)`` of each detection's class (cascade: the mean
        of the stages' sigmoids, as mmdet's ``merge_aug_masks``)."""
        roi_head = self.detector.roi_head
        rois = self._rois(dets[..., :4])
        if hasattr(roi_head, 'num_stages'):
            pairs = list(zip(roi_head.mask_roi_extractor, roi_head.mask_head))
        else:
            pairs = [(roi_head.mask_roi_extractor, roi_head.mask_head)]
        probs = []
        for extractor, head in pairs:
            logits = head(self._roi_features(extractor, feats, rois))
            if logits.shape[1] > 1:
                index = labels.reshape(-1, 1, 1, 1).expand(-1, 1, *logits.shape[2:])
                logits = logits.gather(1, index)
            probs.append(logits[:, 0].sigmoid())
        probs = torch.stack(probs).mean(0)
        return probs.reshape(*dets.shape[:2], *probs.shape[1:])

    def forward(self, x: Tensor, image_sizes: Optional[Tensor] = None) -> Tuple[Tensor, ...]:
        """``x (B, 3, H, W)`` -> ``dets (B, D, 5)``, ``labels (B, D)`` and, with a mask head,
        ``masks (B, D, M, M)``. ``image_sizes (B, 2)``: each image's height and width before
        padding, mmdet's ``img_shape``, to which its boxes are clipped (default: ``(H, W)``)."""
        if image_sizes is None:
            image_sizes = full_sizes(x)
        limits = image_sizes.flip(1).repeat(1, 2)  # (B, 4): W, H, W, H
        feats = self.detector.extract_feat(x)
        proposals, proposal_scores = self._proposals(feats, limits)
        scores, boxes = self._stages(feats, proposals, limits)
        dets, labels = self._nms(scores, boxes, proposal_scores >= 0)
        if not getattr(self.detector.roi_head, 'with_mask', False):
            return dets, labels
        return dets, labels, self._masks(feats, dets, labels)


def full_sizes(x: Tensor) -> Tensor:
    """``(B, 2)`` int64 ``(H, W)`` of ``x (B, C, H, W)`` for every image (nothing padded)."""
    size = torch.stack([torch.tensor(x.shape[-2]), torch.tensor(x.shape[-1])])
    return size[None].expand(x.shape[0], 2).to(torch.long)


def check_detector(detector: nn.Module) -> None:
    """Refuse what :class:`DetectorGraph` does not compute (naming the module): it needs an
    RPN with sigmoid scores, and box heads with softmax scores."""
    from mmdet.models.dense_heads import RPNHead
    from mmdet.models.roi_heads import CascadeRoIHead, StandardRoIHead
    name = type(detector).__name__
    rpn, roi = getattr(detector, 'rpn_head', None), getattr(detector, 'roi_head', None)
    if not isinstance(rpn, RPNHead) or not isinstance(roi, (StandardRoIHead, CascadeRoIHead)):
        raise ValueError(
            f'the detector graph covers two-stage detectors with an RPNHead and a '
            f'StandardRoIHead or CascadeRoIHead; {name} has {type(rpn).__name__} and '
            f'{type(roi).__name__}: use --part backbone')
    if not rpn.use_sigmoid_cls:
        raise ValueError(f'{name}: the RPN must score with a sigmoid (use_sigmoid=True)')
    heads = roi.bbox_head if isinstance(roi.bbox_head, nn.ModuleList) else [roi.bbox_head]
    for head in heads:
        if head.custom_cls_channels or getattr(head.loss_cls, 'use_sigmoid', False):
            raise ValueError(f'{name}: the box heads must score with a softmax')


def mmdet_predictions(detector: nn.Module, x: Tensor,
                      image_sizes: Optional[Sequence[Sequence[int]]] = None) -> List[Any]:
    """mmdet's own ``predict`` on the normalised batch ``x (B, 3, H, W)``, each image of its
    ``image_sizes`` (height, width; default ``(H, W)``) padded to ``(H, W)``, not rescaled:
    one ``InstanceData`` per image (``bboxes, scores, labels`` and ``masks (n, h, w)`` bool),
    the reference of :class:`DetectorGraph`."""
    from mmdet.structures import DetDataSample
    pad = tuple(x.shape[-2:])
    samples = []
    for size in image_sizes if image_sizes is not None else [pad] * x.shape[0]:
        size = tuple(int(s) for s in size)
        samples.append(DetDataSample(metainfo=dict(
            img_shape=size, ori_shape=size, pad_shape=pad, batch_input_shape=pad,
            scale_factor=(1., 1.))))
    with torch.no_grad():
        return [s.pred_instances for s in detector.predict(x, samples, rescale=False)]


def paste_masks(masks: Tensor, boxes: Tensor, height: int, width: int,
                threshold: float = 0.5) -> Tensor:
    """mmdet's pasting of ``(n, M, M)`` box-local mask probabilities into ``(n, H, W)`` masks,
    one box at a time as mmdet does on the CPU (``skip_empty``: only the box's pixels are
    sampled; an empty box pastes nothing): bool ``>= threshold``, or, for a negative
    ``threshold``, uint8 probabilities ``x 255`` (mmdet's ``mask_thr_binary < 0``)."""
    from mmdet.models.roi_heads.mask_heads.fcn_mask_head import _do_paste_mask
    binary = threshold >= 0
    pasted = masks.new_zeros((len(masks), height, width),
                             dtype=torch.bool if binary else torch.uint8)
    for i in range(len(masks)):
        chunk, where = _do_paste_mask(masks[i:i + 1, None], boxes[i:i + 1], height, width,
                                      skip_empty=True)
        pasted[(slice(i, i + 1), ) + where] = (
            chunk >= threshold if binary else (chunk * 255).to(torch.uint8))
    return pasted


def compare_detections(outputs: Sequence[np.ndarray], refs: Sequence[Any],
                       min_iou: float = 0.9) -> Dict[str, float]:
    """Graph outputs (``dets, labels[, masks]``, see :class:`DetectorGraph`) against mmdet's
    per-image predictions ``refs`` (:func:`mmdet_predictions`) on the same input.

    Each reference detection is matched (by score) to an unmatched detection of the graph with
    its label and an IoU >= ``min_iou``. Returns ``agreement`` (matched / the larger count),
    ``max_diff`` (largest box-coordinate or score difference of the matched pairs), ``scale``
    (largest reference box coordinate) and, with masks, ``masks`` (the fraction of the
    matched pairs' image pixels on which the pasted, thresholded masks agree).
    """
    from mmdet.structures.bbox import bbox_overlaps
    matched = total = 0
    diffs, pixels, same = [0.], 0, 0
    scale = 0.
    for b, ref in enumerate(refs):
        keep = outputs[0][b][:, 4] > 0
        dets, labels = outputs[0][b][keep], outputs[1][b][keep]
        masks = outputs[2][b][keep] if len(outputs) > 2 else None
        ref_boxes, ref_scores = ref.bboxes.numpy(), ref.scores.numpy()
        ref_labels = ref.labels.numpy()
        total += max(len(ref_boxes), len(dets))
        scale = max([scale, *np.abs(ref_boxes).ravel()])
        overlaps = bbox_overlaps(ref.bboxes, torch.from_numpy(dets[:, :4])).numpy()
        used = np.zeros(len(dets), bool)
        for i in np.argsort(-ref_scores, kind='stable'):
            ious = np.where(~used & (labels == ref_labels[i]), overlaps[i], -1.)
            if not len(ious) or ious.max() < min_iou:
                continue
            j = int(ious.argmax())
            used[j] = True
            matched += 1
            diffs += [float(np.abs(dets[j, :4] - ref_boxes[i]).max()),
                      abs(float(dets[j, 4] - ref_scores[i]))]
            if masks is not None:
                height, width = ref.masks.shape[-2:]
                mask = paste_masks(torch.from_numpy(masks[j:j + 1]),
                                   torch.from_numpy(dets[j:j + 1, :4]), height, width)
                same += int((mask[0] == ref.masks[i]).sum())
                pixels += height * width
    result = dict(agreement=matched / total if total else 1., max_diff=max(diffs),
                  scale=scale, count=sum(len(ref.scores) for ref in refs))
    if len(outputs) > 2:
        result['masks'] = same / pixels if pixels else 1.
    return result
