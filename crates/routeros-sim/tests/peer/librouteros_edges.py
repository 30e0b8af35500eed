"""Edge cases of the RouterOS API, driven by the Python librouteros client
(4.2.2) against routeros-sim. One mode per run; prints one JSON object.

Usage: librouteros_edges.py MODE USER PASSWORD PORT [PORT...]

Modes:
  login       PORT of a 6.42 router, PORT of a 6.44 router: challenge
              (`librouteros.login.token`) and plain logins on each.
  empty       PORT of a 7.19 router, PORT of a 7.16 router: prints whose
              query matches nothing, and the reply words read for them.
  long-words  PORT of a 7.16 router: words at every length-prefix boundary
              through /system/identity and /file.
  pipeline    PORT of a 7.19 router: tagged commands written together
              before any reply is read, replies grouped by tag.

The Rust side (tests/peer_librouteros.rs) checks the values.
"""
import hashlib
import json
import sys

import librouteros
from librouteros.exceptions import LibRouterosError, TrapError
from librouteros.login import encode_password, plain, token
from librouteros.protocol import encode_length, encode_sentence
from librouteros.query import Key

HOST = "127.0.0.1"


def connect(port, user, password, **kwargs):
    return librouteros.connect(host=HOST, username=user, password=password, port=port, **kwargs)


def error(e):
    return f"{type(e).__name__}: {e}"


def no_login(_api, _user, _password):
    """A login_method that leaves the session unauthenticated."""


def login_mode(user, password, ports):
    out = {
        # librouteros's MD5 answer for the go-routeros vector (ROUTEROS.md
        # §1.4); the Rust test compares it with routeros_proto::login.
        "md5_vector": encode_password("abc123", "passTest"),
    }
    for name, port in zip(("v6_42", "v6_44"), ports):
        r = {}
        api = connect(port, user, password, login_method=token)
        r["token_identity"] = [row["name"] for row in api("/system/identity/print")]
        r["token_version"] = [row["version"] for row in api("/system/resource/print")]
        api.close()
        try:
            connect(port, user, password + "-wrong", login_method=token)
            r["token_wrong_password"] = "logged in"
        except TrapError as e:
            r["token_wrong_password"] = str(e)

        # What a plain /login gets back, seen without librouteros's login
        # helpers: a 6.42 router ignores the password and hands out a
        # challenge in =ret=.
        api = connect(port, user, password, login_method=no_login)
        rows = list(api("/login", name=user, password=password))
        r["plain_login_reply"] = [{k: str(v) for k, v in row.items()} for row in rows]
        api.close()

        # librouteros's own plain login does not look at =ret=, so on 6.42
        # connect() returns; the first command then fails.
        try:
            api = connect(port, user, password, login_method=plain)
            r["plain_connect"] = "returned"
            try:
                r["plain_identity"] = [row["name"] for row in api("/system/identity/print")]
            except LibRouterosError as e:
                r["plain_first_command"] = error(e)
            api.close()
        except LibRouterosError as e:
            r["plain_connect"] = error(e)
        try:
            connect(port, user, password + "-wrong", login_method=plain)
            r["plain_wrong_password"] = "returned"
        except TrapError as e:
            r["plain_wrong_password"] = str(e)
        out[name] = r
    return out


def recording(api):
    """Records the reply word of every sentence librouteros reads."""
    seen = []
    read = api.protocol.readSentence

    def readSentence():  # noqa N802
        reply = read()
        seen.append(reply[0])
        return reply

    api.protocol.readSentence = readSentence
    return seen


def empty_mode(user, password, ports):
    out = {}
    for name, port in zip(("v7_19", "v7_16"), ports):
        api = connect(port, user, password)
        seen = recording(api)
        r = {}

        def run(key, fn):
            seen.clear()
            r[key] = {"rows": fn(), "replies": list(seen)}

        interfaces = api.path("interface")
        run("query_none", lambda: list(interfaces.select(Key("name")).where(Key("name") == "nope")))
        run("raw_none", lambda: list(api.rawCmd("/interface/print", "?name=nope")))
        run("query_one", lambda: list(interfaces.select(Key("name")).where(Key("name") == "ether1")))
        # (Not `api("/interface/print", **{"?name": "nope"})`: librouteros
        # writes every keyword as an `=k=v` attribute, so that sends
        # `=?name=nope`, which is no query.)
        # The session stays in step after !empty: the next command reads its
        # own reply.
        run("after", lambda: [row["name"] for row in api("/system/identity/print")])
        api.close()
        out[name] = r
    return out


