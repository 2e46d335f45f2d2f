"""Channel adapters: one package per channel, each parse/render (pure) plus transport (I/O)."""
