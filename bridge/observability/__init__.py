"""Operations: Prometheus metrics (``metrics``, served by ``endpoint``, across processes by ``multiproc``) and the
request id that ties a request's log lines to the jobs it enqueued (``request_id``; the log formats are
``bridge.logs``'s)."""
