"""The config file over the API: plan and apply a YAML or JSON body, export, the schema.

Secrets are given as they are (${...} is an error: the server's environment is not the
client's); export writes them as placeholders."""

from django.http import HttpResponse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import parsers, permissions, serializers, status
from rest_framework.exceptions import ParseError
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.actors import acting
from accounts.models import Role
from configfile.apply import apply_document
from configfile.document import load
from configfile.export import export_text
from configfile.format import ConfigInvalid
from configfile.plan import make_plan
from configfile.schema import config_schema
from uptime.openapi import error


class YAMLText(parsers.BaseParser):
    """The body as text: it is parsed with the line of every value, for the errors."""

    media_type = "application/yaml"

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return stream.read().decode("utf-8") if stream is not None else ""
        except UnicodeDecodeError:
            raise ParseError("The YAML body is not UTF-8.") from None


class OtherYAMLText(YAMLText):
    media_type = "application/x-yaml"


class JSONText(YAMLText):
    media_type = "application/json"


def _documented(name: str, fields: dict) -> type[serializers.Serializer]:
    # A class made from a dict: its fields are named like a Serializer's own attributes
    # (errors, fields, create), which a class body would shadow.
    return type(name, (serializers.Serializer,), fields)


# Documentation of the answers only: the views build them from the plan.
ConfigFieldChange = _documented(
    "ConfigFieldChange",
    {
        "old": serializers.JSONField(required=False),
        "new": serializers.JSONField(required=False),
        "secret": serializers.BooleanField(required=False, help_text="A secret changed: its values are not shown."),
    },
)
ConfigStep = _documented(
    "ConfigStep",
    {
        "kind": serializers.CharField(help_text="channel, monitor, maintenance window or status page."),
        "name": serializers.CharField(help_text="Its name (a status page's slug)."),
        "id": serializers.IntegerField(allow_null=True),
        "fields": serializers.DictField(
            child=ConfigFieldChange(), required=False, help_text="Changes only: old and new value by field."
        ),
    },
)
ConfigError = _documented(
    "ConfigError",
    {
        "item": serializers.CharField(help_text='Like monitors[2] "Shop" (indexes from 0), or empty.'),
        "field": serializers.CharField(),
        "line": serializers.IntegerField(allow_null=True, help_text="In a YAML body."),
        "message": serializers.CharField(),
    },
)
ERRORS = _documented("ConfigErrors", {"detail": serializers.CharField(), "errors": ConfigError(many=True)})
PLAN = _documented(
    "ConfigPlan",
    {
        "changes": serializers.BooleanField(help_text="false: the account matches the file."),
        "create": ConfigStep(many=True),
        "change": ConfigStep(many=True),
        "delete": ConfigStep(many=True),
        "unmanaged": serializers.DictField(child=serializers.IntegerField(), help_text="By section: left as they are."),
        "summary": serializers.CharField(),
    },
)


PRUNE = OpenApiParameter(
    "prune", bool, description="true: delete what the file does not have (default false: leave it)."
)
BODY = {"application/yaml": OpenApiTypes.STR, "application/json": OpenApiTypes.OBJECT}


class _Planning(APIView):
    parser_classes = [YAMLText, OtherYAMLText, JSONText]
    # Only the checks "now" and tests are rate limited; a plan reads the account once.
    throttle_scope = None

    def prune(self) -> bool:
        return self.request.query_params.get("prune", "").lower() in ("true", "1", "yes")

    def run(self, request, action) -> Response:
        media = (request.content_type or "").split(";")[0].strip().lower()
        try:
            document, lines = load(
                request.data if isinstance(request.data, str) else "", as_json=media == "application/json"
            )
            plan = action(acting(request).organization, document, lines, prune=self.prune(), over_api=True)
        except ConfigInvalid as exc:
            body = {
                "detail": f"{len(exc.errors)} error(s); nothing was changed.",
                "errors": [e.as_dict() for e in exc.errors],
            }
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return Response(plan.as_dict())


class ConfigPlanView(_Planning):
    # A plan writes nothing: a viewer may ask for one (MemberRole would take POST for a write).
    write_role = Role.VIEWER

    @extend_schema(
        request=BODY,
        parameters=[PRUNE],
        responses={200: PLAN, 400: error("The file has errors: each located by item, field and line.", ERRORS)},
        description="What applying the file would create, change (field by field) and delete; writes nothing.",
    )
    def post(self, request):
        return self.run(request, make_plan)


class ConfigApplyView(_Planning):
    @extend_schema(
        request=BODY,
        parameters=[PRUNE],
        responses={200: PLAN, 400: error("The file has errors: nothing was changed.", ERRORS)},
        description="Make your account what the file says, in one transaction (all or nothing); answers the "
        "plan carried out. Needs an editor's role.",
    )
    def post(self, request):
        return self.run(request, apply_document)


class ConfigExportView(APIView):
    throttle_scope = None

    @extend_schema(
        responses={
            # A YAML mapping: clients that read YAML see the document docs/config.schema.json describes.
            (200, "application/yaml"): OpenApiResponse(OpenApiTypes.OBJECT, description="The config file."),
            400: error("Two objects of one kind share a name.", ERRORS),
        },
        description="Your account as a config file; secrets as ${UPTIME_...} placeholders listed at its top.",
    )
    def get(self, request):
        try:
            text = export_text(acting(request).organization)
        except ConfigInvalid as exc:
            body = {"detail": "The account cannot be written as a file.", "errors": [e.as_dict() for e in exc.errors]}
            return Response(body, status=status.HTTP_400_BAD_REQUEST)
        return HttpResponse(text, content_type="application/yaml; charset=utf-8")


class ConfigSchemaView(APIView):
    # Like the OpenAPI document: it holds no data, and editors fetch it without a token.
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_scope = None

    @extend_schema(responses={200: OpenApiResponse(OpenApiTypes.OBJECT, description="JSON Schema, draft 2020-12.")})
    def get(self, request):
        return Response(config_schema())
