"""Fetching and reading feeds: turning what publishers send into newsdesk items."""
