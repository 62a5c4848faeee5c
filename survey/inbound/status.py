"""POST /sms/status: Notify's delivery-status callback, one receipt per text it delivered or not.

Refused, with nothing written: 404 when the callback is off (no NOTIFY_CALLBACK_TOKEN), 401 for
a missing or wrong bearer token, 400 for a body that is not Notify's (no id, reference or
known status), 404 for a reference that names no message of ours.
"""

from __future__ import annotations

from flask import Response, abort, current_app, jsonify, request

from survey.db import get_session
from survey.inbound import bp
from survey.inbound.views import authorised
from survey.messaging.email import MailSettings
from survey.services import receipts
from survey.web import commit_after


@bp.route("/status", methods=["POST"])
def delivery_status() -> Response:
    """Record what Notify reports about one text (delivered, permanent or temporary failure)."""
    if not current_app.config.get("NOTIFY_CALLBACK_TOKEN"):
        abort(404)
    if not authorised("NOTIFY_CALLBACK_TOKEN"):
        abort(401)
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not all(
        isinstance(body.get(name), str) for name in ("id", "reference", "status")
    ) or body["status"] not in receipts.NOTIFY_STATUSES:
        abort(400)
    receipt = receipts.NOTIFY_STATUSES[body["status"]]
    db = get_session()
    message = receipts.message_for_reference(db, body["reference"])
    if message is None or message.channel != "sms":
        abort(404)
    if receipt is None:  # still on its way: nothing to record
        return jsonify({"recorded": False})
    settings = MailSettings.from_config(current_app.config)
    recorded = commit_after(lambda: receipts.record_receipt(
        db, message, receipt, f"Notify {body['status']}", settings, source="Notify callback"))
    return jsonify({"recorded": recorded})
