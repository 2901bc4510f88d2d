"""Visnyk (вісник, "herald"): a Telegram bot that carries a newsroom's stories to its readers."""
