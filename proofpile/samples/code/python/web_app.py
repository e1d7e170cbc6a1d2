"""A small Flask app: no mathematics. The word numpy in this docstring does not make it math."""
from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/health")
def health():
    return jsonify(status="ok")
