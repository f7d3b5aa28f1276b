"""Query parameters read by a serializer: each given once. A repeated one (`?status=up&status=down`)
is a 400 on that parameter, not the last value silently winning."""

from typing import Any

from rest_framework import serializers


class QueryParameters(serializers.Serializer):
    def to_internal_value(self, data: Any) -> Any:
        if hasattr(data, "getlist"):
            given = [name for name, _ in self.fields.items() if len(data.getlist(name)) > 1]
            repeated = {name: [f"Give {name} once."] for name in given}
            if repeated:
                raise serializers.ValidationError(repeated)
        return super().to_internal_value(data)
