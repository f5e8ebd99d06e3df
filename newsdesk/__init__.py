"""newsdesk: AI-industry news from feeds to deduplicated, tagged digests in Slack and Discord."""

__version__ = "0.1.0"
