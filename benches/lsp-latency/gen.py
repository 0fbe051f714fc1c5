#!/usr/bin/env python3
"""Write a LINES-line OmniLisp program (default 5,000) to stdout: structs,
functions with docstrings and annotations, closures, lists and strings, so
that every stage of the front end (reader, expander, CTRR) has work."""
import sys

def program(lines):
    out = []
    i = 0
    while True:
        block = [
            f"(define {{struct P{i}}} [x {{Int}}] [y {{Int}}])",
            f"(define area{i} [p {{P{i}}}] {{Int}}",
            f'  "The area of the rectangle P{i}."',
            f"  (* p.x p.y))",
            f"(define build{i} [n]",
            f"  (let [xs (list n (+ n 1) (+ n 2))]",
            f"    (let [f (fn [k] (cons k xs))]",
            f"      (f (area{i} (P{i} n {i}))))))",
            f"(define label{i} [s]",
            f'  (string-append s "-{i}"))',
            "",
        ]
        if len(out) + len(block) >= lines:
            break
        out += block
        i += 1
    while len(out) < lines - 1:
        out.append(f"; filler {len(out)}")
    out.append(f"(println (length (build0 {i - 1})) (label0 \"x\"))")
    return "\n".join(out) + "\n"

if __name__ == "__main__":
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    sys.stdout.write(program(n))
