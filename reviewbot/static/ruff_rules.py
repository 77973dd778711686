"""The ruff rules reviewbot selects, and what each becomes: category, severity, reason.

A curated set focused on bugs: pyflakes (F: undefined names, unused variables,
redefinitions, broken format strings), bugbear (B), pylint errors (PLE) and a few pylint
warnings (PLW), the ruff-specific bug rules (RUF), async mistakes (ASYNC), a few
pycodestyle checks that are really bugs (E711, E712, E721, E722), and the bandit (S) rules
that reviewbot's own taint rules do not already cover better. Left out on purpose: S608
(SQL), S602-S607 (shell), S307/S102 (eval, exec), S301/S302 (pickle, marshal), S506 (yaml),
S501/S323 (TLS), S105-S107 (secrets), S324 (hashes), S701/S308/S704 (XSS), S202 (tar):
``py.*`` rules report those with data flow (a constant argument is not a finding).

Finding ids are ``ruff.<CODE>``. The README's ruff table is written from :data:`RUFF_RULES`
(a test checks that every code is listed there and known to the installed ruff).
"""

from __future__ import annotations

from dataclasses import dataclass

from reviewbot.findings import Category, Severity
from reviewbot.static.rules import BUG, ERR, INFO, PERF, SEC, STYLE, WARN


@dataclass(frozen=True, slots=True)
class RuffRule:
    code: str
    category: Category
    severity: Severity
    reason: str
    """Why it matters, in one short sentence (the finding's message starts with it)."""
    cwe: str | None = None


def _r(
    code: str, category: Category, severity: Severity, reason: str, cwe: str | None = None
) -> RuffRule:
    return RuffRule(code, category, severity, reason, cwe)


