"""An MT940 statement is held to the same row limit as a spreadsheet (WUYE_IMPORT_MAX_ROWS): a file of
hundreds of thousands of transactions is refused before it is parsed and stored line by line."""

import pytest

from wuye.banking.statements import parse_statement
from wuye.core.errors import ValidationFailed

HEAD = ":20:STMT\n:25:CN/6222020200112233445\n:28C:00001/001\n:60F:C251201CNY1000,00\n"
TX = ":61:2512011201C600,00NTRFNONREF//MT{n:04d}\n:86:/NAME/ZHANG SAN/REMI/5-1-803\n"


def _mt940(count: int) -> bytes:
    body = "".join(TX.format(n=i) for i in range(count))
    return (HEAD + body + ":62F:C251202CNY1550,00\n").encode()


def test_an_mt940_file_over_the_row_limit_is_refused(settings):
    settings.WUYE_IMPORT_MAX_ROWS = 5
    with pytest.raises(ValidationFailed) as caught:
        parse_statement(_mt940(6))
    assert caught.value.code == "import.too_large" and "5" in caught.value.message
    assert len(parse_statement(_mt940(5)).lines) == 5
