.PHONY: demo test bench wheel pure-wheel release lint

# The main job: the demo service under a real WSGI server, with generated traffic,
# printing the audit lines it emits.
demo:
	bash scripts/demo.sh

# Every test suite (what CI runs).
test:
	bash scripts/test.sh

# Benchmarks, side by side (native, python reference, orjson floor), then the Django
# middleware table (interleaved, test Client) and the gunicorn + wrk load-test table.
bench:
	bash scripts/bench.sh

# The native wheel (abi3, CPython >= 3.10, manylinux2014 x86_64: glibc >= 2.17) into dist/.
wheel:
	bash -c '. scripts/env.sh && ensure_venv && ensure_release_tools && VIRTUAL_ENV=$$PWD/$$VENV PATH=$$PWD/$$VENV/bin:$$PATH $$VENV/bin/maturin build --release --zig --compatibility manylinux2014 -o dist'

# The pure-Python wheel (py3-none-any, no extension) into dist/.
pure-wheel:
	python3 scripts/build_pure_wheel.py dist

# All release artefacts into a clean dist/ (manylinux2014 abi3 wheel, pure wheel, sdist),
# then checked (auditwheel, abi3audit, twine, check-wheel-contents). docs/release.md.
release:
	bash scripts/release.sh
