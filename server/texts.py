"""Built-in banner texts in English, German, French and Spanish.

Sites override any of them in their config; these fill the gaps.
"""

from __future__ import annotations

BUTTONS = {
    "en": {"accept": "Accept all", "reject": "Reject all", "prefs": "Preferences",
           "save": "Save choices", "necessary": "Necessary", "allow": "Allow",
           "gpc": "Your browser sends a Global Privacy Control signal, so {cats} "
                  "stays off. Accept all does not change that; only the switch below does."},
    "de": {"accept": "Alle akzeptieren", "reject": "Alle ablehnen", "prefs": "Einstellungen",
           "save": "Auswahl speichern", "necessary": "Notwendig", "allow": "Erlauben",
           "gpc": "Ihr Browser sendet ein Global-Privacy-Control-Signal, daher bleibt "
                  "{cats} aus. „Alle akzeptieren“ ändert das nicht, nur der Schalter unten."},
    "fr": {"accept": "Tout accepter", "reject": "Tout refuser", "prefs": "Préférences",
           "save": "Enregistrer", "necessary": "Nécessaires", "allow": "Autoriser",
           "gpc": "Votre navigateur envoie un signal Global Privacy Control : {cats} reste "
                  "désactivé. « Tout accepter » n'y change rien, seul l'interrupteur ci-dessous."},
    "es": {"accept": "Aceptar todo", "reject": "Rechazar todo", "prefs": "Preferencias",
           "save": "Guardar", "necessary": "Necesarias", "allow": "Permitir",
           "gpc": "Su navegador envía una señal Global Privacy Control, así que {cats} "
                  "sigue desactivado. «Aceptar todo» no lo cambia; solo el interruptor de abajo."},
}

BANNER = {
    "en": {"title": "Your privacy choices",
           "body": "We count visits and campaign results in aggregate, without identifying "
                   "you. Choose what you allow; you can change it at any time."},
    "de": {"title": "Ihre Datenschutz-Auswahl",
           "body": "Wir zählen Besuche und Kampagnenergebnisse nur in Summen, ohne Sie zu "
                   "identifizieren. Wählen Sie, was Sie erlauben; Sie können es jederzeit ändern."},
    "fr": {"title": "Vos choix de confidentialité",
           "body": "Nous comptons les visites et les résultats des campagnes de façon agrégée, "
                   "sans vous identifier. Choisissez ce que vous autorisez ; modifiable à tout moment."},
    "es": {"title": "Sus opciones de privacidad",
           "body": "Contamos visitas y resultados de campañas de forma agregada, sin "
                   "identificarle. Elija lo que permite; puede cambiarlo en cualquier momento."},
}

CATEGORIES = {
    "analytics": {
        "label": {"en": "Analytics", "de": "Statistik", "fr": "Mesure d'audience",
                  "es": "Analítica"},
        "description": {
            "en": "Counts page views in aggregate to see what is read.",
            "de": "Zählt Seitenaufrufe in Summen, um zu sehen, was gelesen wird.",
            "fr": "Compte les pages vues de façon agrégée pour voir ce qui est lu.",
            "es": "Cuenta visitas de página de forma agregada para ver qué se lee.",
        },
        "consent_mode": ["analytics_storage"],
    },
    "ads": {
        "label": {"en": "Advertising", "de": "Werbung", "fr": "Publicité", "es": "Publicidad"},
        "description": {
            "en": "Measures which campaigns lead to purchases and sign-ups.",
            "de": "Misst, welche Kampagnen zu Käufen und Anmeldungen führen.",
            "fr": "Mesure quelles campagnes mènent à des achats et des inscriptions.",
            "es": "Mide qué campañas llevan a compras y registros.",
        },
        "consent_mode": ["ad_storage", "ad_user_data", "ad_personalization"],
    },
}

RTL_LANGUAGES = frozenset({"ar", "he", "fa", "ur", "ps", "yi", "dv"})
