"""contact-hub: the core (domain model, use cases, storage, event bus, config, wiring, API, CLI)."""

__version__ = "0.1.0"
