"""The respondent pages in Welsh: the participant's language, the switch, <html lang>, responses."""

from __future__ import annotations

import re

from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from instruments import load_instrument
from instruments.translations import localised
from survey import models as m
from tests import factories as f
from tests.respondent.conftest import PersonalLink, make_link, post_form, see_committed, stored_answers

PEER_CY = localised(load_instrument("peer_worker", 2), "cy")


def welsh_link(db: Session, consented: bool = True, language: str = "cy") -> PersonalLink:
    """An open first-wave link of a peer worker answering peer_worker v2, in `language`."""
    study = f.StudyFactory(instruments=False)
    db.add(m.StudyInstrument(study=study, role=m.Role.PEER_WORKER, instrument_id="peer_worker",
                             instrument_version=2))
    person = f.ParticipantFactory(consented=consented, study=study, language=language)
    return make_link(db, participant=person, wave=f.WaveFactory(study=study, index=1))


def _text(html: str) -> str:
    return html.replace("&#39;", "'").replace("&#x27;", "'")


def test_a_welsh_participants_pages_are_in_welsh_with_html_lang(db: Session, client: FlaskClient) -> None:
    link = welsh_link(db)
    html = _text(client.get(f"{link.url}/page/1").get_data(as_text=True))
    assert '<html lang="cy">' in html
    first = PEER_CY.pages(first_wave=True)[0]
    assert f"<h1>{first.title}</h1>" in html
    assert all(f"<legend>{item.text}</legend>" in html for item in first.items)
    assert "Cytuno'n gryf" in html and "Ddim yn berthnasol" in html
    assert "Cadw a pharhau" in html and "Tudalen 1 o " in html
    # The switch names English in English, marked as such.
    assert re.search(r'<button[^>]*name="switch_language" value="en" lang="en">English</button>', html)
    assert "Gadael yr astudiaeth (tynnu'n ôl)" in html  # footer


def test_an_english_participants_pages_stay_english(db: Session, client: FlaskClient) -> None:
    link = welsh_link(db, language="en")
    html = _text(client.get(f"{link.url}/page/1").get_data(as_text=True))
    assert '<html lang="en-GB">' in html and "Save and continue" in html
    assert re.search(r'value="cy" lang="cy">Cymraeg</button>', html)


def test_switching_on_a_survey_page_keeps_typed_answers_and_saves_nothing(
    db: Session, client: FlaskClient
) -> None:
    link = welsh_link(db, language="en")
    typed = {"pw_bg_peers": "3", "pw_open": "Mwy o amser i siarad"}
    # Page 1 first (the Likert answers), then move to the background page with unsaved input.
    assert post_form(client, f"{link.url}/page/1", {"pw_id_1": "4"}).status_code == 303
    response = post_form(client, f"{link.url}/page/1", {"pw_id_1": "2", "pw_id_2": "na",
                                                        "switch_language": "cy"})
    assert response.status_code == 200
    html = _text(response.get_data(as_text=True))
    assert '<html lang="cy">' in html and "Cadw a pharhau" in html
    # The answers as typed are shown (2 and "does not apply"), the saved 4 is not: nothing saved.
    assert re.search(r'name="pw_id_1" type="radio" value="2" checked', html)
    assert re.search(r'name="pw_id_2" type="radio" value="na" checked', html)
    see_committed(db)
    assert stored_answers(db, link.invitation) == {"pw_id_1": 4}
    person = db.get(m.Participant, link.invitation.participant_id)
    assert person is not None and person.language == "cy"
    # The next save stores the kept answers and records Welsh as the response's language.
    assert post_form(client, f"{link.url}/page/1", {"pw_id_1": "2", "pw_id_2": "na"}).status_code == 303
    see_committed(db)
    assert stored_answers(db, link.invitation) == {"pw_id_1": 2, "pw_id_2": None}
    assert db.scalar(select(m.Response.language)) == "cy"
    # Typed (text and number) answers survive a switch too, back to English.
    pages = PEER_CY.pages(first_wave=True)
    number = next(i for i, p in enumerate(pages, start=1) if p.id == "about_your_job")
    for earlier in range(2, number):
        post_form(client, f"{link.url}/page/{earlier}")
    html = _text(post_form(client, f"{link.url}/page/{number}",
                           {"pw_bg_peers": typed["pw_bg_peers"], "switch_language": "en"})
                 .get_data(as_text=True))
    assert '<html lang="en-GB">' in html and 'value="3"' in html and "About your job" in html


