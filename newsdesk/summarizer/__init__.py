"""Summaries of stories: an extractive fallback and an optional OpenAI-compatible LLM."""
