"""The pinyin phrases customer names need, instead of pypinyin's whole phrase table.

pypinyin reads 47,000 phrases at import (~44 MB in every process); all but ~3,400 of
them read, without tones, as their characters do one by one, which the character table
gives anyway. Only those ~3,400 are kept (data/pinyin_phrases.json). On the seeded
100,000 names the readings change for 18, each time for the better: 长安 after 市 is
read cháng'ān, no longer 市长 + 安. Regenerate the file after upgrading pypinyin:

    .venv/bin/python -m salesdesk.ledger.pinyin_phrases > salesdesk/ledger/data/pinyin_phrases.json
"""

import json
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data" / "pinyin_phrases.json"


def load():
    """{phrase: [[syllable], …]} as pypinyin.load_phrases_dict takes it."""
    phrases = json.loads(DATA.read_text(encoding="utf-8"))
    return {phrase: [[syllable] for syllable in syllables] for phrase, syllables in phrases.items()}


def build():
    """The phrases of pypinyin's table whose toneless reading differs from their
    characters' first readings (run in a process that loaded the whole table)."""
    from pypinyin import Style
    from pypinyin.constants import PHRASES_DICT, PINYIN_DICT
    from pypinyin.style import convert

    def toneless(syllable):
        return convert(syllable, Style.NORMAL, strict=True)

    def first_reading(char):
        readings = PINYIN_DICT.get(ord(char))
        return toneless(readings.split(",")[0]) if readings else char

    kept = {}
    for phrase, readings in sorted(PHRASES_DICT.items()):
        syllables = [reading[0] for reading in readings]
        if [toneless(s) for s in syllables] != [first_reading(char) for char in phrase]:
            kept[phrase] = syllables
    return kept


if __name__ == "__main__":
    json.dump(build(), sys.stdout, ensure_ascii=False, separators=(",", ":"))
    sys.stdout.write("\n")
