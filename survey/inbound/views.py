"""POST /sms/inbound: Notify's inbound text message callback; a STOP stops texts to that number."""

from __future__ import annotations

import hmac

from flask import Response, abort, current_app, jsonify, request

from survey.db import get_session
from survey.inbound import bp
from survey.messaging import reach
from survey.services import opt_outs
from survey.web import commit_after


def authorised(setting: str = "SMS_INBOUND_TOKEN") -> bool:
    """The request carries the bearer token of this setting (compared in constant time)."""
    expected = str(current_app.config.get(setting) or "")
    given = request.headers.get("Authorization", "")
    scheme, _, token = given.partition(" ")
    return bool(expected) and scheme.lower() == "bearer" and hmac.compare_digest(
        token.strip().encode(), expected.encode()
    )


@bp.route("/inbound", methods=["POST"])
def inbound() -> Response:
    """Record a STOP from the sender's number (every other reply is acknowledged and dropped)."""
    if not current_app.config.get("SMS_INBOUND_TOKEN"):
        abort(404)  # the callback is off
    if not authorised():
        abort(401)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("source_number"), str) \
            or not isinstance(body.get("message"), str):
        abort(400)
    stopped = 0
    if reach.is_stop(body["message"]):
        db = get_session()
        stopped = commit_after(lambda: opt_outs.opt_out_by_number(db, body["source_number"]))
    return jsonify({"stopped": stopped})
