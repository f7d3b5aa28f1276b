"""The organization's audit log, newest first (admins and owners): filtered by what was
done, to what kind of thing and which one, and from when."""

from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import generics, serializers

from accounts.actors import acting
from audit.models import AuditEvent


class AuditEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = AuditEvent
        fields = [
            "id",
            "at",
            "user_email",
            "key_name",
            "source",
            "action",
            "object_type",
            "object_id",
            "object_name",
            "changes",
        ]


class AuditFilterSerializer(serializers.Serializer):
    action = serializers.CharField(required=False, max_length=20)
    object_type = serializers.CharField(required=False, max_length=30)
    object_id = serializers.IntegerField(required=False, min_value=1)
    since = serializers.DateTimeField(required=False)


@extend_schema_view(get=extend_schema(parameters=[AuditFilterSerializer]))
class AuditEventListView(generics.ListAPIView):
    serializer_class = AuditEventSerializer
    # Who did what is the admins' to read: a viewer does not see their colleagues' steps.
    read_role = "admin"

    def get_queryset(self):
        query = AuditFilterSerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        events = AuditEvent.objects.filter(organization=acting(self.request).organization)
        wanted = query.validated_data
        for name in ("action", "object_type", "object_id"):
            if name in wanted:
                events = events.filter(**{name: wanted[name]})
        if "since" in wanted:
            events = events.filter(at__gte=wanted["since"])
        return events
