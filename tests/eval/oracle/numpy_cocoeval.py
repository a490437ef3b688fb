#!/usr/bin/python3
"""An independent numpy re-implementation of pycocotools' COCOeval for iouType 'bbox'.

It follows cocoeval.py's structure (prepare -> computeIoU -> evaluateImg -> accumulate ->
summarize) with numpy doing what numpy does there (argsort kind='mergesort', cumsum,
searchsorted side='left', np.spacing(1), np.mean), so the C++ evaluator can be checked against
it without pycocotools (not installable here).

usage: numpy_cocoeval.py GT.json RESULTS.json [--repeat N] [--precision-out P.npy]
                         [--recall-out R.npy]
prints JSON: {"stats": [12 floats], "category_ap": {cat_id: ap}, "seconds" / "cpu_seconds": best-of-N
wall / process time of evaluate+accumulate+summarize (JSON loading excluded)}.
"""
import argparse
import json
import sys
import time
from collections import defaultdict

import numpy as np

IOU_THRS = np.linspace(.5, 0.95, int(np.round((0.95 - .5) / .05)) + 1, endpoint=True)
REC_THRS = np.linspace(.0, 1.00, int(np.round((1.00 - .0) / .01)) + 1, endpoint=True)
MAX_DETS = [1, 10, 100]
AREA_RNG = [[0 ** 2, 1e5 ** 2], [0 ** 2, 32 ** 2], [32 ** 2, 96 ** 2], [96 ** 2, 1e5 ** 2]]
AREA_LBL = ['all', 'small', 'medium', 'large']


def box_iou(dts, gts, crowd):
    """maskApi bbIou, vectorised: D x G, xywh boxes, no +1, crowd union = detection area."""
    d = np.asarray(dts, dtype=np.float64).reshape(-1, 4)
    g = np.asarray(gts, dtype=np.float64).reshape(-1, 4)
    w = np.minimum(d[:, None, 0] + d[:, None, 2], g[None, :, 0] + g[None, :, 2]) - \
        np.maximum(d[:, None, 0], g[None, :, 0])
    h = np.minimum(d[:, None, 1] + d[:, None, 3], g[None, :, 1] + g[None, :, 3]) - \
        np.maximum(d[:, None, 1], g[None, :, 1])
    da = (d[:, 2] * d[:, 3])[:, None]
    ga = (g[:, 2] * g[:, 3])[None, :]
    inter = w * h
    union = np.where(np.asarray(crowd, dtype=bool)[None, :], da, da + ga - inter)
    out = np.zeros((len(d), len(g)))
    ok = (w > 0) & (h > 0)
    out[ok] = inter[ok] / union[ok]
    return out