_ALL = [
    # pyflakes
    _r("F401", STYLE, INFO, "an import that is never used"),
    _r("F402", BUG, WARN, "a loop variable hides an imported name"),
    _r("F403", STYLE, INFO, "`import *` hides which names are defined"),
    _r("F404", BUG, ERR, "a `from __future__` import after other code is a SyntaxError"),
    _r("F405", BUG, INFO, "a name that may come from a `*` import, or be undefined"),
    _r("F407", BUG, ERR, "an undefined `__future__` feature is a SyntaxError"),
    _r("F501", BUG, ERR, "a `%` format string that raises at run time"),
    _r("F502", BUG, ERR, "`%` format expects a mapping and gets something else"),
    _r("F503", BUG, ERR, "`%` format expects a sequence and gets a mapping"),
    _r("F504", BUG, WARN, "named arguments the `%` format never uses"),
    _r("F505", BUG, ERR, "a `%` format placeholder without an argument (KeyError)"),
    _r("F506", BUG, ERR, "a `%` format mixing positional and named placeholders"),
    _r("F507", BUG, ERR, "a `%` format with the wrong number of arguments (TypeError)"),
    _r("F508", BUG, ERR, "`%` format `*` width needs a sequence"),
    _r("F509", BUG, ERR, "an unsupported `%` format character (ValueError)"),
    _r("F521", BUG, ERR, "an invalid `.format()` string (ValueError)"),
    _r("F522", BUG, WARN, "named arguments that `.format()` never uses"),
    _r("F523", BUG, WARN, "positional arguments that `.format()` never uses"),
    _r("F524", BUG, ERR, "a `.format()` placeholder without an argument"),
    _r("F525", BUG, ERR, "`.format()` mixing automatic and manual numbering (ValueError)"),
    _r("F541", STYLE, INFO, "an f-string without placeholders (a missing `{}`?)"),
    _r("F601", BUG, WARN, "a dict literal repeats a key: the first value is lost"),
    _r("F602", BUG, WARN, "a dict literal repeats a variable key: the first value is lost"),
    _r("F621", BUG, ERR, "too many expressions in a starred assignment"),
    _r("F622", BUG, ERR, "two starred expressions in one assignment"),
    _r("F631", BUG, ERR, "assert on a non-empty tuple is always true"),
    _r("F632", BUG, WARN, "`is` compares identity; use `==` to compare with a literal"),
    _r("F633", BUG, ERR, "`print >>` is Python 2 syntax and fails at run time"),
    _r("F634", BUG, ERR, "`if` on a non-empty tuple is always true"),
    _r("F701", BUG, ERR, "`break` outside a loop is a SyntaxError"),
    _r("F702", BUG, ERR, "`continue` outside a loop is a SyntaxError"),
    _r("F704", BUG, ERR, "`yield` outside a function"),
    _r("F706", BUG, ERR, "`return` outside a function"),
    _r("F707", BUG, ERR, "a bare `except:` before other handlers makes them unreachable"),
    _r("F722", BUG, ERR, "a string annotation that is not valid Python"),
    _r("F811", BUG, WARN, "a name redefined before its first definition was used"),
    _r("F821", BUG, ERR, "an undefined name (NameError at run time)"),
    _r("F822", BUG, ERR, "`__all__` names something the module does not define"),
    _r("F823", BUG, ERR, "a local variable used before assignment (UnboundLocalError)"),
    _r("F841", BUG, WARN, "a local variable assigned but never used (a typo or lost value?)"),
    _r("F842", BUG, INFO, "a local variable annotated but never used"),
    _r("F901", BUG, WARN, "`raise NotImplemented` raises a TypeError; use NotImplementedError"),
    # pycodestyle checks that are bugs more than style
    _r("E711", BUG, INFO, "`== None` calls __eq__; use `is None`"),
    _r("E712", BUG, INFO, "`== True` / `== False`; test the value itself or use `is`"),
    _r("E721", BUG, INFO, "type compared with `==`; use isinstance() or `is`"),
    _r("E722", BUG, WARN, "bare `except:` also catches KeyboardInterrupt and SystemExit"),
    _r("E741", STYLE, INFO, "a name such as `l`, `O` or `I` that reads like a digit"),
    # bugbear
    _r("B002", BUG, ERR, "`++x` is not an increment in Python"),
    _r("B003", BUG, WARN, "assigning os.environ does not change the process environment"),
    _r("B004", BUG, WARN, "`hasattr(x, '__call__')` is unreliable; use callable()"),
    _r("B005", BUG, WARN, "`.strip()` with several characters strips a set, not a prefix"),
    _r("B006", BUG, WARN, "a mutable default argument is shared by every call"),
    _r("B007", BUG, INFO, "a loop variable that the loop body never uses"),
    _r("B008", BUG, WARN, "a call in a default argument runs once, at definition time"),
    _r("B009", STYLE, INFO, "getattr with a constant name; use attribute access"),
    _r("B010", STYLE, INFO, "setattr with a constant name; use assignment"),
    _r("B011", BUG, WARN, "`assert False` vanishes under `python -O`; raise AssertionError"),
    _r("B012", BUG, ERR, "return/break/continue in `finally` swallows the exception"),
    _r("B013", STYLE, INFO, "a one-element tuple in an except clause"),
    _r("B014", BUG, INFO, "an except clause naming the same exception twice"),
    _r("B015", BUG, WARN, "a comparison whose result is thrown away (a missing assert?)"),
    _r("B016", BUG, ERR, "raising a literal is a TypeError"),
    _r("B017", BUG, WARN, "`assertRaises(Exception)` passes on any error"),
    _r("B018", BUG, WARN, "an expression statement that does nothing"),
    _r("B019", PERF, WARN, "lru_cache on a method keeps every instance alive"),
    _r("B020", BUG, ERR, "the loop variable overwrites the iterable it loops over"),
    _r("B021", BUG, WARN, "an f-string as docstring is not a docstring"),
    _r("B022", BUG, WARN, "contextlib.suppress() with no exceptions does nothing"),
    _r("B023", BUG, WARN, "a closure binds the loop variable late: every call sees the last"),
    _r("B024", BUG, INFO, "an abstract base class without abstract methods"),
    _r("B025", BUG, WARN, "an exception caught twice in one try: the second never runs"),
    _r("B026", BUG, WARN, "star-arg unpacking after a keyword argument"),
    _r("B027", BUG, INFO, "an empty method in an abstract class without @abstractmethod"),
    _r("B028", BUG, INFO, "warnings.warn without stacklevel points at the wrong line"),
    _r("B029", BUG, ERR, "`except ():` catches nothing"),
    _r("B030", BUG, ERR, "an except clause with something that is not an exception class"),
    _r("B031", BUG, ERR, "a groupby() group reused after the iterator moved on"),
    _r("B032", BUG, WARN, "an annotation where an assignment was meant (`x: 1`)"),
    _r("B033", BUG, INFO, "a set literal repeats a value"),
    _r("B034", BUG, WARN, "re.sub/split positional count or flags are easily swapped"),
    _r("B035", BUG, WARN, "a dict comprehension with a constant key keeps one entry"),
    _r("B039", BUG, WARN, "a mutable ContextVar default is shared"),
    _r("B904", BUG, INFO, "raise inside except without `from` loses the cause"),
    _r("B905", BUG, INFO, "zip() without strict= silently drops unequal tails"),
    # pylint errors and selected warnings
    _r("PLE0100", BUG, ERR, "`__init__` is a generator (yield in __init__)"),
    _r("PLE0101", BUG, ERR, "`__init__` returns a value (TypeError)"),
    _r("PLE0115", BUG, ERR, "a name both nonlocal and global"),
    _r("PLE0116", BUG, ERR, "`continue` in finally"),
    _r("PLE0117", BUG, ERR, "nonlocal without a binding in an enclosing scope"),
    _r("PLE0118", BUG, ERR, "a name used before its global declaration"),
    _r("PLE0237", BUG, ERR, "assignment to an attribute not in __slots__ (AttributeError)"),
    _r("PLE0241", BUG, ERR, "a class lists the same base twice (TypeError)"),
    _r("PLE0302", BUG, ERR, "a special method with the wrong number of parameters"),
    _r("PLE0303", BUG, ERR, "`__len__` returns something that is not a non-negative int"),
    _r("PLE0305", BUG, ERR, "`__index__` returns something that is not an int"),
    _r("PLE0307", BUG, ERR, "`__str__` returns something that is not a str"),
    _r("PLE0308", BUG, ERR, "`__bytes__` returns something that is not bytes"),
    _r("PLE0309", BUG, ERR, "`__hash__` returns something that is not an int"),
    _r("PLE0604", BUG, ERR, "`__all__` holds something that is not a string"),
    _r("PLE0605", BUG, ERR, "`__all__` is not a list or tuple"),
    _r("PLE0643", BUG, ERR, "an index past the end of a literal sequence (IndexError)"),
    _r("PLE0704", BUG, ERR, "a bare `raise` outside an except clause"),
    _r("PLE1132", BUG, ERR, "a keyword argument repeated in one call"),
    _r("PLE1142", BUG, ERR, "`await` outside an async function"),
    _r("PLE1205", BUG, ERR, "more logging arguments than placeholders"),
    _r("PLE1206", BUG, ERR, "fewer logging arguments than placeholders"),
    _r("PLE1300", BUG, ERR, "an unsupported format character (ValueError)"),
    _r("PLE1307", BUG, ERR, "a `%` format argument of the wrong type (TypeError)"),
    _r("PLE1310", BUG, WARN, "`.strip()` with repeated characters strips a set"),
    _r("PLE1507", BUG, ERR, "os.getenv with a non-string key"),
    _r("PLE1519", BUG, ERR, "@singledispatch on a method dispatches on self"),
    _r("PLE1520", BUG, ERR, "@singledispatchmethod on a plain function"),
    _r("PLE1700", BUG, ERR, "`yield from` in an async function"),
    _r("PLE2502", SEC, ERR, "bidirectional Unicode control characters (Trojan Source)", "CWE-1007"),
    _r("PLE2510", BUG, WARN, "a raw backspace character in a string"),
    _r("PLE2512", BUG, WARN, "a raw SUB character in a string"),
    _r("PLE2513", BUG, WARN, "a raw ESC character in a string"),
    _r("PLE2514", BUG, WARN, "a raw NUL character in the source"),
    _r("PLE2515", BUG, WARN, "a zero-width space in a string"),
    _r("PLW0120", BUG, INFO, "`else` on a loop without `break` always runs"),
    _r("PLW0127", BUG, WARN, "a variable assigned to itself"),
    _r("PLW0128", BUG, WARN, "a name assigned twice in one unpacking"),
    _r("PLW0129", BUG, ERR, "assert on a non-empty string is always true"),
    _r("PLW0131", BUG, WARN, "a walrus whose value is thrown away"),
    _r("PLW0133", BUG, WARN, "an exception created but never raised"),
    _r("PLW0177", BUG, ERR, "comparison with NaN is always false; use math.isnan"),
    _r("PLW0211", BUG, WARN, "a staticmethod whose first parameter is self or cls"),
    _r("PLW0245", BUG, ERR, "`super` without parentheses"),
    _r("PLW0406", BUG, WARN, "a module that imports itself"),
    _r("PLW0602", BUG, INFO, "`global` for a name the function never assigns"),
    _r("PLW0642", BUG, WARN, "reassigning self or cls has no effect outside the method"),
    _r("PLW0711", BUG, ERR, "`except A or B:` catches only A"),
    _r("PLW1501", BUG, ERR, "an invalid open() mode (ValueError)"),
    _r("PLW1507", BUG, WARN, "copy.copy(os.environ) still writes the process environment"),
    _r("PLW1508", BUG, WARN, "os.getenv with a non-string default"),
    _r("PLW1509", BUG, WARN, "Popen preexec_fn is unsafe with threads"),
    _r("PLW1510", BUG, INFO, "subprocess.run without check= ignores a failed command"),
    _r("PLW1641", BUG, WARN, "__eq__ without __hash__ makes instances unhashable"),
    _r("PLW2101", BUG, ERR, "a lock created in the with statement protects nothing"),
    _r("PLW2901", BUG, WARN, "the loop variable is overwritten in the loop body"),
    _r("PLW3301", STYLE, INFO, "a nested min()/max() call"),
    # ruff's own bug rules
    _r("RUF006", BUG, WARN, "a task from create_task() that nothing keeps may be collected"),
    _r("RUF007", STYLE, INFO, "zip(x, x[1:]) is itertools.pairwise"),
    _r("RUF008", BUG, WARN, "a mutable default in a dataclass field is shared"),
    _r("RUF009", BUG, WARN, "a call in a dataclass default runs once, for every instance"),
    _r("RUF012", BUG, INFO, "a mutable class attribute is shared by every instance"),
    _r("RUF013", BUG, INFO, "a default of None without Optional in the annotation"),
    _r("RUF016", BUG, ERR, "indexing with a type that raises TypeError"),
    _r("RUF017", PERF, WARN, "sum() of lists is quadratic"),
    _r("RUF018", BUG, ERR, "an assignment in assert vanishes under `python -O`"),
    _r("RUF019", STYLE, INFO, "a key check before a dict lookup (use .get)"),
    _r("RUF021", BUG, INFO, "`a or b and c` without parentheses"),
    _r("RUF024", BUG, ERR, "dict.fromkeys with a mutable value shares it among every key"),
    _r("RUF026", BUG, ERR, "defaultdict(default_factory=...) makes a key, not a factory"),
    _r("RUF030", BUG, WARN, "assert with print() as message prints nothing useful"),
    _r("RUF032", BUG, WARN, "Decimal from a float literal is inexact"),
    _r("RUF033", BUG, WARN, "a default on __post_init__ is never used"),
    _r("RUF034", BUG, WARN, "an if-else expression with the same value on both sides"),
    _r("RUF040", BUG, WARN, "assert with a literal as message argument"),
    _r("RUF048", BUG, WARN, "map(int, version.split('.')) breaks on pre-releases"),
    _r("RUF049", BUG, WARN, "a dataclass that is also an enum"),
    _r("RUF051", STYLE, INFO, "`if k in d: del d[k]` (use pop)"),
    _r("RUF057", BUG, INFO, "round() of an int does nothing"),
    # async
    _r("ASYNC100", BUG, WARN, "a cancel scope without a checkpoint has no effect"),
    _r("ASYNC105", BUG, ERR, "a trio coroutine called without await"),
    _r("ASYNC109", BUG, INFO, "an async function with a timeout parameter"),
    _r("ASYNC110", PERF, WARN, "busy-waiting with sleep in a loop; use an Event"),
    _r("ASYNC115", PERF, INFO, "sleep(0); use checkpoint()"),
    _r("ASYNC210", PERF, WARN, "a blocking HTTP call in an async function"),
    _r("ASYNC220", PERF, WARN, "a blocking subprocess in an async function"),
    _r("ASYNC221", PERF, WARN, "a blocking process run in an async function"),
    _r("ASYNC222", PERF, WARN, "waiting for a process blocks the event loop"),
    _r("ASYNC230", PERF, WARN, "a blocking open() in an async function"),
    _r("ASYNC251", PERF, WARN, "time.sleep in an async function blocks the event loop"),
    # the bandit rules reviewbot's taint rules do not already cover better
    _r("S103", SEC, WARN, "a file made world-writable or executable", "CWE-732"),
    _r("S104", SEC, INFO, "binding to every interface (0.0.0.0)", "CWE-200"),
    _r("S108", SEC, WARN, "a fixed path in a shared temporary directory", "CWE-377"),
    _r("S113", SEC, WARN, "an HTTP request without a timeout can hang forever", "CWE-400"),
    _r("S201", SEC, ERR, "Flask debug mode runs an interactive debugger", "CWE-94"),
    _r("S306", SEC, WARN, "tempfile.mktemp is racy; use mkstemp", "CWE-377"),
    _r("S312", SEC, WARN, "telnet sends everything in clear text", "CWE-319"),
    _r("S313", SEC, WARN, "XML parsed with xml.etree (entity expansion)", "CWE-611"),
    _r("S314", SEC, WARN, "XML parsed with xml.etree (entity expansion)", "CWE-611"),
    _r("S315", SEC, WARN, "XML parsed with expat (entity expansion)", "CWE-611"),
    _r("S316", SEC, WARN, "XML parsed with expat (entity expansion)", "CWE-611"),
    _r("S317", SEC, WARN, "XML parsed with xml.sax (entity expansion)", "CWE-611"),
    _r("S318", SEC, WARN, "XML parsed with minidom (entity expansion)", "CWE-611"),
    _r("S319", SEC, WARN, "XML parsed with pulldom (entity expansion)", "CWE-611"),
    _r("S321", SEC, WARN, "FTP sends credentials in clear text", "CWE-319"),
    _r("S502", SEC, ERR, "an SSL/TLS protocol version with known weaknesses", "CWE-327"),
    _r("S503", SEC, WARN, "a default argument selecting a weak SSL/TLS version", "CWE-327"),
    _r("S504", SEC, INFO, "ssl.wrap_socket without a protocol version", "CWE-327"),
    _r("S505", SEC, ERR, "a cryptographic key too short to be safe", "CWE-326"),
    _r("S507", SEC, ERR, "SSH accepting unknown host keys (man in the middle)", "CWE-295"),
    _r("S508", SEC, WARN, "SNMP v1/v2c sends the community string in clear", "CWE-319"),
    _r("S509", SEC, WARN, "SNMPv3 without authentication or encryption", "CWE-319"),
    _r("S601", SEC, WARN, "a command run over paramiko exec_command", "CWE-78"),
    _r("S609", SEC, WARN, "a shell wildcard in a command line", "CWE-155"),
    _r("S612", SEC, ERR, "logging.config.listen runs code sent to a socket", "CWE-94"),
    _r("S702", SEC, WARN, "Mako templates do not escape by default", "CWE-79"),
]

