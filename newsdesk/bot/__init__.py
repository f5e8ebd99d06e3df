"""The chat platforms: Slack and Discord adapters over shared command logic."""
