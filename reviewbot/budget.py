"""The prompt budget: how many tokens a chunk's code may take, from the configured budget,
the served model's context length and the size of the instructions."""

from __future__ import annotations

from reviewbot.backends.base import BackendInfo
from reviewbot.config import Config
from reviewbot.errors import BackendError, ConfigError

ANSWER_MARGIN = 32
"""Tokens kept free besides max_tokens when the prompt budget comes from max_model_len."""
MIN_ITEMS_BUDGET = 64
"""Fewest tokens a chunk's code may have after the instructions."""


def prompt_budget(config: Config, info: BackendInfo, overhead: int) -> int:
    budget = config.llm.max_prompt_tokens
    if info.max_model_len:
        budget = min(budget, info.max_model_len - config.llm.max_tokens - ANSWER_MARGIN)
    items_budget = budget - overhead
    if config.llm.max_prompt_tokens - overhead < MIN_ITEMS_BUDGET:
        raise ConfigError(
            f"llm.max_prompt_tokens ({config.llm.max_prompt_tokens}) leaves no room for code "
            f"after the review instructions ({overhead} tokens)",
            hint=f"set llm.max_prompt_tokens to at least {overhead + MIN_ITEMS_BUDGET}",
        )
    if items_budget < MIN_ITEMS_BUDGET:
        raise BackendError(
            f"the model's context ({info.max_model_len} tokens) leaves no room for code after "
            f"the instructions ({overhead} tokens) and the answer ({config.llm.max_tokens})",
            hint="lower llm.max_tokens or serve the model with a larger --max-model-len",
        )
    return items_budget
