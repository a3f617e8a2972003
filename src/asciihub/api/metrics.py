"""Prometheus metrics: request counts and latencies per route, cache hits and misses."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class _StatsCollector(Collector):
    """Reads the plain counters services keep, at scrape time."""

    def __init__(
        self, read: Callable[[], Mapping[str, Mapping[str, int]]], pending: Callable[[], int]
    ) -> None:
        self._read = read
        self._pending = pending

    def collect(self) -> Iterator[CounterMetricFamily | GaugeMetricFamily]:
        family = CounterMetricFamily(
            "asciihub_cache_requests",
            "Cache lookups by cache and result.",
            labels=["cache", "result"],
        )
        for cache, results in self._read().items():
            for result, value in results.items():
                family.add_metric([cache, result], value)
        yield family
        yield GaugeMetricFamily(
            "asciihub_views_pending", "Views counted but not yet written.", value=self._pending()
        )


class Metrics:
    """One registry per app, so several apps in one process never collide."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "asciihub_http_requests",
            "HTTP requests by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "asciihub_http_request_duration_seconds",
            "HTTP request latency by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )

    def watch(
        self, read: Callable[[], Mapping[str, Mapping[str, int]]], pending: Callable[[], int]
    ) -> None:
        """Expose service counters (cache hits and misses, pending views)."""
        self.registry.register(_StatsCollector(read, pending))

    def observe(self, route: str, method: str, status: int, seconds: float) -> None:
        """Record one finished request."""
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def render(self) -> bytes:
        """The Prometheus text exposition."""
        return generate_latest(self.registry)
