"""``action.webhook``: POST (or PUT/PATCH) a JSON body to a URL, signed with HMAC-SHA256.

Payload::

    {"url": "https://example.org/hook",      # http or https
     "method": "POST",                       # POST (default), PUT or PATCH
     "payload": {...} | null,                # the JSON body; null: the default body below
     "record": {...} | null,                 # the record, for the default body
     "event": "crm.lead.qualify" | null,     # what happened, for the default body
     "secret": "..." | null,                 # HMAC key; default XRM_WEBHOOK_SECRET
     "headers": {"X-Tenant": "7"} | null,    # extra request headers
     "timeout": 10 | null}                   # seconds; default XRM_WEBHOOK_TIMEOUT

Default body: ``{"event", "entity", "id", "record"}`` from the message; without a ``record``
in the payload, the record as it is when the message is delivered (null once deleted).

Request headers: ``Content-Type: application/json``, ``X-Xrm-Signature: sha256=<hex>``
(HMAC-SHA256 of the raw body bytes with the secret; absent when no secret is configured),
``X-Xrm-Idempotency-Key`` (the message's key: the same on every retry, so the receiver can
ignore a second delivery), ``X-Xrm-Delivery-Attempt``.

Outcomes: 2xx delivered; 408, 429 (honouring ``Retry-After``), 5xx and network errors are tried
again; any other status (3xx, 4xx) is permanent: the message goes to the dead letters with the
response in its run log.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.error
import urllib.request
from typing import Any
from urllib.parse import urlsplit

from ..errors import PermanentError, RetryableError
from ..model import Job, JobContext
from .plugin import current_record

METHODS = ("POST", "PUT", "PATCH")
RETRY_STATUSES = frozenset({408, 429})
#: Most bytes of a response kept in the run log.
RESPONSE_LIMIT = 2000


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer, not an instruction: a POST is never silently re-sent."""

    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirect)


def sign(secret: str, body: bytes) -> str:
    """The ``X-Xrm-Signature`` header value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def body_of(ctx: JobContext, job: Job) -> dict[str, Any]:
    data = job.payload
    if data.get("payload") is not None:
        return data["payload"]
    record = data.get("record")
    if record is None and job.entity and job.record_id is not None:
        record = current_record(ctx, job)
    return {
        "event": data.get("event") or job.topic,
        "entity": job.entity,
        "id": job.record_id,
        "record": record,
    }


def webhook(ctx: JobContext, job: Job) -> dict[str, Any]:
    data = job.payload
    url = data.get("url")
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise PermanentError(f"'url' must be an http(s) URL, not {url!r}")
    method = str(data.get("method") or "POST").upper()
    if method not in METHODS:
        raise PermanentError(f"'method' must be one of {', '.join(METHODS)}, not {method!r}")
    body = json.dumps(body_of(ctx, job), default=str, separators=(",", ":")).encode()
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "xrm-webhook/1",
        "X-Xrm-Idempotency-Key": job.key,
        "X-Xrm-Delivery-Attempt": str(job.attempt),
    }
    for name, value in (data.get("headers") or {}).items():
        if any(c in f"{name}{value}" for c in "\r\n"):
            raise PermanentError(f"header {name!r} contains a line break")
        headers[str(name)] = str(value)
    secret = data.get("secret") or ctx.config.webhook_secret
    if secret:
        headers["X-Xrm-Signature"] = sign(str(secret), body)
    else:
        ctx.step("no webhook secret configured: the request is not signed")
    timeout = float(data.get("timeout") or ctx.config.webhook_timeout)
    request = urllib.request.Request(url, data=body, headers=headers, method=method)
    ctx.step(f"{method} {url}", bytes=len(body), signed=bool(secret))
    try:
        with _opener.open(request, timeout=timeout) as response:
            status, text = response.status, _read(response)
            ctx.step(f"answered {status}", response=text)
            return {"status": status}
    except urllib.error.HTTPError as exc:
        status, text = exc.code, _read(exc)
        ctx.step(f"answered {status}", response=text)
        message = f"{method} {url} answered {status}: {text[:200]}"
        if status in RETRY_STATUSES or status >= 500:
            raise RetryableError(message, retry_after=_retry_after(exc.headers)) from None
        raise PermanentError(message) from None
    except OSError as exc:  # URLError, timeouts, refused and reset connections
        reason = getattr(exc, "reason", exc)
        ctx.step("network error", error=str(reason))
        raise RetryableError(f"{method} {url} failed: {reason}") from None


def _read(response) -> str:
    try:
        raw = response.read(RESPONSE_LIMIT + 1)
    except Exception:
        return ""
    text = raw[:RESPONSE_LIMIT].decode("utf-8", "replace")
    return text + ("..." if len(raw) > RESPONSE_LIMIT else "")


def _retry_after(headers) -> float | None:
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: use the backoff instead
