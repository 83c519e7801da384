"""A private rsyslogd on loopback for the syslog handler's integration tests.

The test command installs rsyslog first (scripts/ensure_services.sh); a missing
rsyslogd here is a failure, not a skip. Each server gets its own config, pid file,
work directory and output file under tmp_path, listens on free loopback ports (UDP,
TCP, TLS) and writes every received message as one tab-separated line of its parsed
RFC 5424 fields. Nothing outside tmp_path is touched.
"""

from __future__ import annotations

import glob
import shutil
import socket
import ssl
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

START_TIMEOUT = 20.0  # bound for the readiness poll only
FIELDS = (
    "input",
    "pri",
    "version",
    "timestamp",
    "hostname",
    "app_name",
    "procid",
    "msgid",
    "structured_data",
    "msg",
)
_TEMPLATE = "\\t".join(
    [
        "%inputname%",
        "%pri%",
        "%protocol-version%",
        "%timereported:::date-rfc3339%",
        "%hostname%",
        "%app-name%",
        "%procid%",
        "%msgid%",
        "%structured-data%",
        "%msg%",
    ]
)


def rsyslogd_path() -> str:
    path = shutil.which("rsyslogd") or next(
        (p for p in ("/usr/sbin/rsyslogd", "/sbin/rsyslogd") if Path(p).exists()), None
    )
    if path is None:
        pytest.fail(
            "rsyslogd is not installed; run scripts/ensure_services.sh (the test command "
            "scripts/test.sh does) or apt-get install rsyslog rsyslog-openssl"
        )
    if not glob.glob("/usr/lib/*/rsyslog/lmnsd_ossl.so") + glob.glob(
        "/usr/lib/rsyslog/lmnsd_ossl.so"
    ):
        pytest.fail(
            "rsyslog's openssl stream driver (lmnsd_ossl) is missing; run "
            "scripts/ensure_services.sh or apt-get install rsyslog-openssl"
        )
    return path


def free_port(kind: int) -> int:
    with socket.socket(socket.AF_INET, kind) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def make_certificate(directory: Path) -> tuple[Path, Path] | None:
    """A throw-away self-signed certificate for 127.0.0.1, or None without openssl."""
    openssl = shutil.which("openssl")
    if openssl is None:
        return None
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-keyout", str(key), "-out", str(cert), "-days", "2", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


@dataclass
class Received:
    input: str
    pri: int
    version: str
    timestamp: str
    hostname: str
    app_name: str
    procid: str
    msgid: str
    structured_data: str
    msg: str


class RsyslogServer:
    """One rsyslogd with imudp, imtcp and imtcp+TLS inputs on loopback."""

    def __init__(self, directory: Path, cert: tuple[Path, Path] | None) -> None:
        self.dir = directory
        self.dir.mkdir(parents=True, exist_ok=True)
        self.cert = cert
        self.output = self.dir / "received.log"
        self.udp_port = free_port(socket.SOCK_DGRAM)
        self.tcp_port = free_port(socket.SOCK_STREAM)
        self.tls_port = free_port(socket.SOCK_STREAM) if cert else None
        self.process: subprocess.Popen[bytes] | None = None
        self._write_config()

    def _write_config(self) -> None:
        d = self.dir
        tls_global = ""
        tls_input = ""
        if self.cert:
            cert, key = self.cert
            tls_global = (
                f'DefaultNetstreamDriverCAFile="{cert}" DefaultNetstreamDriverCertFile="{cert}" '
                f'DefaultNetstreamDriverKeyFile="{key}"'
            )
            tls_input = (
                f'input(type="imtcp" name="tls" address="127.0.0.1" port="{self.tls_port}" '
                'ruleset="out" maxFrameSize="300000" streamDriver.name="ossl" streamDriver.mode="1" '
                'streamDriver.authMode="anon")'
            )
        (d / "rsyslog.conf").write_text(
            f"""
global(workDirectory="{d}" maxMessageSize="300k" {tls_global})
module(load="imudp")
module(load="imtcp")
input(type="imudp" name="udp" address="127.0.0.1" port="{self.udp_port}" ruleset="out")
input(type="imtcp" name="tcp" address="127.0.0.1" port="{self.tcp_port}" ruleset="out"
      maxFrameSize="300000")
{tls_input}
template(name="fields" type="string" string="{_TEMPLATE}\\n")
ruleset(name="out") {{
  action(type="omfile" file="{self.output}" template="fields")
}}
"""
        )

    def start(self) -> None:
        log = (self.dir / "rsyslogd.log").open("ab")
        self.process = subprocess.Popen(
            [rsyslogd_path(), "-n", "-f", str(self.dir / "rsyslog.conf"), "-i", str(self.dir / "rsyslogd.pid")],
            stdout=log,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
        log.close()
        self._wait_ready()

    def _wait_ready(self) -> None:
        """Bounded poll: a probe through every input shows up in the output file."""
        deadline = time.monotonic() + START_TIMEOUT
        probes = {"udp": self._probe_udp, "tcp": self._probe_tcp}
        if self.cert:
            probes["tls"] = self._probe_tls
        pending = dict(probes)
        marker = f"ready-{time.monotonic_ns()}"
        while pending:
            assert self.process is not None
            if self.process.poll() is not None or time.monotonic() > deadline:
                self.stop()
                log = (self.dir / "rsyslogd.log").read_text(errors="replace")
                pytest.fail(f"rsyslogd did not come up (inputs {sorted(pending)} silent):\n{log}")
            for name, probe in list(pending.items()):
                try:
                    probe(f"<14>1 - probe - - - - {marker}-{name}".encode())
                except OSError:
                    continue
            seen = {r.msg for r in self.received()}
            for name in list(pending):
                if f"{marker}-{name}" in seen:
                    del pending[name]
            time.sleep(0.05)

    def _probe_udp(self, message: bytes) -> None:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.sendto(message, ("127.0.0.1", self.udp_port))

    def _probe_tcp(self, message: bytes) -> None:
        with socket.create_connection(("127.0.0.1", self.tcp_port), timeout=2) as sock:
            sock.sendall(b"%d %s" % (len(message), message))

    def _probe_tls(self, message: bytes) -> None:
        assert self.cert and self.tls_port
        context = self.client_context()
        with socket.create_connection(("127.0.0.1", self.tls_port), timeout=2) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as sock:
                sock.sendall(b"%d %s" % (len(message), message))
                sock.unwrap()

    def client_context(self) -> ssl.SSLContext:
        assert self.cert
        return ssl.create_default_context(cafile=str(self.cert[0]))

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def received(self) -> list[Received]:
        if not self.output.exists():
            return []
        rows = []
        for line in self.output.read_text(encoding="utf-8", errors="replace").splitlines():
            parts = line.split("\t", len(FIELDS) - 1)
            if len(parts) == len(FIELDS):
                values = dict(zip(FIELDS, parts, strict=True))
                rows.append(Received(**{**values, "pri": int(values["pri"])}))  # type: ignore[arg-type]
        return rows

    def wait_for(self, needle: str, count: int) -> list[Received]:
        """Bounded poll until `count` messages containing `needle` arrived; those messages."""
        deadline = time.monotonic() + START_TIMEOUT
        while True:
            found = [r for r in self.received() if needle in r.msg]
            if len(found) >= count or time.monotonic() > deadline:
                return found
            time.sleep(0.05)
