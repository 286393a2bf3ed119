"""Choices of the dunning workflow (SPEC §5), importable without the models."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class CaseState(models.TextChoices):
    OPEN = "open", _("催缴中")
    CLOSED = "closed", _("已结案")


class CaseClass(models.TextChoices):
    """SPEC §5 step 5. A case has no class until its first contact."""

    A = "A", _("A 近期交纳")
    B = "B", _("B 暂未明确")
    C = "C", _("C 无法联系")
    D = "D", _("D 异地")
    E = "E", _("E 特殊拒交")


class Stage(models.TextChoices):
    """SPEC §5 steps 4–9, in order: a case only moves forward through them (or is closed)."""

    REMINDER = "reminder", _("电话提醒")
    VISIT = "visit", _("上门催缴")
    WRITTEN_DEMAND = "written_demand", _("书面催告")
    LAWYER_LETTER = "lawyer_letter", _("律师函")
    LEGAL = "legal", _("法律程序")


STAGE_ORDER = [s.value for s in Stage]


class NextAction(models.TextChoices):
    FIRST_CALL = "first_call", _("首次电话提醒")
    # A reliable payer's segment strategy may start with a reminder message instead (wuye.credit).
    REMINDER_SMS = "reminder_sms", _("发送提醒短信")
    PROMISE_EVE_CALL = "promise_eve_call", _("承诺日前一天提醒")
    # Owners who asked for written contact only (LAW.md §8): the written stand-ins of the calls.
    PROMISE_EVE_SMS = "promise_eve_sms", _("承诺日前一天短信提醒")
    WRITTEN_FOLLOW_UP = "written_follow_up", _("书面跟进（短信/信函）")
    DAILY_CALL = "daily_call", _("每日电话跟进")
    FIND_NUMBER = "find_number", _("查找新号码并上门")
    REMOTE_GUIDE = "remote_guide", _("电话引导远程缴费")
    SUPERVISOR_REVIEW = "supervisor_review", _("主管研判")
    VISIT = "visit", _("上门催缴")
    WRITTEN_DEMAND = "written_demand", _("送达书面催告")
    LAWYER_LETTER = "lawyer_letter", _("发律师函")
    LEGAL_REVIEW = "legal_review", _("清欠小组审查")


class Channel(models.TextChoices):
    PHONE = "phone", _("电话")
    SMS = "sms", _("短信")
    WECHAT = "wechat", _("微信消息")
    VISIT_HOME = "visit_home", _("上门（住所）")
    VISIT_WORK = "visit_work", _("上门（工作单位）")
    DOOR_NOTICE = "door_notice", _("张贴/投递催费通知")
    MAIL = "mail", _("邮寄/EMS")
    LAWYER_LETTER = "lawyer_letter", _("律师函")
    WINDOW = "window", _("窗口面谈")


# Channels that speak to the owner in person or by voice: working windows, caps and the
# written-contact-only flag apply (LAW.md §8).
VOICE_CHANNELS = frozenset({Channel.PHONE, Channel.VISIT_HOME, Channel.VISIT_WORK})
# Text messages: only 08:00–21:00 by default (LAW.md §8).
MESSAGE_CHANNELS = frozenset({Channel.SMS, Channel.WECHAT})
# Paper demands: may interrupt the limitation period once delivery is proven (LAW.md §7).
WRITTEN_CHANNELS = frozenset({Channel.DOOR_NOTICE, Channel.MAIL, Channel.LAWYER_LETTER})


class UnreachedReason(models.TextChoices):
    NO_ANSWER = "no_answer", _("无人接听")
    POWERED_OFF = "powered_off", _("关机")
    NO_SIGNAL = "no_signal", _("无信号/不在服务区")
    DISCONNECTED = "disconnected", _("停机/空号")
    WRONG_NUMBER = "wrong_number", _("错号")


class RefusalReason(models.TextChoices):
    NEIGHBOURS = "neighbours", _("别人不交我也不交")
    LEAK = "leak", _("房屋漏水/渗水")
    LIFT = "lift", _("电梯问题")
    THEFT = "theft", _("失窃（车辆/入室）")
    DEVELOPER_DEFECT = "developer_defect", _("开发商遗留质量问题")
    SERVICE_QUALITY = "service_quality", _("服务质量不满意")
    HARDSHIP = "hardship", _("经济困难")
    DISPUTED_AMOUNT = "disputed_amount", _("对金额有异议")
    OTHER = "other", _("其他")


class DeliveryStatus(models.TextChoices):
    NONE = "", _("—")
    SENT = "sent", _("已发出")
    DELIVERED = "delivered", _("已送达/签收")
    FAILED = "failed", _("发送失败")
    RETURNED = "returned", _("退回/拒收")


class AttachmentKind(models.TextChoices):
    PHOTO = "photo", _("现场照片")
    SCREENSHOT = "screenshot", _("截图")
    EMS_SLIP = "ems_slip", _("快递/EMS签收凭证")
    SIGNED = "signed", _("业主签收单")
    OWNER_REPLY = "owner_reply", _("业主回复（短信/微信/书面）")
    RECORDING = "recording", _("通话录音")
    OTHER = "other", _("其他")


# What proves that a written demand reached the owner (LAW.md §7): a signed slip, the owner's
# reply, a courier's signed receipt. A photo of a notice on a door shows it was posted, not read.
PROOF_OF_RECEIPT = frozenset(
    {AttachmentKind.SIGNED, AttachmentKind.OWNER_REPLY, AttachmentKind.EMS_SLIP}
)


class ReceiptStatus(models.TextChoices):
    DELIVERED = "delivered", _("已送达")
    FAILED = "failed", _("未送达")


class EventKind(models.TextChoices):
    OPENED = "opened", _("立案")
    REOPENED = "reopened", _("重新立案")
    CLOSED = "closed", _("结案")
    CLASS = "class", _("分类变更")
    STAGE = "stage", _("阶段变更")
    ASSIGNEE = "assignee", _("责任人变更")
    PROMISE = "promise", _("承诺缴费")
    BANK = "bank", _("银行代扣结果")


class EscalationKind(models.TextChoices):
    """SPEC §5 step 7: the three triggers of a door visit."""

    PROMISE_BROKEN = "promise_broken", _("承诺日已过仍未缴")
    NOT_A_WITHIN = "not_a_within", _("立案后未转为A类")
    UNPAID_FOR = "unpaid_for", _("欠费持续未缴")


class RunStatus(models.TextChoices):
    RUNNING = "running", _("进行中")
    DONE = "done", _("已完成")
    FAILED = "failed", _("失败")
