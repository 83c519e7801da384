#!/usr/bin/env bash
# Installs the real services the integration tests run privately on loopback (idempotent).
# rsyslog: the syslog handler's UDP/TCP tests; rsyslog-openssl: its TLS (RFC 5425) test.
# Nothing is started or enabled here: each test starts its own rsyslogd under tmp_path.
set -euo pipefail

missing=()
command -v rsyslogd >/dev/null 2>&1 || missing+=(rsyslog)
# The openssl network stream driver ships separately; the module file is the cheap probe.
ls /usr/lib/*/rsyslog/lmnsd_ossl.so /usr/lib/rsyslog/lmnsd_ossl.so >/dev/null 2>&1 \
    || missing+=(rsyslog-openssl)

if [ "${#missing[@]}" -gt 0 ]; then
    if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
        echo "ensure_services: missing ${missing[*]}; install them (apt-get install ${missing[*]})" >&2
        exit 1
    fi
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
command -v rsyslogd >/dev/null
echo "rsyslogd: $(rsyslogd -v | head -n 1)"
