"""``action.email``: send an e-mail through SMTP (``XRM_SMTP_*`` settings).

Payload::

    {"to": ["ann@example.org"],              # addresses, and/or
     "users": [3, 7], "roles": ["Sales"],    # users (their e-mail addresses),
     "owner": true,                          # the owner of the message's record
     "cc": [...], "bcc": [...], "reply_to": "...",
     "subject": "Quote 42 approved",
     "body": "plain text",                   # and/or
     "html": "<p>HTML</p>"}

Headers set: ``From`` (``XRM_SMTP_FROM``), ``To``, ``Cc``, ``Subject``, ``Date``,
``Message-ID`` (derived from the idempotency key, so a retried delivery carries the same id and
mail systems can drop the duplicate) and ``X-Xrm-Idempotency-Key``. Refused recipients and a
refused sender are permanent errors; connection problems and temporary (4xx) SMTP answers are
retried.

TLS (``XRM_SMTP_TLS``): ``starttls`` upgrades a plain connection (port 587) and refuses to send
when the server does not offer STARTTLS; ``ssl`` is implicit TLS from the first byte (port
465). The server's certificate and host name are always verified, against the system's CAs or
``XRM_SMTP_CA_FILE``; a certificate that does not verify is a permanent error (a configuration
to fix, retried from the dead letters). The login (``XRM_SMTP_USER``) happens after TLS.
"""

from __future__ import annotations

import hashlib
import smtplib
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from ..errors import PermanentError, RetryableError
from ..model import Job, JobContext
from .recipients import addresses, resolve


def message_id(job: Job, sender: str) -> str:
    domain = sender.rsplit("@", 1)[-1].strip("> ") or "xrm.localhost"
    return f"<xrm.{hashlib.sha256(job.key.encode()).hexdigest()[:32]}@{domain}>"


def build_message(ctx: JobContext, job: Job) -> tuple[EmailMessage, list[str]]:
    data = job.payload
    subject = data.get("subject")
    if not isinstance(subject, str) or not subject.strip():
        raise PermanentError("'subject' is required (a non-empty text)")
    to = addresses(_list(data.get("to"), "to"), "to")
    users = resolve(ctx, job, {k: data.get(k) for k in ("users", "roles", "owner")})
    without = [u.username for u in users if not u.email]
    if without:
        ctx.step("users without an e-mail address are left out", users=without)
    to += [u.email for u in users if u.email]
    to = list(dict.fromkeys(to))
    cc = addresses(_list(data.get("cc"), "cc"), "cc")
    bcc = addresses(_list(data.get("bcc"), "bcc"), "bcc")
    if not to and not cc and not bcc:
        raise PermanentError("the e-mail has no recipient with an e-mail address")
    sender = ctx.config.smtp.sender
    msg = EmailMessage()
    msg["From"] = sender
    if to:
        msg["To"] = ", ".join(to)
    if cc:
        msg["Cc"] = ", ".join(cc)
    if data.get("reply_to"):
        msg["Reply-To"] = ", ".join(addresses([data["reply_to"]], "reply_to"))
    msg["Subject"] = subject.replace("\r", " ").replace("\n", " ")
    msg["Date"] = formatdate(localtime=False)
    msg["Message-ID"] = message_id(job, sender)
    msg["X-Xrm-Idempotency-Key"] = job.key
    body, html = data.get("body"), data.get("html")
    msg.set_content(str(body) if body is not None else "")
    if html is not None:
        msg.add_alternative(str(html), subtype="html")
    return msg, [*to, *cc, *bcc]


def email(ctx: JobContext, job: Job) -> dict[str, Any]:
    msg, recipients = build_message(ctx, job)
    smtp = ctx.config.smtp
    ctx.step(f"SMTP {smtp.host}:{smtp.port} ({smtp.tls})", recipients=len(recipients))
    try:
        tls = ssl.create_default_context(cafile=smtp.ca_file) if smtp.tls != "none" else None
        if smtp.tls == "ssl":
            client = smtplib.SMTP_SSL(smtp.host, smtp.port, timeout=smtp.timeout, context=tls)
        else:
            client = smtplib.SMTP(smtp.host, smtp.port, timeout=smtp.timeout)
        with client:
            if smtp.tls == "starttls":
                client.starttls(context=tls)
            if smtp.user:
                client.login(smtp.user, smtp.password or "")
            refused = client.send_message(msg, from_addr=smtp.sender, to_addrs=recipients)
    except ssl.SSLCertVerificationError as exc:
        raise PermanentError(
            f"SMTP {smtp.host}:{smtp.port}: the server's certificate does not verify "
            f"({exc.verify_message}); trust its CA with XRM_SMTP_CA_FILE"
        ) from None
    except FileNotFoundError as exc:
        raise PermanentError(f"XRM_SMTP_CA_FILE {smtp.ca_file!r}: {exc.strerror}") from None
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentError(f"SMTP {smtp.host}:{smtp.port}: {exc}") from None
    except smtplib.SMTPRecipientsRefused as exc:
        raise PermanentError(f"every recipient was refused: {_codes(exc.recipients)}") from None
    except smtplib.SMTPSenderRefused as exc:
        raise PermanentError(f"the sender {exc.sender} was refused: {exc.smtp_code}") from None
    except smtplib.SMTPAuthenticationError as exc:
        raise PermanentError(f"SMTP login refused ({exc.smtp_code})") from None
    except smtplib.SMTPResponseException as exc:
        if 400 <= exc.smtp_code < 500:
            raise RetryableError(f"SMTP answered {exc.smtp_code} (temporary)") from None
        raise PermanentError(f"SMTP answered {exc.smtp_code}: {exc.smtp_error!r}") from None
    except (smtplib.SMTPException, OSError) as exc:
        raise RetryableError(f"SMTP {smtp.host}:{smtp.port}: {exc}") from None
    if refused:
        ctx.step("some recipients were refused", refused=_codes(refused))
    ctx.step("sent", message_id=msg["Message-ID"])
    return {"sent": len(recipients) - len(refused), "refused": sorted(refused)}


def _list(value: Any, what: str) -> list[Any]:
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return value
    raise PermanentError(f"{what!r} must be an address or a list of addresses")


def _codes(refused: dict) -> str:
    return ", ".join(f"{addr} ({code})" for addr, (code, _msg) in refused.items())
