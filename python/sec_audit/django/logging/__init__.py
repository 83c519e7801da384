"""Django-side emitters: the formatter factory, auth receivers, auditlog forwarding."""
