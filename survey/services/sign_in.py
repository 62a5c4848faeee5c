"""Staff sign-in: passwords, the TOTP second factor, recovery codes, resets (all audited).

Free of HTTP: the views in survey/auth keep the session cookie; these functions decide.
`now()` is the one clock of sign-in (TOTP steps and session expiry), so tests can set it.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets

import pyotp
import segno
from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value
from werkzeug.security import check_password_hash, generate_password_hash

from survey.db import utcnow
from survey.models import AuditEvent, User
from survey.models.staff import RecoveryCode
from survey.services import staff_sessions
from survey.services.audit import record_event
from survey.services.errors import InputError

ISSUER = "PeerPulse"
TOTP_STEP_SECONDS = 30
# Codes from the step before and after are accepted too (clock drift, typing time).
TOTP_DRIFT_STEPS = 1
# Per account, whatever the address: more wrong codes than this in the window and the code
# step refuses every code until the window passes (a stolen password alone stays useless).
MAX_CODE_FAILURES = 10
CODE_FAILURE_WINDOW = dt.timedelta(minutes=15)
RECOVERY_CODE_COUNT = 10
# 16 base32 characters: 80 random bits, so a salted SHA-256 is enough (no slow hash needed).
RECOVERY_CODE_CHARS = 16
_BASE32 = "abcdefghijklmnopqrstuvwxyz234567"
_DUMMY_HASH: list[str] = []


def now() -> dt.datetime:
    """The current time for sign-in decisions (tests replace it to move the clock)."""
    return utcnow()


def _audit_email(email: str) -> str:
    """The typed email as it may appear in the audit log (never the password)."""
    return email.strip().lower()[:120]


def _dummy_hash() -> str:
    """A hash made like a real one, checked when there is no account (made once per process)."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(generate_password_hash(secrets.token_hex(16)))
    return _DUMMY_HASH[0]


def check_password(db: Session, email: str, password: str, *, demo_mode: bool) -> User | None:
    """The active account with this email and password, or None (the failure audited).

    One password hash is checked whatever the account (unknown, disabled or active), so the
    time taken does not tell which emails have accounts. Outside demo mode a demo account,
    whose password is published, is refused with an InputError saying so (audited too).
    """
    typed = email.strip().lower()
    user = db.scalar(select(User).where(func.lower(User.email) == typed))
    matches = check_password_hash(user.password_hash if user is not None else _dummy_hash(), password)
    if user is not None and user.active and matches:
        if not (user.is_demo and not demo_mode):
            return user
        record_event(db, user, "login.failed", "user", user.id,
                     {"email": _audit_email(email), "step": "password", "reason": "demo account"},
                     actor=_audit_email(email))
        raise InputError({"email": "This is a demo account: it signs in only while PeerPulse runs "
                                   "in demo mode (PEERPULSE_DEMO=1). Ask an administrator for an "
                                   "account of your own."})
    record_event(db, user, "login.failed", "user", user.id if user else "",
                 {"email": _audit_email(email), "step": "password"}, actor=_audit_email(email))
    return None


def _step(at: dt.datetime) -> int:
    """The TOTP time step of a moment."""
    return int(at.timestamp()) // TOTP_STEP_SECONDS


def _matching_step(secret: str, code: str, last_step: int | None) -> int | None:
    """The time step (near now, after last_step) whose TOTP code this is, or None."""
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
    current = _step(now())
    for step in range(current - TOTP_DRIFT_STEPS, current + TOTP_DRIFT_STEPS + 1):
        if last_step is not None and step <= last_step:
            continue  # already used: a code seen by someone else cannot be replayed
        if hmac.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def _normalise(code: str) -> str:
    """A typed code without spaces or hyphens, lower case."""
    return re.sub(r"[\s-]", "", code).lower()


def too_many_code_failures(db: Session, user: User) -> bool:
    """Whether the account had too many wrong codes lately (counted from the audit log)."""
    failures = db.scalar(
        select(func.count(AuditEvent.id)).where(
            AuditEvent.user_id == user.id, AuditEvent.action == "login.2fa_failed",
            AuditEvent.at > now() - CODE_FAILURE_WINDOW)
    ) or 0
    return failures >= MAX_CODE_FAILURES


