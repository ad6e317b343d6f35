"""A local server of the OpenAI chat-completions protocol for the tests: what a vLLM, Ollama or llama.cpp
server at ``LEARNLAKE_LLM_URL`` answers, with the reply (and status) each test decides."""

import json
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class ChatServer:
    url: str  # ".../v1", as LEARNLAKE_LLM_URL is given
    reply: Callable[[dict], str]  # the request's body -> the assistant's reply
    status: int = 200
    requests: list[dict] = field(default_factory=list)  # {path, auth, body} of each request, in order


@contextmanager
def chat_server(reply: Callable[[dict], str]) -> Iterator[ChatServer]:
    state = ChatServer("", reply)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            state.requests.append({"path": self.path, "auth": self.headers.get("Authorization"), "body": body})
            payload = json.dumps({"id": "x", "object": "chat.completion", "model": body["model"],
                                  "choices": [{"index": 0, "finish_reason": "stop",
                                               "message": {"role": "assistant", "content": state.reply(body)}}]})
            self.send_response(state.status)
            self.send_header("Content-Type", "application/json")
            self.end_headers()
            self.wfile.write(payload.encode())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.url = f"http://127.0.0.1:{server.server_address[1]}/v1"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
