"""Prometheus metrics on a registry of our own (never the process-global default one).

Web process: deliveries by event and outcome, acknowledgement latency, queue depth.
Workers: jobs by outcome, job duration, LLM request latency and failures, GitHub API errors.
With the embedded worker both sets are on ``/metrics``; a separate ``reviewbot worker``
serves its own with ``--metrics-port``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from reviewbot.backends.base import Backend, BackendInfo, LLMRequest, LLMResult, ProgressCallback

KNOWN_EVENTS = frozenset(
    {
        "pull_request",
        "issue_comment",
        "installation",
        "installation_repositories",
        "ping",
        "check_suite",
        "check_run",
        "pull_request_review",
        "pull_request_review_comment",
        "push",
    }
)
CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def event_label(event: str | None) -> str:
    """Bound the label's values: header text is untrusted."""
    if not event:
        return "none"
    return event if event in KNOWN_EVENTS else "other"


class _QueueCollector(Collector):
    def __init__(self, depth: Callable[[], dict[str, int]]) -> None:
        self._depth = depth

    def collect(self) -> Iterator[GaugeMetricFamily]:
        family = GaugeMetricFamily(
            "reviewbot_queue_jobs", "Jobs in the queue, by state", labels=["state"]
        )
        try:
            depth = self._depth()
        except Exception:  # noqa: BLE001 - a scrape must not fail because the queue is down
            depth = {}
        for state, value in sorted(depth.items()):
            family.add_metric([state], float(value))
        yield family


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.deliveries = Counter(
            "reviewbot_webhook_deliveries", "Webhook deliveries", ["event", "outcome"], registry=r
        )
        self.ack_seconds = Histogram(
            "reviewbot_webhook_ack_seconds",
            "Time from request to acknowledgement",
            buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
            registry=r,
        )
        self.jobs = Counter("reviewbot_jobs", "Job runs by outcome", ["outcome"], registry=r)
        self.reviews_stopped = Counter(
            "reviewbot_reviews_stopped", "Reviews cut short by the per-job time budget", registry=r
        )
        self.job_seconds = Histogram(
            "reviewbot_job_duration_seconds",
            "Duration of a job run",
            buckets=(0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800),
            registry=r,
        )
        self.llm_seconds = Histogram(
            "reviewbot_llm_request_seconds",
            "LLM request latency (per prompt)",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300),
            registry=r,
        )
        self.llm_failures = Counter(
            "reviewbot_llm_failures", "LLM requests without an answer", ["kind"], registry=r
        )
        self.github_errors = Counter(
            "reviewbot_github_api_errors", "GitHub API errors", ["status"], registry=r
        )

    def watch_queue(self, depth: Callable[[], dict[str, int]]) -> None:
        self.registry.register(_QueueCollector(depth))

    def render(self) -> bytes:
        return bytes(generate_latest(self.registry))


class TimedBackend:
    """A backend wrapper that records per-request latency and failures in ``metrics``."""

    def __init__(self, inner: Backend, metrics: Metrics) -> None:
        self._inner = inner
        self._metrics = metrics
        self.name = inner.name

    def open(self) -> BackendInfo:
        try:
            return self._inner.open()
        except Exception:
            self._metrics.llm_failures.labels("unavailable").inc()
            raise

    def count_tokens(self, text: str) -> int:
        return self._inner.count_tokens(text)

    def complete(
        self, requests: Sequence[LLMRequest], progress: ProgressCallback | None = None
    ) -> list[LLMResult]:
        results = self._inner.complete(requests, progress)
        for res in results:
            if res.seconds:
                self._metrics.llm_seconds.observe(res.seconds)
            if res.error:
                self._metrics.llm_failures.labels("request").inc()
        return results

    def close(self) -> None:
        self._inner.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)