def check_second_factor(db: Session, user: User, code: str) -> str | None:
    """Accept a TOTP code (once) or an unused recovery code: "totp", "recovery", or None (audited).

    Raises InputError, checking nothing, while the account has had too many wrong codes.
    """
    if too_many_code_failures(db, user):
        minutes = int(CODE_FAILURE_WINDOW.total_seconds() // 60)
        raise InputError({"code": f"Too many wrong codes for this account. Wait {minutes} minutes, "
                                  "then try again; if this was not you, tell an administrator."})
    typed = _normalise(code)
    if user.totp_secret is not None and re.fullmatch(r"\d{6}", typed):
        step = _matching_step(user.totp_secret, typed, user.totp_last_step)
        if step is not None and _claim_step(db, user, step):
            return "totp"
    elif len(typed) == RECOVERY_CODE_CHARS:
        for recovery in user.recovery_codes:
            if recovery.used_at is None and _hash_matches(recovery.code_hash, typed):
                if not _claim_recovery_code(db, recovery):
                    break  # another sign-in used it a moment ago
                record_event(db, user, "2fa.recovery_code_used", "user", user.id,
                             {"left": user.recovery_codes_left})
                return "recovery"
    # Timed by the sign-in clock, like the window that counts it.
    record_event(db, user, "login.2fa_failed", "user", user.id).at = now()
    return None


def _claim_step(db: Session, user: User, step: int) -> bool:
    """Mark a TOTP time step used, unless another sign-in did first: one atomic UPDATE.

    Concurrent sign-ins with one code all pass the check in Python; on PostgreSQL the row
    lock makes the others wait, then see the step taken and change nothing.
    """
    result = db.execute(
        update(User).where(User.id == user.id,
                           or_(User.totp_last_step.is_(None), User.totp_last_step < step))
        .values(totp_last_step=step).execution_options(synchronize_session=False))
    if not getattr(result, "rowcount", 0):
        return False
    set_committed_value(user, "totp_last_step", step)
    return True


def _claim_recovery_code(db: Session, recovery: RecoveryCode) -> bool:
    """Mark a recovery code used, unless another sign-in did first: one atomic UPDATE."""
    at = now()
    result = db.execute(
        update(RecoveryCode).where(RecoveryCode.id == recovery.id, RecoveryCode.used_at.is_(None))
        .values(used_at=at).execution_options(synchronize_session=False))
    if not getattr(result, "rowcount", 0):
        return False
    set_committed_value(recovery, "used_at", at)
    return True


def start_enrolment(user: User) -> str:
    """The secret being set up: kept while unconfirmed (a page reload shows the same QR code)."""
    if user.has_second_factor:
        raise InputError({"code": "Two-factor sign-in is already set up for this account."})
    if user.totp_secret is None:
        user.totp_secret = pyotp.random_base32()
    return user.totp_secret


def confirm_enrolment(db: Session, user: User, code: str) -> list[str]:
    """Switch the second factor on once a code from the app matches; returns new recovery codes."""
    secret = start_enrolment(user)
    typed = _normalise(code)
    step = _matching_step(secret, typed, user.totp_last_step) if re.fullmatch(r"\d{6}", typed) else None
    if step is None:
        record_event(db, user, "2fa.enrol_failed", "user", user.id)
        raise InputError({"code": "That code does not match. Type the 6 digits your app shows now."})
    user.totp_last_step = step
    user.totp_enabled_at = now()
    codes = _new_recovery_codes(db, user)
    record_event(db, user, "2fa.enrol", "user", user.id)
    return codes


def _hash_code(code: str, salt: str | None = None) -> str:
    """A salted SHA-256 of a recovery code: sha256$salt$digest."""
    salt = salt or secrets.token_hex(16)
    return f"sha256${salt}${hashlib.sha256((salt + code).encode()).hexdigest()}"


def _hash_matches(stored: str, code: str) -> bool:
    """Whether a recovery code matches its stored hash (constant-time compare)."""
    _, salt, _digest = stored.split("$", 2)
    return hmac.compare_digest(stored, _hash_code(code, salt))


def _new_recovery_codes(db: Session, user: User) -> list[str]:
    """Replace the account's recovery codes with ten new ones; only their hashes are kept."""
    user.recovery_codes.clear()
    codes = ["".join(secrets.choice(_BASE32) for _ in range(RECOVERY_CODE_CHARS))
             for _ in range(RECOVERY_CODE_COUNT)]
    user.recovery_codes.extend(RecoveryCode(code_hash=_hash_code(code)) for code in codes)
    db.flush()
    return ["-".join(code[i:i + 4] for i in range(0, RECOVERY_CODE_CHARS, 4)) for code in codes]


def renew_recovery_codes(db: Session, user: User) -> list[str]:
    """Ten new recovery codes for an account with a second factor (the old ones stop working)."""
    if not user.has_second_factor:
        raise InputError({"code": "Set up two-factor sign-in first; recovery codes come with it."})
    codes = _new_recovery_codes(db, user)
    record_event(db, user, "2fa.recovery_codes_renewed", "user", user.id)
    return codes


def reset_second_factor(db: Session, user: User, by: User | None = None,
                        actor: str | None = None) -> None:
    """Remove a lost second factor and sign the account out everywhere; it enrols again."""
    user.totp_secret = None
    user.totp_enabled_at = None
    user.totp_last_step = None
    user.recovery_codes.clear()
    staff_sessions.end_all(db, user)
    record_event(db, by, "user.2fa_reset", "user", user.id, actor=actor)


def provisioning_uri(user: User, secret: str) -> str:
    """The otpauth:// address an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=user.email, issuer_name=ISSUER)


def qr_svg(user: User, secret: str) -> str:
    """The QR code as inline SVG (attributes only, no style or script: the CSP allows it)."""
    svg = segno.make(provisioning_uri(user, secret), error="m").svg_inline(
        scale=5, dark="#000", light="#fff", title="QR code for your authenticator app")
    return svg.replace("<svg ", '<svg role="img" aria-label="QR code for your authenticator app" ', 1)


def secret_in_groups(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))
