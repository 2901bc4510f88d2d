"""Telegram update handlers, one module per user-facing area; thin by design."""
