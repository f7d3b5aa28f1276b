"""The rules for what an HTTP monitor sends and looks for: headers, body, basic auth, keyword.

Part of monitor_errors (validation.py); one message per field.
"""

import re

# Settings only an HTTP check uses; a TCP monitor must leave them at their defaults.
HTTP_ONLY_FIELDS = (
    "method",
    "expected_status",
    "follow_redirects",
    "request_headers",
    "request_body",
    "request_content_type",
    "auth_username",
    "auth_password",
    "keyword",
    "keyword_mode",
    "tls_expiry_warning_days",
)

MAX_HEADERS = 20
MAX_HEADER_NAME_LENGTH = 100
MAX_HEADER_VALUE_LENGTH = 1000
MAX_HEADERS_BYTES = 8 * 1024
MAX_REQUEST_BODY_BYTES = 16 * 1024
MAX_TLS_EXPIRY_WARNING_DAYS = 365

# RFC 9110 token characters.
HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
# Tab is allowed inside a field value; other control characters (CR and LF above all,
# which would let a value start a header of its own) are not.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")
CONTENT_TYPE = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+/[!#$%&'*+\-.^_`|~0-9A-Za-z]+(\s*;.*)?")

# Hop-by-hop headers belong to one connection, not to the request a user describes.
HOP_BY_HOP_HEADERS = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
# Set by the check itself: Host pins the name the check resolved (see probe.check), and
# the body's length and type come from request_body and request_content_type.
CHECK_SET_HEADERS = {"host": None, "content-length": None, "content-type": "request_content_type"}


def http_request_errors(values: dict) -> dict[str, str]:
    errors: dict[str, str] = {}
    if (message := headers_error(values["request_headers"], has_basic_auth=bool(values["auth_username"]))) is not None:
        errors["request_headers"] = message

    body, content_type = values["request_body"], values["request_content_type"]
    if body and values["method"] != "POST":
        errors["request_body"] = "Only POST requests send a body."
    elif len(body.encode()) > MAX_REQUEST_BODY_BYTES:
        errors["request_body"] = f"The body must be at most {MAX_REQUEST_BODY_BYTES} bytes."
    if body and not content_type:
        errors["request_content_type"] = "Give the body's content type, e.g. application/json."
    elif content_type and not body:
        errors["request_content_type"] = "A content type goes with a request body: give the body, or leave this empty."
    elif content_type and (CONTROL_CHARACTERS.search(content_type) or not CONTENT_TYPE.fullmatch(content_type)):
        errors["request_content_type"] = 'Enter a content type like "application/json".'

    username, password = values["auth_username"], values["auth_password"]
    if ":" in username or not _is_credential_text(username):
        errors["auth_username"] = "The username must be Latin-1 text without a colon or control characters."
    elif password and not username:
        errors["auth_username"] = "Give the username that goes with the password."
    if not _is_credential_text(password):
        errors["auth_password"] = "The password must be Latin-1 text without control characters."

    if values["keyword"] and values["method"] == "HEAD":
        errors["keyword"] = "A HEAD response has no body to search; use GET or POST."

    if not 0 <= values["tls_expiry_warning_days"] <= MAX_TLS_EXPIRY_WARNING_DAYS:
        errors["tls_expiry_warning_days"] = f"Give 0 (no warning) to {MAX_TLS_EXPIRY_WARNING_DAYS} days."
    return errors


def _is_credential_text(text: str) -> bool:
    # Basic auth credentials are sent Latin-1 encoded (as requests does).
    try:
        text.encode("latin-1")
    except UnicodeEncodeError:
        return False
    return not CONTROL_CHARACTERS.search(text)


def headers_error(headers, has_basic_auth: bool) -> str | None:
    """What is wrong with a {name: value} object of extra request headers, or None."""
    if not isinstance(headers, dict):
        return 'Give the headers as an object, {"name": "value"}.'
    if len(headers) > MAX_HEADERS:
        return f"At most {MAX_HEADERS} headers."
    seen = set()
    for name, value in headers.items():
        lowered = name.lower()
        if len(name) > MAX_HEADER_NAME_LENGTH or not HEADER_NAME.fullmatch(name):
            return f'"{name[:MAX_HEADER_NAME_LENGTH]}" is not a valid header name.'
        if lowered in seen:
            return f'Header "{name}" is given twice.'
        seen.add(lowered)
        if lowered in HOP_BY_HOP_HEADERS:
            return f'"{name}" is a hop-by-hop header; the check manages its own connection.'
        if lowered in CHECK_SET_HEADERS:
            instead = CHECK_SET_HEADERS[lowered]
            return f'The check sets "{name}" itself' + (f"; use {instead}." if instead else ".")
        if lowered == "authorization" and has_basic_auth:
            return 'Give either an "Authorization" header or a basic auth username and password, not both.'
        if not isinstance(value, str):
            return f'The value of "{name}" must be a string.'
        if (
            len(value) > MAX_HEADER_VALUE_LENGTH
            or CONTROL_CHARACTERS.search(value)
            or not value.isascii()
            or value != value.strip()
        ):
            return (
                f'The value of "{name}" must be at most {MAX_HEADER_VALUE_LENGTH} ASCII characters, '
                "without line breaks or surrounding spaces."
            )
    if sum(len(name) + len(value) + 4 for name, value in headers.items()) > MAX_HEADERS_BYTES:
        return f"The headers must add up to at most {MAX_HEADERS_BYTES} bytes."
    return None
