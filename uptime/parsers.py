"""The API reads JSON bodies only, and refuses at parse time what no field could take:
nesting deeper than MAX_DEPTH levels, and strings that are not valid Unicode."""

import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# Objects and arrays inside each other. The deepest body the API reads is two levels (a
# monitor's request_headers); the cap keeps every later step (validation, error messages,
# rendering) far from Python's recursion limit, where a parse would fail with a 500.
MAX_DEPTH = 32

# A "\ud800" escape parses to a lone surrogate: a str that cannot be encoded, so an error
# message echoing it, or the database, would fail with a 500. (A pair of escapes that forms
# one character parses to that character, so any surrogate left is a lone one.)
LONE_SURROGATE = re.compile("[\ud800-\udfff]")

TOO_DEEP = f"JSON parse error - nested deeper than {MAX_DEPTH} levels of objects and arrays."
NOT_UNICODE = "JSON parse error - a string holds a lone surrogate (an escape \\ud800 to \\udfff), not valid Unicode."


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering 400 (ParseError) for a document too deep or not Unicode."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            document = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # Thousands of levels: the decoder gives up before the walk below could count them.
            raise ParseError(TOO_DEEP) from None
        refuse_too_deep_or_not_unicode(document)
        return document


def refuse_too_deep_or_not_unicode(document: object) -> None:
    """Walk the parsed document (without recursion), keys included."""
    pending: list[tuple[object, int]] = [(document, 0)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if LONE_SURROGATE.search(value):
                raise ParseError(NOT_UNICODE)
        elif isinstance(value, dict | list):
            depth += 1
            if depth > MAX_DEPTH:
                raise ParseError(TOO_DEEP)
            if isinstance(value, dict):
                pending.extend((key, depth) for key in value)
                pending.extend((item, depth) for item in value.values())
            else:
                pending.extend((item, depth) for item in value)
