"""Python clients for Jibit, Paystar, Pendar Koushk and Payman.

They work against the real providers and against pishkhan alike, and need only ``httpx`` and
``pydantic`` (``pip install pishkhan``). Each provider has a module with a sync and an async
client built on the shared machinery in :mod:`pishkhan.client.base`.
"""

from pishkhan.client.base import ApiError, AsyncTransport, Call, SyncTransport, TransportError

__all__ = ["ApiError", "AsyncTransport", "Call", "SyncTransport", "TransportError"]
