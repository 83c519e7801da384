.PHONY: demo test bench wheel pure-wheel lint

# The main job: the demo service under a real WSGI server, with generated traffic,
# printing the audit lines it emits.
demo:
	bash scripts/demo.sh

# Every test suite (what CI runs).
test:
	bash scripts/test.sh

# Benchmarks, side by side (native, python reference, orjson floor).
bench:
	bash scripts/bench.sh

# The native wheel (abi3, CPython >= 3.10) into dist/.
wheel:
	bash -c '. scripts/env.sh && ensure_venv && $$VENV/bin/maturin build --release -o dist'

# The pure-Python wheel (py3-none-any, no extension) into dist/.
pure-wheel:
	python3 scripts/build_pure_wheel.py dist
