"""How guessable a secret is: a length floor and a pattern-aware estimate of its entropy.

The estimate is deliberately simple and pessimistic about patterns a person types: each symbol costs
the bits of the alphabet it was drawn from (digits 10, hex 16, letters 26/52, printable 94, bytes
256), except a symbol that repeats the previous one, continues a run (abc, 321, 2468) or repeats a
trigram seen earlier, which costs 1 bit. The result is capped by the sample's Shannon entropy.
"""
from __future__ import annotations

import math
import re
import string
from collections import Counter
from dataclasses import dataclass

# Words a person writes into a placeholder. None is made of hex digits only, so a hex secret never
# trips on them; long ones count anywhere (a random base64 secret holds one with probability ~1e-6),
# short ones only as a word of their own (between non-alphanumerics, ~1e-9).
PLACEHOLDER_WORDS = re.compile(
    r"change|secret|passwo|sandbox|example|default|placeholder|replace|yiqiao|qwerty|letmein"
    r"|(?<![a-z0-9])(?:test|demo|dummy|admin|todo|xxxx+|your)(?![a-z0-9])")


@dataclass(frozen=True)
class Rule:
    """What a setting's value must have: at least min_length characters (bytes) and min_bits estimated."""

    min_length: int
    min_bits: float


def _alphabet_bits(symbols: list[int], binary: bool) -> float:
    if binary:
        return 8.0
    chars = {chr(s) for s in symbols}
    if chars <= set(string.digits):
        return math.log2(10)
    if chars <= set(string.digits + "abcdef") or chars <= set(string.digits + "ABCDEF"):
        return 4.0
    size = 0
    size += 10 if chars & set(string.digits) else 0
    size += 26 if chars & set(string.ascii_lowercase) else 0
    size += 26 if chars & set(string.ascii_uppercase) else 0
    size += 32 if chars & set(string.punctuation) else 0
    size += 128 if any(s > 127 for s in symbols) else 0
    return math.log2(max(size, 2))


def _predictable(symbols: list[int], i: int, trigrams: set) -> bool:
    """Whether symbol i follows from those before it; remembers the trigram ending at i."""
    if i == 0:
        return False
    repeat = symbols[i] == symbols[i - 1]
    if i < 2:
        return repeat
    step = symbols[i] - symbols[i - 1]
    run = abs(step) <= 2 and step == symbols[i - 1] - symbols[i - 2]
    trigram = tuple(symbols[i - 2:i + 1])
    seen = trigram in trigrams
    trigrams.add(trigram)
    return repeat or run or seen


def estimated_bits(value: str | bytes) -> float:
    """A pessimistic estimate of the bits of randomness in value (see the module's docstring)."""
    binary = isinstance(value, bytes)
    symbols = list(value) if binary else [ord(c) for c in value]
    if not symbols:
        return 0.0
    unit = _alphabet_bits(symbols, binary)
    bits, trigrams = 0.0, set()
    for i in range(len(symbols)):
        bits += 1.0 if _predictable(symbols, i, trigrams) else unit
    counts = Counter(symbols)
    shannon = -sum(n / len(symbols) * math.log2(n / len(symbols)) for n in counts.values())
    return min(bits, shannon * len(symbols))


def _typed_text(value: str | bytes) -> str:
    """The text to look for placeholder words in: bytes only when a person typed them (printable ASCII)."""
    if isinstance(value, str):
        return value
    return value.decode("ascii") if value.isascii() and value.decode("ascii").isprintable() else ""


def weaknesses(value: str | bytes, rule: Rule) -> list[str]:
    """What is wrong with value under rule, in words that never quote it (empty: strong enough)."""
    found = []
    if len(value) < rule.min_length:
        found.append(f"is shorter than {rule.min_length} {'bytes' if isinstance(value, bytes) else 'characters'}")
    if estimated_bits(value) < rule.min_bits:
        found.append(f"is too predictable (under {rule.min_bits:.0f} bits: repeats, runs or few distinct characters)")
    if PLACEHOLDER_WORDS.search(_typed_text(value).lower()):
        found.append("contains a placeholder word (change, secret, test, demo, sandbox …)")
    return found
