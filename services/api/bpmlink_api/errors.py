"""Errors of the api that several domains raise."""

from bpmlink.kit.web import AppError


class UpstreamError(AppError):
    """bpm'online (or another source) answered with an error we pass on to the user."""

    status_code = 502
    code = "bpmonline_error"
