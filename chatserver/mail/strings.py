"""The emails' wording in the widget's languages (en, de, fr, es); English when a text or language is missing."""
from __future__ import annotations

LANGUAGES = ("en", "de", "fr", "es")

STRINGS = {
    "en": {
        "test_subject": "Test email from {site}",
        "test_body": "This is a test email from the help desk at {site}. If you can read it, email works.",
        "sender_name": "Support",
        "reply_subject": "New reply to your chat with {site}",
        "reply_intro": "{agent} answered you in the chat while you were away:",
        "reply_context": "Earlier in the conversation:",
        "reply_how": "Reply to this email to answer; your reply goes straight into the chat.",
        "reply_link": "Open the chat",
        "transcript_subject": "Transcript of your chat with {site}",
        "transcript_intro": "Here is the whole conversation, as you asked.",
        "you": "You",
        "bot": "Assistant",
        "agent": "Support",
        # agents' account emails (English only: the desk's own pages are English)
        "reset_subject": "Reset your password for {site}",
        "reset_intro": "Someone (hopefully you) asked to reset the password of your agent account {email} at {site}.",
        "reset_how": "Choose a new password with the link below. It works once, for 24 hours; all your sessions end "
                     "when you use it. If you did not ask, ignore this email: your password stays as it is.",
        "reset_link": "Choose a new password",
        "invite_subject": "You are invited to the support desk at {site}",
        "invite_intro": "{admin} created an agent account for you ({email}) at {site}.",
        "invite_how": "Choose your password with the link below; it works once, for 24 hours. If it has run out, "
                      "use \"Forgot your password?\" on the sign-in page or ask an admin for a new link.",
        "invite_link": "Choose your password",
    },
    "de": {
        "test_subject": "Test-E-Mail von {site}",
        "test_body": "Dies ist eine Test-E-Mail des Helpdesks unter {site}. Wenn Sie sie lesen können, funktioniert E-Mail.",
        "sender_name": "Support",
        "reply_subject": "Neue Antwort in Ihrem Chat mit {site}",
        "reply_intro": "{agent} hat Ihnen im Chat geantwortet, während Sie weg waren:",
        "reply_context": "Zuvor im Gespräch:",
        "reply_how": "Antworten Sie einfach auf diese E-Mail; Ihre Antwort landet direkt im Chat.",
        "reply_link": "Chat öffnen",
        "transcript_subject": "Verlauf Ihres Chats mit {site}",
        "transcript_intro": "Hier ist das ganze Gespräch, wie gewünscht.",
        "you": "Sie",
        "bot": "Assistent",
        "agent": "Support",
    },
    "fr": {
        "test_subject": "E-mail de test de {site}",
        "test_body": "Ceci est un e-mail de test du support de {site}. Si vous pouvez le lire, l'e-mail fonctionne.",
        "sender_name": "Support",
        "reply_subject": "Nouvelle réponse à votre discussion avec {site}",
        "reply_intro": "{agent} vous a répondu dans la discussion pendant votre absence :",
        "reply_context": "Plus tôt dans la conversation :",
        "reply_how": "Répondez à cet e-mail : votre réponse arrive directement dans la discussion.",
        "reply_link": "Ouvrir la discussion",
        "transcript_subject": "Transcription de votre discussion avec {site}",
        "transcript_intro": "Voici toute la conversation, comme demandé.",
        "you": "Vous",
        "bot": "Assistant",
        "agent": "Support",
    },
    "es": {
        "test_subject": "Correo de prueba de {site}",
        "test_body": "Este es un correo de prueba del soporte de {site}. Si puede leerlo, el correo funciona.",
        "sender_name": "Soporte",
        "reply_subject": "Nueva respuesta en su chat con {site}",
        "reply_intro": "{agent} le respondió en el chat mientras no estaba:",
        "reply_context": "Antes en la conversación:",
        "reply_how": "Responda a este correo; su respuesta llega directamente al chat.",
        "reply_link": "Abrir el chat",
        "transcript_subject": "Transcripción de su chat con {site}",
        "transcript_intro": "Aquí está toda la conversación, como pidió.",
        "you": "Usted",
        "bot": "Asistente",
        "agent": "Soporte",
    },
}


def text(language: str, key: str, **values) -> str:
    template = STRINGS.get(language, STRINGS["en"]).get(key) or STRINGS["en"][key]
    return template.format(**values)


def language_or_default(language: object) -> str:
    return language if isinstance(language, str) and language in LANGUAGES else "en"