def test_the_switch_on_other_pages_returns_to_the_same_page(db: Session, client: FlaskClient) -> None:
    link = welsh_link(db, consented=False, language="en")
    html = client.get(f"{link.url}/consent").get_data(as_text=True)
    assert "About this study" in html and 'lang="cy">Cymraeg</button>' in html
    response = post_form(client, f"{link.url}/language", {"language": "cy", "next": f"{link.url}/consent"})
    assert response.status_code == 303 and response.headers["Location"].endswith(f"{link.url}/consent")
    html = _text(client.get(f"{link.url}/consent").get_data(as_text=True))
    assert '<html lang="cy">' in html and "Am yr astudiaeth hon" in html
    assert "Ydych chi'n cytuno i gymryd rhan?" in html
    assert "Beth rydym yn ei ofyn gennych" in html  # the Welsh consent text
    withdraw = _text(client.get(f"{link.url}/withdraw").get_data(as_text=True))
    assert "Gadael yr astudiaeth" in withdraw and 'lang="en">English</button>' in withdraw


def test_the_switch_goes_only_to_pages_of_the_same_link(db: Session, client: FlaskClient) -> None:
    link = welsh_link(db)
    for target in ("https://evil.example/", "//evil.example/r/x", "/admin/", "/r/other/page/1"):
        response = post_form(client, f"{link.url}/language", {"language": "en", "next": target})
        assert response.status_code == 303
        assert response.headers["Location"].endswith(link.url), target


def test_an_unknown_language_is_a_bad_request_and_changes_nothing(db: Session, client: FlaskClient) -> None:
    link = welsh_link(db)
    assert post_form(client, f"{link.url}/language", {"language": "fr"}).status_code == 400
    assert post_form(client, f"{link.url}/page/1", {"switch_language": "xx"}).status_code == 400
    see_committed(db)
    person = db.get(m.Participant, link.invitation.participant_id)
    assert person is not None and person.language == "cy"


def test_the_invalid_link_page_follows_lang_or_the_browser(client: FlaskClient) -> None:
    english = client.get("/r/not-a-real-token-at-all-000000")
    assert english.status_code == 404 and '<html lang="en-GB">' in english.get_data(as_text=True)
    welsh = _text(client.get("/r/not-a-real-token-at-all-000000?lang=cy").get_data(as_text=True))
    assert '<html lang="cy">' in welsh and "Nid yw'r ddolen hon yn gweithio" in welsh
    assert 'lang="en" hreflang="en">English</a>' in welsh
    browser = _text(client.get("/r/not-a-real-token-at-all-000000",
                               headers={"Accept-Language": "cy-GB,cy;q=0.9,en;q=0.5"}).get_data(as_text=True))
    assert "Nid yw'r ddolen hon yn gweithio" in browser
    assert post_form(client, "/r/not-a-real-token-at-all-000000/language", {"language": "cy"}).status_code == 404


def test_a_number_error_is_in_the_pages_language(db: Session, client: FlaskClient) -> None:
    link = welsh_link(db)
    pages = PEER_CY.pages(first_wave=True)
    number = next(i for i, p in enumerate(pages, start=1) if p.id == "about_your_job")
    for earlier in range(1, number):
        post_form(client, f"{link.url}/page/{earlier}")
    html = _text(post_form(client, f"{link.url}/page/{number}", {"pw_bg_peers": "999"}).get_data(as_text=True))
    assert "Mae problem" in html and "Gwall:" in html
    assert "Rhaid i'r ateb fod yn rhif cyfan o 0 i 50 (gweithwyr cymheiriaid); mae 999 y tu allan i'r ystod hon." in html


def test_questions_without_welsh_texts_are_marked_english_on_a_welsh_page(
    db: Session, client: FlaskClient
) -> None:
    person = f.ParticipantFactory(consented=True, language="cy")  # the study gives peer_worker v1
    link = make_link(db, participant=person)
    html = _text(client.get(f"{link.url}/page/1").get_data(as_text=True))
    first = load_instrument("peer_worker", 1).pages(first_wave=True)[0]
    assert '<html lang="cy">' in html and "Cadw a pharhau" in html
    assert f'<h1 lang="en">{first.title}</h1>' in html
    assert '<div lang="en"><fieldset' in html.replace("\n", "")


def test_the_thank_you_chart_names_the_scales_in_welsh(db: Session, client: FlaskClient) -> None:
    link = welsh_link(db)
    for number in range(1, len(PEER_CY.pages(first_wave=True)) + 1):
        post_form(client, f"{link.url}/page/{number}", {"pw_id_1": "4", "pw_id_2": "4", "pw_id_3": "5",
                                                        "pw_id_4": "2"} if number == 1 else {})
    html = _text(client.get(f"{link.url}/thanks").get_data(as_text=True))
    assert "<h1>Diolch</h1>" in html and "Eich sgorau dros amser" in html
    assert ">Hunaniaeth y rôl<" in html and "Role identity" not in html
