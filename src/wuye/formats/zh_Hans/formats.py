"""zh-hans input formats with ISO first, so any DateInput renders ``2026-12-04`` (what an
``<input type="date">`` needs) and ``2026/12/04`` typed in a text field is still read. Display
formats stay Django's."""

DATE_INPUT_FORMATS = [
    "%Y-%m-%d",  # 2026-12-04
    "%Y/%m/%d",  # 2026/12/04
    "%Y年%m月%d日",  # 2026年12月4日
]
DATETIME_INPUT_FORMATS = [
    "%Y-%m-%d %H:%M:%S",
    "%Y-%m-%d %H:%M:%S.%f",
    "%Y-%m-%d %H:%M",
    "%Y-%m-%dT%H:%M:%S",
    "%Y-%m-%dT%H:%M",
    "%Y/%m/%d %H:%M",
    "%Y/%m/%d %H:%M:%S",
    "%Y年%m月%d日 %H:%M",
    "%Y年%m月%d日 %H:%M:%S",
]
