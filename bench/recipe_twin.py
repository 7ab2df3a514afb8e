#!/usr/bin/env python3
"""PyTorch twin of `vgg train`'s recipes, for checking recognition quality on the same pixels.

Reads a folder written by `go run ./bench/facedump` (the pictures and the train/validation
split that `vgg train --aligned` uses, with the normalisation it measured) and trains the same
network with the same recipe: VGG-D or VGG-D-BN (torchvision's vgg16_bn layout) at a width
divisor, the same initialisation, optimiser, one-cycle schedule (torch's OneCycleLR with
its defaults, as nn.Schedule), batch size, epochs and augmentation (flip, shift, zoom and tilt
with edge-repeating bilinear sampling, as dataset.Augment). The augmentation draws differ from
vgg's (another random stream), so the two engines agree on the recipe, not bit for bit.

    python3 bench/recipe_twin.py --dump DUMP --arch vgg-d-bn --width 8 --epochs 30 \
        --optimizer adamw --lr 1e-3 --weight-decay 5e-4 [--threads 1] [--json out.json]

Prints one line per epoch (training loss and accuracy, validation top-1 and top-5) and, with
--json, writes the curves and the best epoch. With --test DUMP3 (a facedump --val 0 of other photos of
the same people) it scores the final model's top-1 and top-5 on them. With --enrol DUMP2 (a facedump --val 0 of people
the model does not train on) it also scores the final model's embeddings as `vgg evaluate`
does: the embedding (--embedding) centred on the training photos' mean, whitened by their
spread about each identity's mean (gallery.Whitening; --no-whitening leaves that out) and
scaled to unit length, each
person enrolled from --shots random photos, every other photo ranked against the enrolled ones
by the mean similarity of each person's three closest photos (gallery.RankIdentities).
--keep-best scores both with the weights of the epoch vgg would keep instead (train.run.keeps:
the latest whose validation top-1 is within two standard errors of the highest; bench/quality
runs it so). --mixup SHARE mixes that share of the batches in pairs as dataset.MixBatch does
(lambda uniform in [0.5, 1], a random partner in the batch) and learns each picture as lambda of
its identity and 1-lambda of its partner's.
"""
import argparse
import copy
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

CFG_D = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]


class VGGD(nn.Module):
    """The seed's network (arch vgg-d) or torchvision's vgg16_bn features (arch vgg-d-bn)."""

    def __init__(self, classes, input_size, width, batch_norm, linear_init):
        super().__init__()
        layers, c = [], 3
        for v in CFG_D:
            if v == "M":
                layers.append(nn.MaxPool2d(2))
                continue
            v //= width
            layers.append(nn.Conv2d(c, v, 3, padding=1))
            if batch_norm:
                layers.append(nn.BatchNorm2d(v))
            layers.append(nn.ReLU(inplace=True))
            c = v
        self.cnn = nn.Sequential(*layers)
        side = input_size // 32
        h1, h2 = 4096 // width, 2048 // width
        self.fc = nn.Sequential(
            nn.Linear(c * side * side, h1), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(h1, h2), nn.ReLU(inplace=True), nn.Dropout(0.5),
            nn.Linear(h2, classes))
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                if linear_init == "kaiming":
                    nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
                else:
                    nn.init.normal_(m.weight, 0, 0.01)
                nn.init.zeros_(m.bias)

    def forward(self, x):
        return self.fc(torch.flatten(self.cnn(x), 1))


def load(dump, part, size):
    x = np.fromfile(os.path.join(dump, part + "_x.u8"), dtype=np.uint8).reshape(-1, 3, size, size)
    y = np.fromfile(os.path.join(dump, part + "_y.i32"), dtype="<i4")
    return torch.from_numpy(x.copy()), torch.from_numpy(y.astype(np.int64))


