"""Text normalisation for matching: contractions, a small suffix stripper, generic stopwords and support synonyms.

Everything here is general English and general customer-support vocabulary; nothing is tuned to one data set.
"""
from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# Function words that carry no topic. Question words (how, why, when, where, what, which) are kept: "why was I
# charged" and "how do I pay" ask different things. Negations ("not", "no", "never") are deliberately NOT here: they are kept
# as ordinary low-weight words, so "I did not get my order" still shares "not" with "my order has not arrived"
# without negation dominating the match.
STOPWORDS = frozenset("""
a about above after again against all am an and any are as at be because been before being below between both
but by could did do does doing down during each few for from further had has have having he her here hers
herself him himself his i if in into is it its itself just let me more most my myself nor of off on once only
or other our ours ourselves out over own same she should so some such than that the their theirs them themselves
then there these they this those through to too under until up very was we were while who
whom will with would you your yours yourself yourselves s t d ll m re ve can may might must shall
please hi hello hey thanks thank ok okay yes also still already even really get got getting im ive id
want wanted need needed like know tell help way something anything thing things one much many again anymore
any ever someone somebody anyone anybody maybe perhaps actually now today right
""".split())

# Kept for ranking, but a match on these alone is no evidence that an article answers the question.
WEAK_WORDS = frozenset("how why when where what which who not no never nothing".split())

# Each rewrite is (gate, pattern, replacement). The gate is one or more substrings, one of which every match
# contains: the pattern runs only when one is in the text (normalising is most of the time it takes to load a large
# knowledge base, and most patterns match nowhere in most texts). Patterns that start with a word are compiled
# literal-first (see _literal_first).
_N_T = "isnt arent wasnt werent dont doesnt didnt havent hasnt hadnt wouldnt couldnt shouldnt".split()
_CONTRACTIONS = [
    ("won", r"\bwon'?t\b", "will not"),
    ("can", r"\bcan'?t\b", "can not"),
    ("cannot", r"\bcannot\b", "can not"),
    ("ain", r"\bain'?t\b", "is not"),
    ("shan", r"\bshan'?t\b", "shall not"),
    ("n't", r"n't\b", " not"),
    (tuple(_N_T), r"\b(" + "|".join(_N_T) + r")\b", lambda m: m.group(1)[:-2] + " not"),
    ("'", r"'(s|m|re|ve|ll|d)\b", ""),
]

# Multi-word expressions of everyday support language, folded to one token before tokenising.
_PHRASES = [
    ("top", r"\btop(?:ped|ping|s)?[\s-]+up\b|\btopup\b", "topup"),
    # "log" and "sign" as two passes (a literal first is much faster to find; neither's output can form the other)
    ("log", r"\blog(?:ged|ging|s)?[\s-]*(?:in|on)(?:to)?\b", "login"),
    ("sign", r"\bsign(?:ged|ging|s)?[\s-]*(?:in|on)(?:to)?\b", "login"),
    ("log", r"\blog(?:ged|ging|s)?[\s-]*out\b", "logout"),
    ("sign", r"\bsign(?:ged|ging|s)?[\s-]*out\b", "logout"),
    ("sign", r"\bsign(?:ed|ing|s)?[\s-]*up\b", "register"),
    ("money", r"\bmoney[\s-]+back\b", "refund"),
    ("pay", r"\bpay[\s-]*back\b", "refund"),
    ("charge", r"\bcharge[\s-]*back\b", "chargeback"),
    # Only "e mail" / "e-mail" change ("email" would be rewritten to itself), so the gate asks for the separator.
    (tuple(sep + "mail" for sep in " -\t\n\r\x0b\x0c"), r"\be[\s-]mail(s|ed|ing)?\b", r"email\1"),
    ("pass", r"\bpass[\s-]?(word|code)(s)?\b", "password"),
    ("pin", r"\bpin[\s-]?code\b", "pin"),
    ("check", r"\bcheck[\s-]?out\b", "checkout"),
    ("cancel", r"\bcancel{1,2}ation\b", "cancel"),
    (("customer service", "customer support", "customer care"),
     r"\bcustomer (?:service|support|care)\b", "support"),
    ("through", r"\b(?:did|does|do|has|have|had|was|is) not go(?:ne)? through\b", "declined"),
    (("ise", "isi", "isa"), r"\b(\w{4,})is(e|ed|es|ing|ation|ations)\b", r"\1iz\2"),   # British -ise as -ize
    (("credit card", "debit card"), r"\bcredit card\b|\bdebit card\b", "card"),
    (("delivery address", "shipping address"), r"\bdelivery address\b|\bshipping address\b", "address"),
]



def _has_top_level_alternation(pattern: str) -> bool:
    depth, i = 0, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            i += 1
        elif char == "[":
            i = pattern.index("]", i + 2)
        elif char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        elif char == "|" and depth == 0:
            return True
        i += 1
    return False


