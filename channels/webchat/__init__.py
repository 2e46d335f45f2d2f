"""Web chat: the customer's chat box (``/chat``), the embeddable ``/widget.js`` loader and
the Socket.IO namespace ``/chat`` they speak to."""