def augment(x, gen, shift, scale, rotate, flip):
    """dataset.Augment: mirror, tilt and zoom about the centre, shift; edge pixels repeat."""
    n = x.shape[0]
    u = lambda: torch.rand(n, generator=gen) * 2 - 1
    flips = torch.rand(n, generator=gen) < 0.5 if flip else torch.zeros(n, dtype=torch.bool)
    sx, sy = u() * shift * 2, u() * shift * 2  # a shift of f*side is 2f in [-1, 1] coordinates
    zoom = 1 + u() * scale
    angle = u() * rotate * math.pi / 180
    cos, sin = torch.cos(angle) / zoom, torch.sin(angle) / zoom
    fx = torch.where(flips, -1.0, 1.0)
    # output coordinate -> input coordinate (the inverse transform), in grid_sample's [-1, 1]
    theta = torch.zeros(n, 2, 3)
    theta[:, 0, 0], theta[:, 0, 1], theta[:, 0, 2] = cos * fx, sin * fx, -(cos * sx + sin * sy) * fx
    theta[:, 1, 0], theta[:, 1, 1], theta[:, 1, 2] = -sin, cos, sin * sx - cos * sy
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="border", align_corners=False)


def evaluate(model, x, y, norm, batch, mirror):
    """Top-1, top-5 and the mean cross-entropy of the model's answers for x against y; with
    mirror, each picture's logits averaged with its mirror image's (vgg's nn.ModelInfo.Mirror)."""
    model.eval()
    top1 = top5 = 0
    loss = 0.0
    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = (x[i:i + batch].float() / 255 - norm[0]) / norm[1]
            logits = model(xb)
            if mirror:
                logits = (logits + model(torch.flip(xb, dims=[3]))) / 2
            k = min(5, logits.shape[1])
            top = logits.topk(k, 1).indices
            yb = y[i:i + batch]
            top1 += (top[:, 0] == yb).sum().item()
            top5 += (top == yb[:, None]).any(1).sum().item()
            loss += F.cross_entropy(logits, yb, reduction="sum").item()
    return top1 / len(x), top5 / len(x), loss / len(x)


def embeddings(model, x, norm, batch, layer, mirror):
    """Every picture's embedding in evaluation mode, as vgg's nn.Model.Embedding: the flattened
    features of the last max pool ("features") or fc.4's output after ReLU ("fc.4"); with mirror,
    averaged with the mirror image's."""
    model.eval()
    outs = []

    def embed(xb):
        h = torch.flatten(model.cnn(xb), 1)
        return h if layer == "features" else model.fc[:5](h)

    with torch.no_grad():
        for i in range(0, len(x), batch):
            xb = (x[i:i + batch].float() / 255 - norm[0]) / norm[1]
            e = embed(xb)
            if mirror:
                e = (e + embed(torch.flip(xb, dims=[3]))) / 2
            outs.append(e)
    return torch.cat(outs)


def fit_whitening(train_emb, train_labels, mean, max_dim=2048, ridge=1e-3):
    """gallery.fitWhitening: (S + ridge * largest eigenvalue * I)^(-1/2), S the covariance of
    the training photos' centred unit directions about their own identity's mean; None when the
    embedding is wider than max_dim or fewer than two identities have two photos."""
    d = F.normalize(train_emb - mean, dim=1).double()
    if d.shape[1] > max_dim:
        return None
    s, photos, groups = torch.zeros(d.shape[1], d.shape[1], dtype=torch.float64), 0, 0
    for p in train_labels.unique().tolist():
        members = d[train_labels == p]
        if len(members) < 2:
            continue
        c = members - members.mean(0)
        s += c.T @ c
        photos, groups = photos + len(members), groups + 1
    if groups < 2:
        return None
    values, vectors = torch.linalg.eigh(s / photos)
    scale = 1 / torch.sqrt(values.clamp(min=0) + ridge * values[-1])
    return ((vectors * scale) @ vectors.T).float()


