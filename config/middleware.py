"""Middleware of the composition root."""

from __future__ import annotations

import time
from collections.abc import Callable

from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.urls import Resolver404, resolve

# Where views answering other systems live; other requests are not even looked at.
MACHINE_PREFIX = "/api/"


class MachineEndpointMiddleware:
    """Requests to a view marked `machine_endpoint` skip the middleware listed after this one.

    Such views (integration's signed inbound endpoints) answer another system, never a person:
    they read no session, CSRF token, user, messages, htmx headers or history context, and the
    middleware that provides those cost a tenth of the CPU of acknowledging an event. What
    every answer needs is listed before this one and still applies: security headers and
    redirects, static files, the language (Russian first), the common checks, X-Frame-Options.
    The view is called and its response rendered as Django's handler would (no view or
    template-response middleware precedes it: CSRF's is the only one and these views are
    exempt), and an error it raises is answered as any other.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.path_info.startswith(MACHINE_PREFIX):
            try:
                match = resolve(request.path_info)
            except Resolver404:
                match = None
            if match is not None and getattr(match.func, "machine_endpoint", False):
                request.resolver_match = match
                response = match.func(request, *match.args, **match.kwargs)
                if callable(getattr(response, "render", None)):  # DRF's, as the handler does
                    response = response.render()
                return response
        return self.get_response(request)


class ServerTimingMiddleware:
    """Every answer says how long the server took to make it (`Server-Timing: app;dur=ms`):
    what a browser's developer tools and the benchmarks read as server-side time, queueing
    in front of the workers excluded."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        response = self.get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.1f}"
        return response
