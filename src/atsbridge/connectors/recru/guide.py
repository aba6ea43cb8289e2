"""What the hosted connect page says about RECRU, in English and German: the connection guide, its prerequisites,
the steps that create the credentials (a dedicated API user with the API-access right and a role that sees every
project and jobseeker, its password, the tenant subdomain), the form's fields and a message for every reason
credentials are refused. Data only; the templates under ``api/templates`` render it.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal, get_args

from atsbridge.connectors.recru.credentials import CredentialProblem

Language = Literal["en", "de"]
LANGUAGES: tuple[Language, ...] = get_args(Language)
DEFAULT_LANGUAGE: Language = "en"


@dataclass(frozen=True)
class Step:
    title: str
    body: tuple[str, ...]
    """Paragraphs, plain text."""


@dataclass(frozen=True)
class Field:
    """One input of the form: ``name`` is the form key; ``missing`` the message when it is left empty."""

    name: str
    label: str
    hint: str
    missing: str
    input_type: str
    autocomplete: str


@dataclass(frozen=True)
class Guide:
    tool: str
    title: str
    intro: tuple[str, ...]
    prerequisites_title: str
    prerequisites: tuple[str, ...]
    steps_title: str
    steps: tuple[Step, ...]
    form_title: str
    form_intro: str
    fields: tuple[Field, ...]
    submit: str
    problems: Mapping[CredentialProblem, str]
    """Why RECRU refused, by problem; ``{tenant}`` is replaced by the tenant address (or what was typed)."""
    relink_tenant_hint: str
    """The tenant field's hint on a reconnection's page, where it shows the integration's tenant, read-only."""
    relink_tenant_problem: str
    """On a reconnection's page, what replaces a problem of the tenant's (the user cannot change it there)."""


PROBLEM_FIELDS: Mapping[CredentialProblem, str] = {
    CredentialProblem.INVALID_TENANT: "tenant",
    CredentialProblem.UNREACHABLE: "tenant",
    CredentialProblem.NOT_RECRU: "tenant",
    CredentialProblem.UNAVAILABLE: "tenant",
    CredentialProblem.LOGIN_FAILED: "password",
    CredentialProblem.NO_API_ACCESS: "login",
}
"""The form field a problem is shown at (and tied to with ``aria-describedby``)."""

ENGLISH = Guide(
    tool="RECRU",
    title="Connect your RECRU account",
    intro=(
        "This connection lets the application that sent you here read your jobs, candidates and applications "
        "from RECRU and create applications in it.",
        "It takes about five minutes: create a dedicated API user in RECRU, then enter its login below. The "
        "login is checked with RECRU before anything is saved, and the password is stored encrypted.",
    ),
    prerequisites_title="Before you start",
    prerequisites=(
        "A RECRU plan that includes API access. If you are not sure, ask your RECRU account manager.",
        "A RECRU administrator, or someone else who can create users and assign rights and roles.",
    ),
    steps_title="Create the credentials",
    steps=(
        Step(
            "Create a dedicated API user",
            (
                "In RECRU's user administration, create a new user used only by this integration, for example "
                "api@yourcompany.com. A dedicated user keeps the connection working when colleagues leave, and "
                "its changes are easy to recognise.",
            ),
        ),
        Step(
            "Give it the API-access right and a role that sees everything",
            (
                "Turn on the API access right for this user. Give it a role that sees all projects (jobs) and "
                "all jobseekers (candidates): with a narrower role the integration sees only part of your data.",
            ),
        ),
        Step(
            "Set its password",
            (
                "Set a password for the new user (if RECRU sends an invitation e-mail, accept it and choose the "
                "password there). You need it once, in the form below.",
            ),
        ),
        Step(
            "Find your tenant subdomain",
            (
                "Your RECRU address looks like https://acme.recru.eu. The part before .recru.eu is your tenant "
                "subdomain: acme in this example.",
            ),
        ),
    ),
    form_title="Enter the API user's credentials",
    form_intro="All fields are required.",
    fields=(
        Field(
            "tenant",
            "RECRU tenant",
            "Your subdomain (acme), the host (acme.recru.eu) or your RECRU address (https://acme.recru.eu).",
            "Enter your RECRU tenant, for example acme.",
            "text",
            "off",
        ),
        Field(
            "login",
            "Login of the API user",
            "The e-mail address the API user logs in with.",
            "Enter the API user's login (its e-mail address).",
            "email",
            "username",
        ),
        Field(
            "password",
            "Password of the API user",
            "The password you set in step 3.",
            "Enter the API user's password.",
            "password",
            "current-password",
        ),
    ),
    submit="Connect RECRU",
    problems={
        CredentialProblem.INVALID_TENANT: (
            "This is not a RECRU tenant address. Enter your subdomain (acme), acme.recru.eu or https://acme.recru.eu."
        ),
        CredentialProblem.LOGIN_FAILED: (
            "RECRU refused this login or password. Check both (the login is the API user's e-mail address) and "
            "that the user is active, then enter the password again."
        ),
        CredentialProblem.NO_API_ACCESS: (
            "RECRU accepted the login, but this user does not have the API access right. Turn on API access for "
            "the user in RECRU (step 2), then try again."
        ),
        CredentialProblem.UNREACHABLE: (
            "RECRU could not be reached at {tenant}. Check the tenant subdomain (step 4) and try again."
        ),
        CredentialProblem.NOT_RECRU: (
            "{tenant} answered, but it is not a RECRU tenant. Check the tenant subdomain (step 4) and try again."
        ),
        CredentialProblem.UNAVAILABLE: (
            "RECRU at {tenant} is temporarily unavailable (maintenance or too many requests). Please try again in "
            "a few minutes."
        ),
    },
    relink_tenant_hint="The RECRU tenant of this integration: a reconnection keeps it.",
    relink_tenant_problem=(
        "RECRU could not be reached at {tenant}, this integration's tenant, or did not answer as a RECRU tenant. "
        "Please try again later; if it persists, ask whoever sent you this link."
    ),
)

