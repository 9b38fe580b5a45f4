"""A consent banner's controls, found by role and accessible name in many languages.

On a page without the consentpixel tag the audit knows nothing of the banner's markup,
so it looks for it as a visitor does: a button or link whose accessible name says
"Reject all", "Alle ablehnen", "Tout refuser"…, inside something that speaks of cookies
or consent. probe.js (findControls) does the looking, with the expressions made here.

Names are matched in this order, so that "Accept only necessary" is a refusal, "Allow
selection" keeps the switches as they are and "Manage consent" opens the settings:
reject, save, settings, accept, dismiss (a notice's "Got it", which neither accepts nor
refuses). Each list holds the usual wordings in en, de, fr, es, it, nl, and
a few in pt, pl, da, sv.
"""

from __future__ import annotations

import re
from typing import Final, TypedDict

REJECT: Final = (
    # en
    r"reject", r"decline", r"deny", r"refuse", r"disagree", r"disallow", r"opt[ -]?out",
    r"(?:i )?do(?: not|n.t) (?:accept|agree|allow|consent)", r"no,? thanks",
    r"(?:only|just) (?:the )?(?:strictly )?(?:necessary|essential|required|functional)",
    r"(?:strictly )?(?:necessary|essential|required) (?:cookies )?only",
    r"(?:accept|allow|use|continue with) (?:only )?(?:the )?(?:strictly )?"
    r"(?:necessary|essential|required)",
    r"continue without (?:accepting|agreeing|consent|cookies)",
    # de
    r"ablehnen", r"verweigern", r"widersprechen", r"nicht (?:zu)?stimmen",
    r"nicht (?:akzeptieren|annehmen|einverstanden|zulassen|erlauben)", r"nein,? danke",
    r"nur (?:technisch )?(?:notwendige|erforderliche|essenzielle|essentielle|n[öo]tige)",
    r"(?:notwendige|erforderliche|essenzielle) (?:cookies )?(?:akzeptieren|zulassen|erlauben)",
    r"(?:weiter|fortfahren) ohne (?:einwilligung|zustimmung|cookies)",
    r"ohne (?:einwilligung|zustimmung) (?:weiter|fortfahren)",
    # fr
    r"refuser", r"je refuse", r"continuer sans accepter", r"non,? merci",
    r"ne pas (?:accepter|autoriser|consentir)", r"pas d.accord", r"je n.accepte pas",
    r"(?:uniquement|seulement) (?:les )?(?:cookies )?(?:n[ée]cessaires|essentiels|obligatoires)",
    # es
    r"rechazar", r"denegar", r"no acepto", r"continuar sin aceptar",
    r"no (?:aceptar|permitir|consiento|estoy de acuerdo)", r"no,? gracias",
    r"(?:s[oó]lo|solamente) (?:las )?(?:cookies )?(?:necesarias|esenciales|t[ée]cnicas)",
    # it
    r"rifiut", r"nega", r"non accett", r"continua senza accettare",
    r"non (?:consent|autorizz|sono d.accordo)", r"no,? grazie",
    r"solo (?:i )?(?:cookie )?(?:necessari|essenziali|tecnici)",
    # nl
    r"weiger", r"afwijzen", r"niet (?:akkoord|accepteren|toestaan)", r"nee,? bedankt",
    r"doorgaan zonder (?:te )?(?:accepteren|akkoord|toestemming|cookies)",
    r"alleen (?:noodzakelijke|functionele|essenti[ëe]le)",
    # pt, pl, da, sv
    r"rejeitar", r"recusar", r"odrzu[cć]", r"afvis", r"avvisa", r"neka",
)
ACCEPT: Final = (
    r"accept", r"allow", r"agree", r"consent", r"\bok\b", r"okay", r"\byes\b",
    r"akzeptieren", r"annehmen", r"zustimmen", r"einverstanden", r"zulassen", r"erlauben",
    r"accepter", r"j.accepte", r"autoriser", r"d.accord",
    r"aceptar", r"acepto", r"permitir", r"de acuerdo",
    r"accett", r"consenti", r"va bene",
    r"accepteren", r"accepteer", r"akkoord", r"toestaan", r"oké",
    r"aceitar", r"akceptuj", r"zgadzam", r"acceptér", r"tillad", r"godkänn", r"acceptera",
)
# "Allow selection", "Save": they keep what the switches say, neither all nor nothing.
SAVE: Final = (
    r"select", r"save", r"confirm", r"auswahl", r"speichern", r"best[äa]tigen",
    r"s[ée]lection", r"enregistrer", r"confirmer", r"selecci", r"guardar", r"selezion",
    r"salva", r"conferm", r"selectie", r"opslaan", r"bevestig",
)
SETTINGS: Final = (
    r"settings", r"preferences", r"customi[sz]e", r"manage", r"options", r"let me choose",
    r"configure", r"more choices", r"purposes",
    r"einstellungen", r"anpassen", r"verwalten", r"optionen", r"ausw[äa]hlen", r"individuell",
    r"konfigurieren",
    r"param[èé]tr", r"personnaliser", r"pr[ée]f[ée]rences", r"g[ée]rer", r"choisir",
    r"configur", r"personalizar", r"preferencias", r"gestionar", r"ajustes",
    r"personalizza", r"impostazioni", r"preferenze", r"gestisci", r"opzioni",
    r"instellingen", r"aanpassen", r"voorkeuren", r"beheren", r"laat me kiezen", r"zelf kiezen",
)
DISMISS: Final = (
    r"got it", r"understood", r"dismiss", r"close", r"verstanden", r"schlie(?:ß|ss)en",
    r"compris", r"fermer", r"entendido", r"cerrar", r"(?:ho )?capito", r"chiudi",
    r"begrepen", r"sluiten",
)
# What the surroundings of a banner's controls speak of (text, id or class).
CONTEXT: Final = (
    r"cookie", r"consent", r"privacy", r"gdpr", r"tracking", r"personal data",
    r"einwillig", r"zustimm", r"datenschutz", r"dsgvo", r"daten",
    r"consentement", r"confidentialit", r"rgpd", r"donn[ée]es",
    r"consentimiento", r"privacidad", r"datos", r"consenso", r"riservatezza", r"dati",
    r"toestemming", r"gegevens", r"traceren",
    r"cmp", r"onetrust", r"cybot", r"didomi", r"usercentrics", r"cmplz", r"klaro",
    r"orejime", r"tarteaucitron",
)
ACTIONS: Final = {"reject": REJECT, "save": SAVE, "settings": SETTINGS, "accept": ACCEPT,
                  "dismiss": DISMISS}
# An acceptance that says "all" is preferred to one that does not.
ALL: Final = r"\b(?:all|alle|alles|tout|tous|todo|todas|tutt[oi]|todos)\b"


def alternation(words: tuple[str, ...]) -> str:
    return "(?:" + "|".join(words) + ")"


class Words(TypedDict):
    actions: list[tuple[str, str]]  # (action, expression), in the order they are tried
    context: str
    all: str


def patterns() -> Words:
    """What probe.js's findControls takes: a JavaScript regular expression (its source,
    matched case-insensitively) per action, in the order they are tried, and one for the
    surroundings."""
    return {"actions": [(action, alternation(words)) for action, words in ACTIONS.items()],
            "context": alternation(CONTEXT), "all": ALL}


def classify(name: str) -> str:
    """The action a control's accessible name says, as findControls decides it ("" for
    none): the same expressions, for the unit tests and for names read elsewhere."""
    text = " ".join(name.split()).lower()
    for action, words in ACTIONS.items():
        if re.search(alternation(words), text, re.I):
            return action
    return ""


WORDS: Final[Words] = patterns()
