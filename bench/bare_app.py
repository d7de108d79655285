"""The baseline for bench/ingest.py: a bare Flask endpoint served by the same gunicorn set-up."""

from __future__ import annotations

from flask import Flask, jsonify

app = Flask(__name__)


@app.post("/bare")
def bare():  # type: ignore[no-untyped-def]
    return jsonify(ok=True)
