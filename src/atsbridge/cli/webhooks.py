"""``atsbridge webhook``: where an environment's events go, and the secret they are signed with."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from atsbridge.cli.common import environment_name, err, existing_environment, fail, show_before_commit, store
from atsbridge.config import get_settings
from atsbridge.store.integrations import (
    check_key_opens_store,
    ensure_environment,
)
from atsbridge.webhooks.endpoint import InvalidWebhookUrl, WebhookEndpoint, set_webhook, webhook_of

webhook_app = typer.Typer(help="Configure where events are sent.", no_args_is_help=True)


def _shown(environment: str, endpoint: WebhookEndpoint | None, json_output: bool) -> str | None:
    """What stdout shows of the environment's webhook: ``{environment, url, secret}`` with ``--json`` (``null``s
    without a webhook), else the secret alone (nothing without a webhook)."""
    if json_output:
        url, secret = (endpoint.url, endpoint.secret) if endpoint else (None, None)
        return json.dumps({"environment": environment, "url": url, "secret": secret})
    return None if endpoint is None else endpoint.secret


def _tell(environment: str, endpoint: WebhookEndpoint | None, json_output: bool) -> None:
    """What stderr says of it, without ``--json``."""
    if json_output:
        return
    if endpoint is None:
        err.print(f"no webhook URL is set for environment {environment!r}")
    else:
        err.print(f"events of environment {environment!r} go to {endpoint.url}, signed with the secret above")


@webhook_app.command("set")
def webhook_set(
    url: Annotated[str, typer.Option(help="where events are POSTed (http:// or https://)")],
    environment: Annotated[str, typer.Option(help="the environment (created if new)")] = "default",
    rotate_secret: Annotated[bool, typer.Option("--rotate-secret", help="replace the signing secret")] = False,
    json_output: Annotated[bool, typer.Option("--json", help="print {environment, url, secret} as JSON")] = False,
) -> None:
    """Send the environment's events to URL; prints the signing secret (made on first use, kept unless rotated)."""
    environment = environment_name(environment, json_output)
    settings = get_settings()
    try:
        with store(settings).begin() as conn:
            check_key_opens_store(conn, settings.encryption_key)  # else only this key could read the secret
            environment_id = ensure_environment(conn, environment)
            secret = set_webhook(conn, settings.encryption_key, environment_id, url, rotate_secret=rotate_secret)
            endpoint = WebhookEndpoint(url, secret)
            # a secret (a rotated one above all) nobody was shown is not made
            show_before_commit(_shown(environment, endpoint, json_output) or secret, "the signing secret")
    except InvalidWebhookUrl as error:
        fail(str(error), json_output, "INPUT_INVALID")
    _tell(environment, endpoint, json_output)


@webhook_app.command("show")
def webhook_show(
    environment: Annotated[str, typer.Option(help="the environment")] = "default",
    json_output: Annotated[bool, typer.Option("--json", help="print {environment, url, secret} as JSON")] = False,
) -> None:
    """Show where the environment's events go and the secret they are signed with."""
    environment = environment_name(environment, json_output)
    settings = get_settings()
    with store(settings).connect() as conn:
        environment_id = existing_environment(conn, environment, json_output)
        endpoint = webhook_of(conn, settings.encryption_key, environment_id)
    shown = _shown(environment, endpoint, json_output)
    if shown is not None:
        print(shown)
    _tell(environment, endpoint, json_output)
