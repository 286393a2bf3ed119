"""Choices of the registry, importable without the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class RoomUse(models.TextChoices):
    RESIDENCE = "residence", _("住宅")
    SHOP = "shop", _("商铺")
    OFFICE = "office", _("写字楼")
    APARTMENT = "apartment", _("公寓")
    PARKING = "parking", _("车位")


class OccupancyState(models.TextChoices):
    VACANT = "vacant", _("空置")
    DECORATING = "decorating", _("装修")
    OCCUPIED = "occupied", _("入住")
    RENTED = "rented", _("出租")


class PersonKind(models.TextChoices):
    INDIVIDUAL = "individual", _("个人")
    ORGANISATION = "organisation", _("单位")


class IdType(models.TextChoices):
    ID_CARD = "id_card", _("居民身份证")
    PASSPORT = "passport", _("护照")
    HK_MO_TW = "hk_mo_tw", _("港澳台通行证")
    CREDIT_CODE = "credit_code", _("统一社会信用代码")
    OTHER = "other", _("其他")


class PhoneLabel(models.TextChoices):
    MOBILE = "mobile", _("手机")
    HOME = "home", _("住宅电话")
    WORK = "work", _("单位电话")
    OTHER = "other", _("其他")


class PhoneValidity(models.TextChoices):
    UNKNOWN = "unknown", _("未核实")
    OK = "ok", _("有效")
    NO_ANSWER = "no_answer", _("无人接听")
    POWERED_OFF = "powered_off", _("关机")
    DISCONNECTED = "disconnected", _("停机/空号")
    WRONG_NUMBER = "wrong_number", _("错号")


# Marks after which a number should not be dialled again until someone finds a new one.
DEAD_PHONE_MARKS = frozenset({PhoneValidity.DISCONNECTED, PhoneValidity.WRONG_NUMBER})


class OccupancyRole(models.TextChoices):
    OWNER = "owner", _("业主")
    CO_OWNER = "co_owner", _("共有人")
    TENANT = "tenant", _("租户")
    RESIDENT = "resident", _("住户")


class ParkingKind(models.TextChoices):
    OWNED = "owned", _("产权车位")
    RENTED = "rented", _("租赁车位")
    PUBLIC = "public", _("公共车位")


class ResponsibleParty(models.TextChoices):
    DEVELOPER = "developer", _("开发建设单位")
    COMPANY = "company", _("物业公司")
    OWNER = "owner", _("业主")
    OTHER = "other", _("其他")


class IssueState(models.TextChoices):
    OPEN = "open", _("待处理")
    IN_PROGRESS = "in_progress", _("处理中")
    RESOLVED = "resolved", _("已解决")
    CLOSED = "closed", _("已关闭")


OPEN_ISSUE_STATES = frozenset({IssueState.OPEN, IssueState.IN_PROGRESS})


class TicketCategory(models.TextChoices):
    REPAIR = "repair", _("报修")
    COMPLAINT = "complaint", _("投诉")
    SUGGESTION = "suggestion", _("建议")
    OTHER = "other", _("其他")


class TicketState(models.TextChoices):
    OPEN = "open", _("待处理")
    PROCESSING = "processing", _("处理中")
    RESOLVED = "resolved", _("已完成")
    CLOSED = "closed", _("已关闭")
