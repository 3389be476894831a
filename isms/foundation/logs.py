"""Secrets stay out of logs. A calendar feed's address carries its token in the path
(/calendar/feeds/<token>/mine.ics): whoever reads a log line with it could read that calendar. The emailed task
link keeps its token after the #, which browsers never send, so it never reaches a log."""

import logging
import re

_FEED_TOKEN = re.compile(r"(/feeds/)[^/\s?#\"']+(?=/)")
_QUERY_SECRET = re.compile(r"(?i)([?&](?:token|key|secret|password)=)[^&\s\"']+")
HIDDEN = "[hidden]"


def redact(text: str) -> str:
    """`text` with every secret in an address replaced by [hidden]."""
    if not isinstance(text, str):
        return text
    return _QUERY_SECRET.sub(rf"\g<1>{HIDDEN}", _FEED_TOKEN.sub(rf"\g<1>{HIDDEN}", text))


class RedactSecrets(logging.Filter):
    """A logging filter (on the console handler, isms/settings.py LOGGING): hides secrets in addresses that
    Django or the app log, such as "Not Found: /calendar/feeds/<token>/mine.ics"."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True
