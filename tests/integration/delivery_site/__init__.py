"""A minimal Django site served by gunicorn in tests/integration/test_delivery_gunicorn.py."""
