"""The background-job engine: the row is the job, the channel message only nudges a worker.

Generic: it knows nothing of photos or swaps. Apps register their kinds of job (handler, what to do
after a final failure and on a retry) from their AppConfig.ready(); the engine claims, runs, heartbeats,
sweeps and records, and pushes progress to the Channels group the job names.
"""
