"""A banner's controls by accessible name: what each name says, in many languages. The
same expressions run inside pages (probe.js); e2e/test_audit_managers.py finds them there."""

from __future__ import annotations

import re

import pytest

from consentpixel.audit.controls import WORDS, classify

NAMES = [
    # en
    ("Reject all", "reject"), ("Decline", "reject"), ("Deny", "reject"),
    ("Accept only necessary", "reject"), ("Only essential cookies", "reject"),
    ("Necessary cookies only", "reject"), ("Continue without accepting", "reject"),
    ("Do not consent", "reject"), ("No, thanks", "reject"), ("deny cookies", "reject"),
    ("Accept all", "accept"), ("Allow all cookies", "accept"), ("I agree", "accept"),
    ("OK", "accept"), ("Consent", "accept"), ("allow cookies", "accept"),
    ("Manage preferences", "settings"), ("Customise", "settings"), ("Manage consent", "settings"),
    ("Allow selection", "save"), ("Save settings", "save"), ("Got it!", "dismiss"),
    ("dismiss cookie message", "dismiss"),
    # de
    ("Alle ablehnen", "reject"), ("Ablehnen", "reject"), ("Nur notwendige Cookies", "reject"),
    ("Nur technisch notwendige", "reject"), ("Notwendige Cookies akzeptieren", "reject"),
    ("Weiter ohne Einwilligung", "reject"), ("Alle akzeptieren", "accept"),
    ("Zustimmen", "accept"), ("Einverstanden", "accept"), ("Alle zulassen", "accept"),
    ("Einstellungen", "settings"), ("Konfigurieren", "settings"), ("Auswahl speichern", "save"),
    # fr
    ("Tout refuser", "reject"), ("Continuer sans accepter", "reject"), ("Je refuse", "reject"),
    ("Cookies : Tout refuser", "reject"), ("Tout accepter", "accept"), ("J'accepte", "accept"),
    ("Accepter et fermer", "accept"), ("Personnaliser", "settings"), ("Paramétrer", "settings"),
    # es
    ("Rechazar todo", "reject"), ("Rechazar", "reject"), ("Solo necesarias", "reject"),
    ("Aceptar todo", "accept"), ("Aceptar", "accept"), ("Configurar", "settings"),
    # it
    ("Rifiuta tutto", "reject"), ("Rifiuta", "reject"), ("Continua senza accettare", "reject"),
    ("Accetta tutto", "accept"), ("Accetto", "accept"), ("Personalizza", "settings"),
    ("Ok, capito", "accept"),
    # nl
    ("Alles weigeren", "reject"), ("Ik weiger", "reject"), ("Alleen noodzakelijke", "reject"),
    ("Alles accepteren", "accept"), ("Dat is oké", "accept"), ("Akkoord", "accept"),
    ("Laat me kiezen", "settings"), ("Instellingen", "settings"),
    # a refusal that names what it refuses is no acceptance
    ("Nicht akzeptieren", "reject"), ("Nein, danke", "reject"), ("Nicht einverstanden", "reject"),
    ("Ne pas accepter", "reject"), ("Pas d'accord", "reject"), ("Je n'accepte pas", "reject"),
    ("No aceptar", "reject"), ("No, gracias", "reject"), ("No estoy de acuerdo", "reject"),
    ("Non consentire", "reject"), ("No grazie", "reject"), ("Non sono d'accordo", "reject"),
    ("Niet accepteren", "reject"), ("Nee, bedankt", "reject"), ("Niet toestaan", "reject"),
    ("Doorgaan zonder te accepteren", "reject"),
    # none of these
    ("Learn more about cookies", ""), ("Book now", ""), ("Privacy policy", ""),
]


@pytest.mark.parametrize("name, action", NAMES, ids=[n for n, _ in NAMES])
def test_what_a_control_s_name_says(name: str, action: str) -> None:
    assert classify(name) == action


def test_the_expressions_are_valid_in_javascript_too() -> None:
    # What probe.js gets: plain sources, no Python-only syntax, tried in this order.
    assert [action for action, _ in WORDS["actions"]] == [
        "reject", "save", "settings", "accept", "dismiss"]
    sources = [source for _, source in WORDS["actions"]] + [WORDS["context"], WORDS["all"]]
    for source in sources:
        assert not re.search(r"\(\?P|\(\?#|\\A|\\Z|\(\?[aiLmsux]+\)", source)
