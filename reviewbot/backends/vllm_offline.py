"""The ``vllm-offline`` backend: vLLM's ``LLM`` engine in-process, for batch jobs on a GPU box.

Optional (``reviewbot[vllm]``). All chunks go to ``LLM.chat``/``LLM.generate`` in one call,
so vLLM schedules them itself; answers are constrained to the schema with vLLM's structured
outputs (``StructuredOutputsParams(json=...)``, or ``GuidedDecodingParams`` on vLLM before
0.10.2). Config: ``llm.model`` is the Hugging Face id or local directory, ``local.n_ctx``
becomes ``max_model_len``.

This backend cannot be exercised on a machine without a GPU: the project's test suite and
CI have none, so it is not covered by tests there (the HTTP ``vllm`` backend is the tested
production path). Its request parameters mirror the HTTP backend's.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

from reviewbot.backends.answers import Choice, build_result
from reviewbot.backends.base import BackendInfo, LLMRequest, LLMResult, ProgressCallback
from reviewbot.backends.structured import STOP_CODELLAMA, STOP_JSON, choose_api, raw_prompt
from reviewbot.config import Config, StructuredOutput
from reviewbot.errors import BackendError


def _structured_params(schema: dict[str, Any]) -> dict[str, Any]:
    """SamplingParams keyword for a JSON-schema constraint, across vLLM versions."""
    try:
        from vllm.sampling_params import StructuredOutputsParams
    except ImportError:
        from vllm.sampling_params import GuidedDecodingParams

        return {"guided_decoding": GuidedDecodingParams(json=schema)}
    return {"structured_outputs": StructuredOutputsParams(json=schema)}


class VLLMOfflineBackend:
    name = "vllm-offline"

    def __init__(self, config: Config, *, clock: Callable[[], float] = time.perf_counter) -> None:
        self.config = config
        self.clock = clock
        self.llm: Any = None
        self.info: BackendInfo | None = None
        self.api = "chat"

    def open(self) -> BackendInfo:
        if self.info is not None:
            return self.info
        model = self.config.llm.model
        if not model:
            raise BackendError(
                "the vllm-offline backend needs a model",
                hint="set llm.model to a Hugging Face id or a local directory",
            )
        try:
            from vllm import LLM
        except ImportError as exc:
            raise BackendError(
                "the vllm-offline backend needs vLLM (the 'vllm' extra)",
                hint="pip install 'reviewbot[vllm]' on a machine with a GPU",
            ) from exc
        try:
            self.llm = LLM(
                model=model, max_model_len=self.config.local.n_ctx, seed=self.config.llm.seed
            )
        except Exception as exc:  # vLLM raises many types while starting its engine
            raise BackendError(
                f"vLLM could not start {model}: {type(exc).__name__}: {exc}",
                hint="check the GPU, the model name and --max-model-len",
            ) from exc
        self.api = choose_api(self.config.llm.api, model)
        max_len = int(self.llm.llm_engine.model_config.max_model_len)
        self.info = BackendInfo(self.name, model, max_len)
        return self.info

    def count_tokens(self, text: str) -> int:
        self.open()
        return len(self.llm.get_tokenizer().encode(text, add_special_tokens=False))

    def complete(
        self, requests: Sequence[LLMRequest], progress: ProgressCallback | None = None
    ) -> list[LLMResult]:
        if not requests:
            return []
        self.open()
        from vllm import SamplingParams

        llm_cfg = self.config.llm
        structured = llm_cfg.structured_output != StructuredOutput.NONE
        params = []
        for r in requests:
            stop = list(STOP_JSON) if structured else []
            if self.api == "completions":
                stop.extend(STOP_CODELLAMA)
            params.append(
                SamplingParams(
                    n=llm_cfg.samples,
                    temperature=llm_cfg.temperature,
                    seed=llm_cfg.seed,
                    max_tokens=r.max_tokens or llm_cfg.max_tokens,
                    stop=stop or None,
                    **(_structured_params(r.schema) if structured else {}),
                )
            )
        t0 = self.clock()
        if self.api == "chat":
            outputs = self.llm.chat(
                [
                    [{"role": "system", "content": r.system}, {"role": "user", "content": r.user}]
                    for r in requests
                ],
                params,
                use_tqdm=False,
            )
        else:
            outputs = self.llm.generate(
                [raw_prompt(r.system, r.user) for r in requests], params, use_tqdm=False
            )
        seconds = self.clock() - t0
        results = []
        for r, out in zip(requests, outputs, strict=True):
            choices = [Choice(o.text, o.finish_reason) for o in out.outputs]
            results.append(
                build_result(
                    r.key,
                    choices,
                    requested=llm_cfg.samples,
                    prompt_tokens=len(out.prompt_token_ids or ()),
                    completion_tokens=sum(len(o.token_ids) for o in out.outputs),
                    seconds=seconds,
                    server_seconds=None,
                )
            )
        if progress is not None:
            progress(len(requests))
        return results

    def close(self) -> None:
        self.llm = None
        self.info = None


def make_vllm_offline(config: Config, **injected: Any) -> VLLMOfflineBackend:
    return VLLMOfflineBackend(config, **injected)