def enrolment_score(emb, labels, mean, shots, seed, whitening=None):
    """gallery.EvaluateEnrolment: top-1/top-5 of queries against shots enrolled photos each,
    their centred embeddings whitened first as the model's gallery is (gallery.Direction)."""
    d = emb - mean
    if whitening is not None:
        d = d @ whitening.T
    d = F.normalize(d, dim=1)
    gen = torch.Generator().manual_seed(seed)
    enrolled, queries = [], []
    people = [p for p in labels.unique().tolist() if (labels == p).sum() > shots]
    for p in people:
        idx = (labels == p).nonzero().flatten()
        idx = idx[torch.randperm(len(idx), generator=gen)]
        enrolled.append(idx[:shots])
        queries.append(idx[shots:])
    enrolled, queries = torch.cat(enrolled), torch.cat(queries)
    sims = d[queries] @ d[enrolled].T
    scores = torch.stack([sims[:, labels[enrolled] == p].topk(min(3, shots), 1).values.mean(1) for p in people], 1)
    want = torch.tensor([people.index(p) for p in labels[queries].tolist()])
    ranks = (scores > scores.gather(1, want[:, None])).sum(1)
    same = (labels[queries][:, None] == labels[enrolled][None, :])
    return {"identities": len(people), "queries": len(queries), "top1": (ranks == 0).float().mean().item(),
            "top5": (ranks < 5).float().mean().item(), "same_similarity": sims[same].mean().item(),
            "other_similarity": sims[~same].mean().item()}