def _literal_first(pattern: str) -> str:
    """`\\bword...` as `word(?<=\\bword)...`: the same matches, but re can find the literal with a fast substring
    search instead of trying the word boundary at every position of a long text."""
    found = re.match(r"\\b([a-z]+)(?![a-z?*+{])", pattern)
    if found is None or _has_top_level_alternation(pattern):
        return pattern
    word = found.group(1)
    return word + "(?<=\\b" + word + ")" + pattern[found.end():]


# In this order: contractions first.
_REWRITES = [(gate if isinstance(gate, tuple) else (gate,), re.compile(_literal_first(pattern)), repl)
             for gate, pattern, repl in _CONTRACTIONS + _PHRASES]

# Generic support synonyms: every word on the right is indexed and queried as the word on the left.
_SYNONYM_GROUPS = {
    "package": "parcel packet shipment consignment",
    "deliver": "delivery delivered shipped ship shipping dispatch dispatched",
    "arrive": "arrived arrival arriving receive received receiving",
    "refund": "reimburse reimbursement refunded refunding",
    "cancel": "cancelled canceled cancelling canceling abort",
    "purchase": "bought buy buying",
    "fee": "fees charge charges charged charging cost costs price pricing",
    "decline": "declined rejected reject refused refuse denied deny",
    "password": "pwd",
    "account": "acct profile",
    "login": "signin",
    "delete": "remove erase close closing deleted removed",
    "wrong": "incorrect mistake error erroneous",
    "broken": "damaged defective faulty cracked",
    "money": "funds fund cash",
    "transfer": "transfers transferring transferred wire",
    "phone": "telephone mobile cell",
    "address": "addr",
    "change": "update modify edit amend",
    "lose": "lost missing misplaced",
    "steal": "stolen stole theft",
    "verify": "verification confirm identity id",
    "pay": "payment paid paying",
    "problem": "issue trouble",
    "work": "working works function functioning",
    "quick": "fast faster quickly soon",
    "late": "delayed delay overdue",
    "order": "ordered ordering",
}


def _fold(word: str) -> str:
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()


_VOWELS = set("aeiouy")


@lru_cache(maxsize=200_000)
def stem(word: str) -> str:
    """A small, conservative English suffix stripper (inflections plus a few derivations)."""
    w = word
    if len(w) <= 3 or not w.isalpha():
        return w
    if w.endswith("ies") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("ied") and len(w) > 4:
        w = w[:-3] + "y"
    elif w.endswith("sses"):
        w = w[:-2]
    elif w.endswith("s") and not w.endswith(("ss", "us", "is")) and len(w) > 3:
        w = w[:-1]
    if w.endswith("ing") and len(w) > 5 and _VOWELS & set(w[:-3]):
        w = w[:-3]
        if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
            w = w[:-1]
    elif w.endswith("ed") and len(w) > 4 and _VOWELS & set(w[:-2]):
        w = w[:-2]
        if len(w) > 3 and w[-1] == w[-2] and w[-1] not in "lsz":
            w = w[:-1]
    for suffix, repl in (("ication", "y"), ("ational", "ate"), ("ation", "ate"), ("ness", ""), ("ment", ""),
                         ("fully", ""), ("ful", ""), ("ably", ""), ("able", ""), ("ibly", ""), ("ible", ""),
                         ("ly", ""), ("ity", "")):
        if w.endswith(suffix) and len(w) - len(suffix) >= 4:
            w = w[: -len(suffix)] + repl
            break
    if w.endswith("ate") and len(w) > 6:
        w = w[:-3]
    if w.endswith("y") and len(w) > 3 and w[-2] not in _VOWELS:
        w = w[:-1] + "i"
    if w.endswith("e") and len(w) > 4:
        w = w[:-1]
    return w


def _synonym_table() -> dict[str, str]:
    table = {}
    for canonical, words in _SYNONYM_GROUPS.items():
        for word in words.split() + [canonical]:
            table[stem(word)] = stem(canonical)
    return table


SYNONYMS = _synonym_table()
WEAK_TERMS = frozenset(SYNONYMS.get(stem(w), stem(w)) for w in WEAK_WORDS)

_TOKEN_RE = re.compile(r"[a-z0-9]+")


def normalise(text: str) -> str:
    """Lower-case, fold accents and straight quotes, expand contractions and fold support phrases."""
    text = _fold((text or "").lower()).replace("’", "'").replace("`", "'")
    for gate, pattern, repl in _REWRITES:
        for needle in gate:
            if needle in text:
                text = pattern.sub(repl, text)
                break
    return text


@lru_cache(maxsize=200_000)
def term(word: str) -> str:
    """The index term of one word: stemmed, then mapped to its synonym group."""
    s = stem(word)
    return SYNONYMS.get(s, s)


def words(text: str) -> list[str]:
    """Content words of a text, in order (normalised, stopwords removed), before stemming."""
    return [w for w in _TOKEN_RE.findall(normalise(text)) if w not in STOPWORDS]


def terms(text: str) -> list[str]:
    """Index terms of a text, in order."""
    return [term(w) for w in words(text)]


def compact(text: str) -> str:
    """The text as a space-joined string of content words, for character-level fuzzy comparison."""
    return " ".join(words(text))
