"""`sec-audit-loki-init`: a local Loki + Alloy + Grafana stack for the audit lines."""

from __future__ import annotations

from .setup import InitResult, InvalidValueError, copy_monitoring_assets, init_monitoring

__all__ = ["InitResult", "InvalidValueError", "copy_monitoring_assets", "init_monitoring"]
