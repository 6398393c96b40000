"""Prometheus metrics: every collector of the server, defined once, served at `/metrics` (api/routes/metrics.py).

With several worker processes on one host (`openliveness serve --workers N`), `PROMETHEUS_MULTIPROC_DIR` is set
before the workers start and each writes its values there, so any worker's `/metrics` reports the sum of all.
Labels are bounded sets (route templates, never raw paths; decision and reason names, never ids).
"""

from __future__ import annotations

import os

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client import multiprocess as _multiprocess

__all__ = [
    "ATTEMPTS",
    "CONTENT_TYPE_LATEST",
    "CPU_QUEUE",
    "DECISIONS",
    "HTTP_IN_PROGRESS",
    "HTTP_LATENCY",
    "HTTP_REQUESTS",
    "MODEL_LATENCY",
    "PURGED",
    "RATE_LIMITED",
    "render",
]

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 2.0, 5.0, 10.0)

HTTP_REQUESTS = Counter(
    "openliveness_http_requests", "HTTP requests answered, by route template and status.", ["method", "route", "status"]
)
HTTP_LATENCY = Histogram(
    "openliveness_http_request_seconds",
    "Time from request to the end of the response, by route template.",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
HTTP_IN_PROGRESS = Gauge(
    "openliveness_http_requests_in_progress",
    "Requests being answered now (all processes summed).",
    multiprocess_mode="livesum",
)
DECISIONS = Counter(
    "openliveness_liveness_decisions",
    "Liveness decisions, by outcome and by each reason the engine gave ('none' when it gave none).",
    ["decision", "reason"],
)
ATTEMPTS = Counter(
    "openliveness_attempts_started", "Attempts started (challenges issued), by operation mode.", ["mode"]
)
MODEL_LATENCY = Histogram(
    "openliveness_model_seconds",
    "Time of the CPU-bound stages (engine, verification, guidance, reference analysis) once running.",
    ["stage"],
    buckets=_LATENCY_BUCKETS,
)
CPU_QUEUE = Gauge(
    "openliveness_cpu_queue_depth",
    "CPU-bound jobs waiting for a worker thread (all processes summed).",
    multiprocess_mode="livesum",
)
RATE_LIMITED = Counter("openliveness_rate_limited", "Requests refused by an anti-hammer limit, by limit.", ["limit"])
PURGED = Counter("openliveness_purged_sessions", "Expired sessions removed by retention.")


def render() -> bytes:
    """The exposition text: this process's registry, or every worker's when running multi-process."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        registry = CollectorRegistry()
        _multiprocess.MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return bytes(generate_latest(registry))
    from prometheus_client import REGISTRY

    return bytes(generate_latest(REGISTRY))
