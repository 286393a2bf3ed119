"""What the demo draws at random (SPEC §2): one ``random.Random(seed)`` for names (from Faker's zh_CN
lists, drawn with that generator), phone numbers, ID numbers (valid check digits, ``stdnum``),
credit codes, addresses in and outside the city, dates and times of day.

Same seed, same draws, in the same order: the registry comes out the same."""

from __future__ import annotations

import datetime as dt
import itertools
import random

from django.utils import timezone
from faker import Faker
from stdnum.cn import ric, uscc

from wuye.registry.enums import (
    PhoneValidity,
)
from wuye.registry.services import person_search_keys

CITY = "深圳市"
CITY_AREA_CODE = "0755"
DISTRICTS = ["南山区", "福田区", "龙岗区", "宝安区", "龙华区", "罗湖区"]
ROADS = [
    "深南大道",
    "滨海大道",
    "北环大道",
    "香蜜湖路",
    "科苑路",
    "南海大道",
    "龙岗大道",
    "宝安大道",
    "新湖路",
    "民治大道",
    "梅林路",
    "沙河西路",
    "华强北路",
    "红荔路",
    "莲花路",
    "侨香路",
    "留仙大道",
    "创业路",
    "桃园路",
    "布吉路",
]
OTHER_CITIES = [
    ("湖南省长沙市", ["岳麓区", "芙蓉区", "雨花区"], ["麓山南路", "五一大道", "韶山北路"]),
    ("广东省广州市", ["天河区", "越秀区", "海珠区"], ["天河路", "中山五路", "江南大道"]),
    ("湖北省武汉市", ["武昌区", "江汉区", "洪山区"], ["中南路", "解放大道", "珞喻路"]),
    ("江西省赣州市", ["章贡区", "南康区"], ["红旗大道", "文清路"]),
    ("北京市", ["朝阳区", "海淀区"], ["建国路", "中关村大街"]),
    ("上海市", ["浦东新区", "徐汇区"], ["世纪大道", "漕溪北路"]),
    ("广东省梅州市", ["梅江区", "梅县区"], ["江南路", "彬芳大道"]),
    ("四川省成都市", ["武侯区", "锦江区"], ["人民南路", "春熙路"]),
]
# Counties that stdnum's cn.ric accepts for every birth year used below (1950–2003).
ID_AREA_CODES = [
    "110101",
    "110105",
    "110108",
    "120101",
    "140121",
    "150121",
    "210122",
    "222401",
    "230722",
    "310101",
    "310104",
    "330122",
    "340121",
    "340221",
    "350121",
    "360121",
    "360122",
    "422822",
    "430121",
    "430122",
    "430221",
    "440221",
    "510121",
    "510122",
    "520201",
    "530121",
    "610321",
    "620121",
    "640121",
    "650121",
]
MOBILE_PREFIXES = [
    "130", "131", "132", "133", "135", "136", "137", "138", "139",
    "150", "151", "152", "153", "155", "156", "157", "158", "159",
    "173", "175", "176", "177", "178",
    "180", "181", "182", "183", "185", "186", "187", "188", "189",
    "191", "193", "195", "198", "199",
]  # fmt: skip
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
NAME_POOL_SIZE = 30_000


def surname_of(name: str) -> str:
    return name[:2] if name[:2] == "欧阳" else name[:1]


