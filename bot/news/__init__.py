"""News in: fetch feeds and pages, parse them, turn items into stories. No Telegram, no SQL."""
