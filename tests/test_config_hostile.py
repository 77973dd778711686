"""A hostile or broken .reviewbot.yml costs nothing: exit 2 within a second or so, a short
message naming the key, never an internal error (cases found by fuzzing).

The CLI cases run the real ``reviewbot diff`` in a subprocess inside a real git repository;
the loader cases call :mod:`reviewbot.config_yaml` directly, with libyaml and without."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from reviewbot.config import CONFIG_FILENAME, MAX_STRING, load_config
from reviewbot.config_yaml import (
    MAX_CONFIG_BYTES,
    MAX_DEPTH,
    MAX_INT_DIGITS,
    _loader,
    parse_yaml_config,
    read_config_file,
    shown,
    uses_libyaml,
)
from reviewbot.errors import ConfigError
from tests.conftest import GitRepo

ALIASES = "aliases are not allowed in .reviewbot.yml"
MAX_SECONDS = 5.0  # the subprocess start-up included; each case itself takes milliseconds
MAX_STDERR = 2048


def billion_laughs(indent: str = "") -> str:
    """The classic 9**9 alias bomb, about 370 bytes."""
    lines = [f'{indent}a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{indent}{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def nested(depth: int) -> str:
    """A block mapping ``depth`` levels deep (the top level counts as one)."""
    return "".join("  " * i + f"k{i}:\n" for i in range(depth - 1)) + "  " * (depth - 1) + "x: 1\n"


@dataclass
class Run:
    code: int
    err: str
    seconds: float


def _cli() -> list[str]:
    script = Path(sys.executable).with_name("reviewbot")
    return [str(script)] if script.exists() else [sys.executable, "-m", "reviewbot"]


def run_diff(repo: GitRepo, config: str | bytes | None, env: dict[str, str] | None = None) -> Run:
    if config is not None:
        repo.write(CONFIG_FILENAME, config)
    base = {k: v for k, v in os.environ.items() if not k.startswith("REVIEWBOT_")}
    base.update(env or {})
    start = time.monotonic()
    proc = subprocess.run(
        [*_cli(), "diff", "--no-tests"],
        cwd=repo.root,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return Run(proc.returncode, proc.stderr, time.monotonic() - start)


@pytest.fixture
def repo(git_repo: GitRepo) -> GitRepo:
    git_repo.write("a.py", "x = 1\n")
    git_repo.commit()
    git_repo.write("a.py", "x = 2\n")
    return git_repo


def assert_refused(res: Run, *needles: str) -> None:
    assert res.code == 2, res.err[:MAX_STDERR]
    assert len(res.err.encode()) < MAX_STDERR, res.err[:MAX_STDERR]
    assert res.seconds < MAX_SECONDS, res.seconds
    assert "internal error" not in res.err and "Traceback" not in res.err
    for needle in needles:
        assert needle in res.err, res.err


# --- the CLI, end to end -----------------------------------------------------------------


@pytest.mark.parametrize(
    "text, needles",
    [
        pytest.param(
            "max_comments: " + "9" * 5000 + "\n",
            ["'max_comments'", "5000 digits", f"at most {MAX_INT_DIGITS} digits"],
            id="5000-digit-int",
        ),
        pytest.param(
            "max_comments: " + "9" * 401 + "\n", ["'max_comments'", "401 digits"], id="int-10**400"
        ),
        pytest.param(
            "max_comments: 100000000000000000\n",
            ["'max_comments' must be at most"],
            id="int-out-of-range",
        ),
        pytest.param(
            "max_comments: 1e400\n", ["'max_comments' must be an integer"], id="float-inf-for-int"
        ),
        pytest.param(
            "exclude: " + "[" * 490 + "]" * 490 + "\n",
            ["'exclude[0][0]", f"nested more than {MAX_DEPTH} levels"],
            id="490-levels",
        ),
        pytest.param(
            nested(490),
            ["'k0.k1.k2", f"nested more than {MAX_DEPTH} levels"],
            id="490-levels-block",
        ),
        pytest.param(
            "backend:\n" + billion_laughs("  "), ["'backend.a'", ALIASES], id="alias-bomb-backend"
        ),
        pytest.param(
            "llm:\n  model:\n" + billion_laughs("    "),
            ["'llm.model.a'", ALIASES],
            id="alias-bomb-llm-model",
        ),
        pytest.param(billion_laughs() + "backend: *i\n", ["'a'", ALIASES], id="alias-bomb-top"),
        pytest.param(
            "fail_on: &level warning\nmin_severity: *level\n",
            ["'fail_on'", ALIASES],
            id="plain-anchor",
        ),
        pytest.param(
            "exclude: [1, 2]\n", ["'exclude' entry 1 must be a string, got 1"], id="exclude-ints"
        ),
        pytest.param(
            "disabled_rules: [py.eval, 2]\n",
            ["'disabled_rules' entry 2 must be a string, got 2"],
            id="disabled-rules-ints",
        ),
        pytest.param(
            "categories: security\n", ["'categories' must be a list"], id="categories-string"
        ),
        pytest.param(
            "include: [[src]]\n", ["'include' entry 1 must be a string"], id="include-nested-list"
        ),
        pytest.param(
            "static_checks: 'yes'\n", ["'static_checks' must be true or false"], id="bool-as-string"
        ),
        pytest.param("llm:\n  model: 7\n", ["'llm.model' must be a string, got 7"], id="model-int"),
        pytest.param(
            "llm:\n  temperature: .nan\n",
            ["'llm.temperature' must be a finite number"],
            id="temperature-nan",
        ),
        pytest.param(
            "llm:\n  read_timeout: 1.0e+300\n",
            ["'llm.read_timeout' must be at most"],
            id="timeout-huge",
        ),
        pytest.param(
            "backend: " + "x" * 200_000 + "\n",
            ["'backend' must be a string of at most"],
            id="huge-string",
        ),
        pytest.param(
            "backend: static\nbackend: vllm\n", ["'backend'", "set twice"], id="duplicate-key"
        ),
        pytest.param("x" * 1000 + ": 1\n", ["unknown key 'xxxx"], id="huge-unknown-key"),
    ],
)
def test_hostile_file_is_exit_2_naming_the_key(
    repo: GitRepo, text: str, needles: list[str]
) -> None:
    assert_refused(run_diff(repo, text), CONFIG_FILENAME, *needles)


def test_ten_megabyte_integer_is_refused_by_size(repo: GitRepo) -> None:
    res = run_diff(repo, "max_comments: " + "9" * (10 * 1024 * 1024) + "\n")
    assert_refused(res, CONFIG_FILENAME, f"limit is {MAX_CONFIG_BYTES} bytes", "256 KiB")


def test_ten_megabyte_file_is_refused_by_size(repo: GitRepo) -> None:
    body = "exclude:\n" + "".join(f"  - docs/{i}/**\n" for i in range(600_000))
    assert len(body) > 10 * 1024 * 1024
    assert_refused(run_diff(repo, body), CONFIG_FILENAME, "256 KiB")


@pytest.mark.parametrize(
    "env, needles",
    [
        pytest.param(
            {"REVIEWBOT_MAX_COMMENTS": "9" * 5000},
            ["REVIEWBOT_MAX_COMMENTS", "'max_comments' must be an integer"],
            id="huge-int",
        ),
        pytest.param(
            {"REVIEWBOT_MAX_COMMENTS": "1_000"}, ["REVIEWBOT_MAX_COMMENTS"], id="underscore-int"
        ),
        pytest.param(
            {"REVIEWBOT_MAX_COMMENTS": "\u0661\u0662"},
            ["REVIEWBOT_MAX_COMMENTS"],
            id="non-ascii-digits",
        ),
        pytest.param(
            {"REVIEWBOT_MAX_COMMENTS": "99999"},
            ["'max_comments' must be at most"],
            id="out-of-range",
        ),
        pytest.param(
            {"REVIEWBOT_CATEGORIES": "bug,typo"},
            ["REVIEWBOT_CATEGORIES", "'typo'"],
            id="bad-category",
        ),
        pytest.param(
            {"REVIEWBOT_BACKEND": "x" * 100_000},
            ["REVIEWBOT_BACKEND", "'backend'"],
            id="huge-string",
        ),
        pytest.param(
            {"REVIEWBOT_TESTS": "perhaps"}, ["REVIEWBOT_TESTS", "true or false"], id="bad-bool"
        ),
    ],
)
def test_hostile_environment_is_exit_2_naming_the_variable(
    repo: GitRepo, env: dict[str, str], needles: list[str]
) -> None:
    assert_refused(run_diff(repo, None, env), *needles)


def test_a_sane_file_still_works_through_the_cli(repo: GitRepo) -> None:
    res = run_diff(repo, "max_comments: 10000\nexclude: [docs/**]\nllm:\n  temperature: 0\n")
    assert res.code == 0, res.err


# --- the loader ----------------------------------------------------------------------------


@pytest.fixture(params=[False, True], ids=["libyaml", "pure-python"])
def pure_python(request: pytest.FixtureRequest) -> bool:
    if not request.param and not hasattr(yaml, "CSafeLoader"):
        pytest.skip("PyYAML was built without libyaml")
    return bool(request.param)


def test_the_c_loader_is_used_when_installed() -> None:
    assert uses_libyaml() is hasattr(yaml, "CSafeLoader")
    assert issubclass(_loader(True)[0], yaml.SafeLoader)


def test_alias_bomb_is_refused_before_expansion(pure_python: bool) -> None:
    start = time.monotonic()
    with pytest.raises(ConfigError, match=ALIASES):
        parse_yaml_config("backend:\n" + billion_laughs("  "), "f.yml", pure_python=pure_python)
    assert time.monotonic() - start < 0.5


@pytest.mark.parametrize(
    "text, where",
    [
        ("a: &x 1\n", "'a'"),  # an anchor alone is refused as well
        ("a: 1\nb: [1, *x]\n", "'b[1]'"),  # an undefined alias: refused, not a YAML error
        ("a:\n  - {k: &n [1]}\n", "'a[0].k'"),
        ("? &k key\n: 1\n", "'key'"),
    ],
)
def test_anchors_and_aliases_are_refused_anywhere(text: str, where: str, pure_python: bool) -> None:
    with pytest.raises(ConfigError) as err:
        parse_yaml_config(text, "f.yml", pure_python=pure_python)
    assert ALIASES in str(err.value) and where in str(err.value)


def test_depth_limit_is_exact(pure_python: bool) -> None:
    value = parse_yaml_config(nested(MAX_DEPTH), "f.yml", pure_python=pure_python)
    for i in range(MAX_DEPTH - 1):
        value = value[f"k{i}"]
    assert value == {"x": 1}
    with pytest.raises(ConfigError, match=f"nested more than {MAX_DEPTH} levels"):
        parse_yaml_config(nested(MAX_DEPTH + 1), "f.yml", pure_python=pure_python)


@pytest.mark.parametrize(
    "literal, ok",
    [
        ("9" * MAX_INT_DIGITS, True),
        ("-" + "9" * MAX_INT_DIGITS, True),
        ("9" * (MAX_INT_DIGITS + 1), False),
        ("1_000_000", True),
        ("0x" + "f" * (MAX_INT_DIGITS + 1), False),
        ("1" + ":59" * 10, False),  # YAML 1.1 base 60
        ("!!int '" + "9" * 30 + "'", False),  # an explicit tag on a quoted string
        ("'" + "9" * 30 + "'", True),  # a string: the schema judges it later
        ("1" + "0" * 40 + ".5", False),  # a float literal that long
    ],
)
def test_integer_literals_are_bounded_before_conversion(
    literal: str, ok: bool, pure_python: bool
) -> None:
    text = f"n: {literal}\n"
    if ok:
        assert "n" in parse_yaml_config(text, "f.yml", pure_python=pure_python)
    else:
        with pytest.raises(ConfigError, match="'n': "):
            parse_yaml_config(text, "f.yml", pure_python=pure_python)


def test_the_int_constructor_checks_length_too() -> None:
    """The second line of defence, behind the event scan."""
    with pytest.raises(yaml.YAMLError, match="more than 18 digits"):
        yaml.load("n: " + "9" * 5000 + "\n", Loader=_loader()[0])  # noqa: S506


@pytest.mark.parametrize(
    "text, needle",
    [
        ("a: 1\n---\nb: 2\n", "more than one YAML document"),
        ("a: 1\nb: 2\na: 3\n", "'a': this key is set twice"),
        ("llm:\n  url: x\n  url: y\n", "'llm.url': this key is set twice"),
        ("x: !custom 1\n", "not valid YAML"),
        ("- a\n", "top level must be a mapping"),
    ],
)
def test_other_structural_errors(text: str, needle: str, pure_python: bool) -> None:
    with pytest.raises(ConfigError, match=needle):
        parse_yaml_config(text, "f.yml", pure_python=pure_python)


def test_size_cap_is_exact(tmp_path: Path) -> None:
    path = tmp_path / CONFIG_FILENAME
    at_cap = "max_comments: 3\n" + "#" * (MAX_CONFIG_BYTES - 17) + "\n"
    path.write_text(at_cap, encoding="utf-8")
    assert path.stat().st_size == MAX_CONFIG_BYTES
    assert load_config(tmp_path, None, {}).max_comments == 3
    path.write_text(at_cap + "\n", encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        read_config_file(path)
    assert str(path) in str(err.value) and "256 KiB" in str(err.value)


def test_size_cap_counts_utf8_bytes_of_text_from_github() -> None:
    text = "# " + "\u00e9" * (MAX_CONFIG_BYTES // 2) + "\n"  # fewer chars than the cap
    assert len(text) < MAX_CONFIG_BYTES
    with pytest.raises(ConfigError, match=f"limit is {MAX_CONFIG_BYTES} bytes"):
        load_config(env={}, text=text)


def test_strings_and_lists_are_bounded() -> None:
    with pytest.raises(ConfigError, match=f"at most {MAX_STRING} characters"):
        load_config(env={}, text="llm:\n  model: " + "m" * (MAX_STRING + 1) + "\n")
    with pytest.raises(ConfigError, match="at most 1000 entries"):
        load_config(env={}, text="exclude: [" + ", ".join(["a"] * 1001) + "]\n")
    cfg = load_config(env={}, text="exclude: [" + ", ".join(["a"] * 1000) + "]\n")
    assert len(cfg.exclude) == 1000


def test_env_lists_and_numbers_stay_usable() -> None:
    cfg = load_config(
        env={
            "REVIEWBOT_CATEGORIES": " bug ,style,",
            "REVIEWBOT_JOBS": " 4 ",
            "REVIEWBOT_TESTS": "OFF",
            "REVIEWBOT_MAX_COMMENTS": "+7",
        }
    )
    assert sorted(cfg.categories) == ["bug", "style"]
    assert (cfg.jobs, cfg.tests.enabled, cfg.max_comments) == (4, False, 7)


def test_shown_never_grows_with_the_value() -> None:
    for value in [
        "x" * 10**6,
        list(range(10**5)),
        {str(i): i for i in range(10**4)},
        10**5000,
        [[[[[["deep"]]]]]],
        b"\x00" * 10**5,
    ]:
        assert len(shown(value)) <= 80
    assert shown("short") == "'short'"
    assert shown(12) == "12"
