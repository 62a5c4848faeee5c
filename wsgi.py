"""WSGI entry point: `gunicorn wsgi:app` or `flask --app wsgi ...`.

A configuration error prints one line ("PeerPulse configuration error: ...") and exits 1.
"""

from survey import create_app_or_exit

app = create_app_or_exit()
