"""Multipart uploads that refuse a file name with folders in it, instead of quietly cutting them off.

Django keeps only the last part of `../../etc/cron.d/job.pdf`, which is safe (stored names are ours anyway),
but a script sending such a name is broken or hostile, and the person running it should hear about it."""

import html

from django.http.multipartparser import MultiPartParser as DjangoMultiPartParser
from django.http.multipartparser import MultiPartParserError
from rest_framework.exceptions import ParseError
from rest_framework.parsers import DataAndFiles, MultiPartParser, get_encoding


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
