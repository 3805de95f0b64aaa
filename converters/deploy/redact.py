"""Masking the configured secrets in everything `dac deploy` and `dac verify` print.

Masking comes first: a text is masked whole, then shortened or escaped, so a cut can never
leave part of a secret that no longer matches. A server may echo a secret JSON-escaped or
percent-encoded, and may cut its own message inside one: those spellings are masked, and so
is what is left of a secret at such a cut (its first or last FRAGMENT characters or more)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from urllib.parse import quote

from converters.deploy.config import Secret

MASK = "***"
FRAGMENT = 8  # a shorter piece of a secret is too likely to be ordinary text


class Redactor:
    """Replaces every configured secret in a text; applied to everything we print."""

    def __init__(self, secrets: Iterable[Secret] = ()) -> None:
        self._values: list[str] = []
        self._spellings: list[str] = []
        for secret in secrets:
            self.add(secret)

    def add(self, secret: Secret) -> None:
        value = secret.reveal()
        if not value or value in self._values:
            return
        self._values.append(value)
        spellings = {value, json.dumps(value)[1:-1], value.replace("/", "\\/"), quote(value)}
        spellings.add(quote(value, safe=""))
        # Longest first: a secret that holds another is masked whole.
        self._spellings = sorted({*self._spellings, *spellings}, key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for spelling in self._spellings:
            text = text.replace(spelling, MASK)
        for value in self._values:
            if len(value) > FRAGMENT:
                text = _mask_ends(text, value)
        return text


def _mask_ends(text: str, value: str) -> str:
    """``text`` with each run that starts like ``value`` (its first FRAGMENT characters, then
    as far as it goes on matching) or ends like it masked."""
    head = value[:FRAGMENT]
    start = text.find(head)
    while start != -1:
        end = start + FRAGMENT
        while end < len(text) and end - start < len(value) and text[end] == value[end - start]:
            end += 1
        text = text[:start] + MASK + text[end:]
        start = text.find(head, start + len(MASK))
    tail = value[-FRAGMENT:]
    end = text.find(tail)
    while end != -1:
        stop = end + FRAGMENT
        start = end
        while (
            start > 0
            and stop - start < len(value)
            and text[start - 1] == value[-(stop - start) - 1]
        ):
            start -= 1
        text = text[:start] + MASK + text[stop:]
        end = text.find(tail, start + len(MASK))
    return text
