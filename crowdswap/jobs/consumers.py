"""The worker consumer: `manage.py runworker crowdswap-jobs` hands each nudge to the engine."""

from typing import Any

from asgiref.sync import async_to_sync
from channels.consumer import SyncConsumer

from crowdswap.jobs import engine


class JobWorkerConsumer(SyncConsumer):
    """Run background jobs named in messages on the jobs channel."""

    def job_run(self, message: dict[str, Any]) -> None:
        engine.run_job(int(message["job_id"]), worker_id=engine.worker_identity())

    def health_ping(self, message: dict[str, Any]) -> None:
        # Proves a message reached a worker process: answer on the channel the sender named.
        reply_to = message.get("reply_channel")
        if reply_to:
            async_to_sync(self.channel_layer.send)(
                reply_to,
                {"type": "health.pong", "token": message.get("token"), "worker": engine.worker_identity()},
            )
