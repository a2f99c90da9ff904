"""Nicknames on a challenge's leaderboard: one normal form, nothing invisible, nobody posing as the host."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

from crowdswap.lib.errors import ServiceError

NICKNAME_MAX = 40
# Words a guest's nickname may not contain: they would pass it off as the site, its staff or the host.
RESERVED_WORDS = frozenset({"admin", "administrator", "crowdswap", "host", "moderator", "mod", "official", "staff"})
# Control, format (zero-width, bidi overrides), surrogate, private-use and unassigned characters.
_INVISIBLE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn"})
# More stacked accents than any language needs is "Zalgo" text drawn over its neighbours' rows.
MAX_COMBINING_MARKS = 2


def normalise(raw: str) -> str:
    """Return a name in NFKC, without invisible characters or stacked accents, trimmed, spaces collapsed."""
    text = unicodedata.normalize("NFKC", raw)
    kept: list[str] = []
    marks = 0
    for char in text:
        if char.isspace():
            kept.append(" ")
            marks = 0
            continue
        category = unicodedata.category(char)
        if category in _INVISIBLE_CATEGORIES:
            continue
        if category.startswith("M"):
            marks += 1
            if marks > MAX_COMBINING_MARKS:
                continue
        else:
            marks = 0
        kept.append(char)
    return " ".join("".join(kept).split())


# Cyrillic and Greek letters drawn like Latin ones (after casefold, so their capitals too: "Н" is "н", drawn "H"):
# "Mаrk" with a Cyrillic "а" is Mark to anyone reading the board.
_LOOKALIKES = str.maketrans(
    {
        **dict.fromkeys("аα", "a"),
        "в": "b",
        **dict.fromkeys("сϲ", "c"),
        "ԁ": "d",
        **dict.fromkeys("еє", "e"),
        "һ": "h",
        "н": "h",
        **dict.fromkeys("іιї", "i"),
        "ј": "j",
        **dict.fromkeys("кκ", "k"),
        "ӏ": "l",
        "м": "m",
        **dict.fromkeys("оοσ", "o"),
        **dict.fromkeys("рρ", "p"),
        "ԛ": "q",
        "ѕ": "s",
        **dict.fromkeys("тτ", "t"),
        "υ": "u",
        "ν": "v",
        "ԝ": "w",
        **dict.fromkeys("хχ", "x"),
        "у": "y",
    }
)


def skeleton(name: str) -> str:
    """Return ``name`` casefolded with look-alike Cyrillic and Greek letters read as the Latin ones they mimic."""
    return name.casefold().translate(_LOOKALIKES)


def key(name: str) -> str:
    """Return what makes two nicknames the same on one board: case, width and look-alike letters do not count."""
    return skeleton(normalise(name))


def guest_nickname(raw: str, *, host_names: Iterable[str] = ()) -> str:
    """Return a guest's nickname in normal form, or raise ServiceError saying what to change."""
    name = normalise(raw)
    if not name:
        raise ServiceError("Choose a nickname to play as a guest.")
    if len(name) > NICKNAME_MAX:
        raise ServiceError(f"Choose a nickname of at most {NICKNAME_MAX} characters.")
    words = set(re.findall(r"\w+", skeleton(name)))
    if words & RESERVED_WORDS:
        raise ServiceError(f"“{name}” looks like the host's or the site's name. Choose another nickname.")
    if key(name) in {key(host) for host in host_names if host}:
        raise ServiceError(f"“{name}” is the host's name. Choose another nickname.")
    return name


def account_nickname(display_name: str) -> str:
    """Return a signed-in player's name (from the account) in normal form."""
    return normalise(display_name)[:NICKNAME_MAX].strip() or "Player"
