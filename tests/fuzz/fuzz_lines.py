"""Random and malformed magic lines for every ``%bentocloud`` subcommand and ``%deploy``, drawn from a seeded
``random.Random``. Options come from the subcommand's own argparse parser, so a new flag is fuzzed as
soon as it exists; values are mostly odd (NaN, huge, negative, NUL, non-ASCII, quotes, long), some valid."""

from __future__ import annotations

import argparse
import random
import shlex
from pathlib import Path
from typing import Any

NAMES = ["fz-one", "ghost", "summarizer", "summarizer:v3", "summarizer:v1", "iris_classifier:v1", "fail-demo:v1",
         "llm-chat:v1", "iris_clf:v1", "summarizer:latest", "summarizer:", ":v1", "x" * 64, "Bad_Name"]
NASTY = ["a" * 300, "x:" + "v" * 256, "-dash", "../../outside", "~", ".", "名前", "sp ace", "tab\there", "a\x00b",
         "\x00", "%s%n", "{}", "$(id)", "`id`", "'", '"', "\\", "http://[::1", "café:v1", "tökén", "\u202eevil"]
ODD = ["", " ", "nan", "NaN", "inf", "-inf", "-1", "0", "1", "2", "99999", "1e999", "9" * 40, "0x10", "1.5",
       "-0", "+3", "true", "false", "yes", "maybe", "None", "null", "[]", "{}", "=", "==", "a=b", "K", "K=",
       "=v", "K=v=w", "1=2", "é=ü", "k" * 300 + "=v", "--", "-", "-x", "--x", "\x00", "\x7f", "\u202e", "\ud7ff",
       "ü" * 100]
NUMBERS = ["nan", "inf", "-inf", "-1", "0", "0.001", "1", "3", "99999", "1e999", "-1e999", "1e-9", "abc", "",
           "2.5", "0x10", "9" * 30]
JSON = ['{"text": "hi"}', "{", "[]", "null", "1e999", "NaN", '{"a": ' * 500 + "1" + "}" * 500, '"x"',
        '{"bento": "summarizer:v3", "scalling": 1}', '{"services": []}', '{"bento": 5}', "{'single': 1}",
        '{"bento": "summarizer:v3", "envs": "A=1"}', '{"labels": {"k": "v"}}']
TAIL = ["--context", "--context nowhere", "--cluster", "--cluster ghost", "-h", "--help", "--bogus", "-o", "-o xml",
        "--timeout", "'unclosed", '"unclosed', "\\", "--wait", "--no-wait", "extra words here", "$HOME", "#x"]


def files(root: Path) -> list[str]:
    """Paths worth passing as files: missing, a folder, empty, binary, bad YAML, deep YAML, a good config."""
    root.mkdir(parents=True, exist_ok=True)
    made = {"empty.yaml": b"", "binary.bin": bytes(range(256)) * 4, "bad.yaml": b"a: [1, 2\n  b: }",
            "list.yaml": b"- 1\n- 2\n", "deep.yaml": b"a: " + b"[" * 2000 + b"]" * 2000 + b"\n",
            "good.yaml": b"bento: summarizer:v3\nname: fz-file\nservices:\n  Summarizer:\n    scaling:\n"
                         b"      max_replicas: 1\n", "latin1.yaml": "name: caf\xe9".encode("latin-1"),
            "anchors.yaml": b"a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a]\n"
                            b"c: &c [*b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c]\n"}
    for name, data in made.items():
        (root / name).write_bytes(data)
    return [str(root / name) for name in made] + [str(root), str(root / "missing.yaml"), "~/nothing.yaml",
                                                    "relative/none.yaml", "x\x00y", ""]


def good_values(sandbox_url: str, deployment: str) -> dict[str, list[str]]:
    """Values that get a line past the parser to the server, by option name (half the draws use them)."""
    bentos = ["summarizer:v3", "summarizer", "iris_classifier:v1", "llm-chat:v1", "fail-demo:v1"]
    return {"context": ["sbx"], "cluster": ["gcp-us-central-1", "aws-us-west-2"], "name": [deployment, "ghost"],
            "bento": bentos, "tag": [*bentos, "iris_clf:v1"], "endpoint": [sandbox_url, sandbox_url + "/"],
            "instance_type": ["cpu.1", "gpu.t4.1"], "secrets": ["openai"], "api_name": ["summarize", "nope"],
            "envs": ["LOG_LEVEL=debug", "OPENAI_API_KEY=sk"], "labels": ["team=ml", "Team=ML", "a/b=c"]}


