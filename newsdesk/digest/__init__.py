"""Digests: select, rank and group a period's stories, then render them for each platform."""
