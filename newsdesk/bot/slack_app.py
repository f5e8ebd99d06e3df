"""The Slack adapter: `/news` through Bolt, in Socket Mode or over HTTP. It only translates.

A slash command is acknowledged at once (Slack gives up after 3 seconds) and answered through
its `response_url` when the work is done, so a search or a feed fetch may take its time.
Admins are workspace admins and owners (from `users.info`) or user IDs listed in
`[slack].admin_users`; the check runs only for admin commands.
"""

from __future__ import annotations

import logging
from typing import Any

from slack_bolt.async_app import AsyncApp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from newsdesk.bot.commands import Caller, Reply, UsageError, execute, parse_command
from newsdesk.bot.commands import usage_error_reply as usage_reply
from newsdesk.bot.formatting import SlackFormat, split_message
from newsdesk.config import SlackSettings
from newsdesk.digest.render_slack import render_slack
from newsdesk.runtime import Runtime

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
# "You can use a response_url up to five times within 30 minutes" (Slack's slash-command docs).
RESPONSE_URL_USES = 5


def build_slack_app(
    runtime: Runtime,
    settings: SlackSettings,
    *,
    token: str,
    signing_secret: str = "",
    base_url: str | None = None,
) -> AsyncApp:
    """A Bolt app serving `settings.command`; `base_url` points it at another Web API (tests)."""
    # Bolt builds its own client from the token; one is passed only to point it elsewhere.
    client = AsyncWebClient(token=token, base_url=base_url) if base_url else None
    app = AsyncApp(
        client=client,
        token=None if client else token,
        signing_secret=signing_secret,
        # Socket Mode requests are not signed; HTTP ones are always checked.
        request_verification_enabled=bool(signing_secret),
        raise_error_for_unhandled_request=False,
    )
    fmt = SlackFormat()

    @app.command(settings.command)
    async def news(ack: Any, body: dict[str, Any], respond: Any, client: AsyncWebClient) -> None:
        await ack()
        user = body.get("user_id", "")

        async def is_admin() -> bool:
            return await slack_is_admin(client, user, settings.admin_users)

        caller = Caller("slack", body.get("channel_id", ""), user, is_admin)
        try:
            command = parse_command(body.get("text", ""))
        except UsageError as exc:
            await send_reply(respond, usage_reply(exc, fmt))
            return
        try:
            reply = await execute(runtime, caller, command, fmt)
        except Exception:
            log.exception("/news %s failed", command.name)
            reply = Reply("⚠️ Something went wrong; the details are in newsdesk's log.")
        await send_reply(respond, reply)

    return app


async def slack_is_admin(client: AsyncWebClient, user: str, admin_users: list[str]) -> bool:
    """Configured admins, or workspace admins and owners; False when Slack cannot tell us."""
    if user in admin_users:
        return True
    try:
        response = await client.users_info(user=user)
    except SlackApiError as exc:
        log.warning("users.info for %s failed: %s", user, exc.response.get("error"))
        return False
    profile = response.get("user") or {}
    return bool(
        profile.get("is_admin") or profile.get("is_owner") or profile.get("is_primary_owner")
    )


async def send_reply(respond: Any, reply: Reply) -> None:
    """Answer through the response URL: ephemeral unless the reply is news for the channel.

    Slack accepts at most RESPONSE_URL_USES posts per response URL, so a long preview is cut
    short with a note rather than losing its last part silently.
    """
    response_type = "ephemeral" if reply.ephemeral else "in_channel"
    messages: list[dict[str, Any]] = [{"text": part} for part in split_message(reply.text, 3900)]
    if reply.digest is not None:
        messages += render_slack(reply.digest)
    if len(messages) > RESPONSE_URL_USES:
        left = len(messages) - RESPONSE_URL_USES + 1
        messages = messages[: RESPONSE_URL_USES - 1]
        messages.append(
            {
                "text": f"…and {left} more message(s): the full digest is in"
                " `newsdesk digest --preview` on the server."
            }
        )
    for message in messages:
        await respond(**message, response_type=response_type, replace_original=False)