def value_for(rng: random.Random, action: argparse.Action, paths: list[str], good: dict[str, list[str]]) -> str:
    """A value for one option or positional: valid half the time where we know valid ones, odd otherwise."""
    dest = action.dest
    if dest in good and rng.random() < 0.5:
        return rng.choice(good[dest])
    if action.choices and rng.random() < 0.5:
        return str(rng.choice(list(action.choices)))
    if action.type in (int, float) or dest in ("timeout", "port", "speed", "tail", "scaling_min", "scaling_max"):
        return rng.choice(NUMBERS)
    if (dest == "output" and not action.choices) or (dest in ("config_file", "file") and rng.random() < 0.7):
        return rng.choice(paths)
    if dest in ("config_dict", "json"):
        return rng.choice(JSON)
    if dest in ("envs", "labels"):
        return rng.choice(ODD)
    if dest == "endpoint":
        return rng.choice(["http://127.0.0.1:1", "https://cloud.bentoml.com", "ftp://x", "http://evil.localhost",
                           "http://user:pw@127.0.0.1", "http://[::1", "not a url", "http://127.0.0.1:99999"])
    return rng.choice(NAMES if rng.random() < 0.4 else NASTY + ODD)


def options(parser: argparse.ArgumentParser) -> tuple[list[argparse.Action], list[argparse.Action]]:
    """The parser's optionals (without -h) and positionals, read from argparse's own action list."""
    actions = [a for a in parser._actions if not isinstance(a, argparse._HelpAction)]
    return [a for a in actions if a.option_strings], [a for a in actions if not a.option_strings]


def words(rng: random.Random, parser: argparse.ArgumentParser, paths: list[str],
          good: dict[str, list[str]]) -> list[str]:
    """A list of arguments: positionals (sometimes missing or extra), a few options, odd spellings."""
    optionals, positionals = options(parser)
    out = [value_for(rng, a, paths, good) for a in positionals if rng.random() < 0.85]
    for action in rng.sample(optionals, k=min(len(optionals), rng.randint(0, 4))):
        flag = rng.choice(action.option_strings)
        takes_value = action.nargs != 0
        if takes_value and rng.random() < 0.2:
            out.append(f"{flag}={value_for(rng, action, paths, good)}")
        else:
            out += [flag] + ([value_for(rng, action, paths, good)] if takes_value and rng.random() < 0.9 else [])
    if rng.random() < 0.15:
        out.insert(rng.randrange(len(out) + 1), rng.choice(NAMES + NASTY + ODD))
    return out


def line(rng: random.Random, prefix: str, parser: argparse.ArgumentParser, paths: list[str],
         good: dict[str, list[str]]) -> str:
    """One magic line: the words quoted as a shell would (mostly), or spliced raw, or with a broken tail."""
    parts = words(rng, parser, paths, good)
    if prefix.endswith(" login") and "--endpoint" not in parts and rng.random() < 0.8:
        parts += ["--endpoint", rng.choice(good["endpoint"])]  # the default one is unreachable: ~3 s of retries
    quoted = " ".join(shlex.quote(p) for p in parts) if rng.random() < 0.9 else " ".join(parts)
    if rng.random() < 0.15:
        quoted += " " + rng.choice(TAIL)
    return f"{prefix} {quoted}".rstrip()


def garbage(rng: random.Random) -> str:
    """A line of random characters after the magic's name (quotes, controls, non-ASCII, long)."""
    alphabet = "abc -=:'\"\\{}[]$%#\t\x00\x7f\u00e9\u202e\U0001f600" + "x" * 10
    return "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 120)))


def describe(value: Any) -> str:
    """``value`` as a short, reproducible Python literal for failure reports."""
    text = repr(value)
    return text if len(text) <= 300 else text[:300] + f"... ({len(text)} chars)"
