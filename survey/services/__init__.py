"""Domain operations shared by the web, the CLI and the scheduler; each takes the session.

The contract: bad input a person can correct raises `errors.InputError` listing every problem
(field, message, line); nothing is written. A function that takes a `Session` never commits:
its caller does (web views through `survey.web.commit_after`, commands and scheduler jobs
through `survey.db.session_scope`). Work committed in stages takes the session factory instead
(`invitations.open_due`, `invitations.queue_reminders`, `outbox.deliver`).

Where things happen:

| what | where |
|---|---|
| a study is set up from its YAML file | `study_setup.read_study_file`, `study_setup.apply_study` |
| a study is found, paused or resumed | `studies.by_code`, `studies.set_status` |
| participants are enrolled (CSV) or added and edited | `enrolment.import_csv`, `enrolment.save_participant` |
| trusts and teams are added | `organisations.create_organisation`, `organisations.create_team` |
| staff accounts are added, changed, found | `staff.create_account`, `staff.change_role`, `staff.by_email` |
| an invitation is created (one per participant and wave) | `invitations.materialise` |
| an invitation is opened and its email queued | `invitations.open_due` |
| a reminder is queued | `invitations.queue_reminders` |
| an invitation's window closes | `invitations.expire` |
| a wave's opening and closing times are computed | `schedule.window`, `schedule.SendingRules` |
| a personal link is issued and resolved | `tokens.issue_token`, `respondent.read_visit` |
| an email is sent (at most once) | `outbox.deliver` (messages written by the invitation steps) |
| a text message is sent (at most once) | `outbox.deliver` given `sms_settings` |
| which channels a participant gets | `survey.messaging.reach.channels_for`; SQL: `Participant.reachable` |
| an invitation's messages are queued | `survey.messaging.compose.compose` (called by `invitations`) |
| a delivery receipt (Notify callback, bounce) is applied | `receipts.record_receipt`, `.record_bounce` |
| a contact is marked unreachable on one channel (audited) | `receipts.mark_unreachable` |
| a mobile number is checked | `survey.messaging.reach.parse_mobile` |
| texts are stopped by a STOP reply | `opt_outs.opt_out_by_number` |
| texts are stopped on the link's page (audited) | `opt_outs.texts_for_link` |
| emails are stopped (List-Unsubscribe one-click, the link's page; audited) | `opt_outs.emails_for_link` |
| consent is recorded | `consent.record_consent` |
| a link's (participant's) language is read or switched | `languages.link_language`, `.set_link_language` |
| a page is worded in the participant's language | `responses.in_language` |
| an answer is saved (each item type in its own column) | `responses.save_page` |
| scores are written (at submission) | `responses.complete` |
| a participant withdraws | `withdrawal.withdraw` |
| an action is audited | `audit.record_event` |
| a personal API token is made, listed, revoked | `api_tokens.create`, `.for_owner`, `.revoke` |
| a presented API token is checked (its use audited) | `api_tokens.authenticate` |
| scripts read the long table, one FHIR response | `script_data.long_data`, `.fhir_response` |
| dashboard figures (small groups withheld) | `dashboard.build` |
| long data for analysis | `datasets.long_scores`, `datasets.item_answers` |
| a growth model is fitted | `models_run.fit_study_model` |
| reliability per scale, wave and role | `reliability.study_reliability` |
| change between waves | `change_report.build` |
| the pseudonymous export with its codebook | `exports.build_export` |
| free-text answers are read (researchers only; audited) | `free_text.read` |
| the schema is migrated or checked | `migrations.upgrade`, `migrations.check` |
| the demo is loaded | `demo.load_demo` |
"""
