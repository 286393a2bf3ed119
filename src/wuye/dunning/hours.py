"""When a steward may contact an owner today, said before they try (issue 17 item 1).

The pages show the project's windows on today's list and on each card, and the contact form carries
them so the browser can stop a call outside them before the photo is uploaded. The server stays the
judge: ``rules.contact_time_refusal`` refuses whatever gets past the page. After a refusal,
``next_steps`` says what the steward can do instead (a message, a door notice, the next window).
"""

from __future__ import annotations

import datetime
import json
from dataclasses import dataclass, field

from django.conf import settings as django_settings
from django.utils import timezone

from wuye.dunning import rules
from wuye.dunning.enums import MESSAGE_CHANNELS, VOICE_CHANNELS, Channel

DAY = datetime.timedelta(days=1)
Windows = list[tuple[datetime.time, datetime.time]]


def _text(windows: Windows) -> str:
    return "、".join(f"{a:%H:%M}–{b:%H:%M}" for a, b in windows) or "无"


def _inside(windows: Windows, moment: datetime.time) -> bool:
    return any(a <= moment < b for a, b in windows)


def _when(moment: datetime.datetime, today: datetime.date) -> str:
    if moment.date() == today:
        return f"{moment:%H:%M}"
    if moment.date() == today + DAY:
        return f"明天 {moment:%H:%M}"
    return f"{moment:%m-%d %H:%M}"


@dataclass
class ContactHours:
    """Today's windows of one project and where ``now`` stands in them."""

    season: str
    voice: Windows
    message: Windows
    voice_open: bool
    message_open: bool
    voice_next: str  # "14:00" or "明天 09:00": when calls and visits are next allowed
    message_next: str
    tomorrow_voice: Windows = field(default_factory=list)

    @property
    def voice_text(self) -> str:
        return _text(self.voice)

    @property
    def message_text(self) -> str:
        return _text(self.message)

    def client_json(self) -> str:
        """What the contact form's script needs to check the hour before sending (base.js)."""
        return json.dumps(
            {
                "tz": django_settings.TIME_ZONE,
                "voice": [[f"{a:%H:%M}", f"{b:%H:%M}"] for a, b in self.voice],
                "message": [[f"{a:%H:%M}", f"{b:%H:%M}"] for a, b in self.message],
                "tomorrow": (
                    f"{self.tomorrow_voice[0][0]:%H:%M}" if self.tomorrow_voice else "09:00"
                ),
                "voiceChannels": sorted(str(c) for c in VOICE_CHANNELS),
                "messageChannels": sorted(str(c) for c in MESSAGE_CHANNELS),
                "voiceText": self.voice_text,
                "messageText": self.message_text,
            },
            ensure_ascii=False,
        )


def contact_hours(project_id: int, now: datetime.datetime | None = None) -> ContactHours:
    settings = rules.dunning_settings(project_id)
    local = timezone.localtime(now or timezone.now())
    today = local.date()
    voice = rules.voice_windows(settings, today)
    message = rules.message_windows(settings)
    voice_next = rules.next_allowed_time(channel=Channel.PHONE, at=local, settings=settings)
    message_next = rules.next_allowed_time(channel=Channel.SMS, at=local, settings=settings)
    return ContactHours(
        season="夏季" if settings.is_summer(today) else "冬季",
        voice=voice,
        message=message,
        voice_open=_inside(voice, local.time()),
        message_open=_inside(message, local.time()),
        voice_next=_when(timezone.localtime(voice_next), today),
        message_next=_when(timezone.localtime(message_next), today),
        tomorrow_voice=rules.voice_windows(settings, today + DAY),
    )


@dataclass(frozen=True)
class NextStep:
    """One thing to do after a refusal: a sentence, and optionally the channel to switch the form to."""

    text: str
    channel: str = ""


def next_steps(
    code: str, channel: str, hours: ContactHours, *, written_only: bool = False
) -> list[NextStep]:
    """What to do instead of the refused contact, by the refusal's code (empty: fix the field)."""
    notice = NextStep("改为登记张贴/投递通知（不限时段）", Channel.DOOR_NOTICE)
    sms = NextStep(f"改为登记短信（短信可发到 {hours.message[-1][1]:%H:%M}）", Channel.SMS)
    steps: list[NextStep] = []
    if code == "dunning.outside_hours":
        if channel in VOICE_CHANNELS:
            steps.append(
                NextStep(f"{hours.voice_next} 后再拨（电话和上门时段：{hours.voice_text}）")
            )
            if hours.message_open and hours.message:
                steps.append(sms)
        else:
            steps.append(NextStep(f"{hours.message_next} 后再发"))
        steps.append(notice)
    elif code == "dunning.over_cap":
        steps.append(NextStep("明天再拨"))
        if hours.voice_open:
            steps.append(NextStep("改为登记上门", Channel.VISIT_HOME))
        if hours.message_open and hours.message:
            steps.append(sms)
    elif code == "dunning.written_only" or written_only and channel in VOICE_CHANNELS:
        if hours.message_open and hours.message:
            steps.append(sms)
        steps.append(NextStep("改为登记邮寄/EMS", Channel.MAIL))
        steps.append(notice)
    return steps
