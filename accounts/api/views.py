from typing import cast

from django.core.exceptions import ValidationError as DjangoValidationError
from django.urls import reverse
from drf_spectacular.utils import extend_schema, extend_schema_view, inline_serializer
from rest_framework import generics, permissions, serializers, status, viewsets
from rest_framework.response import Response
from rest_framework.views import APIView
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.serializers import TokenObtainPairSerializer, TokenRefreshSerializer
from rest_framework_simplejwt.views import TokenObtainPairView, TokenRefreshView

from accounts.actors import acting
from accounts.keys import keys_seen_by, revoke_key
from accounts.models import ApiKey, Role, User
from accounts.roles import at_least
from accounts.services import change_password
from accounts.tokens import RefreshToken
from uptime.api_views import CreatedLocationMixin
from uptime.openapi import error

from .serializers import ApiKeySerializer, PasswordChangeSerializer, RegistrationSerializer, UserSerializer


@extend_schema(responses={201: UserSerializer})
class RegisterView(CreatedLocationMixin, generics.CreateAPIView):
    serializer_class = RegistrationSerializer
    permission_classes = [permissions.AllowAny]
    authentication_classes: list = []
    throttle_scope = "auth"

    def created_location(self, instance):
        return reverse("me")  # where the new user reads their account, once they have a token


# Password guessing and token minting are rate limited per client address.
@extend_schema(responses={200: TokenObtainPairSerializer, 401: error("Wrong email or password, or an inactive user.")})
class TokenView(TokenObtainPairView):
    throttle_scope = "auth"


@extend_schema(
    description="A new access token and a new refresh token; the refresh token sent is spent (blacklisted).",
    responses={200: TokenRefreshSerializer, 401: error("The refresh token is invalid, expired or already spent.")},
)
class RefreshView(TokenRefreshView):
    throttle_scope = "auth"


class MeView(generics.RetrieveAPIView):
    serializer_class = UserSerializer
    organization_free = True

    def get_object(self):
        return self.request.user


class LogoutView(APIView):
    """Blacklist a refresh token so it can mint no more access tokens."""

    organization_free = True

    @extend_schema(
        request=inline_serializer("LogoutRequest", {"refresh": serializers.CharField()}),
        responses={205: None},
    )
    def post(self, request):
        token = request.data.get("refresh") if isinstance(request.data, dict) else None
        if not token:
            return Response({"refresh": ["This field is required."]}, status=status.HTTP_400_BAD_REQUEST)
        try:
            refresh = RefreshToken(token)
            if str(refresh.payload.get("user_id")) != str(request.user.pk):
                raise TokenError("token belongs to another user")
            refresh.blacklist()
        except TokenError:
            return Response({"refresh": ["Token is invalid or expired."]}, status=status.HTTP_400_BAD_REQUEST)
        return Response(status=status.HTTP_205_RESET_CONTENT)


class PasswordChangeView(APIView):
    """Change one's own password: the current one and a new one that passes the password
    rules. The user's refresh tokens are blacklisted (sign in again with the new password)."""

    people_only = True  # not with an API key (MemberRole)
    organization_free = True
    # Guessing the current password with a stolen access token is rate limited as the
    # token endpoint is (per user here).
    throttle_scope = "auth"

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request):
        serializer = PasswordChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        user = cast(User, request.user)  # IsAuthenticated: never AnonymousUser here
        try:
            change_password(user, **serializer.validated_data)
        except DjangoValidationError as exc:
            return Response(exc.message_dict, status=status.HTTP_400_BAD_REQUEST)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(destroy=extend_schema(description="Revoke the key: it stops working at once and stays listed."))
class ApiKeyViewSet(CreatedLocationMixin, viewsets.ModelViewSet):
    """The organization's API keys: a member sees and revokes their own, an admin or owner
    everyone's. Any member may make one with a role no higher than theirs; a key makes or
    revokes keys only with the admin or owner role. A key is shown once, in the answer to
    the POST that makes it."""

    serializer_class = ApiKeySerializer
    # For the OpenAPI document: the type of {id} (get_queryset needs the request's actor).
    queryset = ApiKey.objects.none()
    http_method_names = ["get", "post", "delete", "head", "options"]
    write_role = Role.VIEWER

    def check_permissions(self, request) -> None:
        super().check_permissions(request)
        if isinstance(request.auth, ApiKey) and not at_least(acting(request).role, Role.ADMIN):
            self.permission_denied(request, message="Only an admin or owner key makes, lists or revokes keys.")

    def get_queryset(self):
        return keys_seen_by(acting(self.request))

    def perform_destroy(self, instance: ApiKey) -> None:
        revoke_key(instance)
