"""Prompt-to-art providers over HTTP, behind the engine's generator interface."""

from asciihub.ai.openai import OpenAICompatibleGenerator, ProviderConfig
from asciihub.ai.parse import FRAME_SEPARATOR, sanitise, split_frames

__all__ = [
    "FRAME_SEPARATOR",
    "OpenAICompatibleGenerator",
    "ProviderConfig",
    "sanitise",
    "split_frames",
]
