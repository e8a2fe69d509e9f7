"""Sigma values as filter-pattern values: wildcard strings, escaping and the regex subset."""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from sigma.types import SigmaString

from trailguard.patterns import compile_pattern, render
from trailguard.patterns.ast import Comparison, JsonPattern, Key, Regex, Selector, StringValue
from trailguard.sigma.values import Refusal, match_string, translate_regex


def _match(text: str, fold: bool = False):
    return match_string(list(SigmaString(text).s), fold)


@pytest.mark.parametrize(("sigma", "value", "any_", "wildcard"), [
    ("abc", StringValue("abc", quoted=True), False, False),
    ("abc*", StringValue("abc*", quoted=True), False, True),
    ("*abc", StringValue("*abc", quoted=True), False, True),
    ("*abc*", StringValue("*abc*", quoted=True), False, True),
    ("**abc***", StringValue("*abc*", quoted=True), False, True),  # runs of * are one wildcard
    ("*", StringValue("*", quoted=True), True, True),
    ("***", StringValue("*", quoted=True), True, True),
    ("", StringValue("", quoted=True), False, False),
    ("a?c", Regex(r"^a[\s\S]c$"), False, True),
    ("a*c", Regex(r"^a[\s\S]*c$"), False, True),
    ("*a*c*", Regex(r"a[\s\S]*c"), False, True),
    ("a\\*c", Regex(r"^a\x2ac$"), False, False),  # a literal star inside: a regex, not W003's literal
    ("\\*abc", Regex(r"^\x2aabc$"), False, False),
    ("50%?", Regex(r"^50\x25[\s\S]$"), False, True),  # `%` would end the regex
    ("a b:c/d", StringValue("a b:c/d", quoted=True), False, False),
])
def test_match_string(sigma: str, value, any_: bool, wildcard: bool):
    match = _match(sigma)
    assert (match.value, match.any, match.wildcard) == (value, any_, wildcard)
    compile_pattern(render(JsonPattern(Comparison(Selector((Key("f"),)), "=", match.value))))


def test_folding_applies_to_regexes_only():
    assert _match("ab*c?", fold=True).value == Regex(r"^[Aa][Bb][\s\S]*[Cc][\s\S]$")
    assert _match("ab*c?", fold=True).folded
    assert _match("abc*", fold=True).value == StringValue("abc*", quoted=True)
    assert not _match("abc*", fold=True).folded
    assert not _match("1?2", fold=True).folded  # no letters, nothing folded


@pytest.mark.parametrize(("sigma", "body"), [
    (r"^Delete\w+$", r"^Delete\w+$"),
    (r"a\.b\[c\]", r"a\x2eb\x5bc\x5d"),
    (r"\(x\)", r"\x28x\x29"),
    (r"[()%!]", r"[\x28\x29\x25\x21]"),
    (r"[]a]", r"[\x5da]"),  # a leading `]` is a member of the class: written as \x5d
    (r"[^]a]", r"[^\x5da]"),
    (r"a\tb\nc", r"a\x09b\x0ac"),
    (r"\x41{2,3}", r"\x41{2,3}"),
    ("a'b\"c", r"a\x27b\x22c"),
    (r"x|y?z+", r"x|y?z+"),
])
def test_translate_regex(sigma: str, body: str):
    translated = translate_regex(sigma)
    assert translated.body == body
    compile_pattern("{ $.f = %" + translated.body + "% }")
    for sample in ("Delete_x", "a.b[c]", "(x)", "a\tb\nc", "AAA", "a'b\"c", "xz", "!", "]"):
        assert bool(re.search(sigma, sample)) == bool(re.search(translated.body, sample, re.ASCII)), sample


@pytest.mark.parametrize(("sigma", "words"), [
    ("(a|b)", "group"),
    (r"\bword", r"\b"),
    (r"\Aword", r"\A"),
    ("café", "multi-byte"),
    ("a\\", "lone backslash"),
    ("a{2", None),
])
def test_translate_regex_refusals(sigma: str, words: str | None):
    if words is None:  # Python accepts `a{2` as literal text; the subset keeps it literal too
        compile_pattern("{ $.f = %" + translate_regex(sigma).body + "% }")
        return
    with pytest.raises(Refusal) as caught:
        translate_regex(sigma)
    assert caught.value.kind == "regex" and words in caught.value.message


def test_non_ascii_plain_strings_convert_but_not_inside_a_regex():
    assert _match("café").value == StringValue("café", quoted=True)
    with pytest.raises(Refusal) as caught:
        _match("café?")
    assert caught.value.kind == "non-ascii"


def test_the_sigma_package_imports_nothing_from_pysigma_until_used():
    code = ("import sys; sys.modules['sigma'] = None\n"
            "import trailguard.sigma, trailguard.sigma.conversion, trailguard.sigma.fields, trailguard.sigma.values\n"
            "import trailguard.sigma.convert, trailguard.sigma.doctable, trailguard.sigma.sigmahq\n"
            "import trailguard.cli.sigma_cmd\n"
            "print('ok')")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.stdout == "ok\n", done.stderr
