"""The worker consumer: `manage.py runworker crowdswap-jobs` hands each nudge to the engine."""

from typing import Any

from asgiref.sync import async_to_sync
from channels.consumer import SyncConsumer
from channels.layers import get_channel_layer

from crowdswap.jobs import engine


class JobWorkerConsumer(SyncConsumer):
    """Run background jobs named in messages on the jobs channel."""

    # The worker hands this consumer its messages itself. A channel of its own (Channels' default) would be
    # one more Redis read that dies with Redis and takes the consumer, and the message it holds, with it.
    channel_layer_alias = None  # type: ignore[assignment]

    def job_run(self, message: dict[str, Any]) -> None:
        engine.run_job(int(message["job_id"]), worker_id=engine.worker_identity())

    def health_ping(self, message: dict[str, Any]) -> None:
        # Proves a message reached a worker process: answer on the channel the sender named.
        reply_to = message.get("reply_channel")
        if reply_to:
            async_to_sync(get_channel_layer().send)(
                reply_to,
                {"type": "health.pong", "token": message.get("token"), "worker": engine.worker_identity()},
            )
