"""SMS transport for the outbox: POST JSON to the 12333-style gateway, or log when unset."""

from __future__ import annotations

import json
import logging
import urllib.error
import urllib.request
from collections.abc import Callable
from urllib.parse import urlsplit

from engine import DeliveryError, SmsMessage

log = logging.getLogger(__name__)

Sender = Callable[[SmsMessage], None]


def log_sender(message: SmsMessage) -> None:
    """Deliver by writing the message to the log (no gateway configured)."""
    log.info("SMS to %s [%s]: %s", message.phone, message.kind, message.text)


def gateway_sender(url: str, *, timeout: float = 10.0) -> Sender:
    """A sender that POSTs {"id","phone","kind","text"} as JSON; any non-2xx is a failure."""
    if urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"SMS_GATEWAY_URL must be an http(s) URL, got {url!r}")

    def send(message: SmsMessage) -> None:
        body = json.dumps(
            {"id": message.key, "phone": message.phone, "kind": message.kind, "text": message.text},
            ensure_ascii=False,
        ).encode("utf-8")
        request = urllib.request.Request(
            url,
            data=body,
            method="POST",
            headers={"Content-Type": "application/json; charset=utf-8"},
        )
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                status = response.status
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"gateway answered HTTP {exc.code}") from exc
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"gateway unreachable: {exc}") from exc
        if not 200 <= status < 300:
            raise DeliveryError(f"gateway answered HTTP {status}")

    return send


def sender_for(gateway_url: str, timeout: float) -> Sender:
    """The configured transport: the gateway when SMS_GATEWAY_URL is set, else the log."""
    return gateway_sender(gateway_url, timeout=timeout) if gateway_url else log_sender