class Draws:
    """Everything drawn at random for the registry, from one ``random.Random(seed)``: names from a
    fixed pool, phone and ID numbers (never twice), credit codes, addresses, dates and times."""

    def __init__(self, *, seed: int, today: dt.date, rooms: int):
        self.rng = random.Random(seed)
        self.today = today
        self.tz = timezone.get_current_timezone()
        self.used_numbers: set[str] = set()
        self.used_ids: set[str] = set()
        self.keys_cache: dict[str, dict[str, str]] = {}
        faker = Faker("zh_CN")
        faker.seed_instance(seed)
        provider = faker.provider("faker.providers.person")
        self.surnames = list(provider.last_names)
        self.surname_weights = list(itertools.accumulate(provider.last_names.values()))
        self.given_male = list(provider.first_names_male)
        self.given_female = list(provider.first_names_female)
        self.companies = list(dict.fromkeys(faker.company() for _ in range(600)))
        self.given_pool = {"m": self._given_pool("m"), "f": self._given_pool("f")}
        # People are drawn from a fixed pool of names, as many share a name in real life (王伟, 李静);
        # it also bounds the pinyin work, the slowest part of making a person.
        pool_size = min(NAME_POOL_SIZE, 2 * rooms + 1000)
        self.name_pool = [self._new_name() for _ in range(pool_size)]
        self.pool_by_surname: dict[str, list[tuple[str, str]]] = {}
        for entry in self.name_pool:
            self.pool_by_surname.setdefault(surname_of(entry[0]), []).append(entry)

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def days_ago(self, low: int, high: int) -> dt.date:
        return self.today - dt.timedelta(days=self.rng.randint(low, high))

    def between(self, start: dt.date, end: dt.date) -> dt.date:
        if end <= start:
            return start
        return start + dt.timedelta(days=self.rng.randint(0, (end - start).days))

    def at(self, day: dt.date, hour_low: int = 8, hour_high: int = 19) -> dt.datetime:
        return dt.datetime.combine(
            day,
            dt.time(self.rng.randint(hour_low, hour_high), self.rng.randint(0, 59)),
            tzinfo=self.tz,
        )

    def _given_pool(self, gender: str) -> list[str]:
        """Given names: Faker's common ones and two-character ones made from them (张志强, 李静怡)."""
        source = self.given_male if gender == "m" else self.given_female
        singles = [n for n in source if len(n) == 1]
        pairs = {self.rng.choice(singles) + self.rng.choice(singles) for _ in range(400)}
        return source + sorted(p for p in pairs if p[0] != p[1])

    def _new_name(self) -> tuple[str, str]:
        gender = "m" if self.chance(0.5) else "f"
        surname = self.rng.choices(self.surnames, cum_weights=self.surname_weights)[0]
        return surname + self.rng.choice(self.given_pool[gender]), gender

    def name(self, surname: str | None = None) -> tuple[str, str]:
        """A name and gender (``m``/``f``); with ``surname``, someone of that family."""
        return self.rng.choice(self.pool_by_surname.get(surname or "", self.name_pool))

    def search_keys(self, name: str) -> dict[str, str]:
        keys = self.keys_cache.get(name)
        if keys is None:
            keys = self.keys_cache[name] = person_search_keys(name)
        return keys

    def mobile(self) -> str:
        while True:
            number = self.rng.choice(MOBILE_PREFIXES) + f"{self.rng.randrange(10**8):08d}"
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def landline(self) -> str:
        while True:
            number = (
                CITY_AREA_CODE + str(self.rng.randint(2, 8)) + f"{self.rng.randrange(10**7):07d}"
            )
            if number not in self.used_numbers:
                self.used_numbers.add(number)
                return number

    def id_number(self, gender: str, born_from: int, born_to: int) -> str:
        while True:
            birth = dt.date(self.rng.randint(born_from, born_to), 1, 1) + dt.timedelta(
                days=self.rng.randint(0, 364)
            )
            sequence = self.rng.randrange(1, 999)
            if (sequence % 2 == 1) != (gender == "m"):  # odd for men, even for women
                sequence = sequence + 1 if sequence < 998 else sequence - 1
            body = f"{self.rng.choice(ID_AREA_CODES)}{birth:%Y%m%d}{sequence:03d}"
            number = body + ric.calc_check_digit(body + "0")
            if number not in self.used_ids:
                self.used_ids.add(number)
                return number

    def credit_code(self, area: str = "440300") -> str:
        body = "91" + area + "".join(self.rng.choice(USCC_CHARS) for _ in range(9))
        return body + uscc.calc_check_digit(body + "0")

    def local_address(self) -> str:
        district = self.rng.choice(DISTRICTS)
        return f"{CITY}{district}{self.rng.choice(ROADS)}{self.rng.randint(1, 399)}号"

    def other_city_address(self) -> str:
        city, districts, roads = self.rng.choice(OTHER_CITIES)
        return (
            f"{city}{self.rng.choice(districts)}{self.rng.choice(roads)}"
            f"{self.rng.randint(1, 299)}号{self.rng.randint(1, 30)}栋{self.rng.randint(101, 2802)}"
        )

    def work_address(self) -> str:
        return f"{self.local_address()} {self.rng.choice(self.companies)}"

    def phone_validity(self) -> tuple[str, dt.datetime | None, str]:
        roll = self.rng.random()
        if roll < 0.04:
            validity = self.rng.choices(
                [
                    PhoneValidity.DISCONNECTED,
                    PhoneValidity.WRONG_NUMBER,
                    PhoneValidity.NO_ANSWER,
                    PhoneValidity.POWERED_OFF,
                ],
                weights=[35, 15, 30, 20],
            )[0]
            note = {
                PhoneValidity.DISCONNECTED: "提示空号/停机",
                PhoneValidity.WRONG_NUMBER: "对方称打错了",
                PhoneValidity.NO_ANSWER: "多次拨打无人接听",
                PhoneValidity.POWERED_OFF: "多次关机",
            }[validity]
            return validity, self.at(self.days_ago(1, 365)), note
        if roll < 0.55:
            return PhoneValidity.OK, self.at(self.days_ago(1, 700)), ""
        return PhoneValidity.UNKNOWN, None, ""
