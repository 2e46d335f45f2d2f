"""The agent console and supervisor wallboard: pages plus the ``/agent`` and ``/supervisor``
Socket.IO namespaces."""