class Evaluator:
    def __init__(self, gt, results):
        self.img_ids = sorted({im['id'] for im in gt['images']})
        self.cat_ids = sorted({c['id'] for c in gt['categories']})
        self.gts = defaultdict(list)
        self.dts = defaultdict(list)
        for ann in gt['annotations']:
            g = dict(ann)
            g['ignore'] = bool(g['iscrowd'])
            self.gts[g['image_id'], g['category_id']].append(g)
        for i, res in enumerate(results):
            d = dict(res)
            d['id'] = i + 1  # loadRes numbers results from 1
            d['area'] = d['bbox'][2] * d['bbox'][3]
            self.dts[d['image_id'], d['category_id']].append(d)

    def compute_iou(self, img, cat):
        gt, dt = self.gts[img, cat], self.dts[img, cat]
        if not gt and not dt:
            return []
        order = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in order][:MAX_DETS[-1]]
        if not gt or not dt:
            return []
        return box_iou([d['bbox'] for d in dt], [g['bbox'] for g in gt],
                       [int(g['iscrowd']) for g in gt])

    def evaluate_img(self, img, cat, rng, max_det):
        gt, dt = self.gts[img, cat], self.dts[img, cat]
        if not gt and not dt:
            return None
        ig = np.array([1 if (g['ignore'] or g['area'] < rng[0] or g['area'] > rng[1]) else 0
                       for g in gt], dtype=np.int64)
        gind = np.argsort(ig, kind='mergesort')
        gt = [gt[i] for i in gind]
        ig = ig[gind]
        dind = np.argsort([-d['score'] for d in dt], kind='mergesort')
        dt = [dt[i] for i in dind[:max_det]]
        crowd = [int(g['iscrowd']) for g in gt]
        ious = self.ious[img, cat]
        ious = ious[:, gind] if len(ious) > 0 else ious
        T, G, D = len(IOU_THRS), len(gt), len(dt)
        gtm = np.zeros((T, G))
        dtm = np.zeros((T, D))
        dt_ig = np.zeros((T, D))
        if len(ious):
            for ti, thr in enumerate(IOU_THRS):
                for di, d in enumerate(dt):
                    best = min([thr, 1 - 1e-10])
                    m = -1
                    for gi in range(G):
                        if gtm[ti, gi] > 0 and not crowd[gi]:
                            continue
                        if m > -1 and ig[m] == 0 and ig[gi] == 1:
                            break
                        if ious[di, gi] < best:
                            continue
                        best = ious[di, gi]
                        m = gi
                    if m == -1:
                        continue
                    dt_ig[ti, di] = ig[m]
                    dtm[ti, di] = gt[m]['id']
                    gtm[ti, m] = d['id']
        out_of_range = np.array([d['area'] < rng[0] or d['area'] > rng[1] for d in dt]).reshape(1, D)
        dt_ig = np.logical_or(dt_ig, np.logical_and(dtm == 0, np.repeat(out_of_range, T, 0)))
        return {'scores': np.array([d['score'] for d in dt], dtype=np.float64),
                'dtm': dtm, 'dt_ig': dt_ig, 'gt_ig': ig}

    def evaluate(self):
        self.ious = {(i, c): self.compute_iou(i, c) for i in self.img_ids for c in self.cat_ids}
        self.evals = [self.evaluate_img(i, c, rng, MAX_DETS[-1])
                      for c in self.cat_ids for rng in AREA_RNG for i in self.img_ids]

    def accumulate(self):
        T, R, K, A, M = len(IOU_THRS), len(REC_THRS), len(self.cat_ids), len(AREA_RNG), len(MAX_DETS)
        precision = -np.ones((T, R, K, A, M))
        recall = -np.ones((T, K, A, M))
        I = len(self.img_ids)
        for k in range(K):
            for a in range(A):
                base = k * A * I + a * I
                E = [e for e in self.evals[base:base + I] if e is not None]
                if not E:
                    continue
                for m, max_det in enumerate(MAX_DETS):
                    scores = np.concatenate([e['scores'][:max_det] for e in E])
                    inds = np.argsort(-scores, kind='mergesort')
                    dtm = np.concatenate([e['dtm'][:, :max_det] for e in E], axis=1)[:, inds]
                    dt_ig = np.concatenate([e['dt_ig'][:, :max_det] for e in E], axis=1)[:, inds]
                    gt_ig = np.concatenate([e['gt_ig'] for e in E])
                    npig = np.count_nonzero(gt_ig == 0)
                    if npig == 0:
                        continue
                    tps = np.logical_and(dtm, np.logical_not(dt_ig))
                    fps = np.logical_and(np.logical_not(dtm), np.logical_not(dt_ig))
                    tp_sum = np.cumsum(tps, axis=1).astype(np.float64)
                    fp_sum = np.cumsum(fps, axis=1).astype(np.float64)
                    for t in range(T):
                        tp, fp = tp_sum[t], fp_sum[t]
                        nd = len(tp)
                        rc = tp / npig
                        pr = tp / (fp + tp + np.spacing(1))
                        recall[t, k, a, m] = rc[-1] if nd else 0
                        # envelope from the right, vectorised: running max of the reversed array
                        if nd:
                            pr = np.maximum.accumulate(pr[::-1])[::-1]
                        q = np.zeros(R)
                        idx = np.searchsorted(rc, REC_THRS, side='left')
                        valid = idx < nd
                        # cocoeval stops at the first out-of-range index; idx is sorted, so the
                        # valid ones are a prefix
                        q[valid] = pr[idx[valid]]
                        precision[t, :, k, a, m] = q
        self.precision, self.recall = precision, recall

    def summarize(self):
        def one(ap, iou=None, area='all', max_dets=100):
            aind = [i for i, l in enumerate(AREA_LBL) if l == area]
            mind = [i for i, md in enumerate(MAX_DETS) if md == max_dets]
            s = self.precision if ap else self.recall
            if iou is not None:
                s = s[np.where(iou == IOU_THRS)[0]]
            s = s[:, :, :, aind, mind] if ap else s[:, :, aind, mind]
            return -1.0 if len(s[s > -1]) == 0 else float(np.mean(s[s > -1]))
        self.stats = [one(1), one(1, .5, max_dets=MAX_DETS[2]), one(1, .75, max_dets=MAX_DETS[2]),
                      one(1, area='small', max_dets=MAX_DETS[2]),
                      one(1, area='medium', max_dets=MAX_DETS[2]),
                      one(1, area='large', max_dets=MAX_DETS[2]),
                      one(0, max_dets=MAX_DETS[0]), one(0, max_dets=MAX_DETS[1]),
                      one(0, max_dets=MAX_DETS[2]), one(0, area='small', max_dets=MAX_DETS[2]),
                      one(0, area='medium', max_dets=MAX_DETS[2]),
                      one(0, area='large', max_dets=MAX_DETS[2])]
        self.category_ap = {}
        for k, c in enumerate(self.cat_ids):
            s = self.precision[:, :, k, 0, -1]
            self.category_ap[c] = -1.0 if len(s[s > -1]) == 0 else float(np.mean(s[s > -1]))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('gt')
    parser.add_argument('results')
    parser.add_argument('--repeat', type=int, default=1)
    parser.add_argument('--precision-out')
    parser.add_argument('--recall-out')
    args = parser.parse_args()
    with open(args.gt) as f:
        gt = json.load(f)
    with open(args.results) as f:
        results = json.load(f)
    best = best_cpu = None
    for _ in range(args.repeat):
        start, start_cpu = time.perf_counter(), time.process_time()
        ev = Evaluator(gt, results)
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
        took, took_cpu = time.perf_counter() - start, time.process_time() - start_cpu
        best = took if best is None else min(best, took)
        best_cpu = took_cpu if best_cpu is None else min(best_cpu, took_cpu)
    if args.precision_out:
        np.save(args.precision_out, ev.precision)
    if args.recall_out:
        np.save(args.recall_out, ev.recall)
    json.dump({'stats': ev.stats, 'category_ap': {str(k): v for k, v in ev.category_ap.items()},
               'seconds': best, 'cpu_seconds': best_cpu}, sys.stdout)
    sys.stdout.write('\n')


if __name__ == '__main__':
    main()
