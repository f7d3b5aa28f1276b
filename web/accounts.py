"""Signing in and out, and changing or resetting a password: Django's own views, with our
templates. Sign-in attempts count against the token endpoint's rate (scope "auth", per
client address): guessing passwords through the page is no cheaper than through the API."""

import math

from django.contrib.auth import views as auth_views
from django.urls import reverse_lazy
from django.utils.decorators import method_decorator
from django.views.decorators.debug import sensitive_post_parameters
from django.views.generic.edit import FormView

from .rate_limits import wait_seconds


class AuthRateLimited(FormView):
    """A form posted without an account (sign in, ask for a reset email) counts against
    the "auth" rate; over it, the page says how long to wait (429)."""

    def post(self, request, *args, **kwargs):
        wait = wait_seconds(request, "auth")
        if wait is not None:
            seconds = math.ceil(wait)
            response = self.render_to_response({**self.get_context_data(), "throttled_seconds": seconds}, status=429)
            response["Retry-After"] = str(seconds)
            return response
        return super().post(request, *args, **kwargs)


@method_decorator(sensitive_post_parameters("password"), name="dispatch")
class LoginView(AuthRateLimited, auth_views.LoginView):
    template_name = "web/login.html"
    redirect_authenticated_user = True


class LogoutView(auth_views.LogoutView):
    pass


class PasswordChangeView(auth_views.PasswordChangeView):
    template_name = "web/password_change.html"
    success_url = reverse_lazy("web:password-change-done")


class PasswordChangeDoneView(auth_views.PasswordChangeDoneView):
    template_name = "web/password_change_done.html"


class PasswordResetView(AuthRateLimited, auth_views.PasswordResetView):
    template_name = "web/password_reset.html"
    email_template_name = "web/password_reset_email.txt"
    subject_template_name = "web/password_reset_subject.txt"
    success_url = reverse_lazy("web:password-reset-done")


class PasswordResetDoneView(auth_views.PasswordResetDoneView):
    template_name = "web/password_reset_done.html"


class PasswordResetConfirmView(auth_views.PasswordResetConfirmView):
    template_name = "web/password_reset_confirm.html"
    success_url = reverse_lazy("web:password-reset-complete")


class PasswordResetCompleteView(auth_views.PasswordResetCompleteView):
    template_name = "web/password_reset_complete.html"
