"""Transports: the only modules that do network or subprocess I/O."""

from .base import RateLimitInfo, Response, Transport, raise_for_status, rate_limit_info
from .http import DEFAULT_BASE_URL, HTTPTransport, sandbox_transport

__all__ = [
    "DEFAULT_BASE_URL",
    "HTTPTransport",
    "RateLimitInfo",
    "Response",
    "Transport",
    "raise_for_status",
    "rate_limit_info",
    "sandbox_transport",
]