GERMAN = Guide(
    tool="RECRU",
    title="Ihr RECRU-Konto verbinden",
    intro=(
        "Mit dieser Verbindung kann die Anwendung, die Sie hierher geschickt hat, Ihre Stellen, Kandidaten und "
        "Bewerbungen aus RECRU lesen und dort Bewerbungen anlegen.",
        "Das dauert etwa fünf Minuten: Legen Sie in RECRU einen eigenen API-Benutzer an und geben Sie unten "
        "dessen Zugangsdaten ein. Die Zugangsdaten werden bei RECRU geprüft, bevor etwas gespeichert wird; das "
        "Passwort wird verschlüsselt gespeichert.",
    ),
    prerequisites_title="Voraussetzungen",
    prerequisites=(
        "Ein RECRU-Tarif mit API-Zugang. Wenn Sie unsicher sind, fragen Sie Ihre Ansprechperson bei RECRU.",
        "Eine RECRU-Administratorin oder ein Administrator, oder jemand anderes, der Benutzer anlegen und Rechte "
        "und Rollen vergeben kann.",
    ),
    steps_title="Zugangsdaten anlegen",
    steps=(
        Step(
            "Einen eigenen API-Benutzer anlegen",
            (
                "Legen Sie in der Benutzerverwaltung von RECRU einen neuen Benutzer nur für diese Integration an, "
                "zum Beispiel api@ihrefirma.de. Mit einem eigenen Benutzer bleibt die Verbindung bestehen, wenn "
                "Kolleginnen oder Kollegen das Unternehmen verlassen, und seine Änderungen sind leicht zu erkennen.",
            ),
        ),
        Step(
            "Das Recht „API-Zugang“ und eine Rolle mit Zugriff auf alles vergeben",
            (
                "Aktivieren Sie für diesen Benutzer das Recht „API-Zugang“. Geben Sie ihm eine Rolle, die alle "
                "Projekte (Stellen) und alle Jobsuchenden (Kandidaten) sieht: Mit einer engeren Rolle sieht die "
                "Integration nur einen Teil Ihrer Daten.",
            ),
        ),
        Step(
            "Sein Passwort festlegen",
            (
                "Legen Sie ein Passwort für den neuen Benutzer fest (verschickt RECRU eine Einladung, nehmen Sie "
                "sie an und wählen Sie dort das Passwort). Sie brauchen es einmal, im Formular unten.",
            ),
        ),
        Step(
            "Ihre Tenant-Subdomain finden",
            (
                "Ihre RECRU-Adresse sieht aus wie https://acme.recru.eu. Der Teil vor .recru.eu ist Ihre "
                "Tenant-Subdomain, in diesem Beispiel acme.",
            ),
        ),
    ),
    form_title="Zugangsdaten des API-Benutzers eingeben",
    form_intro="Alle Felder sind Pflichtfelder.",
    fields=(
        Field(
            "tenant",
            "RECRU-Tenant",
            "Ihre Subdomain (acme), der Host (acme.recru.eu) oder Ihre RECRU-Adresse (https://acme.recru.eu).",
            "Geben Sie Ihren RECRU-Tenant ein, zum Beispiel acme.",
            "text",
            "off",
        ),
        Field(
            "login",
            "Login des API-Benutzers",
            "Die E-Mail-Adresse, mit der sich der API-Benutzer anmeldet.",
            "Geben Sie den Login des API-Benutzers ein (seine E-Mail-Adresse).",
            "email",
            "username",
        ),
        Field(
            "password",
            "Passwort des API-Benutzers",
            "Das Passwort aus Schritt 3.",
            "Geben Sie das Passwort des API-Benutzers ein.",
            "password",
            "current-password",
        ),
    ),
    submit="RECRU verbinden",
    problems={
        CredentialProblem.INVALID_TENANT: (
            "Das ist keine RECRU-Tenant-Adresse. Geben Sie Ihre Subdomain (acme), acme.recru.eu oder "
            "https://acme.recru.eu ein."
        ),
        CredentialProblem.LOGIN_FAILED: (
            "RECRU hat diesen Login oder dieses Passwort abgelehnt. Prüfen Sie beides (der Login ist die "
            "E-Mail-Adresse des API-Benutzers) und ob der Benutzer aktiv ist, und geben Sie das Passwort erneut ein."
        ),
        CredentialProblem.NO_API_ACCESS: (
            "RECRU hat den Login akzeptiert, aber dieser Benutzer hat das Recht „API-Zugang“ nicht. Aktivieren Sie "
            "den API-Zugang für den Benutzer in RECRU (Schritt 2) und versuchen Sie es erneut."
        ),
        CredentialProblem.UNREACHABLE: (
            "RECRU war unter {tenant} nicht erreichbar. Prüfen Sie die Tenant-Subdomain (Schritt 4) und versuchen "
            "Sie es erneut."
        ),
        CredentialProblem.NOT_RECRU: (
            "{tenant} hat geantwortet, ist aber kein RECRU-Tenant. Prüfen Sie die Tenant-Subdomain (Schritt 4) und "
            "versuchen Sie es erneut."
        ),
        CredentialProblem.UNAVAILABLE: (
            "RECRU ist unter {tenant} vorübergehend nicht verfügbar (Wartung oder zu viele Anfragen). Bitte "
            "versuchen Sie es in einigen Minuten erneut."
        ),
    },
    relink_tenant_hint="Der RECRU-Tenant dieser Integration: Eine erneute Verbindung behält ihn bei.",
    relink_tenant_problem=(
        "RECRU war unter {tenant}, dem Tenant dieser Integration, nicht erreichbar oder hat nicht wie ein "
        "RECRU-Tenant geantwortet. Bitte versuchen Sie es später erneut; besteht das Problem weiter, wenden Sie "
        "sich an die Person, die Ihnen diesen Link geschickt hat."
    ),
)

