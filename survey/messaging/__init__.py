"""Email and text messages, in one place: "where is a text sent" is answered by the file names.

| what | where |
|---|---|
| the channel interface (render, send, settings), links, failures, templates | `base` |
| the email channel: rendering, MIME, List-Unsubscribe, VERP, SMTP and file transports | `email` |
| the text channel: rendering, segments, Notify and file transports | `sms` |
| the registry of channels keyed by `Channel` | `channels` |
| who can be reached on which channel (the one rule; SQL: `Participant.reachable`) | `reach` |
| an invitation's or reminder's messages are queued in the outbox | `compose` |
| bounces come back (VERP, RFC 3464 reports, LMTP receiver) | `bounces` |

Infrastructure: it imports no services. It is given its links as URLs and its callbacks; the
services (invitations, outbox, receipts, opt_outs) use it.
"""
