"""The API's parsers: JSON bodies of a bounded size and depth, and multipart uploads that refuse a file name with
folders in it, instead of quietly cutting them off.

Django keeps only the last part of `../../etc/cron.d/job.pdf`, which is safe (stored names are ours anyway),
but a script sending such a name is broken or hostile, and the person running it should hear about it.

A JSON body is read only up to DATA_UPLOAD_MAX_MEMORY_SIZE (Django's limit for request bodies, 2.5 MB by
default; a larger one is a 413) and refused if nested more than MAX_JSON_DEPTH deep: Python's JSON reader
recurses, so 100,000 nested arrays would otherwise end the request with a server error."""

import html
import io
import re

from django.conf import settings
from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import DataAndFiles, JSONParser, MultiPartParser, get_encoding

#: The deepest nesting of arrays and objects a JSON body may have. The API's own bodies need 2 (a list of links).
MAX_JSON_DEPTH = 32
_JSON_SYNTAX = re.compile(r'[\[\]{}"\\]')


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    default_code = "too_large"


def nesting_exceeds(text: str, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON text opens more than `limit` arrays or objects inside one another (brackets inside
    strings do not count). One pass, without recursion, over the brackets, quotes and backslashes only."""
    if text.count("[") + text.count("{") <= limit:
        return False
    depth, in_string, escaped_at = 0, False, -1
    for match in _JSON_SYNTAX.finditer(text):
        char, at = match.group(), match.start()
        if in_string:
            if at == escaped_at:
                continue
            if char == "\\":
                escaped_at = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser, reading at most DATA_UPLOAD_MAX_MEMORY_SIZE bytes (more is a 413) and refusing a body
    nested more than MAX_JSON_DEPTH deep (a 400), before the JSON is parsed."""

    def parse(self, stream, media_type=None, parser_context=None):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise RequestTooLarge(
                f"The request body is larger than {limit // 1024:,} KB, the most this API reads as JSON. "
                "Send a file as multipart/form-data instead."
            )
        encoding = get_encoding(parser_context or {})
        try:
            text = raw.decode(encoding)
        except UnicodeDecodeError:
            raise ParseError(f"The JSON body is not valid {encoding} text.") from None
        if nesting_exceeds(text):
            raise ParseError(
                f"The JSON body is nested more than {MAX_JSON_DEPTH} levels deep; this API's requests need at most 2."
            )
        return super().parse(io.BytesIO(raw), media_type, parser_context)


class UnsafeFileName(MultiPartParserError):
    pass


class _CheckedNames(DjangoMultiPartParser):
    def sanitize_file_name(self, file_name):
        name = html.unescape(file_name)
        if "/" in name or "\\" in name or name.strip() in {".", ".."} or not all(ch.isprintable() for ch in name):
            shown = "".join(ch if ch.isprintable() else "?" for ch in name)[:200]
            raise UnsafeFileName(
                f"The file name “{shown}” has folders or control characters in it; send a plain name such as "
                "scan-report.pdf."
            )
        return super().sanitize_file_name(file_name)


class SafeMultiPartParser(MultiPartParser):
    """DRF's multipart parser with file names checked; a refused name is a 400 before any file is read."""

    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        request = parser_context["request"]
        meta = request.META.copy()
        meta["CONTENT_TYPE"] = media_type
        try:
            parser = _CheckedNames(meta, stream, request.upload_handlers, get_encoding(parser_context))
            data, files = parser.parse()
            return DataAndFiles(data, files)
        except UnsafeFileName as exc:
            raise ParseError(str(exc)) from None
        except MultiPartParserError as exc:
            raise ParseError(f"The multipart body could not be read: {exc}") from None
