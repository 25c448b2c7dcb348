"""Keeps the API's one error format for errors Django answers before an endpoint runs."""

from http import HTTPStatus

from django.http import HttpRequest, HttpResponse, JsonResponse

from leifeng.core.errors import error_body, status_code

API_PREFIX = "/api/"


class ApiErrorMiddleware:
    """Under /api/, rewrite any error response that is not already JSON (an unknown path's 404, a wrong
    method's 405, a crash's 500) into {"error": {"code", "message", "fields"}}. Pages are untouched."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code < 400
            or not request.path.startswith(API_PREFIX)
            or response.get("Content-Type", "").startswith("application/json")
        ):
            return response
        status = response.status_code
        try:
            message = HTTPStatus(status).phrase + "."
        except ValueError:
            message = "Error."
        if status == 405 and response.has_header("Allow"):
            message = f"Method not allowed; use {response['Allow']}."
        new = JsonResponse(
            error_body(status_code(status), message), status=status, json_dumps_params={"ensure_ascii": False}
        )
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if response.has_header(header):
                new[header] = response[header]
        return new
