"""Where a command line export writes: standard output, or a file it closes afterwards."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Coroutine
from typing import Any, TextIO


def write_output(path: str | None, write: Callable[[TextIO], Coroutine[Any, Any, int]]) -> int:
    """Run ``write`` with the output named by ``path`` (``-`` or None: standard output);
    its result (how many rows it wrote) is returned."""
    out = sys.stdout if path in (None, "-") else open(path, "w", encoding="utf-8")
    try:
        return asyncio.run(write(out))
    finally:
        if out is not sys.stdout:
            out.close()
