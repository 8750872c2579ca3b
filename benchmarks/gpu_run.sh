#!/usr/bin/env bash
# The GPU numbers: paper-preset reference maps and the paper preset's cost on one GPU.
#
#   CAPTUM_NOISEMASK_CACHE=DIR bash benchmarks/gpu_run.sh OUT_DIR
#
# DIR must hold the PaperCNN weights the CPU benchmarks use (`noisemask-lab reproduce`
# caches them): the reference maps are only comparable for the model they were made with.
# Writes OUT_DIR/paper_maps.npz (copy it to benchmarks/reference/) and OUT_DIR/speed_gpu.json.
set -euo pipefail
out=${1:?usage: benchmarks/gpu_run.sh OUT_DIR}
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
python3 -m captum_noisemask_lab make-paper-maps --device cuda --out "$out/paper_maps.npz"
python3 -m captum_noisemask_lab bench-speed --device cuda --sections paper-cost paper-batch \
    --paper-batch 64 --reference "$out/paper_maps.npz" --out "$out/speed_gpu.json"
