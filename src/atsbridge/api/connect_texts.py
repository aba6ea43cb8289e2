"""The hosted connect page's own words (everything but the connector's guide), in English and German."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from atsbridge.connectors.recru.guide import Language
from atsbridge.unified.ids import ModelName


@dataclass(frozen=True)
class Notice:
    """A page without a form: a heading and paragraphs."""

    title: str
    body: tuple[str, ...]


@dataclass(frozen=True)
class Texts:
    site: str
    other_language: str
    """The label of the link that switches to the other language, written in that language."""
    errors_title: str
    required: str
    expired: Notice
    used: Notice
    locked: Notice
    unknown: Notice
    form_rejected: Notice
    busy: Notice
    gone: Notice
    relink_intro: str
    relinked_title: str
    relinked_body: tuple[str, ...]
    reload: str
    status_title: str
    status_intro: str
    status_refresh: str
    states: Mapping[str, str]
    records_title: str
    records_done_title: str
    models: Mapping[ModelName, str]
    failed: str
    done_title: str
    done_body: tuple[str, ...]


ENGLISH = Texts(
    site="atsbridge connection",
    other_language="Deutsch",
    errors_title="Please correct the following",
    required="required",
    expired=Notice(
        "This link has expired",
        (
            "Connection links are valid for a limited time. Ask the person or application that sent you this link "
            "for a new one.",
        ),
    ),
    used=Notice(
        "This link has already been used",
        (
            "An integration was connected with this link and has since been removed; each link can be used "
            "once. To connect again, ask for a new link.",
        ),
    ),
    locked=Notice(
        "This link is locked after too many failed attempts",
        (
            "Connecting with this link failed too many times, so it no longer accepts attempts. Nothing was saved.",
            "Check the tenant, the API user's login and password with your RECRU administrator, then ask the person "
            "or application that sent you this link for a new one.",
        ),
    ),
    unknown=Notice(
        "This link is not valid",
        ("Check that you opened the complete link, or ask the person or application that sent it for a new one.",),
    ),
    form_rejected=Notice(
        "The form could not be accepted",
        (
            "For your security, a form is only accepted when it is sent from this page, and only for a limited "
            "time. Nothing was saved.",
        ),
    ),
    busy=Notice(
        "Another attempt is being checked",
        (
            "Credentials sent with this link are being checked with RECRU right now; one attempt is checked at a "
            "time. Nothing was saved from this one. Wait a moment, then open the connection page again.",
        ),
    ),
    gone=Notice(
        "The integration of this link was removed",
        (
            "This link was made to reconnect an integration that has since been removed. Nothing was saved. To "
            "connect RECRU again, ask the person or application that sent you this link for a new one.",
        ),
    ),
    relink_intro=(
        "This link reconnects an existing RECRU integration: enter the API user's current login and password. The "
        "tenant stays the same, and the data and settings already synced are kept."
    ),
    relinked_title="RECRU is reconnected",
    relinked_body=("The new credentials are saved and used from now on. You can close this page.",),
    reload="Open the connection page again",
    status_title="Connecting RECRU",
    status_intro=(
        "Your credentials were accepted and the connection is saved. Your data is now being copied from RECRU "
        "(the first sync). You can close this page at any time: the sync continues."
    ),
    status_refresh="This page updates itself.",
    states={
        "QUEUED": "Waiting to start",
        "RUNNING": "Copying data",
        "SUCCEEDED": "Finished",
        "FAILED": "Failed",
        "CANCELLED": "Cancelled",
    },
    records_title="Records copied so far",
    records_done_title="Records copied",
    models={
        ModelName.JOBS: "Jobs",
        ModelName.CANDIDATES: "Candidates",
        ModelName.APPLICATIONS: "Applications",
        ModelName.USERS: "Users",
        ModelName.APPLICATION_STAGES: "Stages",
        ModelName.TAGS: "Tags",
    },
    failed=(
        "The first sync did not finish. The connection is saved and the sync will be tried again automatically "
        "within the hour; nothing needs to be entered again, and this page shows the new attempt."
    ),
    done_title="RECRU is connected",
    done_body=("The first sync has finished and the integration is ready. You can close this page.",),
)

GERMAN = Texts(
    site="atsbridge-Verbindung",
    other_language="English",
    errors_title="Bitte korrigieren Sie Folgendes",
    required="Pflichtfeld",
    expired=Notice(
        "Dieser Link ist abgelaufen",
        (
            "Verbindungslinks sind nur begrenzte Zeit gültig. Bitten Sie die Person oder Anwendung, die Ihnen den "
            "Link geschickt hat, um einen neuen.",
        ),
    ),
    used=Notice(
        "Dieser Link wurde bereits verwendet",
        (
            "Mit diesem Link wurde eine Integration verbunden, die inzwischen entfernt wurde; jeder Link kann "
            "einmal verwendet werden. Um erneut zu verbinden, bitten Sie um einen neuen Link.",
        ),
    ),
    locked=Notice(
        "Dieser Link ist nach zu vielen Fehlversuchen gesperrt",
        (
            "Das Verbinden mit diesem Link ist zu oft fehlgeschlagen, daher nimmt er keine weiteren Versuche an. Es "
            "wurde nichts gespeichert.",
            "Prüfen Sie den Tenant, den Login und das Passwort des API-Benutzers mit Ihrer RECRU-Administration und "
            "bitten Sie dann die Person oder Anwendung, die Ihnen den Link geschickt hat, um einen neuen.",
        ),
    ),
    unknown=Notice(
        "Dieser Link ist ungültig",
        (
            "Prüfen Sie, ob Sie den vollständigen Link geöffnet haben, oder bitten Sie die Person oder Anwendung, "
            "die ihn geschickt hat, um einen neuen.",
        ),
    ),
    form_rejected=Notice(
        "Das Formular konnte nicht angenommen werden",
        (
            "Zu Ihrer Sicherheit wird ein Formular nur angenommen, wenn es von dieser Seite und innerhalb einer "
            "begrenzten Zeit gesendet wird. Es wurde nichts gespeichert.",
        ),
    ),
    busy=Notice(
        "Ein anderer Versuch wird gerade geprüft",
        (
            "Mit diesem Link gesendete Zugangsdaten werden gerade bei RECRU geprüft; es wird jeweils ein Versuch "
            "geprüft. Von diesem wurde nichts gespeichert. Warten Sie einen Moment und öffnen Sie die "
            "Verbindungsseite dann erneut.",
        ),
    ),
    gone=Notice(
        "Die Integration dieses Links wurde entfernt",
        (
            "Dieser Link sollte eine Integration neu verbinden, die inzwischen entfernt wurde. Es wurde nichts "
            "gespeichert. Um RECRU erneut zu verbinden, bitten Sie die Person oder Anwendung, die Ihnen den Link "
            "geschickt hat, um einen neuen.",
        ),
    ),
    relink_intro=(
        "Dieser Link verbindet eine bestehende RECRU-Integration neu: Geben Sie den aktuellen Login und das "
        "Passwort des API-Benutzers ein. Der Tenant bleibt derselbe, die bereits synchronisierten Daten und "
        "Einstellungen bleiben erhalten."
    ),
    relinked_title="RECRU ist neu verbunden",
    relinked_body=(
        "Die neuen Zugangsdaten sind gespeichert und werden ab jetzt verwendet. Sie können diese Seite schließen.",
    ),
    reload="Verbindungsseite erneut öffnen",
    status_title="RECRU wird verbunden",
    status_intro=(
        "Ihre Zugangsdaten wurden akzeptiert und die Verbindung ist gespeichert. Ihre Daten werden jetzt aus RECRU "
        "kopiert (erste Synchronisierung). Sie können diese Seite jederzeit schließen: Die Synchronisierung läuft "
        "weiter."
    ),
    status_refresh="Diese Seite aktualisiert sich selbst.",
    states={
        "QUEUED": "Wartet auf den Start",
        "RUNNING": "Daten werden kopiert",
        "SUCCEEDED": "Abgeschlossen",
        "FAILED": "Fehlgeschlagen",
        "CANCELLED": "Abgebrochen",
    },
    records_title="Bisher kopierte Datensätze",
    records_done_title="Kopierte Datensätze",
    models={
        ModelName.JOBS: "Stellen",
        ModelName.CANDIDATES: "Kandidaten",
        ModelName.APPLICATIONS: "Bewerbungen",
        ModelName.USERS: "Benutzer",
        ModelName.APPLICATION_STAGES: "Phasen",
        ModelName.TAGS: "Tags",
    },
    failed=(
        "Die erste Synchronisierung wurde nicht abgeschlossen. Die Verbindung ist gespeichert und die "
        "Synchronisierung wird innerhalb einer Stunde automatisch erneut versucht; Sie müssen nichts erneut "
        "eingeben, und diese Seite zeigt den neuen Versuch."
    ),
    done_title="RECRU ist verbunden",
    done_body=(
        "Die erste Synchronisierung ist abgeschlossen und die Integration ist bereit. Sie können diese Seite "
        "schließen.",
    ),
)

TEXTS: Mapping[Language, Texts] = {"en": ENGLISH, "de": GERMAN}
