"""Secrets never reach a log, whoever logs them.

Tokens, API keys and incoming-webhook URLs are read from the environment through
`newsdesk.config.secret_from_env`, which registers each one here. From the first registration
on, every log record the process creates has those values replaced by `[redacted]`, whichever
library made it: httpx logs every request's URL at INFO, and a webhook URL is a credential;
a library's debug log may quote a header. Redacting at record creation (a log-record factory)
covers every logger and handler, including ones configured after newsdesk started.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

REDACTED = "[redacted]"
# Shorter values could be ordinary words; no real token, key or webhook path is this short.
MIN_SECRET_LENGTH = 8

_secrets: set[str] = set()
_lock = threading.Lock()
_installed = False


def register_secret(value: str) -> None:
    """Keep `value` out of every log record from now on."""
    global _installed
    if len(value) < MIN_SECRET_LENGTH:
        return
    with _lock:
        _secrets.add(value)
        if not _installed:
            _wrap_record_factory()
            _installed = True


def redact(text: str) -> str:
    for secret in sorted(_secrets, key=len, reverse=True):  # a URL before the token inside it
        if secret in text:
            text = text.replace(secret, REDACTED)
    return text


def _wrap_record_factory() -> None:
    make_record = logging.getLogRecordFactory()

    def redacting_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        record = make_record(*args, **kwargs)
        try:
            message = record.getMessage()
        except Exception:  # a record whose arguments do not fit; logging reports it later
            return record
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            if redact(str(error)) != str(error):
                record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
        return record

    logging.setLogRecordFactory(redacting_factory)