GUIDES: Mapping[Language, Guide] = {"en": ENGLISH, "de": GERMAN}


def language_of(value: str | None) -> Language | None:
    """``value`` if it is a language the page is written in, else ``None``."""
    for language in LANGUAGES:
        if value == language:
            return language
    return None


def guide(language: Language, *, relink: bool = False) -> Guide:
    """The page's guide; for a reconnection (``relink``) without the step that finds the tenant (the page shows the
    integration's, read-only), the tenant field's hint and problems saying so."""
    full = GUIDES[language]
    if not relink:
        return full
    fields = tuple(replace(f, hint=full.relink_tenant_hint) if f.name == "tenant" else f for f in full.fields)
    problems = {
        problem: full.relink_tenant_problem if PROBLEM_FIELDS[problem] == "tenant" and problem in TENANT_FIXES else text
        for problem, text in full.problems.items()
    }
    steps = full.steps[: TENANT_STEP - 1] + full.steps[TENANT_STEP:]
    return replace(full, steps=steps, fields=fields, problems=problems)


TENANT_STEP = 4
"""The step that finds the tenant (the problems the user fixes with it, ``TENANT_FIXES``, refer to it)."""
TENANT_FIXES = frozenset({CredentialProblem.INVALID_TENANT, CredentialProblem.UNREACHABLE, CredentialProblem.NOT_RECRU})


_STEP_REFERENCE = re.compile(r" \((?:step|Schritt) \d+\)")


def problem_message(
    problem: CredentialProblem,
    tenant: str,
    language: Language = DEFAULT_LANGUAGE,
    *,
    on_page: bool = True,
    relink: bool = False,
) -> str:
    """What to tell about ``problem`` (on a reconnection's page with ``relink``); without ``on_page`` (the CLI),
    without references to the page's steps."""
    message = guide(language, relink=relink).problems[problem].format(tenant=tenant)
    return message if on_page else _STEP_REFERENCE.sub("", message)
