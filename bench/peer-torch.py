#!/usr/bin/env python3
"""PyTorch CPU peer of bench-extract: the same topology (torchvision's VGG16
or SqueezeNet 1.1 convolutional part, random weights: speed does not depend
on them), batch, input side and threads. Reads one command per line on stdin
("pass" or "quit"); for each pass runs `--images` images in batches through
the network and prints "<images/s>" on its own line, so that the caller can
interleave its own passes with these. Prints "ready" once loaded and warmed
up, or "skip: <why>" and exits if torch or torchvision is missing."""
import argparse
import sys
import time

ap = argparse.ArgumentParser()
ap.add_argument("--model", choices=["vgg16", "squeezenet"], required=True)
ap.add_argument("--batch", type=int, required=True)
ap.add_argument("--size", type=int, default=224)
ap.add_argument("--threads", type=int, required=True)
ap.add_argument("--images", type=int, required=True)
a = ap.parse_args()

try:
    import torch
    import torchvision
except ImportError as e:
    print(f"skip: {e} (Debian: apt-get install python3-torch python3-torchvision)", flush=True)
    sys.exit(0)

torch.set_num_threads(a.threads)
torch.manual_seed(0)
if a.model == "vgg16":
    net = torchvision.models.vgg16().features
else:
    net = torchvision.models.squeezenet1_1().features
net.eval()
batches = []
left = a.images
while left > 0:
    n = min(a.batch, left)
    batches.append(torch.randn(n, 3, a.size, a.size))
    left -= n


def one_pass():
    t0 = time.perf_counter()
    with torch.inference_mode():
        for b in batches:
            net(b)
    return a.images / (time.perf_counter() - t0)


one_pass()  # warm-up: allocator, thread pool, kernel choice
print(f"ready torch {torch.__version__} threads {torch.get_num_threads()}", flush=True)
for line in sys.stdin:
    if line.strip() != "pass":
        break
    print(f"{one_pass():.4f}", flush=True)
