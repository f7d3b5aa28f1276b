from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils import timezone
from rest_framework import serializers

from accounts.actors import acting
from accounts.keys import create_key
from accounts.models import ApiKey, User
from accounts.services import register_user


class UserSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email"]


class RegistrationSerializer(serializers.Serializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})

    def validate_email(self, value: str) -> str:
        value = User.objects.normalize_email(value).lower()
        if User.objects.filter(email__iexact=value).exists():
            raise serializers.ValidationError("A user with this email already exists.")
        return value

    def validate(self, attrs):
        try:
            validate_password(attrs["password"], User(email=attrs["email"]))
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)}) from None
        return attrs

    def create(self, validated_data) -> User:
        return register_user(validated_data["email"], validated_data["password"])

    def to_representation(self, instance):
        return UserSerializer(instance).data


class PasswordChangeSerializer(serializers.Serializer):
    """The current password and the new one; accounts.services.change_password judges them."""

    # Whitespace is trimmed as registration and the token endpoint trim it, so the new
    # password is the one a later sign-in sends.
    old_password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})
    new_password = serializers.CharField(write_only=True, max_length=128, style={"input_type": "password"})


class ApiKeySerializer(serializers.ModelSerializer):
    """A key as listed: never its secret. `token` is in the answer to the POST that made it,
    and nowhere ever again."""

    role = serializers.ChoiceField(choices=ApiKey.Role.choices)
    token = serializers.SerializerMethodField(help_text="The key to send as `Authorization: Bearer`: shown once.")
    is_active = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = [
            "id",
            "name",
            "role",
            "prefix",
            "created_at",
            "expires_at",
            "last_used_at",
            "revoked_at",
            "is_active",
            "token",
        ]
        read_only_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]

    def get_token(self, key: ApiKey) -> str | None:
        return getattr(key, "token", None)

    def get_is_active(self, key: ApiKey) -> bool:
        return key.is_active_at(timezone.now())

    def create(self, validated_data) -> ApiKey:
        request = self.context["request"]
        try:
            key, token = create_key(acting(request), **validated_data)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from None
        key.token = token  # type: ignore[attr-defined]  # for this one answer
        return key
