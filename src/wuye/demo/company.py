"""The demo company: its name, its projects (with who signs their lawyer letters) and its logins — the
named staff, one password for all, and more stewards for a large demo."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.hashers import make_password

from wuye.core.models import Company, Membership, Project, User
from wuye.core.roles import Role
from wuye.demo.draws import CITY, CITY_AREA_CODE, DISTRICTS, ROADS, Draws
from wuye.demo.writer import Writer
from wuye.messaging.models import LetterSettings

DEMO_COMPANY_NAME = "示范物业服务有限公司"
DEMO_COMPANY_SHORT_NAME = "示范物业"
# Every demo login uses this password; it is printed by the command and documented. It passes the
# password validators (AUTH_PASSWORD_VALIDATORS: 10+ characters, not common, not all digits), and
# the command tells users to change it before real use.
DEMO_PASSWORD = "wuye-demo-2026"  # noqa: S105


@dataclass(frozen=True)
class StaffSpec:
    username: str
    display_name: str
    role: Role
    company_wide: bool = False
    superuser: bool = False


STAFF = (
    StaffSpec("admin", "系统管理员", Role.COMPANY_ADMIN, company_wide=True, superuser=True),
    StaffSpec("manager", "王建国", Role.PROJECT_MANAGER),
    StaffSpec("supervisor", "李秀梅", Role.SUPERVISOR),
    StaffSpec("steward1", "张伟", Role.STEWARD),
    StaffSpec("steward2", "刘芳", Role.STEWARD),
    StaffSpec("steward3", "陈磊", Role.STEWARD),
    StaffSpec("cashier", "赵丽", Role.CASHIER),
    StaffSpec("finance", "孙静", Role.FINANCE, company_wide=True),
    StaffSpec("legal", "周明", Role.LEGAL, company_wide=True),
)


# A steward (管家) looks after about this many households; a large demo gets steward4, steward5, …
# beside the three named ones, so that each login's list of today's calls is a person's day, not a
# third of a city (the load test's 200 stewards at 100,000 rooms).
HOUSEHOLDS_PER_STEWARD = 600
EXTRA_STEWARD_NAMES = "赵钱孙李周吴郑王冯陈褚卫蒋沈韩杨朱秦尤许何吕施张孔曹严华金魏陶姜"


def staff_for(rooms: int) -> tuple[StaffSpec, ...]:
    """The demo's logins for a demo of ``rooms`` rooms: STAFF, and more stewards when it is large."""
    named = sum(1 for spec in STAFF if spec.role == Role.STEWARD)
    extra = max(0, rooms // HOUSEHOLDS_PER_STEWARD - named)
    return STAFF + tuple(
        StaffSpec(
            f"steward{named + 1 + i}",
            f"{EXTRA_STEWARD_NAMES[i % len(EXTRA_STEWARD_NAMES)]}管家{named + 1 + i}号",
            Role.STEWARD,
        )
        for i in range(extra)
    )


def demo_logins() -> list[tuple[str, str, str]]:
    """(username, password, role) of the named demo logins, for the command to print."""
    return [(s.username, DEMO_PASSWORD, str(s.role.label)) for s in STAFF]


def demo_exists() -> bool:
    return Company.objects.filter(name=DEMO_COMPANY_NAME).exists()


PROJECT_NAMES = [
    "锦绣花园",
    "翠湖苑",
    "阳光新城",
    "御景湾",
    "金色家园",
    "滨江名苑",
    "紫荆雅居",
    "碧水蓝湾",
    "书香门第",
    "东方丽景",
    "枫林绿洲",
    "海棠华府",
]


class CompanyMaker(Draws, Writer):
    """The demo company's projects and logins."""

    def make_projects(self, company: Company, n_projects: int) -> list[Project]:
        projects = []
        for i in range(n_projects):
            base = PROJECT_NAMES[i % len(PROJECT_NAMES)]
            name = base if i < len(PROJECT_NAMES) else f"{base}{i // len(PROJECT_NAMES) + 1}期"
            district = self.rng.choice(DISTRICTS)
            projects.append(
                Project(
                    company=company,
                    code=f"P{i + 1:03d}",
                    name=name,
                    address=f"广东省{CITY}{district}{self.rng.choice(ROADS)}{self.rng.randint(1, 999)}号",
                    service_phone=f"{CITY_AREA_CODE}-{self.rng.randint(2, 8)}{self.rng.randrange(10**7):07d}",
                )
            )
        self.insert(Project, projects)
        # Who signs the lawyer letters: without a firm the system refuses to print one.
        self.insert(
            LetterSettings,
            [
                LetterSettings(
                    project=p,
                    law_firm=f"{CITY[:-1]}明理律师事务所",
                    lawyer="周律师",
                    law_firm_phone=f"{CITY_AREA_CODE}-83336666",
                )
                for p in projects
            ],
        )
        return projects

    def make_staff(self, company: Company, projects: list[Project], rooms: int) -> dict[str, User]:
        """The demo logins; created or updated in place, so an existing ``admin`` is taken over."""
        password = make_password(DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose
        users: dict[str, User] = {}
        staff = staff_for(rooms)
        for spec in staff:
            user = User.objects.filter(username=spec.username).first() or User(
                username=spec.username
            )
            user.password = password
            user.display_name = spec.display_name
            user.first_name = spec.display_name
            user.company = company
            user.company_role = spec.role if spec.company_wide else ""
            user.is_superuser = spec.superuser
            user.is_staff = spec.superuser
            user.is_active = True
            user.phone = self.mobile()
            user.save()
            users[spec.username] = user
        Membership.objects.filter(user__in=users.values(), project__in=projects).delete()
        memberships = [
            Membership(user=users[spec.username], project=project, role=spec.role)
            for project in projects
            for spec in staff
        ]
        self.insert(Membership, memberships)
        self.count("user", len(users))
        return users
