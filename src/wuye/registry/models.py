"""One file per household (一户一档): buildings, rooms, people, occupancies, parking, legacy issues, tickets.

Constraints the database can hold are declared here; checks across tables live in ``services``.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from wuye.core.fields import SearchKeyField
from wuye.core.importing.batch import ImportBatchBase, ImportStatus  # noqa: F401 (re-exported)
from wuye.core.models import Project
from wuye.registry.enums import (
    IdType,
    IssueState,
    OccupancyRole,
    OccupancyState,
    ParkingKind,
    PersonKind,
    PhoneLabel,
    PhoneValidity,
    ResponsibleParty,
    RoomUse,
    TicketCategory,
    TicketState,
)


class Building(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="buildings")
    code = models.CharField(_("楼栋编号"), max_length=20)
    name = models.CharField(_("楼栋名称"), max_length=40)
    floors = models.PositiveSmallIntegerField(_("层数"), null=True, blank=True)
    steward = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="stewarded_buildings",
        verbose_name=_("楼管"),
    )
    sort = models.PositiveIntegerField(_("排序"), default=0)

    class Meta:
        verbose_name = _("楼栋")
        verbose_name_plural = _("楼栋")
        ordering = ["project_id", "sort", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "code"], name="building_code_unique_in_project"
            )
        ]

    def __str__(self) -> str:
        return self.name


class Unit(models.Model):
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="units")
    code = models.CharField(_("单元编号"), max_length=20)
    name = models.CharField(_("单元名称"), max_length=40)

    class Meta:
        verbose_name = _("单元")
        verbose_name_plural = _("单元")
        ordering = ["building_id", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["building", "code"], name="unit_code_unique_in_building"
            )
        ]

    def __str__(self) -> str:
        return f"{self.building.name}{self.name}"


class Room(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="rooms")
    building = models.ForeignKey(Building, on_delete=models.PROTECT, related_name="rooms")
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, null=True, blank=True, related_name="rooms"
    )
    code = models.CharField(_("房号"), max_length=40, help_text=_("楼栋-单元-房号，如 3-2-1502"))
    number = models.CharField(_("室号"), max_length=20)
    floor = models.SmallIntegerField(_("楼层"), null=True, blank=True)
    gross_area = models.DecimalField(
        _("建筑面积(㎡)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    inner_area = models.DecimalField(
        _("套内面积(㎡)"), max_digits=10, decimal_places=2, null=True, blank=True
    )
    use = models.CharField(
        _("用途"), max_length=20, choices=RoomUse.choices, default=RoomUse.RESIDENCE
    )
    handed_over = models.BooleanField(_("已收楼"), default=True)
    handover_date = models.DateField(_("收楼日期"), null=True, blank=True)
    occupancy_state = models.CharField(
        _("使用状态"),
        max_length=20,
        choices=OccupancyState.choices,
        default=OccupancyState.OCCUPIED,
    )
    note = models.CharField(_("备注"), max_length=200, blank=True)
    # Lower-case code for prefix search, and the room number reversed so "1502" finds 3-2-1502 by prefix.
    # Indexed with the project in front (Meta.indexes): see decision 0002.
    code_key = SearchKeyField(max_length=40, db_index=False)
    number_rev = SearchKeyField(max_length=20, db_index=False)
    # The code's natural order kept as text (``core.sorting.natural_key``): search results come in
    # natural order (1-2-1502 before 10-1-1502) from an index, not from a regular expression per row.
    code_sort = SearchKeyField(max_length=255, db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("房屋")
        verbose_name_plural = _("房屋")
        ordering = ["project_id", "code"]
        constraints = [
            models.UniqueConstraint(fields=["project", "code"], name="room_code_unique_in_project"),
            models.CheckConstraint(
                condition=Q(gross_area__isnull=True) | Q(gross_area__gte=0),
                name="room_gross_area_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(inner_area__isnull=True) | Q(inner_area__gte=0),
                name="room_inner_area_not_negative",
            ),
            models.CheckConstraint(
                condition=Q(inner_area__isnull=True)
                | Q(gross_area__isnull=True)
                | Q(inner_area__lte=models.F("gross_area")),
                name="room_inner_area_within_gross",
            ),
            models.CheckConstraint(
                condition=Q(handed_over=True) | Q(occupancy_state=OccupancyState.VACANT),
                name="room_not_handed_over_is_vacant",
            ),
        ]
        indexes = [
            models.Index(fields=["building", "unit", "floor", "code"], name="room_browse_idx"),
            models.Index(fields=["project", "code_key"], name="room_search_code_idx"),
            models.Index(
                fields=["project", "number_rev", "code_sort"], name="room_search_number_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.code


class Person(models.Model):
    """An owner, co-owner, tenant or resident — or the developer, who pays for rooms not handed over."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="people")
    kind = models.CharField(
        _("类型"), max_length=20, choices=PersonKind.choices, default=PersonKind.INDIVIDUAL
    )
    name = models.CharField(_("姓名/名称"), max_length=100)
    is_developer = models.BooleanField(_("开发建设单位"), default=False)
    id_type = models.CharField(
        _("证件类型"), max_length=20, choices=IdType.choices, default=IdType.ID_CARD, blank=True
    )
    id_number = models.CharField(_("证件号码"), max_length=30, blank=True)
    home_address = models.CharField(_("家庭住址"), max_length=200, blank=True)
    work_address = models.CharField(_("工作单位地址"), max_length=200, blank=True)
    mailing_address = models.CharField(_("邮寄地址"), max_length=200, blank=True)
    preferred_contact_times = models.CharField(
        _("方便联系时间"), max_length=100, blank=True, help_text=_("如：早出晚归，晚上7点后")
    )
    written_contact_only = models.BooleanField(
        _("仅书面联系"),
        default=False,
        help_text=_("业主要求只以书面方式联系：不打电话、不上门（本公司联系规范）"),
    )
    notes = models.TextField(_("备注"), blank=True)
    # Indexed with the project in front (Meta.indexes): see decision 0002.
    name_key = SearchKeyField(db_index=False)
    name_pinyin = SearchKeyField(db_index=False)
    name_initials = SearchKeyField(max_length=40, db_index=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        verbose_name = _("客户")
        verbose_name_plural = _("客户")
        ordering = ["project_id", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["project"],
                condition=Q(is_developer=True),
                name="one_developer_per_project",
            ),
        ]
        # The id closes each search index: a search reads a key range ordered by (key, id) with a
        # LIMIT, and with the id in the index that is the index's own order — 20 entries read, not
        # every person of a common surname or initials (5,000 for "lxy" at 1,000,000 rooms).
        indexes = [
            models.Index(fields=["project", "name_key", "id"], name="person_search_name_idx"),
            models.Index(fields=["project", "name_pinyin", "id"], name="person_search_pinyin_idx"),
            models.Index(
                fields=["project", "name_initials", "id"], name="person_search_initials_idx"
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Phone(models.Model):
    person = models.ForeignKey(Person, on_delete=models.CASCADE, related_name="phones")
    number = models.CharField(_("号码"), max_length=20)
    label = models.CharField(
        _("类型"), max_length=10, choices=PhoneLabel.choices, default=PhoneLabel.MOBILE
    )
    validity = models.CharField(
        _("有效性"), max_length=20, choices=PhoneValidity.choices, default=PhoneValidity.UNKNOWN
    )
    is_primary = models.BooleanField(_("首选"), default=False)
    validity_checked_at = models.DateTimeField(_("核实时间"), null=True, blank=True)
    note = models.CharField(_("备注"), max_length=100, blank=True)
    number_rev = SearchKeyField(max_length=20)

    class Meta:
        verbose_name = _("电话")
        verbose_name_plural = _("电话")
        ordering = ["person_id", "-is_primary", "id"]
        constraints = [
            models.UniqueConstraint(fields=["person", "number"], name="phone_unique_per_person"),
        ]

    def __str__(self) -> str:
        return self.number


class Occupancy(models.Model):
    """A person's tie to a room for a time: owner, co-owner, tenant or resident, and whether they pay."""

    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="occupancies")
    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="occupancies")
    role = models.CharField(_("身份"), max_length=20, choices=OccupancyRole.choices)
    start_date = models.DateField(_("起始日期"), null=True, blank=True)
    end_date = models.DateField(_("结束日期"), null=True, blank=True)
    is_payer = models.BooleanField(_("缴费人"), default=False)

    class Meta:
        verbose_name = _("房屋关系")
        verbose_name_plural = _("房屋关系")
        ordering = ["room_id", "role", "id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__isnull=True)
                | Q(start_date__isnull=True)
                | Q(end_date__gte=models.F("start_date")),
                name="occupancy_ends_after_start",
            ),
            models.UniqueConstraint(
                fields=["room"],
                condition=Q(is_payer=True, end_date__isnull=True),
                name="one_current_payer_per_room",
            ),
            models.UniqueConstraint(
                fields=["room", "person", "role"],
                condition=Q(end_date__isnull=True),
                name="occupancy_current_unique",
            ),
        ]
        indexes = [
            # Search: the rooms of the people a search found (without planner statistics PostgreSQL
            # otherwise ANDs the person index with the whole current-occupancy index).
            models.Index(
                fields=["person"],
                condition=Q(end_date__isnull=True),
                name="occupancy_current_person_idx",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.room} {self.get_role_display()} {self.person}"


class ParkingSpace(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="parking_spaces")
    code = models.CharField(_("车位编号"), max_length=30)
    location = models.CharField(_("位置"), max_length=60, blank=True)
    kind = models.CharField(
        _("类型"), max_length=20, choices=ParkingKind.choices, default=ParkingKind.OWNED
    )
    area = models.DecimalField(_("面积(㎡)"), max_digits=8, decimal_places=2, null=True, blank=True)
    room = models.ForeignKey(
        Room, on_delete=models.SET_NULL, null=True, blank=True, related_name="parking_spaces"
    )
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="parking_spaces"
    )
    plate = models.CharField(_("车牌号"), max_length=20, blank=True)

    class Meta:
        verbose_name = _("车位")
        verbose_name_plural = _("车位")
        ordering = ["project_id", "code"]
        constraints = [
            models.UniqueConstraint(
                fields=["project", "code"], name="parking_code_unique_in_project"
            )
        ]

    def __str__(self) -> str:
        return self.code


