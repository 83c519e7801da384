#!/usr/bin/env bash
# Check the artefacts scripts/release.sh put into dist/: exactly one native abi3 wheel
# (manylinux2014 / manylinux_2_17 x86_64), one py3-none-any wheel, one sdist.
set -euo pipefail
cd "$(dirname "$0")/.."
. scripts/env.sh
ensure_release_tools
B="$VENV/bin"
fail() { echo "release check FAILED: $*" >&2; exit 1; }

shopt -s nullglob
native=(dist/*-cp310-abi3-*manylinux*_x86_64.whl)
pure=(dist/*-py3-none-any.whl)
sdist=(dist/*.tar.gz)
[ ${#native[@]} -eq 1 ] || fail "expected one abi3 manylinux x86_64 wheel in dist/, got: ${native[*]:-none}"
[ ${#pure[@]} -eq 1 ] || fail "expected one py3-none-any wheel in dist/"
[ ${#sdist[@]} -eq 1 ] || fail "expected one sdist in dist/"
case "${native[0]}" in
    *manylinux2014_x86_64*|*manylinux_2_17_x86_64*) ;;
    *) fail "native wheel is not tagged manylinux2014 / manylinux_2_17: ${native[0]}" ;;
esac

echo "-- auditwheel show"
aw=$("$B/auditwheel" show "${native[0]}")
echo "$aw" | sed -n '1,6p'
echo "$aw" | tr -s ' \n' ' ' | grep -Eq '"?(manylinux2014_x86_64|manylinux_2_17_x86_64)"?' \
    || fail "auditwheel does not report manylinux2014 / manylinux_2_17 x86_64"

echo "-- abi3audit"
"$B/abi3audit" --strict --report "${native[0]}" >/dev/null || fail "abi3audit found violations"
echo "abi3audit: no abi3 violation"

echo "-- twine check"
"$B/twine" check --strict dist/*

echo "-- check-wheel-contents"
# Configuration (ignores, each with its reason) lives in pyproject.toml [tool.check-wheel-contents].
"$B/check-wheel-contents" "${native[0]}" "${pure[0]}"

echo "-- typing files in the wheels"
for whl in "${native[0]}" "${pure[0]}"; do
    names=$("$B/python" -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "$whl")
    for f in sec_audit/py.typed sec_audit/_native.pyi; do
        grep -qx "$f" <<<"$names" || fail "$f missing from $whl"
    done
done
grep -q 'sec_audit/_native' <<<"$("$B/python" -c 'import sys, zipfile; print("\n".join(zipfile.ZipFile(sys.argv[1]).namelist()))' "${native[0]}")" \
    || fail "no extension in the native wheel"
echo "py.typed and _native.pyi present in both wheels"
echo "release artefacts OK"
