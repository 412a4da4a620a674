"""Mail: addresses, templates, MIME messages, transports, the outbox, one-time tokens. No Dramatiq here."""
