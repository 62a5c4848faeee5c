"""Callbacks from the text message provider: GOV.UK Notify's inbound SMS (replies such as STOP)
and its delivery receipts."""

from flask import Blueprint

from survey.extensions import csrf

bp = Blueprint("inbound", __name__, url_prefix="/sms")
csrf.exempt(bp)  # a server-to-server callback, authenticated by its bearer token

from survey.inbound import status, views  # noqa: E402,F401

__all__ = ["bp"]
