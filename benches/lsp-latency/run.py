#!/usr/bin/env python3
"""Keystroke latency of `omnic lsp`: open a generated LINES-line program
(gen.py, default 5,000 lines), then send EDITS `didChange`s (full text, one
character changed in the middle of the file each time) and time each from
the send to the `publishDiagnostics` of that version. Prints the median,
90th percentile and worst time in milliseconds.

    python3 benches/lsp-latency/run.py [--omnic target/release/omnic] [--lines 5000] [--edits 30] [--typing]
"""
import argparse, json, os, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen  # noqa: E402


class Client:
    def __init__(self, omnic):
        self.p = subprocess.Popen([omnic, "lsp"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
        self.next_id = 1

    def send(self, msg):
        body = json.dumps(msg).encode()
        self.p.stdin.write(b"Content-Length: %d\r\n\r\n" % len(body) + body)
        self.p.stdin.flush()

    def recv(self):
        length = None
        while True:
            line = self.p.stdout.readline()
            if not line:
                raise EOFError("server closed its output")
            line = line.strip()
            if not line:
                break
            if line.lower().startswith(b"content-length:"):
                length = int(line.split(b":")[1])
        return json.loads(self.p.stdout.read(length))

    def request(self, method, params):
        rid = self.next_id
        self.next_id += 1
        self.send({"jsonrpc": "2.0", "id": rid, "method": method, "params": params})
        while True:
            msg = self.recv()
            if msg.get("id") == rid:
                return msg

    def notify(self, method, params):
        self.send({"jsonrpc": "2.0", "method": method, "params": params})

    def diagnostics_of(self, version):
        while True:
            msg = self.recv()
            if msg.get("method") == "textDocument/publishDiagnostics" and msg["params"].get("version") == version:
                return msg["params"]["diagnostics"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--omnic", default="target/release/omnic")
    ap.add_argument("--lines", type=int, default=5000)
    ap.add_argument("--edits", type=int, default=30)
    ap.add_argument("--typing", action="store_true",
                    help="each edit leaves an unclosed `(str` in the middle of the file "
                         "(a syntax error, as while typing) instead of changing a string")
    args = ap.parse_args()
    text = gen.program(args.lines)
    uri = "file:///tmp/lsp-latency.omni"
    c = Client(args.omnic)
    c.request("initialize", {"processId": None, "rootUri": None, "capabilities": {}})
    c.notify("initialized", {})
    t0 = time.perf_counter()
    c.notify("textDocument/didOpen", {"textDocument": {"uri": uri, "languageId": "omnilisp", "version": 0, "text": text}})
    diags = c.diagnostics_of(0)
    open_ms = (time.perf_counter() - t0) * 1000
    if diags:
        sys.exit(f"the generated program has errors: {diags[:2]}")
    # Each edit renames a string's content in the middle of the file: the
    # program stays valid, so every stage (CTRR included) runs each time.
    middle = text.index('"-', len(text) // 2) + 2
    line_start = text.index("\n(define", len(text) // 2) + 1
    times = []
    for v in range(1, args.edits + 1):
        if args.typing:
            edited = text[:line_start] + "(str" + "x" * (v % 3) + "\n" + text[line_start:]
        else:
            edited = text[:middle] + chr(ord("a") + v % 26) + text[middle + 1:]
        t0 = time.perf_counter()
        c.notify("textDocument/didChange", {"textDocument": {"uri": uri, "version": v}, "contentChanges": [{"text": edited}]})
        diags = c.diagnostics_of(v)
        if args.typing != bool(diags):
            sys.exit(f"edit {v}: unexpected diagnostics {diags[:2]}")
        times.append((time.perf_counter() - t0) * 1000)
    c.request("shutdown", None)
    c.notify("exit", None)
    c.p.wait(timeout=10)
    times.sort()
    p90 = times[min(len(times) - 1, int(len(times) * 0.9))]
    what = "typing `(str` (a syntax error)" if args.typing else "valid edits"
    print(f"{args.lines} lines, {what}: open {open_ms:.1f} ms; keystroke (didChange -> diagnostics) "
          f"median {statistics.median(times):.1f} ms, p90 {p90:.1f} ms, max {times[-1]:.1f} ms "
          f"over {len(times)} edits")


if __name__ == "__main__":
    main()
