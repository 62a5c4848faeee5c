"""gunicorn reads this file from the working directory: check PeerPulse's configuration first.

Without it a configuration error would only surface in the workers, which gunicorn restarts
or reports with a traceback; here the master prints one line and exits 1 before forking.
Other gunicorn settings go on the command line or in GUNICORN_CMD_ARGS.
"""

from survey.config import check_or_exit

check_or_exit()
