"""PyTorch reference of the SA-GAT model, for timing against the C# engine on a CPU or GPU (bench only, not the product).

Reads the batches that `compare train-step` exported (meta.json + raw little-endian arrays), builds the same
architecture (SAE encoder, multi-head GAT layers with distance-aware attention, mean pooling, MLP head) and times
one training step (forward + backward + Adam) on the first batch and one epoch over all batches.
Run with Debian's python3-torch: /usr/bin/python3 bench/pytorch/sagat_reference.py <export-folder> [threads] [cpu|cuda] [epochs]
"""
import json
import os
import statistics
import sys
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F


def segment_softmax(scores, segment, count):
    # scores [E, H], segment [E] -> softmax over rows sharing a segment, per column
    heads = scores.shape[1]
    index = segment.unsqueeze(1).expand(-1, heads)
    maximum = torch.full((count, heads), -float("inf"), device=scores.device).scatter_reduce(0, index, scores, reduce="amax", include_self=True)
    exp = torch.exp(scores - maximum.gather(0, index))
    total = torch.zeros((count, heads), device=scores.device).index_add_(0, segment, exp)
    return exp / total.gather(0, index)


class Sae(nn.Module):
    def __init__(self, features, hidden):
        super().__init__()
        self.weight = nn.Parameter(torch.randn(features, hidden))
        self.bias = nn.Parameter(0.1 * torch.randn(features, hidden))
        self.score = nn.Parameter(torch.zeros(hidden, 1))

    def forward(self, x):  # x [N, F]
        per_feature = F.silu(x.unsqueeze(2) * self.weight + self.bias)  # [N, F, d]
        importance = torch.softmax((per_feature @ self.score).squeeze(2), dim=1)  # [N, F]
        return (importance.unsqueeze(2) * per_feature).sum(1), importance


class GatLayer(nn.Module):
    def __init__(self, hidden, heads, gaussians, slope):
        super().__init__()
        self.heads, self.head_dim, self.slope = heads, hidden // heads, slope
        self.project = nn.Linear(hidden, hidden, bias=False)
        self.output = nn.Linear(hidden, hidden)
        self.attention_source = nn.Parameter(torch.randn(heads, self.head_dim) / self.head_dim ** 0.5)
        self.attention_target = nn.Parameter(torch.randn(heads, self.head_dim) / self.head_dim ** 0.5)
        self.attention_edge = nn.Linear(gaussians, heads, bias=False)
        self.norm = nn.LayerNorm(hidden)

    def forward(self, h, source, target, rbf):
        n = h.shape[0]
        z = self.project(h).view(n, self.heads, self.head_dim)
        source_logit = (z * self.attention_source).sum(2)
        target_logit = (z * self.attention_target).sum(2)
        logits = F.leaky_relu(source_logit[source] + target_logit[target] + self.attention_edge(rbf), self.slope)
        alpha = segment_softmax(logits, target, n)  # [E, H]
        messages = alpha.unsqueeze(2) * z[source]  # [E, H, D]
        aggregated = torch.zeros_like(z).index_add_(0, target, messages).view(n, -1)
        return self.norm(h + F.silu(self.output(aggregated)))


class SaGat(nn.Module):
    def __init__(self, features, hidden, heads, layers, gaussians, slope=0.2):
        super().__init__()
        self.sae = Sae(features, hidden)
        self.layers = nn.ModuleList(GatLayer(hidden, heads, gaussians, slope) for _ in range(layers))
        self.head_hidden = nn.Linear(hidden, hidden)
        self.head_output = nn.Linear(hidden, 1)

    def forward(self, x, source, target, rbf, crystal, crystals):
        h, _ = self.sae(x)
        for layer in self.layers:
            h = layer(h, source, target, rbf)
        counts = torch.zeros(crystals, device=h.device).index_add_(0, crystal, torch.ones(h.shape[0], device=h.device))
        pooled = torch.zeros(crystals, h.shape[1], device=h.device).index_add_(0, crystal, h) / counts.unsqueeze(1)
        return self.head_output(F.silu(self.head_hidden(pooled)))


def load(folder, device):
    meta = json.load(open(os.path.join(folder, "meta.json")))
    batches = []
    for b in meta["batches"]:
        def read(name, dtype):
            return torch.from_numpy(np.fromfile(os.path.join(folder, f"{b['name']}.{name}.bin"), dtype=dtype).copy())
        n, f, e, g = b["atoms"], meta["features"], b["edges"], meta["gaussians"]
        batches.append(dict(
            x=read("features", np.float32).view(n, f).to(device), source=read("source", np.int32).long().to(device),
            target=read("target", np.int32).long().to(device), rbf=read("rbf", np.float32).view(e, g).to(device),
            crystal=read("crystal", np.int32).long().to(device), crystals=b["crystals"], y=read("y", np.float32).view(-1, 1).to(device)))
    return meta, batches


def main():
    folder = sys.argv[1]
    threads = int(sys.argv[2]) if len(sys.argv) > 2 else os.cpu_count()
    device = sys.argv[3] if len(sys.argv) > 3 else "cpu"
    epochs = int(sys.argv[4]) if len(sys.argv) > 4 else 3
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    meta, batches = load(folder, device)
    model = SaGat(meta["features"], meta["hidden"], meta["heads"], meta["layers"], meta["gaussians"]).to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)

    def step(b):
        optimizer.zero_grad()
        prediction = model(b["x"], b["source"], b["target"], b["rbf"], b["crystal"], b["crystals"])
        loss = F.mse_loss(prediction, b["y"])
        loss.backward()
        optimizer.step()
        return loss.item()

    def timed(action, repeats):
        action()
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            action()
            times.append((time.perf_counter() - start) * 1000)
        return statistics.median(times)

    step_ms = timed(lambda: step(batches[0]), 9)
    # loss.item() in each step waits for the GPU, so wall times are complete.
    epoch_ms = timed(lambda: [step(b) for b in batches], epochs)
    name = torch.cuda.get_device_name() if device == "cuda" else f"CPU, {threads} threads"
    print(json.dumps({"torch": torch.__version__, "device": name, "threads": threads, "step_ms": step_ms, "epoch_ms": epoch_ms,
                      "parameters": sum(p.numel() for p in model.parameters())}))


if __name__ == "__main__":
    main()
