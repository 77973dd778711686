"""The ``local`` backend: a GGUF model in-process with llama-cpp-python (``reviewbot[local]``).

What a user with CodeLlama-7B-Instruct Q4_K_M on a laptop runs::

    backend: local
    local: {model_path: ~/models/codellama-7b-instruct.Q4_K_M.gguf, n_ctx: 4096,
            n_threads: 0, n_gpu_layers: 0}

Answers are constrained to the request's JSON schema by llama.cpp's grammar sampler
(``response_format: {"type": "json_object", "schema": ...}`` for chat models, a grammar
compiled from the schema for the raw CodeLlama prompt). One llama.cpp context is not
thread-safe, so requests run one after another; the shared system prompt comes first so
llama.cpp reuses its KV cache across chunks (prefix match). Building llama-cpp-python for
CPUs whose AVX-512/AMX paths crash: see the README section "Running vLLM".
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from reviewbot.backends.answers import Choice, build_result
from reviewbot.backends.base import BackendInfo, LLMRequest, LLMResult, ProgressCallback
from reviewbot.backends.structured import STOP_CODELLAMA, STOP_JSON, choose_api, raw_prompt
from reviewbot.config import Config, StructuredOutput
from reviewbot.deadline import BUDGET_REASON, past
from reviewbot.errors import BackendError

INSTALL_HINT = (
    "pip install 'reviewbot[local]' (on CPUs where the default build crashes, "
    "build with the CMAKE_ARGS in the README section 'Running vLLM')"
)


class LocalLlamaBackend:
    name = "local"

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self.config = config
        self.clock = clock
        self.llm: Any = None
        self.info: BackendInfo | None = None
        self.api = "chat"
        self._grammar: dict[str, Any] = {}

    def open(self) -> BackendInfo:
        if self.info is not None:
            return self.info
        path_text = self.config.local.model_path
        if not path_text:
            raise BackendError(
                "the local backend needs a GGUF model file",
                hint="set local.model_path in .reviewbot.yml or REVIEWBOT_LOCAL_MODEL",
            )
        path = Path(os.path.expanduser(path_text))
        if not path.is_file():
            raise BackendError(
                f"local model file {path} does not exist",
                hint="set local.model_path to a .gguf file",
            )
        try:
            from llama_cpp import Llama
        except ImportError as exc:
            raise BackendError(
                "the local backend needs llama-cpp-python (the 'local' extra)", hint=INSTALL_HINT
            ) from exc
        loc = self.config.local
        try:
            self.llm = Llama(
                model_path=str(path),
                n_ctx=loc.n_ctx,
                n_threads=loc.n_threads or None,
                n_gpu_layers=loc.n_gpu_layers,
                seed=self.config.llm.seed,
                verbose=False,
            )
        except (ValueError, RuntimeError, OSError) as exc:
            raise BackendError(
                f"llama.cpp could not load {path.name}: {exc}",
                hint="check the file is a GGUF model llama.cpp supports",
            ) from exc
        model = self.config.llm.model or path.name
        self.api = choose_api(self.config.llm.api, path.name)
        self.info = BackendInfo(self.name, model, int(self.llm.n_ctx()))
        return self.info

    def count_tokens(self, text: str) -> int:
        self.open()
        return len(
            self.llm.tokenize(text.encode("utf-8", "surrogateescape"), add_bos=False, special=True)
        )

    def complete(
        self, requests: Sequence[LLMRequest], progress: ProgressCallback | None = None
    ) -> list[LLMResult]:
        self.open()
        out: list[LLMResult] = []
        for request in requests:
            if past(request):
                out.append(LLMResult(request.key, error=BUDGET_REASON))
                continue
            try:
                out.append(self._one(request))
            except (ValueError, RuntimeError) as exc:  # e.g. a prompt longer than n_ctx
                out.append(LLMResult(request.key, error=f"llama.cpp: {exc}"))
            if progress is not None:
                progress(1)
        return out

    def _structured(self) -> bool:
        return self.config.llm.structured_output != StructuredOutput.NONE

    def _one(self, request: LLMRequest) -> LLMResult:
        llm_cfg = self.config.llm
        max_tokens = request.max_tokens or llm_cfg.max_tokens
        choices: list[Choice] = []
        prompt_tokens = completion_tokens = 0
        t0 = self.clock()
        for i in range(llm_cfg.samples):
            common: dict[str, Any] = {
                "temperature": llm_cfg.temperature,
                "max_tokens": max_tokens,
                "seed": llm_cfg.seed + i,
            }
            if self.api == "chat":
                stop = list(STOP_JSON) if self._structured() else []
                kwargs: dict[str, Any] = {"stop": stop or None, **common}
                if self._structured():
                    kwargs["response_format"] = {"type": "json_object", "schema": request.schema}
                answer = self.llm.create_chat_completion(
                    messages=[
                        {"role": "system", "content": request.system},
                        {"role": "user", "content": request.user},
                    ],
                    **kwargs,
                )
                choice = answer["choices"][0]
                text = choice["message"].get("content") or ""
            else:
                kwargs = {"stop": [*STOP_JSON, *STOP_CODELLAMA], **common}
                if self._structured():
                    kwargs["grammar"] = self._grammar_for(request.schema)
                answer = self.llm.create_completion(
                    raw_prompt(request.system, request.user), **kwargs
                )
                choice = answer["choices"][0]
                text = choice.get("text") or ""
            choices.append(Choice(text, choice.get("finish_reason")))
            usage = answer.get("usage") or {}
            prompt_tokens += int(usage.get("prompt_tokens") or 0)
            completion_tokens += int(usage.get("completion_tokens") or 0)
        seconds = self.clock() - t0
        return build_result(
            request.key,
            choices,
            requested=llm_cfg.samples,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            seconds=seconds,
            server_seconds=seconds,
        )

    def _grammar_for(self, schema: dict[str, Any]) -> Any:
        key = json.dumps(schema, sort_keys=True)
        if key not in self._grammar:
            from llama_cpp.llama_grammar import LlamaGrammar

            self._grammar[key] = LlamaGrammar.from_json_schema(key, verbose=False)
        return self._grammar[key]

    def close(self) -> None:
        llm, self.llm = self.llm, None
        if llm is not None and hasattr(llm, "close"):
            llm.close()
        self.info = None


def make_local(config: Config, **injected: Any) -> LocalLlamaBackend:
    return LocalLlamaBackend(config, **injected)
