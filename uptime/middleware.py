"""Refuse oversized API request bodies up front, with a JSON answer clients can read."""

from django.conf import settings
from django.http import JsonResponse


class RequestSizeLimitMiddleware:
    """413 for a declared body over REQUEST_MAX_BYTES, before anything reads it.

    Django's own check (DATA_UPLOAD_MAX_MEMORY_SIZE) still stops a body that declares no
    length, with a plain 400.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return JsonResponse({"detail": "Invalid Content-Length header."}, status=400)
        if limit is not None and length > limit:
            return JsonResponse({"detail": f"Request body too large: the limit is {limit} bytes."}, status=413)
        return self.get_response(request)
