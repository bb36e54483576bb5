"""What a visitor's question may become as a proposed example question (chatserver/desk/learning.py): personal data
is never learned (emails, card, phone and IBAN numbers drop the question; order-like numbers are masked), wordings
that differ only in case, accents and punctuation are one, and chatter is not proposed."""
from __future__ import annotations

import pytest

from chatserver.desk.bot import WANTS_PERSON
from chatserver.desk.learning import known_questions, normalise, propose
from triage import Article


@pytest.mark.parametrize("text", [
    "my email is dana.smith+shop@example.co.uk, where is my order",
    "please send the invoice to j.doe@mail.example",
    "I paid with card 4111 1111 1111 1111 and got no confirmation",
    "card 4111-1111-1111-1111 was charged twice",
    "call me back on +44 20 7946 0958 about my refund",
    "my number is (030) 1234-5678, the parcel never came",
    "ring 07700900123 when the courier is here",
    "refund to DE89 3704 0044 0532 0130 00 please",
    "I ordered on 12/05/2024 and nothing arrived",
])
def test_personal_data_is_never_proposed(text):
    assert propose(text) is None


@pytest.mark.parametrize("text, proposed", [
    ("Where is order #10234?", "Where is order [number]?"),
    ("my order ORD-55812 has not arrived", "my order [number] has not arrived"),
    ("parcel A123456 is late", "parcel [number] is late"),
    ("I want to return 2 of the 3 shirts", "I want to return 2 of the 3 shirts"),     # small numbers stay
])
def test_order_like_numbers_are_masked(text, proposed):
    assert propose(text).text == proposed


def test_wordings_that_differ_in_case_accents_and_punctuation_are_one():
    a = propose("  Can I collect my order   in person?? ")
    b = propose("can i collect my ORDER in person")
    assert a.text == "Can I collect my order in person??" and a.normalised == b.normalised
    assert normalise("Où est ma commande ?") == "ou est ma commande"


@pytest.mark.parametrize("text", ["", None, "hi", "thanks a", "ok thanks", "#12345", "x" * 301])
def test_chatter_too_short_or_too_long_is_not_proposed(text):
    assert propose(text) is None


def test_requests_for_a_person_are_not_proposed():
    assert propose("can I talk to a real person please", exclude=WANTS_PERSON) is None
    assert propose("where is my parcel please", exclude=WANTS_PERSON) is not None


def test_an_articles_own_questions_are_known():
    article = Article(slug="track-order", title="Track your order", body="", questions=["Where is my order?"])
    known = known_questions(article)
    assert propose("where is my order").normalised in known
    assert propose("track your order now").normalised not in known
