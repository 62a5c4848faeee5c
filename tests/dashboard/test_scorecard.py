"""The dashboard at a glance: the scorecard shows each scale and group's latest mean, its changes
and verdicts as symbol and word; it withholds what the tables withhold and adds nothing new.
The trend charts draw each mean's 95% interval, at the tables' precision."""

from __future__ import annotations

import html
import re
from typing import Any

from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from survey import models as m
from survey.dashboard.charts import line_chart
from tests import factories as f
from tests.conftest import StaffLogin
from tests.dashboard.conftest import PEERS_1, PEERS_2
from tests.helpers import completed_with_scores, publish

NUMBER = re.compile(r"(?<![\d.])[+-]?\d+(?:\.\d+)?(?![\d.])")


def _page(db: Session, client: FlaskClient, auth: StaffLogin, org: m.Organisation,
          study: m.Study) -> str:
    user = f.UserFactory(role=m.StaffRole.TRUST_MONITOR, organisation=org)
    db.commit()
    auth.login(user.email)
    response = client.get(f"/dashboard/{org.code}?study={study.code}")
    assert response.status_code == 200
    return response.get_data(as_text=True)


def _words(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def _scorecard(page: str) -> str:
    return page.split('id="scorecard"')[1].split("</table>")[0]


def _rows(page: str) -> dict[str, str]:
    """Scorecard row text by its group label (equality is the only scale here)."""
    rows = re.findall(r"<tr>(.*?)</tr>", _scorecard(page).split("<tbody>", 1)[1], flags=re.S)
    return {label: _words(row) for row in rows
            for label in ("Peer workers", "Colleagues and managers") if label in row}


def test_scorecard_has_each_groups_mean_changes_and_verdict(
        db: Session, client: FlaskClient, auth: StaffLogin, small_study: dict[str, Any]) -> None:
    page = _page(db, client, auth, small_study["org"], small_study["study"])
    table = _scorecard(page)
    # A real data table: caption, column headers, the scale heading its group of rows.
    assert "<caption>Scorecard at 3 months (higher is better)</caption>" in table
    assert table.count('<th scope="col">') == 5
    assert '<th scope="rowgroup" rowspan="2">Equality</th>' in table
    rows = _rows(page)
    # Peers: 2.8 -> 3.4, +0.6 with CI 0.2 to 1.0 (the previous wave is the baseline here).
    assert rows["Peer workers"] == "Equality Peer workers 3.4 +0.6 ▲ better +0.6 ▲ better"
    assert rows["Colleagues and managers"] == (
        "Colleagues and managers 3.8 0.0 = no clear change 0.0 = no clear change")
    # The symbol is beside the word, hidden from screen readers, which read the word.
    assert '<span class="verdict-symbol" aria-hidden="true">▲</span> better' in table
    text = _words(page)
    assert "Gap (colleagues minus peer workers) at 3 months: Equality +0.4 (narrowing since Baseline)." in text
    assert "Response rates : Baseline 100.0%; 3 months 100.0%." in text  # tags become spaces
    # The scorecard comes before "What changed most", which comes before the detailed tables.
    assert page.index('id="scorecard"') < page.index("What changed most") < page.index('id="table-change"')
    assert '<details class="detail-table"><summary>' in page


def test_scorecard_adds_nothing_the_tables_do_not_show(
        db: Session, client: FlaskClient, auth: StaffLogin, small_study: dict[str, Any]) -> None:
    page = _page(db, client, auth, small_study["org"], small_study["study"])
    card = _words(_scorecard(page).split("</thead>")[1])  # the figures, not the wave names
    rest = _words(page.split("</section>", 1)[1])  # everything after the glance section
    numbers = NUMBER.findall(card)
    assert numbers, card
    for number in numbers:
        assert re.fullmatch(r"[+-]?\d\.\d", number), number  # one decimal place, never more
        assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", rest), number
    assert "n=" not in card and "(n" not in card  # no counts


def test_a_withheld_group_stays_withheld_on_the_scorecard(
        db: Session, client: FlaskClient, auth: StaffLogin, small_study: dict[str, Any]) -> None:
    """Five peer workers and three colleagues: the colleagues' 4.3 and its change never show."""
    study = small_study["study"]
    w1, w2 = small_study["waves"]
    org = f.OrganisationFactory(code="FFF", name="Trust F")
    team = f.TeamFactory(organisation=org, code="F1", name="Team F")
    for x1, x2 in zip(PEERS_1, PEERS_2, strict=True):
        person = f.ParticipantFactory(study=study, team=team)
        completed_with_scores(db, person, w1, {"equality": x1})
        completed_with_scores(db, person, w2, {"equality": x2})
    for x1, x2 in ((1.4, 4.3), (1.4, 4.3), (1.4, 4.3)):  # mean 1.4 -> 4.3, change +2.9
        person = f.ParticipantFactory(study=study, team=team, colleague=True)
        completed_with_scores(db, person, w1, {"equality": x1})
        completed_with_scores(db, person, w2, {"equality": x2})
    db.commit()
    publish(db, fresh=True)
    page = _page(db, client, auth, org, study)
    rows = _rows(page)
    assert rows["Colleagues and managers"] == "Colleagues and managers withheld withheld withheld"
    assert rows["Peer workers"] == "Equality Peer workers 3.4 +0.6 ▲ better +0.6 ▲ better"
    text = _words(re.sub(r"<svg.*?</svg>", " ", page, flags=re.S))
    for secret in ("4.3", "1.4", "2.9", "+0.9"):  # the mean, the baseline, the change, the gap
        assert not re.search(rf"(?<![\d.]){re.escape(secret)}(?!\d)", text), secret
    assert "Gap (colleagues minus peer workers) at 3 months: Equality withheld." in text


def test_trend_tables_and_charts_carry_each_means_interval(
        db: Session, client: FlaskClient, auth: StaffLogin, small_study: dict[str, Any]) -> None:
    page = _page(db, client, auth, small_study["org"], small_study["study"])
    table = _words(page.split('id="table-equality"')[1].split("</table>")[0])
    # t.test(x)$conf.int on each wave's five scores (qt(0.975, 4) = 2.776), to 1 decimal place.
    assert "Peer workers 2.8 (95% CI 1.8 to 3.8) (n=5) 3.4 (95% CI 2.0 to 4.8) (n=5)" in table
    assert "Colleagues and managers 3.8 (95% CI 3.1 to 4.5) (n=5) 3.8 (95% CI 3.0 to 4.6) (n=5)" in table
    # The CSV carries the same intervals.
    sheet = client.get(f"/dashboard/AAA/figures.csv?study={small_study['study'].code}").get_data(as_text=True)
    assert "mean score,equality,Peer workers,,3 months,,3.4,2.0,4.8,5,," in sheet
    # Four means, four whiskers, and a legend entry saying what they are.
    chart = page.split('aria-describedby="table-equality"')[1].split("</ul>")[0]
    assert chart.count('class="whisker"') == 4
    assert "95% confidence interval</li>" in chart


def test_charts_draw_at_the_tables_precision() -> None:
    """3.36 and 3.44 both print as 3.4, so they are drawn at the same height; whiskers span
    the interval, top above bottom, and a withheld point has none."""
    chart = line_chart("t", ["a", "b", "c"], {"one": [3.36, 3.44, None]},
                       {"one": [(2.96, 3.76), (3.0, 3.9), None]})
    (x1, y1), (x2, y2) = chart.series[0].points
    assert y1 == y2 and x1 < x2
    whiskers = chart.series[0].whiskers
    assert len(whiskers) == 2
    assert all(top < y < bottom for (_, top, bottom), (_, y) in zip(whiskers, chart.series[0].points,
                                                                    strict=True))
    # Every chart has the same axis, 1 to 5, whatever its values.
    other = line_chart("u", ["a"], {"one": [1.2]})
    assert [label for _, label in other.y_ticks] == [label for _, label in chart.y_ticks] == [
        "1", "2", "3", "4", "5"]
