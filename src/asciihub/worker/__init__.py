"""The background worker: queue consumers, one handler module per job kind.

``asciihub worker`` runs :class:`WorkerRuntime` in its own process; ``asciihub serve``
runs it in-process on embedded backends (:func:`in_process`).
"""

from asciihub.worker.runtime import WorkerRuntime, consumer_options, in_process, pick_queues

__all__ = ["WorkerRuntime", "consumer_options", "in_process", "pick_queues"]
