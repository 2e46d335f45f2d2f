"""The email channel: SMTP in (aiosmtpd), parse and render (pure), a durable outbox out."""