def noise_margin(p, n):
    """Two standard errors of an accuracy p on n photos, Agresti-Coull (train.noiseMargin)."""
    adjusted = (p * n + 2) / (n + 4)
    return 2 * math.sqrt(adjusted * (1 - adjusted) / (n + 4))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dump", required=True)
    ap.add_argument("--arch", default="vgg-d-bn", choices=["vgg-d", "vgg-d-bn"])
    ap.add_argument("--width", type=int, default=8)
    ap.add_argument("--epochs", type=int, default=30)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--optimizer", default="adamw", choices=["sgd", "adam", "adamw"])
    ap.add_argument("--lr", type=float, default=1e-3)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--weight-decay", type=float, default=5e-4)
    ap.add_argument("--linear-init", default="normal", choices=["normal", "kaiming"])
    ap.add_argument("--label-smoothing", type=float, default=0.0)
    ap.add_argument("--mixup", type=float, default=0.0, help="share of batches mixed in pairs (vgg train --mixup)")
    ap.add_argument("--shift", type=float, default=0.06)
    ap.add_argument("--scale", type=float, default=0.08)
    ap.add_argument("--rotate", type=float, default=8.0)
    ap.add_argument("--no-flip", action="store_true")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--enrol", help="facedump of people not trained on, for the enrolment score")
    ap.add_argument("--shots", type=int, default=5)
    ap.add_argument("--test", help="facedump --val 0 of other photos of the same people (never trained or validated on): top-1 and top-5")
    ap.add_argument("--keep-best", action="store_true",
                    help="score --test and --enrol with the best epoch's weights (by validation top-1, as vgg keeps), not the last")
    ap.add_argument("--embedding", default="features", choices=["features", "fc.4"],
                    help="the layer the enrolment embeds at (vgg's nn.ModelInfo.EmbeddingLayer; fc.4 for models before it)")
    ap.add_argument("--single-pass", action="store_true",
                    help="answer each picture alone, not averaged with its mirror image (vgg's models before nn.ModelInfo.Mirror)")
    ap.add_argument("--no-whitening", action="store_true",
                    help="compare the unseen people's embeddings unwhitened (vgg's galleries from before gallery.Whitening)")
    ap.add_argument("--json")
    a = ap.parse_args()
    mirror = not a.single_pass

    torch.manual_seed(a.seed)
    torch.set_num_threads(a.threads)
    meta = json.load(open(os.path.join(a.dump, "meta.json")))
    size, classes = meta["input"], meta["classes"]
    norm = (torch.tensor(meta["norm"]["mean"]).view(1, 3, 1, 1), torch.tensor(meta["norm"]["std"]).view(1, 3, 1, 1))
    xt, yt = load(a.dump, "train", size)
    xv, yv = load(a.dump, "val", size)
    model = VGGD(len(classes), size, a.width, a.arch == "vgg-d-bn", a.linear_init)
    if a.optimizer == "sgd":
        opt = torch.optim.SGD(model.parameters(), lr=a.lr, momentum=a.momentum, weight_decay=a.weight_decay)
    elif a.optimizer == "adam":
        opt = torch.optim.Adam(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    else:
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=a.weight_decay)
    steps = math.ceil(len(xt) / a.batch)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=a.lr, total_steps=a.epochs * steps)
    gen = torch.Generator().manual_seed(a.seed)
    curves, best = [], None
    print(f"{len(classes)} identities, {len(xt)} train / {len(xv)} val at {size}px, {a}", flush=True)
    start = time.time()
    for epoch in range(a.epochs):
        model.train()
        order = torch.randperm(len(xt), generator=gen)
        loss_sum = correct = 0
        for i in range(0, len(xt), a.batch):
            idx = order[i:i + a.batch]
            xb = augment(xt[idx].float() / 255, gen, a.shift, a.scale, a.rotate, not a.no_flip)
            xb = (xb - norm[0]) / norm[1]
            if a.mixup > 0 and torch.rand(1, generator=gen).item() < a.mixup:
                lam = 0.5 + 0.5 * torch.rand(1, generator=gen).item()
                partner = torch.randperm(len(idx), generator=gen)
                xb = lam * xb + (1 - lam) * xb[partner]
                logits = model(xb)
                loss = (lam * F.cross_entropy(logits, yt[idx], label_smoothing=a.label_smoothing) +
                        (1 - lam) * F.cross_entropy(logits, yt[idx][partner], label_smoothing=a.label_smoothing))
            else:
                logits = model(xb)
                loss = F.cross_entropy(logits, yt[idx], label_smoothing=a.label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            sched.step()
            loss_sum += loss.item() * len(idx)
            correct += (logits.argmax(1) == yt[idx]).sum().item()
        top1, top5, val_loss = evaluate(model, xv, yv, norm, 128, mirror)
        row = {"epoch": epoch + 1, "train_loss": loss_sum / len(xt), "train_acc": correct / len(xt),
               "val_top1": top1, "val_top5": top5, "val_loss": val_loss, "seconds": time.time() - start}
        curves.append(row)
        # --keep-best keeps what vgg keeps (train.run.keeps): the latest epoch whose validation
        # top-1 is within two standard errors of the highest so far.
        peak = max(r["val_top1"] for r in curves)
        if best is None or top1 >= peak - noise_margin(peak, len(xv)):
            best = row
            if a.keep_best:
                best_state = copy.deepcopy(model.state_dict())
        print(f"epoch {epoch + 1:3d}  loss {row['train_loss']:.3f}  train {100 * row['train_acc']:5.1f}%  "
              f"val top-1 {100 * top1:5.1f}%  top-5 {100 * top5:5.1f}%  {row['seconds']:.0f}s", flush=True)
    print(f"kept epoch {best['epoch']}: val top-1 {100 * best['val_top1']:.1f}%, top-5 {100 * best['val_top5']:.1f}%")
    result = {"settings": vars(a), "curves": curves, "best": best}
    if a.keep_best:
        model.load_state_dict(best_state)
    if a.test:
        tmeta = json.load(open(os.path.join(a.test, "meta.json")))
        if tmeta["classes"] != classes:
            raise SystemExit(f"{a.test}: its people {tmeta['classes']} are not those trained on, {classes}")
        xs, ys = load(a.test, "train", tmeta["input"])
        top1, top5, _ = evaluate(model, xs, ys, norm, 128, mirror)
        result["test"] = {"photos": len(xs), "top1": top1, "top5": top5}
        print(f"held-out photos: {len(xs)}, top-1 {100 * top1:.1f}%, top-5 {100 * top5:.1f}%")
    if a.enrol:
        emeta = json.load(open(os.path.join(a.enrol, "meta.json")))
        xe, ye = load(a.enrol, "train", emeta["input"])
        train_emb = embeddings(model, xt, norm, 128, a.embedding, mirror)
        mean = train_emb.mean(0)
        whitening = None if a.no_whitening else fit_whitening(train_emb, yt, mean)
        result["enrolment"] = enrolment_score(embeddings(model, xe, norm, 128, a.embedding, mirror), ye, mean, a.shots, a.seed, whitening)
        e = result["enrolment"]
        print(f"enrolment of {e['identities']} unseen people, {a.shots} photos each, {e['queries']} queries: "
              f"top-1 {100 * e['top1']:.1f}% (chance {100 / e['identities']:.1f}%), top-5 {100 * e['top5']:.1f}%, "
              f"similarity own {e['same_similarity']:.3f} vs others {e['other_similarity']:.3f}")
    if a.json:
        json.dump(result, open(a.json, "w"), indent=1)


if __name__ == "__main__":
    main()
