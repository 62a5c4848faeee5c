"""A local fake of GOV.UK Notify's HTTP API (POST /v2/notifications/sms) on 127.0.0.1.

It checks what the real service checks that matters here (the JWT signed with the API key's
secret and issued by its service id, the template id, a `body` personalisation) and answers
like it: 201 with the notification, 400 for a number it refuses, 403 for a bad token, and,
on demand, 429 or 5xx for the next requests.
"""

from __future__ import annotations

import json
import threading
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import jwt

ERRORS = {
    400: ("BadRequestError", "Not a UK mobile number"),
    403: ("AuthError", "Invalid token: signature, api token not found"),
    429: ("RateLimitError", "Exceeded rate limit for key type LIVE of 3000 requests per 60 seconds"),
    500: ("Exception", "Internal server error"),
    503: ("Exception", "Service unavailable"),
}


@dataclass
class Received:
    """One text Notify accepted."""

    phone_number: str
    body: str
    reference: str | None
    id: str = field(default_factory=lambda: str(uuid.uuid4()))


@dataclass
class FakeNotify:
    """The fake service's state: what it accepted, and how to answer the next requests."""

    service_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    secret: str = field(default_factory=lambda: str(uuid.uuid4()))
    template_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    received: list[Received] = field(default_factory=list)
    fail_next: list[int] = field(default_factory=list)  # status codes for the next requests
    refuse: set[str] = field(default_factory=set)  # numbers answered 400
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)
    url: str = ""

    @property
    def api_key(self) -> str:
        """A key in Notify's form: name-<service id>-<secret>."""
        return f"peerpulse_test-{self.service_id}-{self.secret}"

    def config(self) -> dict[str, Any]:
        """App settings that send texts to this fake."""
        return {"SMS_BACKEND": "notify", "NOTIFY_API_KEY": self.api_key,
                "NOTIFY_SMS_TEMPLATE_ID": self.template_id, "NOTIFY_BASE_URL": self.url,
                "NOTIFY_TIMEOUT": 5.0}

    def to(self, number: str) -> list[Received]:
        """The texts accepted for one number."""
        return [text for text in self.received if text.phone_number == number]

    def answer(self, headers: Any, raw: bytes) -> tuple[int, dict[str, Any]]:
        """The status and JSON body for one POST /v2/notifications/sms."""
        with self.lock:
            self.requests += 1
            if self.fail_next:
                return _error(self.fail_next.pop(0))
            scheme, _, token = headers.get("Authorization", "").partition(" ")
            try:
                claims = jwt.decode(token, self.secret, algorithms=["HS256"])
            except jwt.PyJWTError:
                return _error(403)
            if scheme != "Bearer" or claims.get("iss") != self.service_id:
                return _error(403)
            data = json.loads(raw)
            body = (data.get("personalisation") or {}).get("body")
            if data.get("template_id") != self.template_id or not isinstance(body, str):
                return 400, {"status_code": 400, "errors": [
                    {"error": "BadRequestError", "message": "Missing personalisation: body"}]}
            if data["phone_number"] in self.refuse:
                return _error(400)
            text = Received(data["phone_number"], body, data.get("reference"))
            self.received.append(text)
            return 201, {"id": text.id, "reference": data.get("reference"),
                         "content": {"body": body, "from_number": "PeerPulse"},
                         "template": {"id": self.template_id, "version": 1, "uri": ""},
                         "uri": ""}


def status_callback(text: Received, status: str) -> dict[str, Any]:
    """The body Notify POSTs to a service's delivery-status callback URL about one text."""
    return {"id": text.id, "reference": text.reference, "to": text.phone_number,
            "status": status, "created_at": "2026-01-05T09:00:00.000000Z",
            "completed_at": "2026-01-05T09:00:05.000000Z", "sent_at": "2026-01-05T09:00:01.000000Z",
            "notification_type": "sms", "template_id": "", "template_version": 1}


def _error(status: int) -> tuple[int, dict[str, Any]]:
    name, message = ERRORS.get(status, ("Exception", "Error"))
    return status, {"status_code": status, "errors": [{"error": name, "message": message}]}


class _Handler(BaseHTTPRequestHandler):
    server: _Server

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path != "/v2/notifications/sms":
            status, body = 404, {"status_code": 404, "errors": [{"error": "NotFound", "message": ""}]}
        else:
            status, body = self.server.fake.answer(self.headers, raw)
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:
        return


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, fake: FakeNotify) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.fake = fake


class NotifyServer:
    """The fake on a free port of 127.0.0.1, in a thread."""

    def __init__(self) -> None:
        self.fake = FakeNotify()
        self._server = _Server(self.fake)
        self.fake.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
