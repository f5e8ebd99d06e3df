"""How fast /news answers on Slack: newsdesk's Bolt app against a bare Bolt app that only acks.

Slack gives a slash command 3 seconds to be acknowledged. newsdesk acks first and works after,
so its ack should cost what Bolt's own does; the work (a search of the archive, a digest
preview) then reaches the response URL. Both apps run in HTTP mode on 127.0.0.1 against the
Slack test server, with real request signatures, over the demo archive (the bundled samples).

    python benchmarks/slash_latency.py [--requests N]

Prints the median and 90th percentile, in milliseconds, of: the HTTP ack of the bare app and of
newsdesk, and newsdesk's full answer (ack to the response URL) for search, tags and a digest
preview.
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import httpx
from aiohttp import web
from slack_bolt.async_app import AsyncApp
from slack_sdk.web.async_client import AsyncWebClient

from newsdesk.bot.slack_app import EVENTS_PATH, build_slack_app
from newsdesk.config import SlackSettings
from newsdesk.demo import run_demo, sample_week
from tests.bot_helpers import Clock, bot_settings, make_runtime
from tests.servers.slack_server import SlackServer, signed_headers, slash_command_body

SECRET = "0123456789abcdef0123456789abcdef"
COMMANDS = ("search deepseek", "tags", "digest preview")


async def serve(app: AsyncApp) -> tuple[web.AppRunner, str]:
    runner = web.AppRunner(app.web_app(path=EVENTS_PATH))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"http://{host}:{port}{EVENTS_PATH}"


async def timed(
    client: httpx.AsyncClient, url: str, server: SlackServer, text: str, key: str, wait: bool
) -> tuple[float, float | None]:
    """(ms to the HTTP ack, ms to the first post on the response URL or None)."""
    body = slash_command_body(
        text=text, user_id="U0ADMIN", channel_id="C0AINEWS", response_url=server.response_url(key)
    )
    started = time.perf_counter()
    response = await client.post(url, content=body, headers=signed_headers(SECRET, body))
    acked = time.perf_counter()
    assert response.status_code == 200, response.text
    if not wait:
        return (acked - started) * 1000, None
    deadline = started + 10
    while not server.responses(key):
        if time.perf_counter() > deadline:
            raise RuntimeError(f"no answer to /news {text} (Slack calls: {server.calls[-3:]})")
        await asyncio.sleep(0.0005)
    return (acked - started) * 1000, (time.perf_counter() - started) * 1000


def summary(label: str, values: list[float]) -> str:
    values = sorted(values)
    p90 = values[int(len(values) * 0.9) - 1]
    return f"{label:<38} median {statistics.median(values):7.2f} ms   p90 {p90:7.2f} ms"


async def main(requests: int, directory: str) -> None:
    with SlackServer() as server:
        db = Path(directory) / "newsdesk.sqlite"
        settings = bot_settings(
            Path(directory),
            store={"path": str(db)},
            subscriptions=[{"name": "team", "platform": "slack", "channel": "C0AINEWS"}],
        )
        bare = AsyncApp(
            client=AsyncWebClient(token=server.token, base_url=server.base_url),
            signing_secret=SECRET,
        )

        @bare.command("/news")
        async def ack_only(ack):
            await ack()

        _, week_end = sample_week()
        async with make_runtime(settings, clock=Clock(week_end)) as runtime:
            app = build_slack_app(
                runtime,
                SlackSettings(),
                token=server.token,
                signing_secret=SECRET,
                base_url=server.base_url,
            )
            bare_runner, bare_url = await serve(bare)
            runner, url = await serve(app)
            try:
                async with httpx.AsyncClient() as client:
                    for warm in range(3):  # Bolt's first request calls auth.test
                        await timed(client, bare_url, server, "help", f"w{warm}", False)
                        await timed(client, url, server, "help", f"v{warm}", True)
                    results: dict[str, list[float]] = {}
                    for n in range(requests):
                        ack, _ = await timed(client, bare_url, server, "help", f"b{n}", False)
                        results.setdefault("ack: bare Bolt app", []).append(ack)
                        for number, text in enumerate(
                            ("search deepseek", "tags", "digest preview")
                        ):
                            key = f"c{number}-{n}"
                            ack, answer = await timed(client, url, server, text, key, True)
                            results.setdefault("ack: newsdesk", []).append(ack)
                            results.setdefault(f"answer: /news {text}", []).append(answer or 0)
            finally:
                await runner.cleanup()
                await bare_runner.cleanup()
    print(f"{requests} requests each, HTTP mode on 127.0.0.1, demo archive")
    for label, values in results.items():
        print(summary(label, values))
    bare_median = statistics.median(results["ack: bare Bolt app"])
    ours = statistics.median(results["ack: newsdesk"])
    print(f"newsdesk ack / bare ack: {ours / bare_median:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=50)
    with tempfile.TemporaryDirectory() as workdir:
        run_demo(Path(workdir) / "newsdesk.sqlite")  # runs its own event loop
        asyncio.run(main(parser.parse_args().requests, workdir))
