"""Run a Channels worker that prepares what the apps registered once, sweeps stale jobs and takes one job at a time."""

import asyncio
import logging
import os
import time
from typing import Any

from asgiref.compatibility import guarantee_single_callable
from channels.management.commands.runworker import Command as ChannelsRunworkerCommand
from channels.worker import Worker

from crowdswap.jobs import engine, kinds

logger = logging.getLogger("django.channels.worker")

# Waits between attempts to reach the channel layer after it failed: doubling, up to the cap.
RECEIVE_RETRY_FIRST_SECONDS = 0.5
RECEIVE_RETRY_MAX_SECONDS = 30.0


class ChannelLayerOutage:
    """Say once when the channel layer (Redis) stops answering and once when it is back; pace the retries."""

    def __init__(self, channel: str) -> None:
        self.channel = channel
        self.since = time.monotonic()
        self.delay = RECEIVE_RETRY_FIRST_SECONDS
        self.failures = 0

    async def failed(self, error: BaseException) -> None:
        """Log the failure (the first in full, then briefly) and wait before the next try."""
        self.failures += 1
        if self.failures == 1:
            logger.error(
                "cannot read %s from the channel layer (%s: %s); retrying with backoff, jobs wait in the database",
                self.channel,
                type(error).__name__,
                error,
            )
        else:
            logger.warning(
                "channel layer still unreachable (attempt %s, %s); next try in %.1f s",
                self.failures,
                type(error).__name__,
                self.delay,
            )
        await asyncio.sleep(self.delay)
        self.delay = min(self.delay * 2, RECEIVE_RETRY_MAX_SECONDS)

    def recovered(self) -> None:
        """Say that the channel layer answers again."""
        logger.warning(
            "channel layer is back after %.1f s and %s failed attempts; re-sending queued jobs",
            time.monotonic() - self.since,
            self.failures,
        )


class OneAtATimeWorker(Worker):
    """Pull a message off the channel layer only when the consumer is ready for it.

    Channels' own worker reads messages as fast as they arrive and queues them in memory,
    so one busy worker would hoard the nudges an idle worker could run, and lose them all if
    it is killed. Reading on demand leaves waiting nudges in Redis for whichever worker is free.

    A Redis outage never stops it: reads are retried with backoff, and once Redis answers again the
    jobs whose nudges were lost with it are re-sent from the database (Redis keeps no work).
    """

    async def listener(self, channel: str) -> None:
        while True:
            # A consumer that raised is replaced, so one bad message never stops the worker.
            await self.serve(channel)

    async def serve(self, channel: str) -> None:
        """Feed one consumer instance with messages it asks for, until it exits or raises."""
        ready = asyncio.Event()
        inbox: asyncio.Queue[dict[str, Any]] = asyncio.Queue()

        async def receive() -> dict[str, Any]:
            ready.set()
            return await inbox.get()

        scope = {"type": "channel", "channel": channel}

        async def send(message: dict[str, Any]) -> None:
            await self.application_send(scope, message)

        instance = asyncio.ensure_future(
            guarantee_single_callable(self.application)(scope=scope, receive=receive, send=send)
        )
        while True:
            waiter = asyncio.ensure_future(ready.wait())
            await asyncio.wait({waiter, instance}, return_when=asyncio.FIRST_COMPLETED)
            if instance.done():
                waiter.cancel()
                break
            ready.clear()
            message = await self.receive_riding_out_outages(channel)
            if not message.get("type"):
                logger.warning("dropping a message without a type on %s", channel)
                ready.set()
                continue
            inbox.put_nowait(message)
        if not instance.cancelled() and instance.exception() is not None:
            logger.error("consumer on %s crashed; starting a new one", channel, exc_info=instance.exception())

    async def receive_riding_out_outages(self, channel: str) -> dict[str, Any]:
        """Return the next message on the channel, retrying for as long as the channel layer is down."""
        outage: ChannelLayerOutage | None = None
        while True:
            try:
                if outage is not None:
                    await self.channel_layer_answers()
                    outage.recovered()
                    outage = None
                    # Nudges sent while Redis was away (or lost with it) are gone: the rows still say queued.
                    await asyncio.get_running_loop().run_in_executor(None, engine.resend_queued_now)
                return await self.channel_layer.receive(channel)
            except asyncio.CancelledError:
                raise
            except Exception as error:  # redis-py's ConnectionError, TimeoutError, OSError...
                outage = outage or ChannelLayerOutage(channel)
                await outage.failed(error)

    async def channel_layer_answers(self) -> None:
        """Raise unless every Redis host of the channel layer answers a ping (other layers always answer)."""
        connection = getattr(self.channel_layer, "connection", None)
        for index in range(getattr(self.channel_layer, "ring_size", 0) if connection else 0):
            await connection(index).ping()


class Command(ChannelsRunworkerCommand):
    help = "Run background-job workers: prepare once (e.g. load face models), sweep stale jobs, then consume channels."
    worker_class = OneAtATimeWorker

    def add_arguments(self, parser: Any) -> None:
        super().add_arguments(parser)
        parser.add_argument(
            "--sweep-interval",
            type=float,
            default=float(os.environ.get("JOB_SWEEP_INTERVAL_SECONDS", "60")),
            help="Seconds between sweeps for stuck jobs (0 disables the sweep).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        # What the apps asked every worker to prepare (face models), before the first job, so no job pays for it.
        for prepare in kinds.WARMUPS:
            prepare()
        if options["sweep_interval"] > 0:
            engine.Sweeper(interval=options["sweep_interval"]).start()
        super().handle(*args, **options)
