"""Django integration: settings, middleware, auth/model receivers, DRF metadata, checks.

Settings paths users put in `settings.py` (drop-in with the original):
`sec_audit.django.apps.SecAuditConfig`, `sec_audit.django.middleware.AuditMiddleware`,
`sec_audit.django.logging.formatters.audit_jsonl_formatter`.
"""
