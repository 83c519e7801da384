//! Pure-Rust core of the django-sec-audit engine (no Python here).