class LegacyIssue(models.Model):
    """A known defect or dispute tied to a room; staff see it before contacting the household."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="legacy_issues")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="legacy_issues")
    title = models.CharField(_("问题"), max_length=100)
    description = models.TextField(_("详细描述"), blank=True)
    responsible_party = models.CharField(
        _("责任方"), max_length=20, choices=ResponsibleParty.choices
    )
    state = models.CharField(
        _("状态"), max_length=20, choices=IssueState.choices, default=IssueState.OPEN
    )
    reported_on = models.DateField(_("登记日期"))
    resolved_on = models.DateField(_("解决日期"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("历史遗留问题")
        verbose_name_plural = _("历史遗留问题")
        ordering = ["-reported_on", "-id"]
        indexes = [models.Index(fields=["room", "state"], name="legacy_room_state_idx")]

    def __str__(self) -> str:
        return self.title


class LegacyIssueEvent(models.Model):
    """History of a legacy issue: each state change or note, append-only."""

    issue = models.ForeignKey(LegacyIssue, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(_("时间"), auto_now_add=True)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    from_state = models.CharField(
        _("原状态"), max_length=20, choices=IssueState.choices, blank=True
    )
    to_state = models.CharField(_("新状态"), max_length=20, choices=IssueState.choices)
    note = models.TextField(_("说明"), blank=True)

    class Meta:
        verbose_name = _("遗留问题记录")
        verbose_name_plural = _("遗留问题记录")
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.from_state}→{self.to_state}"


class ServiceTicket(models.Model):
    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="tickets")
    room = models.ForeignKey(Room, on_delete=models.PROTECT, related_name="tickets")
    person = models.ForeignKey(
        Person, on_delete=models.SET_NULL, null=True, blank=True, related_name="tickets"
    )
    category = models.CharField(_("类别"), max_length=20, choices=TicketCategory.choices)
    subject = models.CharField(_("事由"), max_length=100)
    description = models.TextField(_("内容"), blank=True)
    state = models.CharField(
        _("状态"), max_length=20, choices=TicketState.choices, default=TicketState.OPEN
    )
    opened_at = models.DateTimeField(_("受理时间"))
    closed_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    satisfaction = models.PositiveSmallIntegerField(
        _("满意度(1-5)"), null=True, blank=True, help_text=_("回访评分，1 很不满意 — 5 很满意")
    )

    class Meta:
        verbose_name = _("报修/投诉")
        verbose_name_plural = _("报修/投诉")
        ordering = ["-opened_at", "-id"]
        indexes = [models.Index(fields=["room", "state"], name="ticket_room_state_idx")]
        constraints = [
            models.CheckConstraint(
                condition=Q(satisfaction__isnull=True)
                | Q(satisfaction__gte=1, satisfaction__lte=5),
                name="ticket_satisfaction_1_to_5",
            ),
            models.CheckConstraint(
                condition=Q(closed_at__isnull=True) | Q(closed_at__gte=models.F("opened_at")),
                name="ticket_closes_after_opening",
            ),
        ]

    def __str__(self) -> str:
        return self.subject


class ImportKind(models.TextChoices):
    TEMPLATE = "template", _("模板格式（房屋/客户/房屋关系三张表）")
    FLAT = "flat", _("一行一户格式")


class ImportBatch(ImportBatchBase):
    """One uploaded workbook of the registry (see ``core.importing.batch``)."""

    project = models.ForeignKey(Project, on_delete=models.PROTECT, related_name="import_batches")
    kind = models.CharField(_("格式"), max_length=20, choices=ImportKind.choices, blank=True)

    class Meta:
        verbose_name = _("导入批次")
        verbose_name_plural = _("导入批次")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["project", "-created_at"], name="import_project_recent_idx")
        ]
