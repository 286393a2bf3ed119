// The contact form (今日催缴 cards and the case page): refusals are shown where the steward looks.
//  * Before sending, the browser checks the hour against the project's contact windows (the form's
//    data-hours) and refuses a call outside them itself, so a chosen photo is never uploaded in vain.
//    The server still decides (a contact backdated in 更多 is left to it).
//  * A refusal (the browser's or the server's, which htmx puts into .refusal) is moved beside the
//    button group that was pressed, scrolled to, and the field at fault is marked; nothing entered
//    is cleared.
//  * data-set-channel on a suggestion switches the form's 方式 (e.g. to 短信) in one tap.
(function () {
  "use strict";
  const minutes = (text) => { const [h, m] = text.split(":").map(Number); return h * 60 + m; };
  const clock = (m) => `${String(Math.floor(m / 60)).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
  function nowIn(tz) {
    const parts = new Intl.DateTimeFormat("en-GB", { timeZone: tz, hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
      .formatToParts(new Date());
    const part = (type) => Number(parts.find((p) => p.type === type).value);
    return part("hour") * 60 + part("minute");
  }
  const inside = (windows, now) => windows.some(([a, b]) => minutes(a) <= now && now < minutes(b));

  function element(tag, text, attrs) {
    const el = document.createElement(tag);
    if (text) el.textContent = text;
    Object.entries(attrs || {}).forEach(([k, v]) => el.setAttribute(k, v));
    return el;
  }

  // The refusal the server would give, worked out here: null when the hour is fine.
  function hourRefusal(form) {
    let hours;
    try { hours = JSON.parse(form.dataset.hours || "null"); } catch (err) { return null; }
    if (!hours || !form.elements.channel) return null;
    if (form.elements.at && form.elements.at.value) return null;  // a past contact: the server judges
    const channel = form.elements.channel.value;
    const voice = hours.voiceChannels.includes(channel);
    if (!voice && !hours.messageChannels.includes(channel)) return null;  // notices, mail: any time
    const windows = voice ? hours.voice : hours.message;
    const now = nowIn(hours.tz);
    if (inside(windows, now)) return null;
    const later = windows.map(([a]) => minutes(a)).find((a) => a > now);
    const next = later !== undefined ? clock(later) : `明天 ${voice ? hours.tomorrow : (hours.message[0] || ["08:00"])[0]}`;
    const box = element("div", "", { class: "refusal-box", "data-field": "channel" });
    const p = element("p", "", { class: "refusal-message" });
    p.append(element("b", "未登记。"), `现在 ${clock(now)} 不在${voice ? "电话和上门" : "短信、微信"}时段（今天 ${voice ? hours.voiceText : hours.messageText}；本公司联系规范：不在休息时间打扰业主）。`);
    box.append(p, element("p", "可以这样做：", { class: "small" }));
    const steps = element("ul", "", { class: "next-steps" });
    steps.append(element("li", `${next} 后再${voice ? "拨" : "发"}`));
    if (voice && inside(hours.message, now) && hours.message.length) {
      const sms = element("button", `改为登记短信（短信可发到 ${hours.message[hours.message.length - 1][1]}）`, { type: "button", class: "btn", "data-set-channel": "sms" });
      steps.append(element("li")); steps.lastChild.append(sms);
    }
    const notice = element("button", "改为登记张贴/投递通知（不限时段）", { type: "button", class: "btn", "data-set-channel": "door_notice" });
    steps.append(element("li")); steps.lastChild.append(notice);
    box.append(steps, element("p", "您填写的内容和选的照片都还在，本户仍在今日列表中。", { class: "muted small" }));
    return box;
  }

  const slotOf = (form) => form.querySelector(".refusal");

  function reveal(form) {
    const slot = slotOf(form);
    if (!slot || !slot.firstElementChild) return;
    form.querySelectorAll(".invalid").forEach((el) => { el.classList.remove("invalid"); el.removeAttribute("aria-invalid"); });
    const field = slot.querySelector("[data-field]");
    const name = field ? field.dataset.field : "";
    const input = name && form.elements[name];
    const target = input && (input.length && !input.tagName ? input[0] : input);
    if (target && target.classList) { target.classList.add("invalid"); target.setAttribute("aria-invalid", "true"); }
    slot.scrollIntoView({ block: "center" });
    slot.focus({ preventScroll: true });
  }

  document.addEventListener("submit", (e) => {
    const form = e.target.closest("form.contact-form");
    if (!form) return;
    const group = e.submitter && e.submitter.closest(".outcomes");
    const slot = slotOf(form);
    if (slot && group) group.after(slot);  // beside the buttons just pressed
    if (slot) slot.replaceChildren();
    const refusal = hourRefusal(form);
    if (refusal) {
      e.preventDefault();
      e.stopImmediatePropagation();  // htmx never sends it: the photo stays chosen
      slot.append(refusal);
      reveal(form);
    }
  }, true);

  document.body.addEventListener("htmx:afterSwap", (e) => {
    const slot = e.detail.target;
    if (slot && slot.classList && slot.classList.contains("refusal")) reveal(slot.closest("form"));
  });

  document.addEventListener("click", (e) => {
    const button = e.target.closest("[data-set-channel]");
    if (!button) return;
    const form = button.closest("form");
    const select = form && form.elements.channel;
    if (!select) return;
    const wanted = button.dataset.setChannel;
    if (!Array.from(select.options).some((o) => o.value === wanted)) return;
    select.value = wanted;
    select.dispatchEvent(new Event("change", { bubbles: true }));
    const slot = slotOf(form);
    slot.replaceChildren(element("p", `方式已改为“${select.options[select.selectedIndex].text}”。发出或张贴后，点“已发出/已张贴”登记。`, { class: "ok" }));
    select.classList.remove("invalid");
    select.scrollIntoView({ block: "center" });
    select.focus({ preventScroll: true });
  });
})();
