"""Languages of the respondent pages and emails: Flask-Babel, and gettext for the mail templates.

The catalogues live in survey/translations/<lang>/LC_MESSAGES/messages.po (kept in git);
their compiled .mo files are build output (`make translations`, or compiled here at start-up
when missing or older than the .po). Staff pages stay in English. A respondent page's language
is its participant's (see survey.respondent.language); the invalid-link page, whose person is
unknown, follows `?lang=` or the browser's Accept-Language.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from flask import Flask, g, has_request_context, request
from flask_babel import Babel, get_locale, get_translations, refresh

from instruments.languages import LANGUAGES, SOURCE_LANGUAGE, language_name

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
DOMAIN = "messages"

log = logging.getLogger(__name__)
babel = Babel()
#: Per blueprint: a function giving the language of the current request (None: no opinion).
_language_sources: dict[str, Callable[[], str | None]] = {}


def register_language_source(blueprint: str, source: Callable[[], str | None]) -> None:
    """Let a blueprint say which language its pages are in (called lazily, once a request)."""
    _language_sources[blueprint] = source


def catalogues() -> dict[str, Path]:
    """The .po file of every language that has one, by code."""
    return {code: TRANSLATIONS_DIR / code / "LC_MESSAGES" / f"{DOMAIN}.po"
            for code in LANGUAGES if code != SOURCE_LANGUAGE}


def compile_catalogues() -> list[str]:
    """Compile each .po whose .mo is missing or older; returns the problems (none when done)."""
    problems = []
    for code, po in catalogues().items():
        mo = po.with_suffix(".mo")
        if not po.is_file():
            problems.append(f"{po} is missing: {language_name(code)} pages will be in English")
            continue
        if mo.is_file() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        try:
            with po.open("rb") as source:
                catalog = read_po(source, locale=code)
            with mo.open("wb") as target:
                write_mo(target, catalog)
        except OSError as exc:
            problems.append(f"cannot compile {po} ({exc}); run `make translations`: "
                            f"{language_name(code)} pages will be in English until then")
    return problems


def request_language() -> str:
    """The current request's language: its blueprint's choice, else `?lang=`, else the browser's."""
    if not has_request_context():
        return SOURCE_LANGUAGE
    chosen = g.get("language")
    if chosen in LANGUAGES:
        return str(chosen)
    source = _language_sources.get(request.blueprint or "")
    if source is None:
        return SOURCE_LANGUAGE  # staff pages, the API
    found = source()
    if found is None:
        found = request.args.get("lang")
    if found not in LANGUAGES:
        found = request.accept_languages.best_match(list(LANGUAGES), SOURCE_LANGUAGE)
    g.language = found
    return str(found)


def current_language() -> str:
    """The language code of the page being rendered ('en' outside a request)."""
    return str(get_locale() or SOURCE_LANGUAGE) if has_request_context() else SOURCE_LANGUAGE


@lru_cache(maxsize=8)
def translations(language: str) -> NullTranslations:
    """The gettext translations of a language, for rendering outside a request (emails)."""
    return Translations.load(str(TRANSLATIONS_DIR), [language], DOMAIN)


def _page_translations() -> NullTranslations:
    """This request's translations, looked up once (Flask-Babel's own lookup runs per string)."""
    found: NullTranslations | None = g.get("page_translations")
    if found is None:
        found = g.page_translations = get_translations()
    return found


def change_language(language: str) -> None:
    """Render the rest of this request in another language (after the switch)."""
    g.language = language
    g.pop("page_translations", None)
    refresh()


def init_app(app: Flask) -> None:
    """Compile missing catalogues, set up Flask-Babel and the templates' language helpers."""
    for problem in compile_catalogues():
        app.logger.warning("translations: %s", problem)
    babel.init_app(app, default_locale=SOURCE_LANGUAGE, locale_selector=request_language,
                   default_translation_directories=str(TRANSLATIONS_DIR), default_domain=DOMAIN)
    # The templates' _() and ngettext(), as Flask-Babel installs them, but with the request's
    # translations found once: a survey page marks a dozen strings.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        lambda text: _page_translations().ugettext(text),
        lambda singular, plural, n: _page_translations().ungettext(singular, plural, n),
        newstyle=True,
    )
    app.jinja_env.globals.update(current_language=current_language, language_name=language_name,
                                 languages=LANGUAGES)
