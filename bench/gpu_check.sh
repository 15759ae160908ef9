#!/usr/bin/env bash
# Prepared GPU check (one run, ~3 minutes): inference throughput (bf16) of DistilHuBERT+MiniLM vs HuBERT-large
# vs the torch Whisper tiny/base encoders (all hidden states; the offline backbone without CTranslate2)
# vs wav2vec2-large-robust-12, and the full fine-tuning step. Needs only torch + transformers (the device
# image has both); writes JSON lines to $OUT (or bench/out). CTranslate2 from PyPI needs CUDA 12's cuBLAS:
# on a CUDA-13-only image faster-whisper falls back to the CPU, so ASR is timed on the CPU (bench_asr.py).
set -uo pipefail
cd "$(dirname "$0")/.."
out=${OUT:-bench/out}
mkdir -p "$out"
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader | tee "$out/gpu_info.txt"
python3 -c "import torch, transformers; print('torch', torch.__version__, 'transformers', transformers.__version__)" \
  | tee -a "$out/gpu_info.txt"
PYTHONUNBUFFERED=1 python3 bench/bench_model.py --device cuda --repeats 10 --batch 16 --seconds 10 | tee "$out/gpu_model.json"
PYTHONUNBUFFERED=1 python3 bench/bench_finetune.py --device cuda --batch 32 --seconds 6 --steps 10 | tee "$out/gpu_finetune.json"
python3 -c "import ctranslate2; print('ctranslate2 CUDA devices:', ctranslate2.get_cuda_device_count())" 2>&1 \
  | tee -a "$out/gpu_info.txt"
# ASR on the GPU without CTranslate2 (Whisper on PyTorch, float16) against faster-whisper where it can load
PYTHONUNBUFFERED=1 python3 bench/bench_asr_torch.py --device cuda | tee "$out/gpu_asr_torch.json"
# The whole pipeline on one GPU for one hour of audio (decode, ASR on PyTorch, SER, store), goal >= 120x real time:
# needs soundfile, PyAV, SQLAlchemy and alembic, which the device image lacks; carry them as wheels (.whl, see the
# device tool's notes) and install them first.
PYTHONUNBUFFERED=1 python3 bench/bench_pipeline.py --device cuda --minutes 60 | tee "$out/gpu_pipeline.json"
