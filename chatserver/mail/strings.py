"""The emails' wording in the widget's languages (en, de, fr, es); English when a text or language is missing."""
from __future__ import annotations

LANGUAGES = ("en", "de", "fr", "es")

STRINGS = {
    "en": {
        "test_subject": "Test email from {site}",
        "test_body": "This is a test email from the help desk at {site}. If you can read it, email works.",
        "sender_name": "Support",
    },
    "de": {
        "test_subject": "Test-E-Mail von {site}",
        "test_body": "Dies ist eine Test-E-Mail des Helpdesks unter {site}. Wenn Sie sie lesen können, funktioniert E-Mail.",
        "sender_name": "Support",
    },
    "fr": {
        "test_subject": "E-mail de test de {site}",
        "test_body": "Ceci est un e-mail de test du support de {site}. Si vous pouvez le lire, l'e-mail fonctionne.",
        "sender_name": "Support",
    },
    "es": {
        "test_subject": "Correo de prueba de {site}",
        "test_body": "Este es un correo de prueba del soporte de {site}. Si puede leerlo, el correo funciona.",
        "sender_name": "Soporte",
    },
}


def text(language: str, key: str, **values) -> str:
    template = STRINGS.get(language, STRINGS["en"]).get(key) or STRINGS["en"][key]
    return template.format(**values)


def language_or_default(language: object) -> str:
    return language if isinstance(language, str) and language in LANGUAGES else "en"
