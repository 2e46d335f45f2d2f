"""Routing: a pure, synchronous engine (``engine.py``) and the async runner that drives it."""
