"""What the API's create endpoints share: a 201 says where the new object now lives."""

from typing import TYPE_CHECKING, Any

from django.urls import reverse
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response

if TYPE_CHECKING:
    from rest_framework.generics import GenericAPIView

    Base = GenericAPIView
else:
    Base = object


class CreatedLocationMixin(Base):
    """201 with `Location: /api/<kind>/<id>/`, the new object's API URL.

    DRF's CreateModelMixin takes Location from the field named `url`, which here is the
    monitored site or the webhook's address, not the object."""

    def create(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        self.perform_create(serializer)  # type: ignore[attr-defined]  # the viewset's CreateModelMixin
        headers = {"Location": self.created_location(serializer.instance)}
        return Response(serializer.data, status=status.HTTP_201_CREATED, headers=headers)

    def created_location(self, instance: Any) -> str:
        """The router's detail route of the viewset (`<basename>-detail`)."""
        return reverse(f"{self.basename}-detail", kwargs={"pk": instance.pk})  # type: ignore[attr-defined]
