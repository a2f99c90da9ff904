"""Run a Channels worker that prepares what the apps registered once, sweeps stale jobs and takes one job at a time."""

import asyncio
import logging
import os
from typing import Any

from asgiref.compatibility import guarantee_single_callable
from channels.management.commands.runworker import Command as ChannelsRunworkerCommand
from channels.worker import Worker

from crowdswap.jobs import engine, kinds

logger = logging.getLogger("django.channels.worker")


class OneAtATimeWorker(Worker):
    """Pull a message off the channel layer only when the consumer is ready for it.

    Channels' own worker reads messages as fast as they arrive and queues them in memory,
    so one busy worker would hoard the nudges an idle worker could run, and lose them all if
    it is killed. Reading on demand leaves waiting nudges in Redis for whichever worker is free.
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
            message = await self.channel_layer.receive(channel)
            if not message.get("type"):
                logger.warning("dropping a message without a type on %s", channel)
                ready.set()
                continue
            inbox.put_nowait(message)
        if not instance.cancelled() and instance.exception() is not None:
            logger.error("consumer on %s crashed; starting a new one", channel, exc_info=instance.exception())


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
