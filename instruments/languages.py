"""The languages PeerPulse can ask its questions in: ISO 639-1 codes and their own names."""

from __future__ import annotations

#: The source language of every instrument and of the UI; translations are made from it.
SOURCE_LANGUAGE = "en"
#: Each supported language by code, named in that language (as a language switch shows it).
LANGUAGES: dict[str, str] = {"en": "English", "cy": "Cymraeg"}
#: The same languages named in English (for researchers' documents such as the codebook).
ENGLISH_NAMES: dict[str, str] = {"en": "English", "cy": "Welsh"}


def language_name(code: str) -> str:
    """A language's own name ('Cymraeg' for 'cy'); the code itself when unknown."""
    return LANGUAGES.get(code, code)


def english_name(code: str) -> str:
    """A language's English name ('Welsh' for 'cy'); the code itself when unknown."""
    return ENGLISH_NAMES.get(code, code)
