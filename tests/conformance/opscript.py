# SPDX-License-Identifier: Apache-2.0
"""Reader for the conformance operation scripts (corpus/*.ops).

The format is described in corpus/README.md.  This module only splits a script into operations; what
an operation does is up to the driver (pydriver.py for client_python, cdriver.c for promc, which has
its own reader of the same format).
"""

import math

SEPARATORS = b" \t"
SIMPLE_ESCAPES = {
    ord("\\"): b"\\",
    ord('"'): b'"',
    ord("n"): b"\n",
    ord("t"): b"\t",
    ord("r"): b"\r",
    ord("0"): b"\0",
}

CREATE_OPS = ("counter", "gauge", "histogram", "summary", "info", "enum")
# Which creation options each type takes; anything else is a script error, because client_python
# would refuse the keyword while promc would ignore the field, and that difference says nothing.
TYPE_OPTIONS = {
    "counter": ("ns", "sub", "unit", "labels"),
    "gauge": ("ns", "sub", "unit", "labels"),
    "histogram": ("ns", "sub", "unit", "labels", "buckets"),
    "summary": ("ns", "sub", "unit", "labels"),
    "info": ("ns", "sub", "unit", "labels"),
    "enum": ("ns", "sub", "unit", "labels", "states"),
}


class ScriptError(Exception):
    """The script itself is malformed (not an operation that fails)."""


def tokenize(line, lineno):
    """Splits one line into byte-string tokens."""
    tokens = []
    i = 0
    n = len(line)
    while True:
        while i < n and line[i] in SEPARATORS:
            i += 1
        if i >= n:
            return tokens
        if line[i] == ord('"'):
            i += 1
            tok = bytearray()
            while True:
                if i >= n:
                    raise ScriptError(f"line {lineno}: unterminated string")
                c = line[i]
                if c == ord('"'):
                    i += 1
                    break
                if c != ord("\\"):
                    tok.append(c)
                    i += 1
                    continue
                if i + 1 >= n:
                    raise ScriptError(f"line {lineno}: backslash at end of line")
                e = line[i + 1]
                if e in SIMPLE_ESCAPES:
                    tok += SIMPLE_ESCAPES[e]
                    i += 2
                elif e == ord("x"):
                    hexdigits = line[i + 2:i + 4]
                    try:
                        if len(hexdigits) != 2:
                            raise ValueError
                        tok.append(int(hexdigits, 16))
                    except ValueError:
                        raise ScriptError(f"line {lineno}: \\x needs two hex digits") from None
                    i += 4
                else:
                    raise ScriptError(f"line {lineno}: unknown escape \\{chr(e)}")
            if i < n and line[i] not in SEPARATORS:
                raise ScriptError(f"line {lineno}: text right after a closing quote")
            tokens.append(bytes(tok))
        else:
            start = i
            while i < n and line[i] not in SEPARATORS:
                if line[i] == ord('"'):
                    raise ScriptError(f"line {lineno}: quote inside a bare token")
                i += 1
            tokens.append(line[start:i])


class Op:
    """One operation: line number, whether the script expects it to fail, verb and arguments."""

    def __init__(self, lineno, expect_fail, verb, var):
        self.lineno = lineno
        self.expect_fail = expect_fail
        self.verb = verb
        self.var = var
        self.create = False  # a creation (counter ... enum), as opposed to an update
        self.labelvalues = []  # bytes
        # creation
        self.name = None
        self.help = None
        self.opts = {}
        # updates
        self.amount = None  # float or None
        self.info = []  # [(key bytes, value bytes)]
        self.state = None  # bytes


class Cursor:
    def __init__(self, tokens, lineno):
        self.tokens = tokens
        self.pos = 0
        self.lineno = lineno

    def more(self):
        return self.pos < len(self.tokens)

    def take(self, what):
        if self.pos >= len(self.tokens):
            raise ScriptError(f"line {self.lineno}: missing {what}")
        tok = self.tokens[self.pos]
        self.pos += 1
        return tok

    def count(self, what):
        tok = self.take(what)
        if not tok.isdigit():
            raise ScriptError(f"line {self.lineno}: {what} must be a count, got {tok!r}")
        return int(tok)

    def number(self, what):
        tok = self.take(what)
        return parse_number(tok, self.lineno)

    def done(self):
        if self.more():
            raise ScriptError(f"line {self.lineno}: unexpected {self.tokens[self.pos]!r}")


def parse_number(tok, lineno):
    """A number both Python float() and C strtod() read the same way: decimal or inf/nan."""
    try:
        text = tok.decode("ascii")
    except UnicodeDecodeError:
        raise ScriptError(f"line {lineno}: bad number {tok!r}") from None
    if not text or "_" in text or text != text.strip() or text.lower().startswith(("0x", "-0x", "+0x")):
        raise ScriptError(f"line {lineno}: bad number {tok!r}")
    try:
        return float(text)
    except ValueError:
        raise ScriptError(f"line {lineno}: bad number {tok!r}") from None


def parse_script(data):
    """Returns the list of Op of a script given as bytes."""
    ops = []
    for lineno, line in enumerate(data.split(b"\n"), start=1):
        if line.lstrip(SEPARATORS).startswith(b"#"):
            continue  # a comment, whatever it contains
        tokens = tokenize(line, lineno)
        if not tokens:
            continue
        expect_fail = False
        if tokens[0] == b"!":
            expect_fail = True
            tokens = tokens[1:]
            if not tokens:
                raise ScriptError(f"line {lineno}: '!' without an operation")
        cur = Cursor(tokens, lineno)
        verb = cur.take("operation").decode("ascii", "replace")
        var = cur.take("variable")
        op = Op(lineno, expect_fail, verb, var)
        # `info` both creates an Info and sets one.  The update has a count where the creation
        # has a name; a name of digits only is invalid anyway (other types test that).
        creating = verb in CREATE_OPS
        if verb == "info" and cur.more() and cur.tokens[cur.pos].isdigit():
            creating = False
        op.create = creating
        if creating:
            op.name = cur.take("name")
            op.help = cur.take("help")
            while cur.more():
                key = cur.take("option").decode("ascii", "replace")
                if key not in TYPE_OPTIONS[verb]:
                    raise ScriptError(f"line {lineno}: option '{key}' is not for {verb}")
                if key in op.opts:
                    raise ScriptError(f"line {lineno}: option '{key}' given twice")
                if key in ("ns", "sub", "unit"):
                    op.opts[key] = cur.take(key)
                elif key in ("labels", "states"):
                    op.opts[key] = [cur.take(key) for _ in range(cur.count(key + " count"))]
                else:  # buckets
                    op.opts[key] = [cur.number("bucket") for _ in range(cur.count("bucket count"))]
        elif verb in ("inc", "dec", "set", "observe", "info", "state", "remove"):
            op.labelvalues = [cur.take("label value") for _ in range(cur.count("label count"))]
            if verb in ("inc", "dec"):
                if cur.more():
                    op.amount = cur.number("amount")
            elif verb in ("set", "observe"):
                op.amount = cur.number("value")
            elif verb == "info":
                op.info = [(cur.take("info key"), cur.take("info value"))
                           for _ in range(cur.count("info pair count"))]
            elif verb == "state":
                op.state = cur.take("state")
        elif verb in ("clear", "unregister", "register"):
            pass
        else:
            raise ScriptError(f"line {lineno}: unknown operation '{verb}'")
        cur.done()
        ops.append(op)
    return ops


def is_nan(x):
    return isinstance(x, float) and math.isnan(x)
