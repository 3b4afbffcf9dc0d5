"""RANGEX_DOCKER_URL names a remote engine that asks for mutual TLS (dockerd --tlsverify).

The remote engine is this machine's engine behind a TLS front on 127.0.0.1 that requires a client
certificate signed by a CA made for the test, as dockerd --tlsverify does: DOCKER_TLS_VERIFY and
DOCKER_CERT_PATH (ca.pem, cert.pem, key.pem) must reach it, and nothing else may.
"""

from __future__ import annotations

import contextlib
import datetime
import ipaddress
import socket
import ssl
import threading
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from apps.runtime.docker import DockerRuntime

ENGINE_SOCKET = "/var/run/docker.sock"


def _certificate(subject: str, key, issuer_name, issuer_key, *, ca: bool = False, usage=None, ip: str | None = None):
    now = datetime.datetime.now(datetime.UTC)
    builder = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, subject)]))
        .issuer_name(issuer_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
    )
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if ip:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(ip))]), False)
    return builder.sign(issuer_key, hashes.SHA256())


def _write(path: Path, certificate=None, key=None) -> None:
    if certificate is not None:
        path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    else:
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        )


@pytest.fixture
def pki(tmp_path):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, laid out as docker expects."""
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "test engine CA")])
    ca = _certificate("test engine CA", ca_key, ca_name, ca_key, ca=True)
    server_key, client_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    server = _certificate("engine", server_key, ca_name, ca_key, usage=ExtendedKeyUsageOID.SERVER_AUTH, ip="127.0.0.1")
    client = _certificate("rangex", client_key, ca_name, ca_key, usage=ExtendedKeyUsageOID.CLIENT_AUTH)
    client_dir = tmp_path / "client"
    client_dir.mkdir()
    _write(client_dir / "ca.pem", ca)
    _write(client_dir / "cert.pem", client)
    _write(client_dir / "key.pem", key=client_key)
    _write(tmp_path / "ca.pem", ca)
    _write(tmp_path / "server.pem", server)
    _write(tmp_path / "server-key.pem", key=server_key)
    return tmp_path


def _pump(source: socket.socket, target: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            target.sendall(data)
    except OSError:
        pass
    finally:
        for end in (source, target):
            with contextlib.suppress(OSError):
                end.shutdown(socket.SHUT_RDWR)


@pytest.fixture
def tls_engine(pki):
    """Serve the local engine's API over TLS on 127.0.0.1, requiring a client certificate of the CA."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(pki / "server.pem", pki / "server-key.pem")
    context.load_verify_locations(pki / "ca.pem")
    context.verify_mode = ssl.CERT_REQUIRED
    listener = socket.create_server(("127.0.0.1", 0))
    stopping = threading.Event()

    def serve():
        while not stopping.is_set():
            try:
                raw, _ = listener.accept()
            except OSError:
                return
            try:
                client = context.wrap_socket(raw, server_side=True)
            except (ssl.SSLError, OSError):
                raw.close()
                continue
            engine = socket.socket(socket.AF_UNIX)
            engine.connect(ENGINE_SOCKET)
            threading.Thread(target=_pump, args=(client, engine), daemon=True).start()
            threading.Thread(target=_pump, args=(engine, client), daemon=True).start()

    threading.Thread(target=serve, daemon=True).start()
    yield f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    stopping.set()
    listener.close()


def test_docker_url_reaches_an_engine_over_mutual_tls_with_the_named_certificates(tls_engine, pki, monkeypatch):
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    monkeypatch.setenv("DOCKER_CERT_PATH", str(pki / "client"))
    # requests lets these replace the CA of DOCKER_CERT_PATH; some machines set them globally.
    monkeypatch.delenv("REQUESTS_CA_BUNDLE", raising=False)
    monkeypatch.delenv("CURL_CA_BUNDLE", raising=False)
    runtime = DockerRuntime(base_url=tls_engine, instance="tls-test", timeout=10)
    ping = runtime.ping()
    assert ping["ok"], ping
    assert runtime.api.base_url.startswith("https://")
    assert ping["version"] == DockerRuntime(base_url="", instance="tls-test").ping()["version"]


def test_docker_url_of_a_tls_engine_without_client_certificate_is_unreachable(tls_engine, monkeypatch):
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    monkeypatch.delenv("DOCKER_CERT_PATH", raising=False)
    ping = DockerRuntime(base_url=tls_engine, instance="tls-test", timeout=10).ping()
    assert ping["ok"] is False
    assert "unreachable" in ping["error"]
