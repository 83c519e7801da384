"""django-sec-audit: structured security and audit logging for Django."""

__version__ = "0.2.0"