RUFF_RULES: dict[str, RuffRule] = {r.code: r for r in _ALL}

PARTIAL_UNSAFE = frozenset(
    {
        "F401",
        "F403",
        "F405",
        "F811",
        "F821",
        "F822",
        "F823",
        "F841",
        "F842",
        "F701",
        "F702",
        "F704",
        "F706",
        "B007",
        "B024",
        "B027",
        "PLE0117",
        "PLE0118",
        "PLE0237",
        "PLE0604",
        "PLE0605",
        "PLE0704",
        "PLE1142",
        "PLW0120",
        "PLW0406",
        "PLW0602",
        "PLW1641",
    }
)
"""Codes that need the whole file: not run on a file rebuilt from the diff's lines alone
(blank where the real file has code, so names defined there look undefined, a loop header
out of the hunk makes its ``break`` look misplaced)."""

ALIASES: dict[str, str] = {
    "py.mutable-default": "ruff.B006",
    "py.is-literal": "ruff.F632",
    "py.bare-except": "ruff.E722",
    "py.eq-none": "ruff.E711",
    "py.assert-tuple": "ruff.F631",
}
"""Ids of the hand-written rules ruff replaced: ``disabled_rules`` still accepts them."""


def rule_for(code: str) -> RuffRule:
    """The curated entry, or a default for a code the user added with ``extend_select``:
    bandit (S) codes are security warnings, anything else bug info."""
    known = RUFF_RULES.get(code)
    if known is not None:
        return known
    if code.startswith("S") and not code.startswith(("SIM", "SLF", "SLOT")):
        return RuffRule(code, SEC, WARN, "a bandit security check")
    return RuffRule(code, BUG, INFO, "a ruff check you selected")


def expand_disabled(disabled: frozenset[str]) -> frozenset[str]:
    """``disabled_rules`` with the old ids also naming their ruff codes."""
    return disabled | {ALIASES[d] for d in disabled if d in ALIASES}
