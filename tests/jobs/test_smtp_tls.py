"""The e-mail action over TLS: STARTTLS and implicit TLS against a real SMTP server (aiosmtpd)
with a self-signed certificate made by the test, login after TLS, and the clear permanent
errors of a certificate that does not verify, a refused login and a server without STARTTLS.
The action is called directly (the transports are covered by test_delivery.py)."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from dataclasses import replace
from email import message_from_bytes

import pytest
import sqlalchemy as sa
from jobs_support import Mailbox, free_port

from xrm.core.jobs import PermanentError
from xrm.core.jobs.actions.email import email
from xrm.core.jobs.config import JobConfig, SmtpConfig
from xrm.core.jobs.model import Job, JobContext

USER, PASSWORD = "mailer", "s3cret-pw"

# aiosmtpd warns when AUTH does not require STARTTLS: over implicit TLS it need not.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    """A self-signed certificate for 127.0.0.1 and localhost: (cert file, key file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "xrm test smtp")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    folder = tmp_path_factory.mktemp("smtp-tls")
    cert_file, key_file = folder / "cert.pem", folder / "key.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return str(cert_file), str(key_file)


class TlsMailbox(Mailbox):
    def __init__(self):
        super().__init__()
        self.sessions: list[tuple[bool, str | None]] = []  # (over TLS, login) per message

    async def handle_DATA(self, server, session, envelope):
        login = session.auth_data.decode() if isinstance(session.auth_data, bytes) else None
        tls = session.ssl is not None or server.transport.get_extra_info("ssl_object") is not None
        self.sessions.append((tls, login))
        return await super().handle_DATA(server, session, envelope)


def _authenticate(server, session, envelope, mechanism, auth_data):
    from aiosmtpd.smtp import AuthResult, LoginPassword

    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login.decode() == USER
        and auth_data.password.decode() == PASSWORD
    )
    return AuthResult(success=ok, handled=False, auth_data=auth_data.login if ok else None)


def _server(certificate, *, implicit: bool, starttls: bool = True):
    from aiosmtpd.controller import Controller

    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(*certificate)
    box = TlsMailbox()
    kwargs = dict(auth_required=True, authenticator=_authenticate, auth_require_tls=True)
    if implicit:
        # aiosmtpd's auth_require_tls looks at STARTTLS only; the connection is TLS anyway.
        kwargs.update(ssl_context=context, auth_require_tls=False)
    elif starttls:
        kwargs.update(tls_context=context, require_starttls=True)
    else:
        kwargs.update(auth_require_tls=False)
    controller = Controller(box, hostname="127.0.0.1", port=free_port(), **kwargs)
    controller.start()
    box.port = controller.port
    return controller, box


@pytest.fixture
def starttls_server(certificate):
    controller, box = _server(certificate, implicit=False)
    yield box
    controller.stop()


@pytest.fixture
def implicit_server(certificate):
    controller, box = _server(certificate, implicit=True)
    yield box
    controller.stop()


def _send(smtp: SmtpConfig, key: str = "mail-tls") -> dict:
    ctx = JobContext(
        engine=sa.create_engine("sqlite://"),  # no users named: not read
        registry=None,
        records=None,
        plugins=None,
        settings=None,
        config=JobConfig(smtp=smtp),
        now=dt.datetime.now(dt.UTC),
        job=None,  # type: ignore[arg-type]
    )
    job = Job(
        1,
        "action.email",
        key,
        None,
        None,
        {"to": ["ann@example.org"], "subject": "Over TLS", "body": "encrypted"},
        1,
    )
    ctx.job = job
    return email(ctx, job)


def _config(box, certificate, tls: str, **kw) -> SmtpConfig:
    return SmtpConfig(
        host="127.0.0.1",
        port=box.port,
        user=USER,
        password=PASSWORD,
        sender="crm@example.org",
        tls=tls,
        timeout=10,
        ca_file=certificate[0],
        **kw,
    )


def test_starttls_with_login(starttls_server, certificate):
    assert _send(_config(starttls_server, certificate, "starttls")) == {"sent": 1, "refused": []}
    [envelope] = starttls_server.envelopes
    assert starttls_server.sessions == [(True, USER)]  # upgraded before the login
    assert envelope.rcpt_tos == ["ann@example.org"]
    assert message_from_bytes(envelope.content)["Subject"] == "Over TLS"


def test_implicit_tls_with_login(implicit_server, certificate):
    assert _send(_config(implicit_server, certificate, "ssl"))["sent"] == 1
    assert implicit_server.sessions == [(True, USER)]


def test_an_untrusted_certificate_is_a_permanent_error_naming_the_setting(
    starttls_server, implicit_server, certificate
):
    for box, tls in ((starttls_server, "starttls"), (implicit_server, "ssl")):
        config = replace(_config(box, certificate, tls), ca_file=None)  # system CAs only
        with pytest.raises(PermanentError, match=r"certificate does not verify.*XRM_SMTP_CA_FILE"):
            _send(config)
        assert box.envelopes == []


def test_a_wrong_password_is_a_permanent_error(starttls_server, certificate):
    config = replace(_config(starttls_server, certificate, "starttls"), password="nope")
    with pytest.raises(PermanentError, match="SMTP login refused"):
        _send(config)
    assert starttls_server.envelopes == []


def test_starttls_against_a_server_without_it_refuses_to_send_in_clear(certificate):
    controller, box = _server(certificate, implicit=False, starttls=False)
    try:
        with pytest.raises(PermanentError, match="STARTTLS"):
            _send(_config(box, certificate, "starttls"))
    finally:
        controller.stop()
    assert box.envelopes == []


def test_the_ca_file_is_read_from_the_environment():
    config = JobConfig.load({}, {"XRM_SMTP_CA_FILE": "/etc/xrm/smtp-ca.pem", "XRM_SMTP_TLS": "ssl"})
    assert (config.smtp.ca_file, config.smtp.tls) == ("/etc/xrm/smtp-ca.pem", "ssl")
