"""Heavy jobs (backtests, optimisations) run outside the request that asked for them.

The request is validated and stored as a ``jobs`` row, then handed to a queue: an
in-process one on the embedded default, Dramatiq over Redis when configured. Either way
the same runner executes it, writes progress to the row, honours cancellation and
stores the result, so the API and CLI never need to know where a job ran.
"""
