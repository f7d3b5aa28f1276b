"""How the OpenAPI document (/api/schema/) describes every endpoint, the error answers included.

The errors follow from how a view is built, so an endpoint added later is documented the
same way without annotations of its own: 400 where it reads input, 401 where it needs a
token, 404 where a path names an object or a list is paged, 413 and 415 where a body is
read, 429 where it is rate limited. An explicit `extend_schema(responses=...)` on a view wins.
"""

from django.conf import settings
from drf_spectacular.extensions import OpenApiAuthenticationExtension, OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import permissions, serializers

BODY_METHODS = {"POST", "PUT", "PATCH"}


class ErrorDetail(serializers.Serializer):
    """One message for the whole request (401, 403, 404, 409, 413, 429, and some 400s)."""

    detail = serializers.CharField()
    code = serializers.CharField(required=False, help_text="A machine-readable reason, when there is one.")


class ValidationErrors(serializers.Serializer):
    """400: messages per field (`non_field_errors` for the request as a whole), or one `detail`."""


class ApiKeyScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.api.authentication.ApiKeyAuthentication"
    name = "apiKeyAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "upt_<prefix>_<secret>",
            "description": "An API key from POST /api/keys/, as `Authorization: Bearer upt_...`.",
        }


class ValidationErrorsExtension(OpenApiSerializerExtension):
    target_class = ValidationErrors

    def map_serializer(self, auto_schema, direction):
        messages = {"type": "array", "items": {"type": "string"}}
        return {
            "type": "object",
            "description": ValidationErrors.__doc__,
            "additionalProperties": {"oneOf": [messages, {"type": "string"}]},
            "example": {"interval_seconds": ["Interval must be between 30 and 86400 seconds."]},
        }


def error(description: str, serializer=ErrorDetail) -> OpenApiResponse:
    return OpenApiResponse(serializer, description=description)


BAD_REQUEST = error("Invalid input: a message per field.", ValidationErrors)
UNAUTHORIZED = error("No token, or a bad, expired or blacklisted one, or one of a deactivated user.")
NOT_FOUND = error(
    "No such object in the organization (another organization's is not found either), no such page, or no "
    "organization of yours by that name."
)
FORBIDDEN = error("Your role in the organization (or the API key's) does not allow it.")
ORGANIZATION_HEADER = {
    "name": "X-Organization",
    "in": "header",
    "required": False,
    "schema": {"type": "string"},
    "description": "The slug of the organization to act in; without it, your personal one (an API key: its own).",
}
TOO_LARGE = error("The request body is over REQUEST_MAX_BYTES.")
UNSUPPORTED_MEDIA_TYPE = error("The body's Content-Type is none of those listed for the request body.")
THROTTLED = error("Rate limited: retry after the number of seconds in the Retry-After header.")


class AutoSchema(SpectacularAutoSchema):
    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        if self._acts_in_organization() and "{organization_slug}" not in path:
            operation.setdefault("parameters", []).append(ORGANIZATION_HEADER)
        for parameter in operation.get("parameters", []):
            # DRF reads query parameters as form fields: an empty value (`?region=`) of an
            # optional one counts as not given.
            if parameter["in"] == "query" and not parameter.get("required"):
                parameter["allowEmptyValue"] = True
        responses = operation["responses"]
        for code, response in self._usual_errors(operation).items():
            if code not in responses:
                responses[code] = self._get_response_for_code(response, code)
        if "429" in responses:
            responses["429"].setdefault("headers", {})["Retry-After"] = {
                "schema": {"type": "integer"},
                "description": "Seconds until a request is accepted again.",
            }
        return operation

    def _usual_errors(self, operation: dict) -> dict[str, OpenApiResponse]:
        errors = {}
        reads_body = self.method in BODY_METHODS and "requestBody" in operation
        query = [p for p in operation.get("parameters", []) if p["in"] == "query" and p["name"] != "page"]
        if reads_body or query:
            errors["400"] = BAD_REQUEST
        if self._needs_token():
            errors["401"] = UNAUTHORIZED
        paged = self._is_list_view() and self._get_paginator() is not None and self.method == "GET"
        in_organization = self._acts_in_organization()
        if "{" in self.path or paged or in_organization:
            errors["404"] = NOT_FOUND
        if in_organization:
            errors["403"] = FORBIDDEN
        if reads_body:
            errors["413"] = TOO_LARGE
            errors["415"] = UNSUPPORTED_MEDIA_TYPE
        scope = getattr(self.view, "throttle_scope", None)
        if scope and settings.API_THROTTLE_RATES.get(scope):
            errors["429"] = THROTTLED
        return errors

    def _acts_in_organization(self) -> bool:
        # accounts.api.authentication.MemberRole: every request with a token acts in one.
        return self._needs_token() and not getattr(self.view, "organization_free", False)

    def _needs_token(self) -> bool:
        return bool(self.view.get_authenticators()) and not any(
            isinstance(p, permissions.AllowAny) for p in self.view.get_permissions()
        )