def pattern(n):
    """Printable bytes that never repeat with a short period, so a shifted
    or truncated read cannot compare equal."""
    return bytes(33 + (i * 31 + i // 97) % 94 for i in range(n)).decode("ascii")


def sha(text):
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def long_words_mode(user, password, ports):
    (port,) = ports
    api = connect(port, user, password)
    identity = api.path("system", "identity")
    cases = []
    # Word lengths on both sides of every length-prefix boundary (ROUTEROS.md
    # §1.2); librouteros cannot encode 0x10000000 or more.
    boundaries = [0x7F, 0x80, 0x3FFF, 0x4000, 0x1FFFFF, 0x200000]
    word_lengths = [len("=name=")] + sorted({n + d for n in boundaries for d in (-1, 0)})
    for word_len in word_lengths:
        value = pattern(word_len - len("=name="))
        identity.update(name=value)
        got = [row["name"] for row in identity]
        got = got[0] if len(got) == 1 else None
        cases.append({
            "word_len": word_len,
            "value_len": len(value),
            "prefix": encode_length(word_len).hex(),
            "got_len": None if got is None else len(str(got)),
            "got_sha256": None if got is None else sha(str(got)),
            "equal": got == value,
        })

    # A file: a small one read back inline by /file/print, a 2 MiB one (a
    # 4-byte length prefix for its =contents= word) in /file/read chunks.
    files = api.path("file")
    small = pattern(0x3FFF - len("=contents="))
    big = pattern(0x200000 - len("=contents="))
    files.add(name="small.txt", contents=small)
    files.add(name="big.txt", contents=big)
    printed = {
        row["name"]: row
        for row in files.select(Key("name"), Key("size"), Key("contents")).where(
            Key("name").In("small.txt", "big.txt")
        )
    }
    chunks, offset = [], 0
    while True:
        rows = list(api("/file/read", file="big.txt", offset=offset, **{"chunk-size": 32768}))
        data = str(rows[0].get("data", "")) if rows else ""
        if not data:
            break
        chunks.append(data)
        offset += len(data)
    read_back = "".join(chunks)
    api.close()
    return {
        "identity": cases,
        "file": {
            "small_inline_equal": printed.get("small.txt", {}).get("contents") == small,
            "small_size": printed.get("small.txt", {}).get("size"),
            "big_size": printed.get("big.txt", {}).get("size"),
            "big_inline": "contents" in printed.get("big.txt", {}),
            "big_chunks": len(chunks),
            "big_read_len": len(read_back),
            "big_read_sha256": sha(read_back),
            "big_equal": read_back == big,
        },
    }


def pipeline_mode(user, password, ports):
    # librouteros has no tags and reads each reply before the next command,
    # but its protocol layer is enough: encode_sentence() builds the wire
    # bytes (tags are just `.tag=N` words), one transport.write() sends every
    # command at once, and protocol.readSentence() reads the replies in
    # whatever order the router sends them. (Api.readSentence cannot be used:
    # its parse_word() cannot split `.tag=N`.)
    (port,) = ports
    api = connect(port, user, password)
    enc = api.protocol.encoding
    commands = [
        ("1", ["/system/identity/print"]),
        ("2", ["/interface/print", "=.proplist=name,type", "?name=ether2"]),
        ("3", ["/no/such/menu/print"]),
        ("4", ["/interface/print", "?name=nope"]),
        ("5", ["/system/identity/set", "=name=piped"]),
        ("6", ["/system/identity/print"]),
        ("7", ["/interface/listen"]),
        ("8", ["/cancel", "=tag=7"]),
        ("9", ["/ip/address/add", "=address=10.9.9.9/24", "=interface=ether9-missing"]),
    ]
    wire = b"".join(
        encode_sentence(*words, f".tag={tag}", encoding=enc) for tag, words in commands
    )
    api.protocol.transport.write(wire)
    pending = {tag for tag, _ in commands}
    order, by_tag = [], {tag: [] for tag, _ in commands}
    while pending:
        reply, words = api.protocol.readSentence()
        attrs, tag = {}, None
        for w in words:
            if w.startswith(".tag="):
                tag = w[len(".tag="):]
            elif w.startswith("="):
                k, _, v = w[1:].partition("=")
                attrs[k] = v
        order.append(f"{reply}:{tag}")
        by_tag.setdefault(tag, []).append({"reply": reply, **attrs})
        if reply == "!done":
            pending.discard(tag)
    # The connection is still in step: an untagged command afterwards.
    after = [row["name"] for row in api("/system/identity/print")]
    api.close()
    return {"bytes_sent": len(wire), "order": order, "by_tag": by_tag, "after": after}


def main():
    mode, user, password = sys.argv[1], sys.argv[2], sys.argv[3]
    ports = [int(p) for p in sys.argv[4:]]
    run = {
        "login": login_mode,
        "empty": empty_mode,
        "long-words": long_words_mode,
        "pipeline": pipeline_mode,
    }[mode]
    print(json.dumps(run(user, password, ports), default=str))


if __name__ == "__main__":
    main()
